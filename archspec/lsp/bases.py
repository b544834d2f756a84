"""The files a spec is made of: itself and its `extends:` bases, found by the rule `extends:` obeys.

Read from the text alone (the line `extends: base.yaml`), so that a spec which
does not parse still names its base, for go-to-definition and for the
preview's file watcher.
"""

from __future__ import annotations

from pathlib import Path

from archspec.errors import ArchspecError, Location
from archspec.spec.extends import MAX_EXTENDS_DEPTH
from archspec.spec.project_paths import check_project_file


def base_path(lines: list[str], file: str | Path) -> Path | None:
    """The base named on a spec's `extends:` line, when it is a file the rule for `extends:` lets archspec read."""
    for text in lines:
        if text.startswith("extends:"):
            reference = text.partition(":")[2].split(" #")[0].strip().strip("'\"")
            try:
                return check_project_file(reference, Path(file).parent, Location(str(file)), key="extends")
            except ArchspecError:
                return None
    return None


def spec_files(path: str | Path) -> list[Path]:
    """The spec and its bases, nearest first; it stops at a missing or unreadable base and at a cycle."""
    chain = [Path(path).resolve()]
    while len(chain) <= MAX_EXTENDS_DEPTH:
        try:
            lines = chain[-1].read_text(encoding="utf-8", errors="replace")[:1_000_000].splitlines()
        except OSError:
            break
        base = base_path(lines, chain[-1])
        if base is None or base in chain:
            break
        chain.append(base)
    return chain
