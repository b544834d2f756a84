"""The `archspec fit` runner: spec + data + task -> a trained model in a run folder.

The order is the point: everything that can fail without TensorFlow doing
work fails first (the settings, the task against the spec's shapes, an
existing --out, the data files), then the strategy starts (a multi-worker run
waits for its peers here), then the model is built, then the run folder is
made and trained into. Why it is fast on small models is pipeline.py's and
loops.py's story; what it writes is runs.py's; how a run finishes is
finish.py's.

Faults: each epoch ends with an atomic checkpoint and history row, so
`resume.resume_run` restarts from the last complete epoch (falling back past a
damaged newest checkpoint) or, when every epoch is done, only writes the
final files; a NaN loss stops the run with a RunError and leaves the last
good checkpoint in place; an OS error on output is a RunError naming the path.

Imported only by the commands that train (it imports TensorFlow).
"""

from __future__ import annotations

import contextlib
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

from archspec.errors import RunError
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
from archspec.train.config import RunConfig, RunOptions, relocate_data, resolve_config
from archspec.train.data import Prepared, load_arrays, prepare
from archspec.train.finish import test_figures, write_final_files
from archspec.train.loops import fit_epochs, step_epochs, steps_per_epoch
from archspec.train.pace import pace_note, runs_on_cpu
from archspec.train.progress import Progress
from archspec.train.recorder import RunRecorder, StopOnRequest, nan_error
from archspec.train.stopping import StopRequest, StopRequested, interrupted
from archspec.train.strategies import STRATEGIES
from archspec.train.tasks import check_task_fits, model_shapes
from archspec.train.tensorboard import TensorBoardLogger
from archspec.train.userdata.run_data import RunData, plan_run_data, prepare_run_data, saved_run_data
from archspec.train.userdata.split import write_split

keras = import_keras()
tf = import_tensorflow()

PEER_FAILURES = (tf.errors.UnavailableError, tf.errors.AbortedError, tf.errors.CancelledError,
                 tf.errors.DeadlineExceededError)
"""How a collective fails on the other workers when a peer of a multi-worker run dies."""

__all__ = ["compile_model", "evaluate_run", "fit_spec", "load_run_data", "read_config"]


def load_run_data(
    config: RunConfig, input_shape: Sequence[int | None], output_shape: Sequence[int | None],
    run_dir: Path | None = None, planned: RunData | None = None,
) -> Prepared:
    """The run's arrays, shaped for a model with these input and output shapes (no batch axis).

    Own data (config.data) is read as `planned` (a new run) or as the run folder's saved split says.
    """
    if config.data is not None:
        own = planned if planned is not None else saved_run_data(config.data, config.task, Path(run_dir or "."))
        return prepare_run_data(own, config.task, input_shape, output_shape, config.subset)
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


def load_init_weights(model: Any, path: Path) -> None:
    """`path`'s weights into `model`, or a RunError naming the file and why they do not fit."""
    if not path.is_file() or not path.name.endswith(".weights.h5"):
        raise RunError(f"--init-weights {path}: no such .weights.h5 file")
    try:
        model.load_weights(path)
    except (ValueError, KeyError, OSError) as error:
        reason = " ".join(str(error).split())[:300]
        raise RunError(f"--init-weights {path}: the weights do not fit this spec's model ({reason})") from None


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
    seed, task, noise ({kind: amount}), subset, data_dir, data (a path: the run's own data, see
    docs/data.md), skip_bad, strategy, worker_timeout_s, init_weights: a .weights.h5 file the model
    starts from instead of its initialisers, e.g. the one `archspec import model.onnx -o net.yaml` writes); keyword
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
    planned = None  # before building anything: the task against the spec, and the run's own data
    if config.data is not None:
        planned = plan_run_data(config.data, config.task, config.data_seed, graph)
    else:
        check_task_fits(graph, config.task, config.dataset)
    check_weights_fit(graph)
    check_activations_fit(graph, config.batch_size)
    runs.check_out_free(out)  # every worker of a multi-worker run checks; the chief makes it after they meet
    data = load_run_data(config, *model_shapes(graph), planned=planned)
    strategy, cluster = start_strategy(config)
    note = pace_note(current_backend().name, graph) if runs_on_cpu() else None
    if note is not None:
        print(note, file=sys.stderr)
    config = config.replace(
        **speed_settings(steps_per_epoch(data, config), config.strategy),
        replicas=strategy.num_replicas_in_sync,
    )
    model = new_model(graph, config, spec, strategy)
    stop = StopRequest()
    if not cluster.is_chief:
        run_dir = out or Path(runs_root) / f"{spec.name}-(the chief's run folder)"
        return train_run(run_dir, config, model, data, [], [], callbacks, verbose, strategy, cluster, stop)
    with signals_stop(stop, config):  # from the folder's first moment, so a signal always has its message
        run_dir = runs.create_run_dir(Path(runs_root), spec.name, out)
        with runs.run_lock(run_dir, f"archspec fit {spec_path}"):
            runs.write_text(run_dir / runs.SPEC_FILE, spec.resolved_yaml())
            runs.write_json(run_dir / runs.CONFIG_FILE, config.to_json())
            if planned is not None:
                write_split(run_dir, planned.split)  # the examples resume, evaluate and compare will see
            return train_run(run_dir, config, model, data, [], [], callbacks, verbose, strategy, cluster, stop)


def signals_stop(stop: StopRequest, config: RunConfig) -> contextlib.AbstractContextManager:
    """SIGINT/SIGTERM as a stop request, except in a multi-worker run (cluster.exit_on_signals)."""
    return contextlib.nullcontext() if STRATEGIES[config.strategy].step_loop else stop.installed()


def new_model(graph: Any, config: RunConfig, spec: Any, strategy: Any) -> Any:
    """The untrained model, seeded, started from the run's --init-weights if it has them, and compiled for
    training (a new run, or a resume with no epoch: config.json keeps the weights' path for it)."""
    if config.seed is not None:
        keras.utils.set_random_seed(config.seed)
    with strategy.scope():
        model = compile_model(graph)
        if config.init_weights is not None:
            load_init_weights(model, Path(config.init_weights))
        compile_for_training(model, config, spec, make_optimizer(config.optimizer, spec))
    return model


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
    stop: StopRequest,
) -> Path | None:
    """Fit from len(history) to config.epochs, then (the chief) write the final model, metrics, plots.
    A signal (`stop`, installed by the caller) ends it at a step boundary with RunInterrupted."""
    started = time.perf_counter()
    recorder = RunRecorder(run_dir, history, steps, writes=cluster.is_chief)
    every_callback = [recorder, *callbacks, StopOnRequest(stop)]
    if verbose and cluster.is_chief:  # Keras's bar would print no epoch header and count past the end
        every_callback.append(Progress(config.epochs, steps_per_epoch(data, config), bar=verbose in (1, "auto")))
    logger = TensorBoardLogger(run_dir) if cluster.is_chief else None
    if logger is not None:
        every_callback.insert(1, logger)
    step_loop = STRATEGIES[config.strategy].step_loop
    with stopping(run_dir, config, lambda: len(recorder.history)):
        try:
            train_epochs(run_dir, config, model, data, len(history), every_callback, strategy, cluster)
        finally:
            if logger is not None:
                logger.close()
        if recorder.nan_at is not None:
            raise nan_error(run_dir, recorder.nan_at, config.optimizer)
        if not cluster.is_chief:
            return None
        if step_loop:  # evaluate in plain Keras, outside the cluster
            runs.save_model(model, run_dir / runs.MODEL_FILE)
            model = load_keras_model(run_dir / runs.MODEL_FILE)
        write_final_files(run_dir, config, model, data, history, time.perf_counter() - started, save=not step_loop,
                          steps=steps, between=stop.check)
    return run_dir


@contextlib.contextmanager
def stopping(run_dir: Path, config: RunConfig, epochs_done: int | Callable[[], int]) -> Iterator[None]:
    """A stop requested by a signal, raised at a step boundary, as the run's one line on how to go on."""
    try:
        yield
    except StopRequested as stop:
        done = epochs_done() if callable(epochs_done) else epochs_done
        raise interrupted(stop, run_dir, done, config.epochs) from None


def train_epochs(
    run_dir: Path, config: RunConfig, model: Any, data: Prepared, first_epoch: int, callbacks: list[Any],
    strategy: Any, cluster: Cluster,
) -> None:
    """Epochs first_epoch+1 .. config.epochs with the strategy's loop; a lost peer is one line."""
    if not STRATEGIES[config.strategy].step_loop:
        fit_epochs(model, config, data, first_epoch, callbacks)
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


def evaluate_run(
    run_dir: str | Path, data_dir: str | Path | None = None, data: str | Path | None = None,
) -> dict[str, float]:
    """The final model of a run on its test set (the same fixed noisy copy as at the end of fit)."""
    run_dir = Path(run_dir)
    config = relocate_data(read_config(run_dir), data)
    if data_dir is not None:
        config = config.replace(data_dir=str(data_dir))
    model_path = run_dir / runs.MODEL_FILE
    with runs.run_lock(run_dir, f"archspec evaluate {run_dir}", shared=True):
        if not model_path.exists():
            raise RunError(
                f"{run_dir}: no {runs.MODEL_FILE}: the run has not finished\n"
                f"  hint: finish it with `archspec fit --resume {run_dir}` (it trains only the missing epochs)"
            )
        model = load_keras_model(model_path)
        data = load_run_data(config, model.inputs[0].shape[1:], model.outputs[0].shape[1:], run_dir=run_dir)
        figures, _ = test_figures(model, data, config)
    return figures
