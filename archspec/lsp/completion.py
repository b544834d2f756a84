"""Completion: what may be written at the cursor, each list read from its registry or from the spec itself.

Op names from `OPS`, an op's parameters from its `Params` model, edge kinds
from `CONNECTIONS`, tasks from `TASKS`, datasets, `train:` keys and top-level
keys from the format's models, names from the spec (the last version of it
that parsed, since the text being typed usually does not).
"""

from __future__ import annotations

import re
import typing
from collections.abc import Iterable
from typing import Any

from lsprotocol import types

from archspec.catalogue.connections import CONNECTIONS
from archspec.catalogue.ops import OPS
from archspec.lsp.names import ROOT, NameIndex, Scope
from archspec.spec.models import SpecFile, TrainSpec
from archspec.train.tasks import TASKS

_VALUE_OF = re.compile(r"(?:^|[{,\s])([\w-]+)\s*:\s*([\w.-]*)$")
_KEY_IN_FLOW = re.compile(r"[{,]\s*(\w*)$")
_BLOCK_KEY = re.compile(r"^(\s*)(?:-\s+)?(\w*)$")
_CALL = re.compile(r"(\w+)\(([^()]*)$")
_OP_IN_LINE = re.compile(r"\bop\s*:\s*(\w+)")
_BLOCK_IN_LINE = re.compile(r"\bblock\s*:\s*(\w+)")
Kind = types.CompletionItemKind


def complete(lines: list[str], line: int, character: int, index: NameIndex, data: Any,
             extra_names: Iterable[str] = ()) -> list[types.CompletionItem]:
    """Items for the 0-based `line` and `character`; `data` is the last parsed spec data (or None)."""
    text = lines[line] if line < len(lines) else ""
    prefix = text[:character]
    if prefix.lstrip().startswith("#"):
        return []
    path = parent_keys(lines, line)
    scope: Scope = ("blocks", path[1]) if len(path) > 1 and path[0] == "blocks" else ROOT
    value = _VALUE_OF.search(prefix)
    if value is not None:
        items = _values(value.group(1), index, scope, data)
        if items is not None:
            return items
    call = _CALL.search(prefix)
    if call is not None and call.group(1) in OPS:  # inside `conv2d(`: its parameters by name
        return _params(call.group(1), suffix="=")
    if "->" in prefix or (path and path[-1] in ("edges", "outputs")):
        return _names(index, scope, extra_names) + _ops()
    flow = _KEY_IN_FLOW.search(prefix)
    if flow is not None or _BLOCK_KEY.match(prefix):
        return _keys(text if flow is not None else _sibling_text(lines, line), path, data)
    return []


def parent_keys(lines: list[str], line: int) -> list[str]:
    """The keys enclosing a line, outermost first, read from indentation (works on text that does not parse)."""
    text = lines[line] if line < len(lines) else ""
    indent = len(text) - len(text.lstrip()) if text.strip() else len(text)
    keys: list[str] = []
    for number in range(min(line, len(lines)) - 1, -1, -1):
        above = lines[number]
        stripped = above.lstrip()
        if not stripped or stripped.startswith("#"):
            continue
        depth = len(above) - len(stripped)
        if depth < indent:
            key = re.match(r"(?:-\s+)?([\w.-]+)\s*:", stripped)
            if key:
                keys.append(key.group(1))
            indent = depth
            if depth == 0:
                break
    return keys[::-1]


def _values(key: str, index: NameIndex, scope: Scope, data: Any) -> list[types.CompletionItem] | None:
    if key == "op":
        return _ops()
    if key == "kind":
        return [_item(name, Kind.EnumMember, (CONNECTIONS[name].__doc__ or "").strip().split("\n")[0])
                for name in CONNECTIONS]
    if key == "task":
        return [_item(name, Kind.EnumMember, (type(task).__doc__ or "").strip().split("\n")[0])
                for name, task in TASKS.items()]
    if key == "dataset":
        return [_item(name, Kind.EnumMember) for name in typing.get_args(TrainSpec.model_fields["dataset"].annotation)]
    if key == "block":
        blocks = data.get("blocks") if isinstance(data, dict) else None
        return [_item(name, Kind.Class) for name in blocks] if isinstance(blocks, dict) else []
    if key in ("from", "to", "shares", "outputs"):
        return _names(index, scope, ())
    return None


def _keys(text: str, path: list[str], data: Any) -> list[types.CompletionItem]:
    """Keys that fit here: an op's or block's parameters in a node, `train:` keys, top-level keys."""
    if not path:
        return [_item(name, Kind.Property) for name in SpecFile.model_fields]
    if path == ["train"]:
        return [_item(name, Kind.Property, f"default {info.default!r}")
                for name, info in TrainSpec.model_fields.items()]
    if path[-1] != "nodes" and (len(path) < 2 or path[-2] != "nodes"):
        return []
    op, block = _OP_IN_LINE.search(text), _BLOCK_IN_LINE.search(text)
    if op is not None and op.group(1) in OPS:
        return _params(op.group(1), suffix=": ")
    if block is not None:
        return _block_params(data, block.group(1))
    return [_item("op", Kind.Property, "the node's op"), _item("block", Kind.Property, "a block to use here")]


def _sibling_text(lines: list[str], line: int) -> str:
    """The lines of the mapping a block-style key is typed in (same indentation, no blank between)."""
    text = lines[line] if line < len(lines) else ""
    indent = len(text) - len(text.lstrip())
    siblings = []
    for step in (-1, 1):
        number = line + step
        while 0 <= number < len(lines) and lines[number].strip() and \
                len(lines[number]) - len(lines[number].lstrip()) >= indent:
            siblings.append(lines[number])
            number += step
    return "\n".join(siblings)


def _ops() -> list[types.CompletionItem]:
    return [_item(name, Kind.Function, op.doc) for name, op in OPS.items()]


def _params(op: str, suffix: str) -> list[types.CompletionItem]:
    """An op's parameters, required first, each with its type and default (from the Params model)."""
    items = []
    for name, info in OPS[op].Params.model_fields.items():
        default = "required" if info.is_required() else f"default {info.default!r}"
        item = _item(name, Kind.Property, default)
        item.insert_text = name + suffix
        item.sort_text = ("0" if info.is_required() else "1") + name
        items.append(item)
    return items


def _block_params(data: Any, block: str) -> list[types.CompletionItem]:
    """A block's params (as the block declares them: a list, or a mapping with defaults)."""
    blocks = data.get("blocks") if isinstance(data, dict) else None
    body = blocks.get(block) if isinstance(blocks, dict) else None
    params = body.get("params") if isinstance(body, dict) else None
    if isinstance(params, dict):
        return [_item(str(name), Kind.Property, f"default {value!r}") for name, value in params.items()]
    if isinstance(params, list):
        return [_item(str(name), Kind.Property, "required") for name in params]
    return []


def _names(index: NameIndex, scope: Scope, extra: Iterable[str]) -> list[types.CompletionItem]:
    names = {o.name: o.role for o in index.names(scope)}
    for name in extra if scope == ROOT else ():
        names.setdefault(name, "node")
    return [_item(name, Kind.Variable, role) for name, role in names.items()]


def _item(label: str, kind: Kind, detail: str | None = None) -> types.CompletionItem:
    return types.CompletionItem(label=label, kind=kind, detail=detail or None)
