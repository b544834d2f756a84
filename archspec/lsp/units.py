"""Columns between the editor's units and archspec's: every position crosses here, both ways.

archspec counts a line's characters (Python's code points, as its error
locations do); the protocol counts UTF-16 code units unless the editor chose
another encoding at `initialize` (pygls negotiates it and gives the codec).
The two differ after any character outside the Basic Multilingual Plane: an
emoji in a `doc:` or a comment shifts every later column of its line by one.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, TypeVar

import attrs
from lsprotocol import types
from pygls.workspace.position_codec import PositionCodec

Value = TypeVar("Value")


def from_client(codec: PositionCodec, lines: Sequence[str], position: types.Position) -> types.Position:
    """The editor's position as archspec counts it (characters)."""
    found = codec.position_from_client_units(lines, position)
    return types.Position(found.line, found.character)


def to_client(codec: PositionCodec, lines: Sequence[str], value: Value) -> Value:
    """`value` (a result, a list of them, or an edit map) with every Position in it in the editor's units."""
    return _convert(codec, lines, value)  # type: ignore[no-any-return]


def _convert(codec: PositionCodec, lines: Sequence[str], value: Any) -> Any:
    if isinstance(value, types.Position):
        if value.line >= len(lines):
            return value  # past the last line (a whole-document edit): no characters to count
        return codec.position_to_client_units(lines, value)
    if isinstance(value, list):
        return [_convert(codec, lines, item) for item in value]
    if isinstance(value, dict):
        return {key: _convert(codec, lines, item) for key, item in value.items()}
    if attrs.has(type(value)):
        changes = {}
        for item in attrs.fields(type(value)):
            old = getattr(value, item.name)
            new = _convert(codec, lines, old)
            if new is not old:
                changes[item.alias or item.name] = new
        return attrs.evolve(value, **changes) if changes else value
    return value
