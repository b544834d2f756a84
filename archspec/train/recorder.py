"""The epoch recorder: after each epoch a checkpoint, the step rows, then the history row (all atomic); NaN stops.

It is a Keras callback, so both training loops (Keras's fit and the
multi-worker step loop of loops.py) drive it the same way, next to
any other callbacks a caller passes (progress, TensorBoard, a test's kill
switch): the runner builds one list, `[recorder, *callbacks]`.

Each call into the graph ends with `on_train_batch_end(last step of the call,
logs)`; the recorder keeps those logs as rows of steps.csv (global step, epoch,
loss and metrics as Keras reports them: the epoch's running mean so far), so
curves.png has a curve within an epoch. An epoch's step rows are written with
its checkpoint, before its history row: history.csv stays the mark of a
complete epoch, and a resume drops step rows of an epoch it has no row for.
"""

from __future__ import annotations

import math
import time
from pathlib import Path
from typing import Any

import numpy as np

from archspec.errors import RunError
from archspec.keras.backend import import_keras
from archspec.train import runs
from archspec.train.progress import done_steps
from archspec.train.rng import save_seed_states
from archspec.train.stopping import StopRequest

keras = import_keras()


class RunRecorder(keras.callbacks.Callback):
    """Checkpoint and history row per epoch (only when `writes`: a multi-worker run's chief)."""

    def __init__(
        self, run_dir: Path, history: list[dict[str, float]], steps: list[dict[str, float]] | None = None,
        *, writes: bool = True,
    ) -> None:
        super().__init__()
        self.run_dir = run_dir
        self.history = history
        self.steps = steps if steps is not None else []
        self.epoch_steps: list[dict[str, float]] = []
        self.writes = writes
        self.nan_at: tuple[int, int | None] | None = None
        self.epoch = 0
        self.started = 0.0

    def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
        self.epoch = epoch + 1
        self.started = time.perf_counter()
        self.epoch_steps = []

    def on_train_batch_end(self, batch: int, logs: dict | None = None) -> None:
        loss = (logs or {}).get("loss")
        if loss is not None and not math.isfinite(float(np.asarray(loss))):
            self.nan_at = (self.epoch, batch + 1)
            self.model.stop_training = True
            return
        per_epoch = int(self.params.get("steps") or 0)
        row = {"step": (self.epoch - 1) * per_epoch + done_steps(batch, per_epoch), "epoch": self.epoch}
        row.update({key: float(np.asarray(value)) for key, value in (logs or {}).items()})
        self.epoch_steps.append(row)

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        if self.nan_at is not None:
            return
        if not all(np.isfinite(weight).all() for weight in self.model.get_weights()):
            self.nan_at = (self.epoch, None)
            self.model.stop_training = True
            return
        row = {"epoch": self.epoch}
        row.update({key: float(np.asarray(value)) for key, value in (logs or {}).items()})
        row["time_s"] = round(time.perf_counter() - self.started, 4)
        self.history.append(row)
        self.steps.extend(self.epoch_steps)
        if self.writes:
            save_seed_states(self.model, self.run_dir, self.epoch)  # before the checkpoint that needs it
            runs.save_model(self.model, runs.checkpoint_path(self.run_dir, self.epoch))
            runs.write_history(self.run_dir / runs.STEPS_FILE, self.steps)
            runs.write_history(self.run_dir / runs.HISTORY_FILE, self.history)


class StopOnRequest(keras.callbacks.Callback):
    """Ends training at a step boundary once a signal has asked (stopping.py): after a call into the
    graph, or after an epoch's checkpoint and history row (it comes after the recorder in the list)."""

    def __init__(self, stop: StopRequest) -> None:
        super().__init__()
        self.stop = stop

    def on_train_batch_end(self, batch: int, logs: dict | None = None) -> None:
        self.stop.check()

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        self.stop.check()


def nan_error(run_dir: Path, where: tuple[int, int | None], optimizer: Any) -> RunError:
    epoch, batch = where
    good = runs.completed_checkpoints(run_dir)
    kept = (
        f"the last good checkpoint is {runs.checkpoint_path(run_dir, good[-1])}"
        if good else "no epoch finished before it, so there is no checkpoint"
    )
    place = f"noticed after batch {batch}" if batch is not None else "in the weights at its end"
    return RunError(
        f"{run_dir}: the loss became NaN in epoch {epoch} ({place}; optimizer {optimizer}); "
        f"{kept}\n"
        "  hint: lower the learning rate, or check the data and the loss for the task"
    )
