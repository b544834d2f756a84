"""Builds dicts, lists and scalars from YAML parser events, recording positions and enforcing limits.

One flat loop over events rather than PyYAML's recursive composer, so that:

1. every key and value keeps its position (in the document's position tree);
2. duplicate keys are errors instead of silently keeping the last one;
3. only the standard YAML tags are accepted, so a spec can never construct a
   Python object or run code (`!!python/...` is refused before anything is built);
4. input is bounded: the number of values after expanding aliases, the
   entries of one mapping or list, and the nesting depth of what aliases
   expand to, so a "billion laughs" or an alias chain nesting one level per
   anchor is refused without being built, and nothing downstream recurses deeper.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import yaml

from archspec.errors import Location, YamlError
from archspec.spec import scalars
from archspec.spec.document import Document, Path_, Positions
from archspec.spec.syntax import type_word

MAX_YAML_VALUES = 500_000
"""Most keys, values and list items a file may hold, counting every alias expansion."""
MAX_ENTRIES = 10_000
"""Most entries of one mapping or list: so at most 10,000 nodes (ResNet-50 has 160)."""
MAX_DEPTH = 64
"""Deepest nesting of mappings and lists, aliases expanded; a spec needs about five levels."""

_SEQ_TAG = scalars.TAG_PREFIX + "seq"
_MAP_TAG = scalars.TAG_PREFIX + "map"
_MERGE = object()
"""Stands for the YAML merge key `<<` while its mapping is being read."""


class _Open:
    """A mapping or list being read: where it is, and (for a mapping) the key awaiting its value."""

    __slots__ = ("anchor", "height", "key", "merges", "path", "positions", "size", "value")

    def __init__(self, value: dict | list, path: Path_, positions: Positions, anchor: str | None) -> None:
        self.value = value
        self.path = path
        self.positions = positions
        self.anchor = anchor
        self.size = 1
        self.height = 1
        self.key: Any = None
        self.merges: list[tuple[Any, yaml.Mark]] = []


class Composer:
    """Turns the events of one YAML document into plain data, filling `document.positions`.

    `where`, if given, is the one location every position takes (a `--set` value).
    """

    def __init__(self, document: Document, where: Location | None = None, max_entries: int | None = None) -> None:
        self.document = document
        self.where = where
        self.max_entries = MAX_ENTRIES if max_entries is None else max_entries
        self.anchors: dict[str, tuple[Any, int, int]] = {}
        self.open_anchors: set[str] = set()
        self.values = 0
        self.stack: list[_Open] = []
        self.root: Any = None
        self.done = False

    def compose(self, events: Iterator[yaml.Event]) -> Any:
        for event in events:
            if isinstance(event, yaml.DocumentStartEvent) and self.done:
                raise self._error(
                    "the file holds more than one YAML document", event.start_mark,
                    hint="a spec is one document; remove the '---' line and what follows, "
                    "or split it into two files",
                )
            if isinstance(event, yaml.DocumentEndEvent):
                self.done = True
            elif isinstance(event, (yaml.ScalarEvent, yaml.AliasEvent, yaml.CollectionStartEvent,
                                    yaml.CollectionEndEvent)):
                self._handle(event)
        if not self.done:
            raise YamlError(
                "the spec file is empty",
                location=self.where or Location(self.document.file, 1, 1),
                hint="a spec needs at least 'archspec', 'name', 'inputs', 'nodes', 'edges' and "
                "'outputs' (see docs/spec.md)",
            )
        return self.root

    def _handle(self, event: yaml.Event) -> None:
        parent = self.stack[-1] if self.stack else None
        if isinstance(event, yaml.CollectionEndEvent):
            self._close(event)
            return
        if parent is not None and isinstance(parent.value, dict) and parent.key is None:
            self._take_key(parent, event)
            return
        if parent is not None and isinstance(parent.value, list):
            self._check_entries(parent, event.start_mark)
        path, positions = self._child(parent)
        if positions.value is None:
            positions.value = self._location(event.start_mark)
        if isinstance(event, yaml.AliasEvent):
            value, size, height = self._alias(event)
            self._count(size, event.start_mark)
            if len(self.stack) + height > MAX_DEPTH:
                raise self._error("the spec is nested too deeply (counting what aliases stand for)",
                                  event.start_mark, expected=f"at most {MAX_DEPTH} levels of mappings "
                                  "and lists", hint="an alias repeats its anchor's nesting where it is used")
            self._attach(parent, value, size, height, event.start_mark)
        elif isinstance(event, yaml.ScalarEvent):
            self._count(1, event.start_mark)
            value = self._scalar(event)
            self._remember(event.anchor, value, 1, 0)
            self._attach(parent, value, 1, 0, event.start_mark)
        else:
            self._open(event, path, positions)

    def _child(self, parent: _Open | None) -> tuple[Path_, Positions]:
        """The path and position node of the value about to be read inside `parent`."""
        if parent is None:
            return (), self.document.positions
        if isinstance(parent.value, dict):
            if parent.key is _MERGE:
                return parent.path, parent.positions
            return parent.path + (parent.key,), parent.positions.child(parent.key)
        index = len(parent.value)
        return parent.path + (index,), parent.positions.child(index)

    def _open(self, event: yaml.CollectionStartEvent, path: Path_, positions: Positions) -> None:
        is_map = isinstance(event, yaml.MappingStartEvent)
        self._check_tag(event.tag, _MAP_TAG if is_map else _SEQ_TAG, event.start_mark)
        self._count(1, event.start_mark)
        if len(self.stack) >= MAX_DEPTH:
            raise self._error("the spec is nested too deeply", event.start_mark,
                              expected=f"at most {MAX_DEPTH} levels of mappings and lists")
        if event.anchor is not None:
            self.open_anchors.add(event.anchor)
        self.stack.append(_Open({} if is_map else [], path, positions, event.anchor))

    def _close(self, event: yaml.Event) -> None:
        done = self.stack.pop()
        if isinstance(done.value, dict):
            self._apply_merges(done)
        if done.anchor is not None:
            self.open_anchors.discard(done.anchor)
            self._remember(done.anchor, done.value, done.size, done.height)
        self._attach(self.stack[-1] if self.stack else None, done.value, done.size, done.height,
                     event.start_mark)

    def _attach(self, parent: _Open | None, value: Any, size: int, height: int, mark: yaml.Mark) -> None:
        if parent is None:
            self.root = value
            return
        parent.size += size
        parent.height = max(parent.height, height + 1)
        if isinstance(parent.value, list):
            parent.value.append(value)
        elif parent.key is _MERGE:
            parent.merges.append((value, mark))
            parent.key = None
        else:
            parent.value[parent.key] = value
            parent.key = None

    def _take_key(self, parent: _Open, event: yaml.Event) -> None:
        if isinstance(event, yaml.NodeEvent) and not isinstance(event, yaml.AliasEvent):
            self._check_tag(event.tag, _SEQ_TAG if isinstance(event, yaml.SequenceStartEvent)
                            else _MAP_TAG if isinstance(event, yaml.MappingStartEvent) else None,
                            event.start_mark)
        if not isinstance(event, yaml.ScalarEvent):
            raise self._error("a mapping key must be a plain name", event.start_mark,
                              got="an alias, list or mapping used as a key")
        self._count(1, event.start_mark)
        self._check_entries(parent, event.start_mark)
        if event.tag is None and event.implicit[0] and event.value == "<<":
            parent.key = _MERGE
            return
        key = self._scalar(event)
        if key is None or isinstance(key, (bool, float)):
            raise self._error(
                f"mapping key {event.value!r} is read by YAML as {type_word(key)}, not a name",
                event.start_mark, hint=f"quote it: '{event.value}'",
            )
        key = str(key)
        if key in parent.value:
            first = parent.positions.children[key].key
            raise self._error(
                f"duplicate key '{key}'", event.start_mark,
                hint=f"'{key}' is already defined at line {first.line}; YAML would silently keep "
                "only the last one",
            )
        parent.positions.child(key).key = self._location(event.start_mark)
        parent.key = key

    def _apply_merges(self, target: _Open) -> None:
        """YAML merge keys (`<<: *base`): keys written in the mapping win over merged ones."""
        for value, mark in target.merges:
            sources = value if isinstance(value, list) else [value]
            if not all(isinstance(source, dict) for source in sources):
                raise self._error("a merge key '<<' needs a mapping or a list of mappings", mark,
                                  got=type_word(value))
            for source in sources:
                for key, item in source.items():
                    target.value.setdefault(key, item)

    def _alias(self, event: yaml.AliasEvent) -> tuple[Any, int, int]:
        if event.anchor in self.open_anchors:
            raise self._error(f"alias *{event.anchor} refers to a mapping or list that contains it",
                              event.start_mark, hint="a spec cannot be recursive")
        if event.anchor not in self.anchors:
            raise self._error(f"alias *{event.anchor} has no anchor &{event.anchor} before it",
                              event.start_mark, hint=f"define '&{event.anchor}' earlier in the file")
        return self.anchors[event.anchor]

    def _remember(self, anchor: str | None, value: Any, size: int, height: int) -> None:
        if anchor is not None:
            self.anchors[anchor] = (value, size, height)

    def _check_entries(self, collection: _Open, mark: yaml.Mark) -> None:
        if len(collection.value) >= self.max_entries:
            where = "'" + ".".join(map(str, collection.path)) + "'" if collection.path else "the file"
            raise self._error(
                f"{where} has more than {self.max_entries:,} entries", mark,
                expected=f"at most {self.max_entries:,} entries in one mapping or list",
                hint="archspec refuses specs this large so that validating stays fast and small; "
                "see docs/security.md",
            )

    def _count(self, size: int, mark: yaml.Mark) -> None:
        """Count values as if every alias were expanded, and stop before a bomb goes off."""
        self.values += size
        if self.values > MAX_YAML_VALUES:
            raise self._error(
                "the spec has too many YAML values (counting each alias as a copy)", mark,
                expected=f"at most {MAX_YAML_VALUES:,} keys, values and list items",
                hint="an alias of an alias of an alias multiplies: this looks like a YAML bomb; "
                "see docs/security.md",
            )

    def _scalar(self, event: yaml.ScalarEvent) -> Any:
        if event.tag is None:
            tag = scalars.resolve(event.value) if event.implicit[0] else scalars.STR
        elif event.tag == "!":
            tag = scalars.STR
        else:
            self._check_tag(event.tag, None, event.start_mark)
            tag = event.tag
        try:
            return scalars.construct(tag, event.value)
        except ValueError as error:
            shown = event.value if len(event.value) <= 20 else event.value[:17] + "..."
            written = "!!" + tag.removeprefix(scalars.TAG_PREFIX)
            raise self._error(f"cannot read {shown!r} ({len(event.value):,} characters) as "
                              f"{scalars.TAG_WORDS[tag]}", event.start_mark,
                              expected=str(error).splitlines()[0][:120],
                              hint=f"remove the '{written}' tag, or write a value it can hold"
                              if event.tag not in (None, "!") else "quote it if it is text") from None

    def _check_tag(self, tag: str | None, expected: str | None, mark: yaml.Mark) -> None:
        if tag is None or tag == "!":
            return
        allowed = scalars.SCALAR_TAGS if expected is None else {expected}
        if tag not in allowed:
            written = "!!" + tag.removeprefix(scalars.TAG_PREFIX) if tag.startswith(scalars.TAG_PREFIX) else tag
            raise self._error(
                f"YAML tag '{written}' is not allowed in a spec", mark,
                expected="plain YAML values (mappings, lists, strings, numbers, booleans, null)",
                got=written,
                hint="specs cannot construct Python objects or run code; remove the tag",
            )

    def _location(self, mark: yaml.Mark) -> Location:
        return self.where or Location(self.document.file, mark.line + 1, mark.column + 1)

    def _error(self, message: str, mark: yaml.Mark, **details: Any) -> YamlError:
        return YamlError(message, location=self._location(mark), **details)
