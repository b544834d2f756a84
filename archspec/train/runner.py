"""The `archspec fit` runner: spec + data + task -> a trained model in a run folder.

The order is the point: everything that can fail without TensorFlow doing
work fails first (the settings, the task against the spec's shapes, an
existing --out, the data files), then the strategy starts (a multi-worker run
waits for its peers here), then the model is built, then the run folder is
made and trained into. Why it is fast on small models is pipeline.py's and
loops.py's story; what it writes is runs.py's; how a run finishes is
finish.py's.

Faults: each epoch ends with an atomic checkpoint and history row, so
`resume_run` restarts from the last complete epoch (falling back past a
damaged newest checkpoint) or, when every epoch is done, only writes the
final files; a NaN loss stops the run with a RunError and leaves the last
good checkpoint in place; an OS error on output is a RunError naming the path.

Imported only by the commands that train (it imports TensorFlow).
"""

from __future__ import annotations

import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from archspec.errors import ModelError, RunError
from archspec.graph.memory import check_activations_fit, check_weights_fit
from archspec.graph.shapes import analyze
from archspec.keras.backend import current_backend, import_keras, import_tensorflow
from archspec.keras.compiler import compile_model
from archspec.keras.saved import load_keras_model
from archspec.spec.frontend import load_spec
from archspec.train import runs
from archspec.train.cluster import Cluster, lost_peer_error
from archspec.train.compiling import (
    compile_for_training,
    make_optimizer,
    speed_settings,
    start_strategy,
    versions,
)
from archspec.train.config import RunConfig, RunOptions, resolve_config
from archspec.train.data import Prepared, load_arrays, prepare
from archspec.train.finish import test_figures, write_final_files
from archspec.train.loops import fit_epochs, step_epochs, steps_per_epoch
from archspec.train.pace import pace_note, runs_on_cpu
from archspec.train.recorder import RunRecorder, nan_error
from archspec.train.rng import restore_seed_states
from archspec.train.strategies import STRATEGIES
from archspec.train.tasks import check_task_fits, model_shapes
from archspec.train.tensorboard import TensorBoardLogger

keras = import_keras()
tf = import_tensorflow()

PEER_FAILURES = (tf.errors.UnavailableError, tf.errors.AbortedError, tf.errors.CancelledError,
                 tf.errors.DeadlineExceededError)
"""How a collective fails on the other workers when a peer of a multi-worker run dies."""

__all__ = ["compile_model", "evaluate_run", "fit_spec", "load_run_data", "read_config", "resume_run"]


def load_run_data(config: RunConfig, input_shape: Sequence[int | None], output_shape: Sequence[int | None]) -> Prepared:
    """The run's arrays, shaped for a model with these input and output shapes (no batch axis)."""
    return prepare(
        load_arrays(config.dataset, config.data_dir),
        config.task,
        tuple(input_shape),
        tuple(output_shape),
        noise=config.noise,
        validation_split=config.validation_split,
        subset=config.subset,
    )


def read_config(run_dir: Path) -> RunConfig:
    path = run_dir / runs.CONFIG_FILE
    return RunConfig.from_json(runs.read_json(path), path)


def fit_spec(
    spec_path: str | Path,
    *,
    runs_root: str | Path = "runs",
    out: str | Path | None = None,
    callbacks: Sequence[Any] = (),
    verbose: Any = "auto",
    spec_overrides: Sequence[str] = (),
    options: RunOptions | None = None,
    **settings: Any,
) -> Path | None:
    """Train a spec in a new run folder and return the folder (None on a multi-worker run's non-chief).

    spec_overrides: `--set key=value` strings applied to the spec (e.g. train.epochs=3).
    options: what this run sets over the spec's `train:` section (RunOptions: epochs, batch_size,
    seed, task, noise ({kind: amount}), subset, data_dir, strategy, worker_timeout_s); keyword
    settings (epochs=1, seed=0) are short for RunOptions(epochs=1, seed=0), and a misspelt one is
    a TypeError rather than ignored.
    """
    if options is not None and settings:
        raise TypeError(f"fit_spec: give options or settings ({', '.join(settings)}), not both")
    options = options or RunOptions(**settings)
    spec_path = Path(spec_path)
    out = Path(out) if out else None
    spec = load_spec(spec_path, spec_overrides)
    config = resolve_config(spec, spec_path, options, versions())
    graph = analyze(spec)
    check_task_fits(graph, config.task, config.dataset)  # before building anything
    check_weights_fit(graph)
    check_activations_fit(graph, config.batch_size)
    runs.check_out_free(out)  # every worker of a multi-worker run checks; the chief makes it after they meet
    data = load_run_data(config, *model_shapes(graph))
    strategy, cluster = start_strategy(config)
    note = pace_note(current_backend().name, graph) if runs_on_cpu() else None
    if note is not None:
        print(note, file=sys.stderr)
    if config.seed is not None:
        keras.utils.set_random_seed(config.seed)
    with strategy.scope():
        model = compile_model(graph)
    config = config.replace(
        **speed_settings(steps_per_epoch(data, config), config.strategy),
        replicas=strategy.num_replicas_in_sync,
    )
    with strategy.scope():
        compile_for_training(model, config, spec, make_optimizer(config.optimizer, spec))
    if cluster.is_chief:
        run_dir = runs.create_run_dir(Path(runs_root), spec.name, out)
        runs.write_text(run_dir / runs.SPEC_FILE, spec.resolved_yaml())
        runs.write_json(run_dir / runs.CONFIG_FILE, config.to_json())
    else:
        run_dir = out or Path(runs_root) / f"{spec.name}-(the chief's run folder)"
    return train_run(run_dir, config, model, data, [], [], callbacks, verbose, strategy, cluster)


def resume_run(
    run_dir: str | Path,
    *,
    epochs: int | None = None,
    data_dir: str | Path | None = None,
    callbacks: Sequence[Any] = (),
    verbose: Any = "auto",
) -> Path | None:
    """Continue a run from its last complete epoch, or only finish it when every epoch is done."""
    run_dir = Path(run_dir)
    config = read_config(run_dir)
    config = config.replace(
        epochs=epochs if epochs is not None else config.epochs,
        data_dir=str(data_dir) if data_dir is not None else config.data_dir,
    )
    runs.clean_temporary(run_dir)
    history = runs.read_history(run_dir / runs.HISTORY_FILE)
    done = sorted(set(runs.completed_checkpoints(run_dir)) & {int(row["epoch"]) for row in history})
    finished = all((run_dir / name).is_file() for name in runs.FINAL_FILES)
    if done and done[-1] > config.epochs:
        raise RunError(
            f"{run_dir}: already has {done[-1]} epochs, more than the {config.epochs} asked for; "
            f"give --epochs {done[-1] + 1} or more to train further"
        )
    if done and done[-1] == config.epochs and finished:
        raise RunError(
            f"{run_dir}: already has {done[-1]} of {config.epochs} epochs; "
            "give a larger --epochs to train further"
        )
    spec = load_spec(run_dir / runs.SPEC_FILE)
    data = load_run_data(config, *model_shapes(analyze(spec)))
    last, model_path = newest_loadable(run_dir, done)
    history = [row for row in history if int(row["epoch"]) <= last]
    steps = [row for row in runs.read_history(run_dir / runs.STEPS_FILE) if int(row["epoch"]) <= last]
    if last == config.epochs:  # every epoch trained, stopped before the final files: finish only
        model = load_keras_model(model_path)
        runs.write_json(run_dir / runs.CONFIG_FILE, config.to_json())
        write_final_files(run_dir, config, model, data, history, 0.0, steps=steps)
        return run_dir
    strategy, cluster = start_strategy(config)
    if config.seed is not None:
        keras.utils.set_random_seed(config.seed + last)
    with strategy.scope():
        model = load_keras_model(model_path)
        restore_seed_states(model, run_dir, last)  # dropout draws as the uninterrupted run did
        compile_for_training(model, config, spec, model.optimizer)
    if cluster.is_chief:
        runs.remove_final_files(run_dir)  # they describe fewer epochs than the run will have
        runs.write_json(run_dir / runs.CONFIG_FILE, config.to_json())
    return train_run(run_dir, config, model, data, history, steps, callbacks, verbose, strategy, cluster)


def newest_loadable(run_dir: Path, done: list[int]) -> tuple[int, Path]:
    """The newest complete epoch whose checkpoint loads; a damaged one is reported and skipped."""
    if not done:
        raise RunError(
            f"{run_dir}: no complete epoch to resume from (no checkpoint with a history row); "
            "start a new run with `archspec fit SPEC`"
        )
    for position in range(len(done) - 1, -1, -1):
        path = runs.checkpoint_path(run_dir, done[position])
        try:
            load_keras_model(path, compile=False)
        except ModelError as error:
            reason = str(error).splitlines()[0]
            fallback = (f"resuming from {runs.checkpoint_path(run_dir, done[position - 1]).name}"
                        if position else "and no earlier checkpoint is left")
            print(f"archspec: {path} is damaged ({reason}); {fallback}", file=sys.stderr)
            continue
        return done[position], path
    raise RunError(f"{run_dir}: every checkpoint is damaged; start a new run with `archspec fit SPEC`")


def train_run(
    run_dir: Path,
    config: RunConfig,
    model: Any,
    data: Prepared,
    history: list[dict[str, float]],
    steps: list[dict[str, float]],
    callbacks: Sequence[Any],
    verbose: Any,
    strategy: Any,
    cluster: Cluster,
) -> Path | None:
    """Fit from len(history) to config.epochs, then (the chief) write the final model, metrics, plots."""
    started = time.perf_counter()
    recorder = RunRecorder(run_dir, history, steps, writes=cluster.is_chief)
    every_callback = [recorder, *callbacks]
    logger = TensorBoardLogger(run_dir) if cluster.is_chief else None
    if logger is not None:
        every_callback.insert(1, logger)
    try:
        train_epochs(run_dir, config, model, data, len(history), every_callback, verbose, strategy, cluster)
    finally:
        if logger is not None:
            logger.close()
    if recorder.nan_at is not None:
        raise nan_error(run_dir, recorder.nan_at, config.optimizer)
    if not cluster.is_chief:
        return None
    if STRATEGIES[config.strategy].step_loop:  # evaluate in plain Keras, outside the cluster
        runs.save_model(model, run_dir / runs.MODEL_FILE)
        model = load_keras_model(run_dir / runs.MODEL_FILE)
        write_final_files(run_dir, config, model, data, history, time.perf_counter() - started, save=False,
                          steps=steps)
    else:
        write_final_files(run_dir, config, model, data, history, time.perf_counter() - started, steps=steps)
    return run_dir


def train_epochs(
    run_dir: Path, config: RunConfig, model: Any, data: Prepared, first_epoch: int, callbacks: list[Any],
    verbose: Any, strategy: Any, cluster: Cluster,
) -> None:
    """Epochs first_epoch+1 .. config.epochs with the strategy's loop; a lost peer is one line."""
    if not STRATEGIES[config.strategy].step_loop:
        fit_epochs(model, config, data, first_epoch, callbacks, verbose)
        return
    try:
        step_epochs(model, config, data, first_epoch, strategy, callbacks)
    except PEER_FAILURES as error:  # a peer died: TensorFlow fails the next collective on every other worker
        if cluster.size == 1:
            raise
        folder = run_dir if cluster.is_chief else "the chief's run folder"
        raise lost_peer_error(cluster, str(error), (
            f"{folder} keeps every complete epoch: start every worker again with "
            f"`archspec fit --resume {run_dir if cluster.is_chief else 'RUN_DIR'}` and the same TF_CONFIG"
        )) from None


def evaluate_run(run_dir: str | Path, data_dir: str | Path | None = None) -> dict[str, float]:
    """The final model of a run on its test set (the same fixed noisy copy as at the end of fit)."""
    run_dir = Path(run_dir)
    config = read_config(run_dir)
    if data_dir is not None:
        config = config.replace(data_dir=str(data_dir))
    model_path = run_dir / runs.MODEL_FILE
    if not model_path.exists():
        raise RunError(
            f"{run_dir}: no {runs.MODEL_FILE}: the run has not finished\n"
            f"  hint: finish it with `archspec fit --resume {run_dir}` (it trains only the missing epochs)"
        )
    model = load_keras_model(model_path)
    data = load_run_data(config, model.inputs[0].shape[1:], model.outputs[0].shape[1:])
    figures, _ = test_figures(model, data, config)
    return figures
