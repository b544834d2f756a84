"""A spec as data plus the place every key and value was written: the one document model of the front end.

Positions are kept in a tree that mirrors the data (a mapping's keys and a
list's indices are its children), so that every stage can look one up by path
in time proportional to the path's length, and can copy or drop the positions
of a subtree (a block's nodes, a base spec's section) in time proportional to
that subtree alone. Copying positions per node by scanning every position of
the file made a 10,000-node spec with `vars:` take minutes (issue 12).

A position is a `Location`; positions of one document may lie in several files
(a base spec, a block written once and used many times, a `--set` argument),
and carry a `context` saying where the text was used, so errors point at both.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

from archspec.errors import Location
from archspec.spec.provenance import BlockCopy

Path_ = tuple[str | int, ...]


class Positions:
    """The key and value locations of one value and, as children, of everything inside it."""

    __slots__ = ("children", "key", "value")

    def __init__(self, key: Location | None = None, value: Location | None = None) -> None:
        self.key = key
        self.value = value
        self.children: dict[str | int, Positions] = {}

    def child(self, part: str | int) -> Positions:
        """The positions of `part` inside this value, created empty if it has none yet."""
        node = self.children.get(part)
        if node is None:
            node = self.children[part] = Positions()
        return node

    def node(self, path: Path_) -> Positions | None:
        """The positions at `path` exactly, or None."""
        node: Positions | None = self
        for part in path:
            node = node.children.get(part) if node is not None else None
        return node

    def locate(self, path: Path_, *, key: bool = False) -> Location | None:
        """The value's (or key's) location at `path`, else that of its nearest positioned parent.

        For a value, a parent's value position wins over its key's; the root's
        value is the last resort for keys too (a whole-file error).
        """
        best = self.value
        node: Positions | None = self
        for part in path:
            node = node.children.get(part)
            if node is None:
                break
            found = node.key if key else (node.value or node.key)
            best = found or best
        return best

    def copy(self, context: str | None = None, *, inner: bool = False) -> Positions:
        """A deep copy, each location noting one more place its text was used (see with_context)."""
        result = Positions(_noted(self.key, context, inner), _noted(self.value, context, inner))
        stack = [(self, result)]
        while stack:
            source, target = stack.pop()
            for part, item in source.children.items():
                copied = Positions(_noted(item.key, context, inner), _noted(item.value, context, inner))
                target.children[part] = copied
                stack.append((item, copied))
        return result

    def put(self, path: Path_, subtree: Positions) -> None:
        """Make `subtree` the positions at `path` (creating the way there)."""
        node = self
        for part in path[:-1]:
            node = node.child(part)
        if path:
            node.children[path[-1]] = subtree
        else:
            self.key, self.value, self.children = subtree.key, subtree.value, subtree.children

    def drop(self, path: Path_) -> None:
        """Forget the positions at and under `path`."""
        parent = self.node(path[:-1]) if path else None
        if parent is not None:
            parent.children.pop(path[-1], None)

    def remove_item(self, path: Path_, index: int) -> None:
        """Forget list item `index` under `path` and renumber the items after it, as `del list[index]` does."""
        node = self.node(path)
        if node is None:
            return
        node.children = {
            (part - (part > index) if isinstance(part, int) else part): item
            for part, item in node.children.items() if part != index
        }

    def map(self, change: Callable[[Location], Location]) -> None:
        """Replace every location in place by `change(location)`."""
        stack = [self]
        while stack:
            node = stack.pop()
            node.key = change(node.key) if node.key is not None else None
            node.value = change(node.value) if node.value is not None else None
            stack.extend(node.children.values())


def _noted(location: Location | None, context: str | None, inner: bool) -> Location | None:
    return None if location is None else with_context(location, context, inner=inner)


def with_context(location: Location, context: str | None, *, inner: bool = False) -> Location:
    """`location`, noting one more place where its text was used; contexts read innermost first.

    `inner` puts the new context before the one the location has (a block use
    is nearer to the text than the `extends` that brought the block in).
    """
    if not context:
        return location
    if not location.context:
        joined = context
    else:
        joined = f"{context}; {location.context}" if inner else f"{location.context}; {context}"
    return replace(location, context=joined)


@dataclass
class Document:
    """A loaded spec: its data, the file it came from, its text, and the position of every part."""

    data: Any
    file: str
    text: str = ""
    positions: Positions = field(default_factory=Positions)
    block_uses: dict[str, tuple[BlockCopy, ...]] = field(default_factory=dict)
    """For each node made by expanding a block use, its uses, outermost first (archspec.spec.provenance)."""

    def locate(self, path: Path_, *, key: bool = False) -> Location:
        """The location of the value (or key) at `path`, or of its nearest positioned parent."""
        return self.positions.locate(tuple(path), key=key) or Location(self.file, 1, 1)

    def section(self, path: Path_, context: str | None = None, *, inner: bool = False) -> Positions:
        """A copy of the positions at `path` (empty if none), for putting into another document."""
        node = self.positions.node(tuple(path))
        return node.copy(context, inner=inner) if node is not None else Positions()
