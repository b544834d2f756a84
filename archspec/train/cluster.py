"""Who this process is in a multi-worker run, and how it stops when its peers do not come.

A multi-worker run is described by TF_CONFIG, as tf.distribute expects:
`{"cluster": {"worker": ["host:port", ...]}, "task": {"type": "worker", "index": i}}`
(a "chief" entry, if given, is worker 0). Worker 0 is the chief: it alone
writes the run folder; the others train and write nothing.

While MultiWorkerMirroredStrategy waits for its peers it sits in C++ code
holding the GIL, so no Python timer, thread or signal handler runs there
(and TensorFlow replaces SIGTERM's default action): a worker whose peer
never starts would wait forever. So the workers first meet in plain Python
(`rendezvous`): each listens on its own TF_CONFIG port and connects to every
other, until all have met or `timeout_s` has passed (then one line naming the
missing peers, exit 1). Only then is the strategy made, and the peers are
there. During training, `exit_on_signals` ends the process on SIGINT or
SIGTERM (the C-level handler writes the signal to a wakeup pipe, which a
thread reads). Writes are atomic, so an exit at any moment leaves a
resumable folder. A peer that dies during training is noticed by
TensorFlow's coordination service (it stops sending heartbeats) and fails the
next collective on every other worker; `lost_peer_error` turns that into one
line naming the lost peer.
"""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import sys
import threading
import time
from dataclasses import dataclass

from archspec.errors import RunError

TF_CONFIG_ENV = "TF_CONFIG"


@dataclass(frozen=True)
class Cluster:
    """The workers' addresses and this process's index among them."""

    workers: tuple[str, ...]
    index: int
    tasks: tuple[str, ...] = ()
    """TensorFlow's name of each worker's task ("/job:worker/replica:0/task:1"), as its errors say it."""

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
        tasks = tuple(f"/job:{job}/replica:0/task:{number}"
                      for job in ("chief", "worker") for number in range(len(cluster.get(job, []))))
        offset = 0 if task["type"] == "chief" else len(cluster.get("chief", []))
        index = offset + int(task.get("index", 0))
    except (ValueError, KeyError, TypeError, AttributeError) as error:
        raise RunError(f"${TF_CONFIG_ENV}: not a cluster description ({type(error).__name__}: {error}){hint}") from None
    if not workers or not 0 <= index < len(workers):
        raise RunError(f"${TF_CONFIG_ENV}: task index {index} is not one of the {len(workers)} workers{hint}")
    return Cluster(workers, index, tasks)


def lost_peer_error(cluster: Cluster, message: str, run_hint: str) -> RunError:
    """One line for a peer that died during training, from the TensorFlow error that reported it.

    TensorFlow names tasks as /job:worker/replica:0/task:1 (the tasks that stopped sending
    heartbeats, the task that reported the error); every one named that is not this worker is
    the lost peer, by its TF_CONFIG address. Named none, in a cluster of two it is the other
    worker; in a larger one the line says that a peer stopped answering.
    """
    named = {f"/job:{job}/replica:0/task:{number}"
             for job, number in re.findall(r"/job:(\w+)(?:/replica:\d+)?/task:(\d+)", message)}
    lost = [index for index, task in enumerate(cluster.tasks) if task in named and index != cluster.index]
    if not lost and cluster.size == 2:
        lost = [1 - cluster.index]
    who = ", ".join(f"worker {index} ({cluster.workers[index]})" for index in lost) or "a peer"
    return RunError(f"{cluster.describe()} lost {who}: it stopped answering during training (killed, crashed "
                    f"or unreachable); {run_hint}")


def rendezvous(cluster: Cluster, timeout_s: float) -> None:
    """Return once every worker has connected to every other; else exit 1 with one line.

    A full barrier: a worker leaves only when it has reached each peer and each peer has
    reached it. Connecting sides close first, so the listening port is free again at once
    for TensorFlow's server.
    """
    if cluster.size == 1:
        return
    deadline = time.monotonic() + timeout_s
    port = cluster.workers[cluster.index].rsplit(":", 1)[1]
    listener = socket.create_server(("", int(port)), reuse_port=hasattr(socket, "SO_REUSEPORT"))
    listener.settimeout(0.2)
    reached: set[int] = set()
    met = 0
    try:
        while len(reached) < cluster.size - 1 or met < cluster.size - 1:
            if time.monotonic() > deadline:
                missing = [cluster.workers[i] for i in range(cluster.size) if i != cluster.index and i not in reached]
                _give_up(cluster, timeout_s, missing or ["(a peer that has not reached this worker)"])
            for peer in range(cluster.size):
                if peer != cluster.index and peer not in reached and _knock(cluster.workers[peer]):
                    reached.add(peer)
            try:
                connection, _ = listener.accept()
            except TimeoutError:
                continue
            with connection:
                connection.settimeout(5)
                if connection.recv(16) == b"archspec-hello":
                    met += 1
    finally:
        listener.close()


def _knock(address: str) -> bool:
    host, port = address.rsplit(":", 1)
    try:
        with socket.create_connection((host, int(port)), timeout=0.5) as connection:
            connection.sendall(b"archspec-hello")
        return True
    except OSError:
        return False


def _give_up(cluster: Cluster, timeout_s: float, missing: list[str]) -> None:
    raise RunError(
        f"{cluster.describe()} waited {timeout_s:g} s for its peers ({', '.join(missing)}) "
        "and gives up; start every worker of $TF_CONFIG within --worker-timeout seconds of each other"
    )


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
