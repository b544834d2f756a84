"""Safe YAML -> plain Python data, remembering the file:line:column of every key and value.

We read YAML as a stream of parser events (libyaml's C parser when PyYAML has
it, PyYAML's own otherwise) and build the data ourselves, in one flat loop
rather than PyYAML's recursive composer, so that:

1. every key and value keeps its position;
2. duplicate keys are errors instead of silently keeping the last one;
3. only the standard YAML tags are accepted, so a spec can never construct a
   Python object or run code (`!!python/...` is refused before anything is built);
4. input is bounded: file size, nesting depth and the number of values after
   expanding aliases, so a "billion laughs" file is refused without being
   expanded and a deeply nested one cannot overflow the stack.

The limits are documented in docs/security.md.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from archspec.errors import Location, YamlError

Path_ = tuple[str | int, ...]

MAX_FILE_BYTES = 10 * 1024 * 1024
"""Largest spec file read (10 MiB); ResNet-50 written out in full is about 15 KB."""
MAX_YAML_VALUES = 500_000
"""Most keys, values and list items a file may hold, counting every alias expansion."""
MAX_ENTRIES = 10_000
"""Most entries of one mapping or list: so at most 10,000 nodes (ResNet-50 has 160)."""
MAX_DEPTH = 64
"""Deepest nesting of mappings and lists; a spec needs about five levels."""

_TAG = "tag:yaml.org,2002:"
_SCALAR_TAGS = {_TAG + name for name in ("null", "bool", "int", "float", "str")}
_SEQ_TAG = _TAG + "seq"
_MAP_TAG = _TAG + "map"
_MERGE_TAG = _TAG + "merge"
_MERGE = object()
"""Stands for the YAML merge key `<<` while its mapping is being read."""

LINE_BREAK = re.compile("\r\n|[\r\n\x85\u2028\u2029]")
"""What YAML counts as the end of a line (so line numbers agree with the parser's)."""

_EVENT_LOADER = yaml.CSafeLoader if yaml.__with_libyaml__ else yaml.SafeLoader


@dataclass
class Document:
    """A loaded spec file: its data, and the position of every key and value in it."""

    data: Any
    file: str
    text: str = ""
    keys: dict[Path_, tuple[int, int]] = field(default_factory=dict)
    values: dict[Path_, tuple[int, int]] = field(default_factory=dict)

    def locate(self, path: Path_, *, key: bool = False) -> Location:
        """The location of the value (or key) at `path`, or of its nearest positioned parent."""
        table = self.keys if key else self.values
        probe = tuple(path)
        while probe:
            if probe in table:
                return Location(self.file, *table[probe])
            if not key and probe in self.keys:
                return Location(self.file, *self.keys[probe])
            probe = probe[:-1]
        if () in self.values:
            return Location(self.file, *self.values[()])
        return Location(self.file, 1, 1)


def load_yaml(path: str | Path) -> Document:
    """Read and parse a spec file safely; raise YamlError with a location on any problem."""
    path = Path(path)
    name = str(path)
    if path.is_dir():
        raise YamlError(f"{name} is a directory, not a spec file", hint="name a .yaml file")
    try:
        with path.open("rb") as stream:
            raw = stream.read(MAX_FILE_BYTES + 1)  # bounded even for a pipe or a device
    except FileNotFoundError:
        raise YamlError(
            f"spec file not found: {name}", hint="check the path (it is relative to the current directory)"
        ) from None
    except OSError as error:
        raise YamlError(f"cannot read spec file {name}: {error.strerror}") from None
    if len(raw) > MAX_FILE_BYTES:
        raise YamlError(
            "spec file is too large",
            location=Location(name),
            expected=f"at most {MAX_FILE_BYTES:,} bytes",
            got=f"more than {MAX_FILE_BYTES:,} bytes",
            hint="a spec describes an architecture, not data; see docs/security.md for the limits",
        )
    return parse_yaml(raw, name)


def parse_yaml(raw: bytes | str, name: str = "<string>") -> Document:
    """Parse spec text (bytes must be UTF-8) into a positioned Document."""
    if isinstance(raw, bytes):
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as error:
            line, column = _position(raw, error.start)
            raise YamlError(
                f"the file is not valid UTF-8 (byte 0x{raw[error.start]:02x})",
                location=Location(name, line, column),
                hint="save the spec as UTF-8",
            ) from None
    else:
        text = raw
    text = text.removeprefix("\ufeff")
    document = Document(data=None, file=name, text=text)
    try:
        document.data = _Composer(document).compose(yaml.parse(text, Loader=_EVENT_LOADER))
    except yaml.MarkedYAMLError as error:
        raise _syntax_error(error, name, text) from None
    except yaml.reader.ReaderError as error:
        line, column = _position(text.encode("utf-8"), error.position)
        raise YamlError(
            f"invalid YAML: character U+{error.character:04X} is not allowed ({error.reason})",
            location=Location(name, line, column),
            hint="remove the character, or write it as an escape inside double quotes",
        ) from None
    except yaml.YAMLError as error:
        raise YamlError(f"invalid YAML: {error}", location=Location(name)) from None
    return document


def _position(raw: bytes, offset: int) -> tuple[int, int]:
    """1-based line and column (in characters) of byte `offset` of UTF-8 `raw`."""
    before = raw[:offset]
    line_start = before.rfind(b"\n") + 1
    column = len(before[line_start:].decode("utf-8", errors="replace")) + 1
    return before.count(b"\n") + 1, column


def _syntax_error(error: yaml.MarkedYAMLError, name: str, text: str) -> YamlError:
    mark = error.problem_mark or error.context_mark
    line = mark.line + 1 if mark else None
    column = mark.column + 1 if mark else None
    problem = error.problem or "invalid YAML"
    hint = "check indentation and quoting near this place"
    if line is not None and column is not None and _line(text, line)[column - 1:column] == "\t":
        problem = "tab character used for indentation"
        hint = "YAML indents with spaces only; replace the tabs with spaces"
    elif "end of stream" in problem and error.context_mark is not None and error.context:
        line, column = error.context_mark.line + 1, error.context_mark.column + 1
        problem = f"{error.context.removeprefix('while scanning ')} that starts here is never closed"
        hint = "close it before the end of the file"
    elif "nesting depth" in problem:
        problem = f"{problem} ({error.context})"
        hint = f"archspec accepts at most {MAX_DEPTH} levels of mappings and lists"
    elif error.context:
        problem = f"{problem} ({error.context})"
    last = len(LINE_BREAK.split(text))
    if line is not None and line > last:  # libyaml puts the end of the stream past the last line
        line, column = last, len(_line(text, last)) + 1
    return YamlError(f"invalid YAML: {problem}", location=Location(name, line, column), hint=hint)


def _line(text: str, line: int) -> str:
    lines = LINE_BREAK.split(text)
    return lines[line - 1] if 0 < line <= len(lines) else ""


class _Open:
    """A mapping or list being read: where it is, and (for a mapping) the key awaiting its value."""

    __slots__ = ("anchor", "key", "merges", "path", "size", "value")

    def __init__(self, value: dict | list, path: Path_, anchor: str | None) -> None:
        self.value = value
        self.path = path
        self.anchor = anchor
        self.size = 1
        self.key: Any = None
        self.merges: list[tuple[Any, yaml.Mark]] = []


class _Composer:
    """Builds dicts, lists and scalars from parser events, recording positions and enforcing limits."""

    def __init__(self, document: Document) -> None:
        self.document = document
        self.resolver = yaml.resolver.Resolver()
        self.constructor = yaml.constructor.SafeConstructor()
        self.anchors: dict[str, tuple[Any, int]] = {}
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
                location=Location(self.document.file, 1, 1),
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
        path = self._child_path(parent)
        self.document.values.setdefault(path, _mark(event.start_mark))
        if isinstance(event, yaml.AliasEvent):
            value, size = self._alias(event)
            self._count(size, event.start_mark)
            self._attach(parent, value, size, event.start_mark)
        elif isinstance(event, yaml.ScalarEvent):
            self._count(1, event.start_mark)
            value = self._scalar(event)
            self._remember(event.anchor, value, 1)
            self._attach(parent, value, 1, event.start_mark)
        else:
            self._open(event, path)

    def _child_path(self, parent: _Open | None) -> Path_:
        if parent is None:
            return ()
        if isinstance(parent.value, dict):
            return parent.path + (parent.key,) if parent.key is not _MERGE else parent.path
        return parent.path + (len(parent.value),)

    def _open(self, event: yaml.CollectionStartEvent, path: Path_) -> None:
        is_map = isinstance(event, yaml.MappingStartEvent)
        self._check_tag(event.tag, _MAP_TAG if is_map else _SEQ_TAG, event.start_mark)
        self._count(1, event.start_mark)
        if len(self.stack) >= MAX_DEPTH:
            raise self._error("the spec is nested too deeply", event.start_mark,
                              expected=f"at most {MAX_DEPTH} levels of mappings and lists")
        if event.anchor is not None:
            self.open_anchors.add(event.anchor)
        self.stack.append(_Open({} if is_map else [], path, event.anchor))

    def _close(self, event: yaml.Event) -> None:
        done = self.stack.pop()
        if isinstance(done.value, dict):
            self._apply_merges(done)
        if done.anchor is not None:
            self.open_anchors.discard(done.anchor)
            self._remember(done.anchor, done.value, done.size)
        self._attach(self.stack[-1] if self.stack else None, done.value, done.size, event.start_mark)

    def _attach(self, parent: _Open | None, value: Any, size: int, mark: yaml.Mark) -> None:
        if parent is None:
            self.root = value
            return
        parent.size += size
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
                f"mapping key {event.value!r} is read by YAML as {_yaml_type(key)}, not a name",
                event.start_mark, hint=f"quote it: '{event.value}'",
            )
        key = str(key)
        path = parent.path + (key,)
        if key in parent.value:
            first = self.document.keys[path]
            raise self._error(
                f"duplicate key '{key}'", event.start_mark,
                hint=f"'{key}' is already defined at line {first[0]}; YAML would silently keep "
                "only the last one",
            )
        self.document.keys[path] = _mark(event.start_mark)
        parent.key = key

    def _apply_merges(self, target: _Open) -> None:
        """YAML merge keys (`<<: *base`): keys written in the mapping win over merged ones."""
        for value, mark in target.merges:
            sources = value if isinstance(value, list) else [value]
            if not all(isinstance(source, dict) for source in sources):
                raise self._error("a merge key '<<' needs a mapping or a list of mappings", mark,
                                  got=_yaml_type(value))
            for source in sources:
                for key, item in source.items():
                    target.value.setdefault(key, item)

    def _alias(self, event: yaml.AliasEvent) -> tuple[Any, int]:
        if event.anchor in self.open_anchors:
            raise self._error(f"alias *{event.anchor} refers to a mapping or list that contains it",
                              event.start_mark, hint="a spec cannot be recursive")
        if event.anchor not in self.anchors:
            raise self._error(f"alias *{event.anchor} has no anchor &{event.anchor} before it",
                              event.start_mark, hint=f"define '&{event.anchor}' earlier in the file")
        return self.anchors[event.anchor]

    def _remember(self, anchor: str | None, value: Any, size: int) -> None:
        if anchor is not None:
            self.anchors[anchor] = (value, size)

    def _check_entries(self, collection: _Open, mark: yaml.Mark) -> None:
        if len(collection.value) >= MAX_ENTRIES:
            where = "'" + ".".join(map(str, collection.path)) + "'" if collection.path else "the file"
            raise self._error(
                f"{where} has more than {MAX_ENTRIES:,} entries", mark,
                expected=f"at most {MAX_ENTRIES:,} entries in one mapping or list",
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
        if event.tag is None or event.tag == "!":
            tag = self.resolver.resolve(yaml.ScalarNode, event.value, event.implicit)
            if tag not in _SCALAR_TAGS:  # an unquoted date or '=' is just text in a spec
                tag = _TAG + "str"
        else:
            self._check_tag(event.tag, None, event.start_mark)
            tag = event.tag
        node = yaml.ScalarNode(tag, event.value, event.start_mark, event.end_mark, event.style)
        try:
            return self.constructor.yaml_constructors[tag](self.constructor, node)
        except (ValueError, yaml.constructor.ConstructorError) as error:
            shown = event.value if len(event.value) <= 20 else event.value[:17] + "..."
            kind = {"int": "an integer", "float": "a number", "bool": "a boolean"}.get(
                tag[len(_TAG):], tag)
            raise self._error(f"cannot read {shown!r} ({len(event.value):,} characters) as {kind}",
                              event.start_mark, got=str(error).split(";")[0].splitlines()[0][:120],
                              hint="quote it if it is text") from None

    def _check_tag(self, tag: str | None, expected: str | None, mark: yaml.Mark) -> None:
        if tag is None or tag == "!":
            return
        allowed = _SCALAR_TAGS if expected is None else {expected}
        if tag not in allowed:
            written = "!!" + tag[len(_TAG):] if tag.startswith(_TAG) else tag
            raise self._error(
                f"YAML tag '{written}' is not allowed in a spec", mark,
                expected="plain YAML values (mappings, lists, strings, numbers, booleans, null)",
                got=written,
                hint="specs cannot construct Python objects or run code; remove the tag",
            )

    def _error(self, message: str, mark: yaml.Mark, **details: Any) -> YamlError:
        return YamlError(message, location=Location(self.document.file, *_mark(mark)), **details)


def _mark(mark: yaml.Mark) -> tuple[int, int]:
    return (mark.line + 1, mark.column + 1)


def _yaml_type(value: Any) -> str:
    if value is None:
        return "null"
    return {bool: "a boolean", float: "a number", int: "a number", str: "a string",
            list: "a list", dict: "a mapping"}.get(type(value), type(value).__name__)
