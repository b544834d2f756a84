"""What `archspec fit` prints while it trains: an epoch header from the first step, then a bar that
counts the steps the epoch really has.

Keras's own progress bar cannot do either here: the runner calls `model.fit`
once per epoch (loops.py), so Keras sees `epochs=1` and prints no
"Epoch 1/N", and shows nothing until the first call into the graph returns;
and it reports the last step of a call as if every call ran
`steps_per_execution` steps, so an epoch of 422 steps ended at "442/422".
This callback serves both loops (Keras's fit and the multi-worker step loop).
"""

from __future__ import annotations

import sys
import time
from typing import TextIO

from archspec.keras.backend import import_keras

keras = import_keras()

BAR_WIDTH = 30


def done_steps(batch: int, steps: int) -> int:
    """Steps done after the call that ended at `batch` (0-based), never more than the epoch has:
    Keras reports the last call of an epoch as a full `steps_per_execution` even when it ran fewer."""
    return min(batch + 1, steps) if steps else batch + 1


class Progress(keras.callbacks.Callback):
    """`Epoch k/N` as an epoch starts; with `bar`, a bar redrawn after each call (on a terminal only);
    one line of figures as an epoch ends."""

    def __init__(self, epochs: int, steps: int, *, bar: bool = True, stream: TextIO | None = None) -> None:
        super().__init__()
        self.epochs, self.steps = epochs, steps
        self.stream = stream or sys.stdout
        self.bar = bar and self.stream.isatty()
        self.started = 0.0

    def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
        self.started = time.perf_counter()
        self._write(f"Epoch {epoch + 1}/{self.epochs}\n")

    def on_train_batch_end(self, batch: int, logs: dict | None = None) -> None:
        if self.bar:
            self._write(f"\r{self._line(done_steps(batch, self.steps), logs)}")

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        self._write(f"{chr(13) if self.bar else ''}{self._line(self.steps, logs)}\n")

    def _line(self, done: int, logs: dict | None) -> str:
        width = len(str(self.steps))
        filled = BAR_WIDTH * done // max(self.steps, 1)
        bar = "=" * filled + (">" if filled < BAR_WIDTH else "") + "." * (BAR_WIDTH - filled - 1)
        figures = "".join(f" - {key}: {float(value):.4f}" for key, value in (logs or {}).items())
        return f"{done:>{width}}/{self.steps} [{bar[:BAR_WIDTH]}] {time.perf_counter() - self.started:.0f}s{figures}"

    def _write(self, text: str) -> None:
        self.stream.write(text)
        self.stream.flush()
