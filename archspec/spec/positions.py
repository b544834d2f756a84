"""Positions of a spec that was put together from several places (a base spec, a block, --set).

`loader.Document` knows one file. Once `extends:` and blocks are expanded, a
node may come from another file, or from a block written once and used many
times; `ExpandedDocument` keeps, for every key and value, the Location it was
written at plus a `context` saying where it was used, so errors point at both.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from archspec.errors import Location
from archspec.spec.document import Document, Path_


@dataclass
class Positions:
    """Key and value locations by path, each one knowing its own file."""

    keys: dict[Path_, Location] = field(default_factory=dict)
    values: dict[Path_, Location] = field(default_factory=dict)

    @classmethod
    def of(cls, document: Document) -> Positions:
        if isinstance(document, ExpandedDocument):
            return document.positions
        file = document.file
        return cls(
            keys={path: Location(file, *at) for path, at in document.keys.items()},
            values={path: Location(file, *at) for path, at in document.values.items()},
        )

    def at(self, path: Path_, *, key: bool = False, default: Location | None = None) -> Location:
        """The location of the value (or key) at `path`, or of its nearest positioned parent."""
        table = self.keys if key else self.values
        probe = tuple(path)
        while probe:
            if probe in table:
                return table[probe]
            if not key and probe in self.keys:
                return self.keys[probe]
            probe = probe[:-1]
        return self.values.get((), default or Location("<spec>", 1, 1))

    def copy(self, source: Positions, source_path: Path_, target_path: Path_,
             context: str | None = None, *, inner: bool = False) -> None:
        """Give everything under `target_path` the positions of `source_path` in `source`."""
        size = len(source_path)
        for mine, theirs in ((self.keys, source.keys), (self.values, source.values)):
            for path, location in theirs.items():
                if path[:size] == source_path:
                    mine[target_path + path[size:]] = with_context(location, context, inner=inner)

    def drop(self, path: Path_) -> None:
        size = len(path)
        for table in (self.keys, self.values):
            for stale in [p for p in table if p[:size] == path]:
                del table[stale]


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
class ExpandedDocument(Document):
    """A Document whose positions may lie in several files and carry a use context."""

    positions: Positions = field(default_factory=Positions)

    def locate(self, path: Path_, *, key: bool = False) -> Location:
        return self.positions.at(path, key=key, default=Location(self.file, 1, 1))
