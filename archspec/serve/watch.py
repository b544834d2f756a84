"""Which served specs changed on disk: a polling watcher over each spec and the bases it extends.

Polling (a stat of a few files, five times a second) needs no library and
works on every file system, editors' atomic saves (write a new file, rename
it over the old) included; its cost is a handful of stat calls.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from pathlib import Path

from archspec.lsp.bases import spec_files

POLL_SECONDS = 0.2


def signature(path: Path) -> tuple[tuple[str, int, int], ...]:
    """What identifies the saved state of a spec and its bases: each file's path, mtime and size."""
    state = []
    for file in spec_files(path):
        try:
            info = file.stat()
            state.append((str(file), info.st_mtime_ns, info.st_size))
        except OSError:
            state.append((str(file), -1, -1))
    return tuple(state)


class Watcher:
    """Calls `changed(names)` from its own thread whenever specs (by name) or their bases are saved."""

    def __init__(self, specs: dict[str, Path], changed: Callable[[list[str]], None]) -> None:
        self.specs = specs
        self.changed = changed
        self.seen = {name: signature(path) for name, path in specs.items()}
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
        for name in names or self.specs:
            now = signature(self.specs[name])
            if now != self.seen.get(name):
                self.seen[name] = now
                changed.append(name)
        return changed

    def _run(self) -> None:
        while not self.stopped.wait(POLL_SECONDS):
            changed = self.poll()
            if changed:
                self.changed(changed)
