"""Stopping a run cleanly: SIGINT and SIGTERM become a request that training honours at the next
step boundary, never an exception raised wherever Python happens to be.

Why: a KeyboardInterrupt raised inside TensorFlow's machinery can land in a
`__del__` (Python then prints "Exception ignored in: AtomicFunction.__del__"
and the run trains on to the end), and one raised anywhere else leaves no
word on how to go on. So the handler only records the signal; the run's
callback (recorder.StopOnRequest) checks it after each call into the graph
and at each epoch's end (after the epoch's checkpoint and history row), the
final files are checked between files, and the run ends with one line
saying how to resume (RunInterrupted, exit status 128 + the signal's number,
as a shell reports a process killed by it). A second signal ends the process
at once by its default action: writes are atomic, so the folder stays
resumable.

Multi-worker runs keep cluster.exit_on_signals (their peers wait in collectives).
"""

from __future__ import annotations

import contextlib
import os
import signal
import threading
from collections.abc import Iterator
from types import FrameType

from archspec.errors import RunError

SIGNALS = (signal.SIGINT, signal.SIGTERM)


class StopRequested(Exception):
    """Raised at a step boundary after a signal; the runner turns it into a RunInterrupted."""

    def __init__(self, number: int) -> None:
        super().__init__(signal.Signals(number).name)
        self.number = number


class RunInterrupted(RunError):
    """A run stopped by SIGINT or SIGTERM at a step boundary; its message says how to go on."""

    def __init__(self, message: str, number: int) -> None:
        super().__init__(message)
        self.exit_status = 128 + number


class StopRequest:
    """The signal received, if any, while `installed()`; `check()` raises StopRequested then."""

    def __init__(self) -> None:
        self.number: int | None = None

    def check(self) -> None:
        if self.number is not None:
            raise StopRequested(self.number)

    def _handle(self, number: int, _frame: FrameType | None) -> None:
        if self.number is not None:  # the second signal: stop at once, by the signal's default action
            signal.signal(number, signal.SIG_DFL)
            os.kill(os.getpid(), number)
            return
        self.number = number

    @contextlib.contextmanager
    def installed(self) -> Iterator[StopRequest]:
        """Handle SIGINT and SIGTERM as requests (main thread only; elsewhere Python allows no handler)."""
        if threading.current_thread() is not threading.main_thread():
            yield self
            return
        previous = {number: signal.getsignal(number) for number in SIGNALS}
        for number in SIGNALS:
            signal.signal(number, self._handle)
        try:
            yield self
        finally:
            for number, handler in previous.items():
                signal.signal(number, handler)


def interrupted(stop: StopRequested, run_dir: object, epochs_done: int, epochs: int) -> RunInterrupted:
    """The one line of a run stopped at a step boundary: where it stopped, and the command that goes on."""
    name = signal.Signals(stop.number).name
    resume = f"`archspec fit --resume {run_dir}`"
    if epochs_done >= epochs:
        where = f"after its last epoch ({epochs}), before its final files; {resume} writes them"
    elif epochs_done:
        left = f"epoch {epochs}" if epochs_done + 1 == epochs else f"epochs {epochs_done + 1}-{epochs}"
        where = f"after epoch {epochs_done} of {epochs}; continue with {resume} (it trains {left})"
    else:
        where = f"in epoch 1 of {epochs}, before any epoch was saved; {resume} starts it again from epoch 1"
    return RunInterrupted(f"{run_dir}: stopped by {name} {where}", stop.number)
