"""Where each name is written in one spec text: definitions and uses of nodes, inputs, labels and blocks.

Go to definition, references, rename, hover and completion all ask "what is
written here, and in which scope": the top level, or one block's body (a
block's names are its own). The parsed Document knows where each key and
value starts; chain strings (`a -> conv2d(8) -> out=add`) are cut into steps
by the same `split_steps` the front end uses, so a step's name is found where
the front end finds it.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from archspec.catalogue.ops import OPS
from archspec.spec.document import Document, Positions
from archspec.spec.syntax import LINE_BREAK, split_steps

Scope = tuple[str, ...]
ROOT: Scope = ()
_NAME = re.compile(r"\w+")
_STEP = re.compile(r"\s*(?:(\w+)\s*=\s*)?(\w+)(?:\.(\w+))?\s*(\()?")


@dataclass(frozen=True)
class Occurrence:
    """One written name: `role` is node, input, block, label (definitions), use, block-use, op or step."""

    name: str
    line: int
    column: int
    scope: Scope
    role: str

    @property
    def end(self) -> int:
        return self.column + len(self.name)

    @property
    def defines(self) -> bool:
        return self.role in ("node", "input", "block", "label")

    def covers(self, line: int, column: int) -> bool:
        return self.line == line and self.column <= column <= self.end


class NameIndex:
    """Every occurrence of a name in a document, and the questions the editor features ask of them."""

    def __init__(self, document: Document | None) -> None:
        self.lines = LINE_BREAK.split(document.text) if document is not None else []
        self.data: Any = document.data if document is not None else None
        self.occurrences: list[Occurrence] = []
        if document is not None and isinstance(document.data, dict):
            self._scan_scope(document.data, document.positions, ROOT)
            blocks = document.data.get("blocks")
            if isinstance(blocks, dict):
                for name, body in blocks.items():
                    where = document.positions.node(("blocks", name))
                    self._add_key(name, where, ROOT, "block")
                    if isinstance(body, dict) and where is not None:
                        self._scan_scope(body, where, ("blocks", str(name)))
        defined = {(o.scope, o.name) for o in self.occurrences if o.defines}
        self.occurrences = [  # a bare chain word is a name where the scope defines it, an op otherwise
            Occurrence(o.name, o.line, o.column, o.scope, "use" if (o.scope, o.name) in defined else "op")
            if o.role == "step" else o for o in self.occurrences]

    def at(self, line: int, column: int) -> Occurrence | None:
        """The occurrence under a 1-based line and column (the column just after a name counts)."""
        found = [o for o in self.occurrences if o.covers(line, column)]
        return found[0] if found else None

    def definition(self, name: str, scope: Scope) -> Occurrence | None:
        """Where `name` is defined in `scope` (blocks are defined at the top level)."""
        for occurrence in self.occurrences:
            if occurrence.name == name and occurrence.defines and (
                    occurrence.scope == scope or occurrence.role == "block"):
                return occurrence
        return None

    def references(self, name: str, scope: Scope, role: str) -> list[Occurrence]:
        """Every place `name` is written as the same thing (a block: its definition and uses)."""
        if role in ("block", "block-use"):
            return [o for o in self.occurrences if o.name == name and o.role in ("block", "block-use")]
        return [o for o in self.occurrences if o.name == name and o.scope == scope
                and o.role in ("node", "input", "label", "use")]

    def names(self, scope: Scope) -> list[Occurrence]:
        """The definitions visible in `scope`: its nodes, inputs and labels."""
        return [o for o in self.occurrences if o.defines and o.scope == scope and o.role != "block"]

    # ------------------------------------------------------------ scanning

    def _scan_scope(self, data: dict, positions: Positions, scope: Scope) -> None:
        inputs = data.get("inputs")
        if isinstance(inputs, dict):
            for name in inputs:
                self._add_key(name, positions.node(("inputs", name)), scope, "input")
        elif isinstance(inputs, list):
            for index, name in enumerate(inputs):
                self._add_value(name, positions.node(("inputs", index)), scope, "input")
        nodes = data.get("nodes")
        if isinstance(nodes, dict):
            for name, body in nodes.items():
                where = positions.node(("nodes", name))
                self._add_key(name, where, scope, "node")
                if isinstance(body, dict) and where is not None:
                    self._add_value(body.get("op"), where.node(("op",)), scope, "op")
                    self._add_value(body.get("block"), where.node(("block",)), ROOT, "block-use")
                    self._add_value(body.get("shares"), where.node(("shares",)), scope, "use")
        for section in ("edges", "outputs"):
            value, where = data.get(section), positions.node((section,))
            for item, item_where in _items(value, where):
                if isinstance(item, str):
                    self._add_chain(item, item_where, scope)
                elif isinstance(item, dict) and item_where is not None:
                    for key in ("from", "to"):
                        self._add_value(item.get(key), item_where.node((key,)), scope, "use", port=True)
        remove = data.get("remove")
        if isinstance(remove, dict):
            for section in ("nodes", "inputs", "outputs"):
                for item, where in _items(remove.get(section), positions.node(("remove", section))):
                    self._add_value(item, where, scope, "use")

    def _add_key(self, name: Any, where: Positions | None, scope: Scope, role: str) -> None:
        if isinstance(name, str) and where is not None and where.key is not None and where.key.line:
            start = self._start(name, where.key.line, where.key.column)
            if start is not None:
                self.occurrences.append(Occurrence(name, where.key.line, start, scope, role))

    def _add_value(self, name: Any, where: Positions | None, scope: Scope, role: str, *, port: bool = False) -> None:
        if not isinstance(name, str) or where is None or where.value is None or not where.value.line:
            return
        name = name.partition(".")[0] if port else name
        start = self._start(name, where.value.line, where.value.column)
        if start is not None:
            self.occurrences.append(Occurrence(name, where.value.line, start, scope, role))

    def _add_chain(self, text: str, where: Positions | None, scope: Scope) -> None:
        if where is None or where.value is None or not where.value.line:
            return
        line, start = where.value.line, self._start(text, where.value.line, where.value.column)
        if start is None:  # written over several lines or with escapes: not a name we can point at
            return
        for step, offset in split_steps(text) or [(text, 0)]:
            match = _STEP.match(step)
            if match is None:
                continue
            label, word, _port, call = match.groups()
            column = start + offset
            if label:
                self.occurrences.append(Occurrence(label, line, column + match.start(1), scope, "label"))
            role = "op" if call or label else "step"
            if not call and not label and _port:
                role = "use"
            self.occurrences.append(Occurrence(word, line, column + match.start(2), scope, role))

    def _start(self, text: str, line: int, column: int | None) -> int | None:
        """The 1-based column where `text` is written on `line` at or just after `column` (past a quote)."""
        if column is None or not 0 < line <= len(self.lines):
            return None
        source = self.lines[line - 1]
        for skip in (0, 1):
            if source[column - 1 + skip:column - 1 + skip + len(text)] == text:
                return column + skip
        return None


def _items(value: Any, where: Positions | None) -> Iterator[tuple[Any, Positions | None]]:
    """A list's items with their positions; a lone string as a one-item list."""
    if isinstance(value, list):
        for index, item in enumerate(value):
            yield item, where.node((index,)) if where is not None else None
    elif isinstance(value, str):
        yield value, where


def word_at(line_text: str, column: int) -> tuple[str, int] | None:
    """The name (letters, digits, `_`) under a 1-based column, with its start column."""
    for match in _NAME.finditer(line_text):
        if match.start() + 1 <= column <= match.end() + 1:
            return match.group(), match.start() + 1
    return None


def is_op(name: str) -> bool:
    return name in OPS
