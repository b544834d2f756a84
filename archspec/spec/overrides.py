"""`--set key.sub=value` overrides: applied after the base is merged and before vars and blocks expand.

A value is read by the same bounded YAML loader as a spec file (so an alias
bomb in a `--set` value is refused like one in a file), and every position
inside it is the `--set` argument itself: an error in an overridden value
is blamed on the command line, not on the file it replaced.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from archspec.errors import Location, SchemaError, YamlError, did_you_mean
from archspec.spec.document import Document, Path_, Positions
from archspec.spec.loader import parse_yaml
from archspec.spec.shorthand import read_short_forms


def apply_overrides(document: Document, overrides: Sequence[str]) -> Document:
    """The document with each `key.sub=value` of `overrides` set; unchanged if there are none."""
    if not overrides:
        return document
    result = Document(data=_copy(document.data), file=document.file, text=document.text,
                      positions=document.positions.copy())
    for text in overrides:
        where = Location(f"--set {text}")
        path, value, positions = _parse_override(text, where)
        data = result.data
        if not isinstance(data, dict):
            raise SchemaError("cannot apply --set to a spec that is not a mapping", location=where)
        if path[0] == "vars" and (len(path) != 2 or path[1] not in (data.get("vars") or {})):
            known = data.get("vars") or {}
            raise SchemaError(f"the spec has no variable '{'.'.join(map(str, path[1:]))}'",
                              location=where, expected="one of " + (", ".join(known) or "(no vars)"),
                              hint=did_you_mean(str(path[-1]), known) or "declare it under 'vars:'")
        set_path(data, path, value, where)
        positions.key = where
        result.positions.put(path, positions)
        _place_new_parents(result.positions, path, where)
    return read_short_forms(result)  # a --set value may use the file's short forms: inputs: {x: [8]}, edges: a -> b


def _place_new_parents(positions: Positions, path: Path_, where: Location) -> None:
    """Mappings the `--set` made on its way (`nodes.hiden` in `nodes.hiden.units=3`) were written by it, so an
    error about them (a node without op) points at the `--set`, not at the file's first line."""
    node = positions
    for part in path[:-1]:
        node = node.child(part)
        if node.value is None:
            node.key = node.value = where


def _copy(value: Any) -> Any:
    """A copy of plain YAML data (its depth is bounded by the loader, so recursion is safe)."""
    if isinstance(value, dict):
        return {key: _copy(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_copy(item) for item in value]
    return value


def _parse_override(text: str, where: Location) -> tuple[Path_, Any, Positions]:
    key, equals, raw = text.partition("=")
    if not equals or not key.strip():
        raise SchemaError(f"--set {text!r} is not of the form key=value", location=where,
                          hint="e.g. --set vars.width=32 or --set train.epochs=3")
    parts = key.strip().split(".")
    if not all(parts):
        raise SchemaError(f"--set {text!r} has an empty part in its key", location=where,
                          hint="write the key as dotted names, e.g. nodes.fc.units")
    # only ASCII digits index a list: '²'.isdigit() is true but int('²') fails
    path = tuple(int(part) if part.isascii() and part.isdigit() else part for part in parts)
    if not raw.strip():
        return path, "", Positions(where, where)
    try:
        value = parse_yaml(raw, where.file, where=where)
    except YamlError as error:
        if not error.message.startswith("invalid YAML"):
            raise  # a limit (bomb, depth, tag): refused, as in a file
        return path, raw, Positions(where, where)  # text YAML cannot read is meant as a string
    return path, value.data, value.positions


def set_path(data: Any, path: Path_, value: Any, where: Location | None = None) -> None:
    """Put `value` at `path`, creating mappings on the way."""
    container = data
    for depth, part in enumerate(path[:-1]):
        if isinstance(container, dict):
            container = container.setdefault(part, {})
        elif isinstance(container, list) and isinstance(part, int) and part < len(container):
            container = container[part]
        else:
            raise SchemaError(f"cannot set '{'.'.join(map(str, path))}': "
                              f"'{'.'.join(map(str, path[:depth + 1]))}' is not a mapping",
                              location=where)
    last = path[-1]
    if (isinstance(container, list) and isinstance(last, int) and last < len(container)) or isinstance(container, dict):
        container[last] = value
    else:
        raise SchemaError(f"cannot set '{'.'.join(map(str, path))}'", location=where)
