"""Who this process is in a multi-worker run, and how it stops when its peers do not come.

A multi-worker run is described by TF_CONFIG, as tf.distribute expects:
`{"cluster": {"worker": ["host:port", ...]}, "task": {"type": "worker", "index": i}}`
(a "chief" entry, if given, is worker 0). Worker 0 is the chief: it alone
writes the run folder; the others train and write nothing.

While MultiWorkerMirroredStrategy waits for its peers it sits in C++ code
that never returns to Python, so neither a Python timeout nor a Python
signal handler can run there (and TensorFlow replaces SIGTERM's default
action). Both are therefore watched from helper threads that end the process
with os._exit: `PeerWait` after `timeout_s` without the peers, with one
line saying whom it waited for; `exit_on_signals` on SIGINT or SIGTERM (the
C-level handler writes the signal to a wakeup pipe, which a thread reads).
Writes are atomic, so an exit at any moment leaves a resumable folder.
"""

from __future__ import annotations

import json
import os
import signal
import sys
import threading
from dataclasses import dataclass

from archspec.errors import RunError

TF_CONFIG_ENV = "TF_CONFIG"
EXIT_TIMEOUT = 1


@dataclass(frozen=True)
class Cluster:
    """The workers' addresses and this process's index among them."""

    workers: tuple[str, ...]
    index: int

    @property
    def is_chief(self) -> bool:
        return self.index == 0

    @property
    def size(self) -> int:
        return len(self.workers)

    def describe(self) -> str:
        return f"worker {self.index} of {self.size} ({self.workers[self.index]})"


def read_cluster(environ: dict[str, str] | None = None) -> Cluster:
    """The cluster of TF_CONFIG; without TF_CONFIG, one local worker."""
    text = (os.environ if environ is None else environ).get(TF_CONFIG_ENV)
    if not text:
        return Cluster(("localhost",), 0)
    hint = ('\n  hint: e.g. TF_CONFIG=\'{"cluster": {"worker": ["host1:12345", "host2:12345"]}, '
            '"task": {"type": "worker", "index": 0}}\'')
    try:
        config = json.loads(text)
        cluster, task = config["cluster"], config["task"]
        workers = tuple(cluster.get("chief", [])) + tuple(cluster.get("worker", []))
        offset = 0 if task["type"] == "chief" else len(cluster.get("chief", []))
        index = offset + int(task.get("index", 0))
    except (ValueError, KeyError, TypeError, AttributeError) as error:
        raise RunError(f"${TF_CONFIG_ENV}: not a cluster description ({type(error).__name__}: {error}){hint}") from None
    if not workers or not 0 <= index < len(workers):
        raise RunError(f"${TF_CONFIG_ENV}: task index {index} is not one of the {len(workers)} workers{hint}")
    return Cluster(workers, index)


class PeerWait:
    """Exit 1 with one clear line unless `joined()` is called within `timeout_s` seconds."""

    def __init__(self, cluster: Cluster, timeout_s: float) -> None:
        self.cluster = cluster
        self.timeout_s = timeout_s
        self._timer = threading.Timer(timeout_s, self._give_up)
        self._timer.daemon = True

    def __enter__(self) -> PeerWait:
        self._timer.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._timer.cancel()

    def joined(self) -> None:
        self._timer.cancel()

    def _give_up(self) -> None:
        others = ", ".join(address for i, address in enumerate(self.cluster.workers) if i != self.cluster.index)
        sys.stderr.write(
            f"archspec: {self.cluster.describe()} waited {self.timeout_s:g} s for its peers ({others}) "
            f"and gives up; start every worker of $TF_CONFIG within --worker-timeout seconds of each other\n"
        )
        sys.stderr.flush()
        os._exit(EXIT_TIMEOUT)


def exit_on_signals(cluster: Cluster, run_hint: str) -> None:
    """From now on, SIGINT and SIGTERM end the process at once with one line (main thread only)."""
    read_end, write_end = os.pipe()
    os.set_blocking(write_end, False)
    signal.set_wakeup_fd(write_end, warn_on_full_buffer=False)
    for number in (signal.SIGINT, signal.SIGTERM):
        signal.signal(number, lambda *_: None)  # the C handler writes to the pipe; the thread acts

    def watch() -> None:
        number = os.read(read_end, 1)[0]
        sys.stderr.write(f"archspec: {cluster.describe()} stopped by {signal.Signals(number).name}; {run_hint}\n")
        sys.stderr.flush()
        os._exit(128 + number)

    threading.Thread(target=watch, name="archspec-signals", daemon=True).start()
