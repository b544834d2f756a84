"""Which served specs changed on disk: a polling watcher over each spec, its bases and its run's files.

Polling (a stat of a few files, five times a second) needs no library and
works on every file system, editors' atomic saves (write a new file, rename
it over the old) included; its cost is a handful of stat calls.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from pathlib import Path

POLL_SECONDS = 0.2


def signature(files: Iterable[Path]) -> tuple[tuple[str, int, int], ...]:
    """What identifies the saved state of some files (a spec, its bases, a run's curves): path, mtime, size."""
    state = []
    for file in files:
        try:
            info = file.stat()
            state.append((str(file), info.st_mtime_ns, info.st_size))
        except OSError:
            state.append((str(file), -1, -1))
    return tuple(state)


class Watcher:
    """Calls `changed(names)` from its own thread whenever a served item's files change.

    `files(name)` lists them (asked again at every poll: a spec may name a new base).
    """

    def __init__(self, names: list[str], files: Callable[[str], list[Path]],
                 changed: Callable[[list[str]], None]) -> None:
        self.names = names
        self.files = files
        self.changed = changed
        self.seen = {name: signature(files(name)) for name in names}
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self._run, name="archspec-serve-watch", daemon=True)

    def start(self) -> Watcher:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.stopped.set()

    def poll(self, names: Iterable[str] | None = None) -> list[str]:
        """The specs whose files changed since the last poll."""
        changed = []
        for name in names or self.names:
            now = signature(self.files(name))
            if now != self.seen.get(name):
                self.seen[name] = now
                changed.append(name)
        return changed

    def _run(self) -> None:
        while not self.stopped.wait(POLL_SECONDS):
            changed = self.poll()
            if changed:
                self.changed(changed)
