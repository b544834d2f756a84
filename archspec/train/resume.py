"""`archspec fit --resume`: a run folder continued from its last complete epoch, or only finished.

Split from runner.py (which trains a new run and holds the loop both share):
the folder is locked first, a damaged newest checkpoint is skipped for the
one before it, and a multi-worker run starts its strategy before any model
is loaded (collectives must be configured at program start-up).
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from archspec.errors import ModelError, RunError
from archspec.graph.shapes import analyze
from archspec.keras.saved import load_keras_model
from archspec.spec.frontend import load_spec
from archspec.train import runs
from archspec.train.compiling import compile_for_training, start_strategy
from archspec.train.config import RunConfig, relocate_data
from archspec.train.finish import write_final_files
from archspec.train.rng import restore_seed_states
from archspec.train.runner import (
    keras,
    load_run_data,
    new_model,
    read_config,
    signals_stop,
    stopping,
    train_run,
)
from archspec.train.stopping import StopRequest
from archspec.train.tasks import model_shapes


def resume_run(
    run_dir: str | Path,
    *,
    epochs: int | None = None,
    data_dir: str | Path | None = None,
    callbacks: Sequence[Any] = (),
    verbose: Any = "auto",
    data: str | Path | None = None,
) -> Path | None:
    """Continue a run from its last complete epoch (from epoch 1 if it has none), or only finish it
    when every epoch is done. The folder is locked first (a multi-worker run's chief locks it once
    the workers have met), so a run still being written is refused, never cleaned or taken over.

    data: where the run's own data is now, when it moved (the run folder's split still names the examples).
    """
    run_dir = Path(run_dir)
    config = relocate_data(read_config(run_dir), data)
    config = config.replace(
        epochs=epochs if epochs is not None else config.epochs,
        data_dir=str(data_dir) if data_dir is not None else config.data_dir,
    )
    stop = StopRequest()
    with contextlib.ExitStack() as lock, signals_stop(stop, config):
        if config.strategy != "multiworker":
            lock.enter_context(runs.run_lock(run_dir, f"archspec fit --resume {run_dir}"))
            runs.clean_temporary(run_dir)
        return _resume_locked(run_dir, config, lock, callbacks, verbose, stop)


def _resume_locked(run_dir: Path, config: RunConfig, lock: contextlib.ExitStack, callbacks: Sequence[Any],
                   verbose: Any, stop: StopRequest) -> Path | None:
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
    graph = analyze(spec)
    data = load_run_data(config, *model_shapes(graph), run_dir=run_dir)
    strategy, cluster = start_strategy(config)  # before any model is loaded: collectives start first
    if config.strategy == "multiworker" and cluster.is_chief:
        lock.enter_context(runs.run_lock(run_dir, f"archspec fit --resume {run_dir}"))
        runs.clean_temporary(run_dir)
    last, model_path = newest_loadable(run_dir, done)
    history = [row for row in history if int(row["epoch"]) <= last]
    steps = [row for row in runs.read_history(run_dir / runs.STEPS_FILE) if int(row["epoch"]) <= last]
    if last == config.epochs:  # every epoch trained, stopped before the final files: finish only
        if not cluster.is_chief:
            return None
        print(f"archspec: {run_dir} has all {last} epochs; writing its final files", file=sys.stderr)
        model = load_keras_model(model_path)
        runs.write_json(run_dir / runs.CONFIG_FILE, config.to_json())
        with stopping(run_dir, config, last):
            write_final_files(run_dir, config, model, data, history, 0.0, steps=steps, between=stop.check)
        return run_dir
    print(f"archspec: resuming {run_dir} after epoch {last} of {config.epochs}" if last else
          f"archspec: {run_dir} has no complete epoch; training it from epoch 1 of {config.epochs}",
          file=sys.stderr)
    if model_path is None:
        model = new_model(graph, config, spec, strategy)
    else:
        if config.seed is not None:
            keras.utils.set_random_seed(config.seed + last)
        with strategy.scope():
            model = load_keras_model(model_path)
            restore_seed_states(model, run_dir, last)  # dropout draws as the uninterrupted run did
            compile_for_training(model, config, spec, model.optimizer)
    if cluster.is_chief:
        runs.remove_final_files(run_dir)  # they describe fewer epochs than the run will have
        runs.write_json(run_dir / runs.CONFIG_FILE, config.to_json())
    return train_run(run_dir, config, model, data, history, steps, callbacks, verbose, strategy, cluster, stop)


def newest_loadable(run_dir: Path, done: list[int]) -> tuple[int, Path | None]:
    """The newest complete epoch whose checkpoint loads; a damaged one is reported and skipped.
    (0, None) when none is left: the run trains again from epoch 1."""
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
    return 0, None
