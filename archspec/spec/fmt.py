"""`archspec fmt`: a spec in canonical layout, its comments kept, its meaning unchanged.

Canonical means: top-level keys in the order docs/spec.md lists them
(archspec or archspec_sweep, name, doc, extends, remove, vars, defaults, inputs, blocks, nodes,
edges, outputs, train; anything else after), `op` first in every node, 2-space
mappings and `- ` items indented under their key, one edge per item (a chain
longer than the width broken before an arrow), node
entries as flow mappings `{op: conv2d, filters: 64}` aligned in one column.
It is done with ruamel.yaml's round trip (YAML 1.2, like archspec's loader),
which keeps every comment beside what it was written next to.

The result is checked before it is returned (archspec.spec.fmt_proof): it must
read back, by archspec's own loader, to the data of the input (an edge chain
meaning its steps), keep every comment, and formatting it again must change
nothing; otherwise a plainer layout is tried, and at last the text is left as it is.
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable
from typing import Any

from archspec.errors import ArchspecError
from archspec.spec.fmt_proof import proven, split_document_end, untab
from archspec.spec.loader import parse_yaml
from archspec.spec.syntax import CHAIN_ARROW, split_steps

TOP_ORDER = ("archspec", "archspec_sweep", "name", "doc", "extends", "remove", "vars", "defaults", "inputs",
             "blocks", "nodes", "edges", "outputs", "train")
BLOCK_ORDER = ("doc", "params", "inputs", "outputs", "nodes", "edges")
WIDTH = 120
"""Trailing comments are aligned only while the line stays within this width."""
NEVER_FOLD = 100_000
"""ruamel folds long plain scalars at its width; a chain stays one line however long."""


class FormatError(ArchspecError):
    """The formatter would change what the spec means; nothing is written."""


def format_spec(text: str, name: str = "<string>", *, max_entries: int | None = None) -> str:
    """`text` in canonical layout; YamlError if it is not a readable spec.

    Each layout, from the full one to ruamel.yaml's dump alone, is returned
    only if it is proven (archspec.spec.fmt_proof: same meaning, every comment,
    a fixed point); a spec none of them can lay out without losing something
    (a comment inside a flow mapping, which ruamel.yaml drops) is returned as it
    is. `max_entries` is for text archspec wrote (`archspec expand`), see loader.parse_yaml.
    """
    parse_yaml(text, name, max_entries=max_entries)  # a located YamlError if it is no readable spec
    for layout in (_full_layout, _plain_layout):
        try:
            result = _apply(layout, text)
            if proven(text, result, _apply(layout, result), name, max_entries):
                return result
        except (ArchspecError, ValueError):  # ruamel.yaml's own errors are ValueErrors
            continue
    return text


def _apply(layout: Callable[[str], str], text: str) -> str:
    """A layout of the text before a `...` line; that line and the comments after it kept as written."""
    body, tail = split_document_end(text)
    return layout(untab(body)) + tail


def _full_layout(text: str) -> str:
    return _fold_flows(_fold_chains(_align(_layout(text))))


def _plain_layout(text: str) -> str:
    return _layout(text)


def _layout(text: str) -> str:
    try:
        from ruamel.yaml import YAML
        from ruamel.yaml.comments import CommentedMap, CommentedSeq
    except ImportError:  # pragma: no cover - the fmt extra is part of the test extra
        raise ArchspecError("archspec fmt needs ruamel.yaml: pip install 'archspec[fmt]'") from None
    yaml = YAML()
    yaml.preserve_quotes = True
    yaml.width = NEVER_FOLD
    yaml.indent(mapping=2, sequence=4, offset=2)
    data = yaml.load(text)
    if isinstance(data, CommentedMap):
        _reorder(data, TOP_ORDER)
        for key in ("nodes",):
            if isinstance(data.get(key), CommentedMap):
                _nodes(data[key], CommentedMap)
        blocks = data.get("blocks")
        if isinstance(blocks, CommentedMap):
            for block in blocks.values():
                if isinstance(block, CommentedMap):
                    _reorder(block, BLOCK_ORDER)
                    if isinstance(block.get("nodes"), CommentedMap):
                        _nodes(block["nodes"], CommentedMap)
        for key in ("edges",):
            if isinstance(data.get(key), CommentedSeq):
                data[key].fa.set_block_style()
    out = io.StringIO()
    yaml.dump(data, out)
    return out.getvalue()


_ITEM = re.compile(r"^(\s*)(- |[^\s#'\"-][^#'\"]*?: )([^'\"{\[#].*)$")
"""A chain as a list item (`- a -> b`) or as a key's one chain (`edges: a -> b`, `unit(n): x -> y`)."""


def _fold_chains(text: str) -> str:
    """Chain items longer than WIDTH broken before an arrow, continued 4 columns in (YAML folds them back)."""
    lines = []
    for line in text.split("\n"):
        match = _ITEM.match(line)
        steps = split_steps(match.group(3)) if match and len(line) > WIDTH and " #" not in line else None
        if steps is None or not all(_is_step(step) for step, _ in steps):  # a doc line with 'a->b' is no chain
            lines.append(line)
            continue
        indent, lead = match.group(1), match.group(2)  # type: ignore[union-attr]
        current = f"{indent}{lead}{steps[0][0]}"
        for step, _ in steps[1:]:
            if len(current) + len(step) + 4 > WIDTH:
                lines.append(current)
                current = f"{indent}    {CHAIN_ARROW} {step}"
            else:
                current += f" {CHAIN_ARROW} {step}"
        lines.append(current)
    return "\n".join(lines)


_ANCHOR = re.compile(r"^&\S+\s+")
_BRACKETED = re.compile(r"\([^()]*\)|\[[^\[\]]*\]|\{[^{}]*\}|'[^']*'|\"[^\"]*\"")


def _is_step(text: str) -> bool:
    """A chain step has no space outside its brackets and quotes (`dense(8, relu)`); prose has. (The first
    step of an item may carry the item's anchor, `&branch x`.)"""
    text, previous = _ANCHOR.sub("", text), None
    while previous != text:
        previous, text = text, _BRACKETED.sub("", text)
    return not any(char.isspace() for char in text)


_ENTRY = re.compile(r"^(\s+)([A-Za-z0-9_]+):\s+(\{.*\})(\s+#.*)?$")
"""A node line; a block's node names may start with a digit (`1_conv`, as Keras names them)."""
_FLOW = re.compile(r"^(\s*)([^\s#'\"][^#'\"]*?):\s+(\[.*\]|\{.*\})(\s+#.*)?$")


def _fold_flows(text: str) -> str:
    """A `key: [a, b, ...]` or `key: {a: 1, ...}` line longer than WIDTH: its comment on the key, the
    items wrapped under it."""
    lines = []
    for line in text.split("\n"):
        match = _FLOW.match(line) if len(line) > WIDTH else None
        items = _flow_items(match.group(3)) if match else None
        if not items:
            lines.append(line)
            continue
        indent, key, _, comment = match.groups()  # type: ignore[union-attr]
        lines.append(f"{indent}{key}:" + (f"  {comment.strip()}" if comment else ""))
        opener, closer = match.group(3)[0], match.group(3)[-1]  # type: ignore[union-attr]
        current = f"{indent}  {opener}{items[0]}"
        for item in items[1:]:
            if len(current) + len(item) + 3 > WIDTH:
                lines.append(current + ",")
                current = f"{indent}   {item}"
            else:
                current += f", {item}"
        lines.append(current + closer)
    return "\n".join(lines)


def _flow_items(text: str) -> list[str] | None:
    """The top-level items of a flow sequence `[a, "b, c", {d: 1}]` or mapping `{a: 1, b: [2, 3]}`; None
    if it is not one (or has one item)."""
    items, depth, quote, start = [], 0, None, 1
    for index, char in enumerate(text):
        if quote:
            quote = None if char == quote else quote
        elif char in "'\"":
            quote = char
        elif char in "[{(":
            depth += 1
        elif char in "]})":
            depth -= 1
            if depth == 0 and index != len(text) - 1:
                return None
        elif char == "," and depth == 1:
            items.append(text[start:index].strip())
            start = index + 1
    if depth != 0 or quote:
        return None
    items.append(text[start:-1].strip())
    return items if len(items) > 1 else None


def _align(text: str) -> str:
    """Runs of `name: {...}` lines at one indentation (comment lines between them allowed) aligned:
    the mappings start in one column, and their trailing comments in another."""
    lines = text.split("\n")
    run: list[int] = []
    for index in range(len(lines) + 1):
        match = _ENTRY.match(lines[index]) if index < len(lines) else None
        same = match and (not run or _ENTRY.match(lines[run[0]]).group(1) == match.group(1))  # type: ignore[union-attr]
        if match and same:
            run.append(index)
            continue
        if index < len(lines) and lines[index].strip().startswith("#") and run:
            continue
        _align_run(lines, run)
        run = [index] if match else []
    return "\n".join(lines)


def _align_run(lines: list[str], run: list[int]) -> None:
    if len(run) < 2:
        return
    parts = [_ENTRY.match(lines[index]).groups() for index in run]  # type: ignore[union-attr]
    width = max(len(name) for _, name, _, _ in parts) + 1
    codes = [f"{indent}{(name + ':').ljust(width)} {value}" for indent, name, value, _ in parts]
    column = max(len(code) for code in codes) + 2
    for index, code, (_, _, _, comment) in zip(run, codes, parts, strict=True):
        if comment is None:
            lines[index] = code
        elif column + len(comment.strip()) <= WIDTH:
            lines[index] = code.ljust(column) + comment.strip()
        else:
            lines[index] = code + "  " + comment.strip()


def _reorder(mapping: Any, order: tuple[str, ...]) -> None:
    """Move `mapping`'s keys into `order` (unknown keys after, as written), keeping their comments."""
    keys = [key for key in order if key in mapping] + [key for key in mapping if key not in order]
    if keys == list(mapping):
        return
    for position, key in enumerate(keys):
        if list(mapping).index(key) != position:
            comment = mapping.ca.items.pop(key, None)
            value = mapping.pop(key)
            mapping.insert(position, key, value)
            if comment is not None:
                mapping.ca.items[key] = comment


def _nodes(nodes: Any, mapping_type: type) -> None:
    """Every node a flow mapping with `op` (or `block`) first."""
    for node in nodes.values():
        if isinstance(node, mapping_type):
            _reorder(node, ("op", "block", "repeat", "start"))
            if not _has_comments(node):  # a comment inside a parameter stays beside it, in block style
                node.fa.set_flow_style()


def _has_comments(value: Any) -> bool:
    """True if a ruamel mapping or sequence, or one nested in it, carries a comment."""
    attached = getattr(value, "ca", None)
    if attached is not None and (attached.items or attached.comment):
        return True
    children = value.values() if isinstance(value, dict) else value if isinstance(value, list) else []
    return any(_has_comments(child) for child in children)
