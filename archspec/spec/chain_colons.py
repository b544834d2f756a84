"""A chain step's parameter written `name: value` instead of `name=value`, at each place it can hide.

In a chain, a step names a parameter with `=` (`dense(4, activation=relu)`). The
YAML habit `activation: relu` goes wrong three ways, none of which said so:
- in an unquoted list item, `- x -> dense(4, activation: relu) -> y`, YAML reads
  the line as a mapping (`{"x -> dense(4, activation": "relu) -> y"}`), and the
  spec was refused for "missing required key 'nodes'";
- after a key (`edges: x -> dense(4, activation: relu)`), it is a YAML syntax
  error whose hint spoke of indentation;
- in a quoted chain, `activation: relu` was read as one positional value.
Each is now one error at the place, with the `=` form as its hint.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

from archspec.errors import Location, SchemaError
from archspec.spec.document import Document, Path_

ARROW = "->"
_NAMED = re.compile(r"([A-Za-z_]\w*)\s*:\s+(\S.*)", re.S)


def colon_hint(name: str = "activation", value: str = "relu", *, quoted: bool = False) -> str:
    if quoted:
        return f"a chain step names a parameter with '=': {name}={value}"
    return f"a chain step names a parameter with '=': {name}={value} (a ': ' inside an unquoted chain ends it " \
        "for YAML)"


def named_with_colon(value: Any, parameters: Any, at: Location) -> None:
    """Refuse a quoted chain's positional argument that is `name: value` for one of the step's parameters."""
    match = _NAMED.fullmatch(value.strip()) if isinstance(value, str) else None
    if match is not None and match.group(1) in parameters:
        raise SchemaError(f"argument '{value.strip()}' names parameter '{match.group(1)}' with ':'", location=at,
                          hint=colon_hint(match.group(1), match.group(2), quoted=True))


def colon_in_chain(line: str, column: int) -> bool:
    """True if a YAML error at 1-based `column` of `line` is a `: ` inside the parentheses of a chain step."""
    before = line[:column - 1]
    return ARROW in line and before.count("(") > before.count(")")


def check_chains_read_as_mappings(document: Document) -> None:
    """Raise at the first edge entry that is a chain YAML read as a mapping because of a `name: value` in it."""
    data = document.data
    if not isinstance(data, dict):
        return
    scopes: list[Path_] = [()]
    if isinstance(data.get("blocks"), dict):
        scopes += [("blocks", name) for name, block in data["blocks"].items() if isinstance(block, dict)]
    for scope in scopes:
        holder = data if not scope else data["blocks"][scope[1]]
        edges = holder.get("edges")
        if isinstance(edges, list):
            for entry, path in _entries(edges, scope + ("edges",)):
                _check(document, entry, path)


def _entries(items: list[Any], path: Path_) -> Iterator[tuple[Any, Path_]]:
    """Every edge entry of a list, inside loops' `do:` and conditionals' `do:`/`else:` too."""
    stack = [(item, path + (index,)) for index, item in enumerate(items)]
    while stack:
        entry, where = stack.pop()
        yield entry, where
        if isinstance(entry, dict):
            for key in ("do", "else"):
                body = entry.get(key)
                if isinstance(body, list):
                    stack.extend((item, where + (key, index)) for index, item in enumerate(body))


def _check(document: Document, entry: Any, path: Path_) -> None:
    if not isinstance(entry, dict) or len(entry) != 1:
        return
    key, value = next(iter(entry.items()))
    if not isinstance(key, str) or ARROW not in key or isinstance(value, (dict, list)):
        return
    written = f"{key}: {'' if value is None else value}"
    name = re.search(r"([A-Za-z_]\w*)\s*$", key)
    given = re.match(r"[^,)\s]+", str(value)) if value is not None else None
    at = document.locate(path + (key,), key=True)
    if at.column is not None and "\n" not in key:
        at = replace(at, column=at.column + len(key))  # the ': ' that split it (a plain key is written as is)
    raise SchemaError(
        f"YAML read the chain '{written}' as a mapping: the ': ' after '{name.group(1) if name else key}' splits it",
        location=at,
        hint=colon_hint(name.group(1) if name else "activation", given.group(0) if given else "relu"),
    )
