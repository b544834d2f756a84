"""Files that a spec or a sweep file may name: its own project's YAML files, never any file.

A spec or sweep file from someone else, validated or run in CI, could
otherwise name a secrets file and have its text echoed in an error message, or
a named pipe that blocks the reader forever. So a referenced file must be a
relative .yaml/.yml path that stays inside the referring file's folder or the
current directory, and must be a regular file when it exists
(docs/security.md). `extends:` and the sweep file's `spec:` / `specs:` share
this one rule.
"""

from __future__ import annotations

import stat
from pathlib import Path

from archspec.errors import Location, SchemaError, SpecError

YAML_SUFFIXES = (".yaml", ".yml")


def resolved_path(path: Path, where: Location, error: type[SpecError] = SchemaError) -> Path:
    """The absolute path without links, or a located error where the system refuses the name."""
    try:
        return path.resolve()
    except (OSError, ValueError, RuntimeError) as problem:
        raise error(f"the system refuses the path {str(path)!r}: {problem}", location=where) from None


def check_project_file(reference: str, folder: Path, where: Location, *, key: str, owner: str = "spec",
                       error: type[SpecError] = SchemaError) -> Path:
    """The resolved path of `reference` (relative to `folder`), or a located error saying why it may not be read.

    `key` names the YAML key in the messages ('extends', 'spec') and `owner` the
    referring file ('spec', 'sweep file'); nothing of
    the file's content is read here, so nothing of it can be echoed.
    """
    hint = f"{key}: base.yaml (relative to this file)"
    if "\0" in reference:
        raise error(f"'{key}' names a path with a NUL character", location=where, got=repr(reference), hint=hint)
    path = folder / reference
    if Path(reference).is_absolute() or path.suffix not in YAML_SUFFIXES:
        raise error(f"'{key}' must be a relative path to a .yaml spec file", location=where,
                    got=repr(reference), hint=hint)
    resolved = resolved_path(path, where, error)
    roots = (resolved_path(folder, where, error), Path.cwd().resolve())
    if not any(resolved.is_relative_to(root) for root in roots):
        raise error(f"'{key}' leads outside this {owner}'s folder and the current directory", location=where,
                    got=repr(reference),
                    hint=f"keep the files it names beside the {owner}, or run archspec from the project folder")
    try:
        mode = resolved.stat().st_mode
    except OSError:
        return resolved  # a missing file is reported by whoever reads it, with its own hint
    if not stat.S_ISREG(mode):
        raise error(f"'{key}' names something that is not a regular file (a pipe, device or folder)",
                    location=where, got=repr(reference), hint=hint)
    return resolved
