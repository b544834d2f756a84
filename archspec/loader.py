"""Safe YAML -> plain Python data, remembering the file:line:column of every key and value.

PyYAML's composer gives us a node tree with marks; we convert it ourselves so
that (1) every key and value keeps its position, (2) duplicate keys are errors
instead of silently keeping the last one, (3) only the standard YAML tags are
accepted, so a spec can never construct a Python object, and (4) alias
expansion is bounded, so a "billion laughs" file is refused, not expanded.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from archspec.errors import Location, YamlError

Path_ = tuple[str | int, ...]

MAX_FILE_BYTES = 10 * 1024 * 1024
MAX_YAML_NODES = 1_000_000
MAX_DEPTH = 100

_SCALAR_TAGS = {
    "tag:yaml.org,2002:null",
    "tag:yaml.org,2002:bool",
    "tag:yaml.org,2002:int",
    "tag:yaml.org,2002:float",
    "tag:yaml.org,2002:str",
}
_SEQ_TAG = "tag:yaml.org,2002:seq"
_MAP_TAG = "tag:yaml.org,2002:map"


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
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        raise YamlError(
            f"spec file not found: {name}", hint="check the path (it is relative to the current directory)"
        ) from None
    except OSError as error:
        raise YamlError(f"cannot read spec file {name}: {error.strerror}") from None
    if path.is_dir():
        raise YamlError(f"{name} is a directory, not a spec file", hint="name a .yaml file")
    if size > MAX_FILE_BYTES:
        raise YamlError(
            f"spec file is too large ({size:,} bytes)",
            location=Location(name),
            expected=f"at most {MAX_FILE_BYTES:,} bytes",
            got=f"{size:,} bytes",
            hint="a spec describes an architecture; use blocks and repeat for large ones",
        )
    raw = path.read_bytes()
    return parse_yaml(raw, name)


def parse_yaml(raw: bytes | str, name: str = "<string>") -> Document:
    """Parse spec text (bytes must be UTF-8) into a positioned Document."""
    if isinstance(raw, bytes):
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as error:
            line = raw[: error.start].count(b"\n") + 1
            column = error.start - (raw.rfind(b"\n", 0, error.start) + 1) + 1
            raise YamlError(
                f"the file is not valid UTF-8 (byte 0x{raw[error.start]:02x})",
                location=Location(name, line, column),
                hint="save the spec as UTF-8",
            ) from None
    else:
        text = raw
    if text.startswith("\ufeff"):
        text = text[1:]
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as error:
        raise _yaml_error(error, name, text) from None
    except yaml.YAMLError as error:
        raise YamlError(f"invalid YAML: {error}", location=Location(name)) from None
    document = Document(data=None, file=name, text=text)
    if root is None:
        raise YamlError(
            "the spec file is empty",
            location=Location(name, 1, 1),
            hint="a spec needs at least 'inputs', 'nodes', 'edges' and 'outputs' (see docs/spec.md)",
        )
    converter = _Converter(document)
    document.data = converter.convert(root, ())
    return document


def _yaml_error(error: yaml.MarkedYAMLError, name: str, text: str) -> YamlError:
    mark = error.problem_mark or error.context_mark
    line = mark.line + 1 if mark else None
    column = mark.column + 1 if mark else None
    problem = error.problem or "invalid YAML"
    hint = "check indentation and quoting near this place"
    if "\t" in problem or (mark and line is not None and "\t" in _line(text, line)):
        problem = "tab character used for indentation"
        hint = "YAML indents with spaces only; replace the tabs with spaces"
    context = f" ({error.context})" if error.context and "\t" not in problem else ""
    return YamlError(f"invalid YAML: {problem}{context}", location=Location(name, line, column), hint=hint)


def _line(text: str, line: int) -> str:
    lines = text.splitlines()
    return lines[line - 1] if 0 < line <= len(lines) else ""


class _Converter:
    """Turns a composed YAML node tree into dicts/lists/scalars, recording positions."""

    def __init__(self, document: Document) -> None:
        self.document = document
        self.constructor = yaml.SafeLoader("")
        self.count = 0

    def _mark(self, node: yaml.Node) -> tuple[int, int]:
        return (node.start_mark.line + 1, node.start_mark.column + 1)

    def _location(self, node: yaml.Node) -> Location:
        return Location(self.document.file, *self._mark(node))

    def convert(self, node: yaml.Node, path: Path_) -> Any:
        self.count += 1
        if self.count > MAX_YAML_NODES:
            raise YamlError(
                "the spec expands to too many YAML values (an alias bomb?)",
                location=self._location(node),
                expected=f"at most {MAX_YAML_NODES:,} values after expanding aliases",
                hint="do not nest aliases (*name) of aliases",
            )
        if len(path) > MAX_DEPTH:
            raise YamlError(
                "the spec is nested too deeply",
                location=self._location(node),
                expected=f"at most {MAX_DEPTH} levels",
            )
        self.document.values.setdefault(path, self._mark(node))
        if isinstance(node, yaml.MappingNode):
            self._check_tag(node, _MAP_TAG)
            return self._mapping(node, path)
        if isinstance(node, yaml.SequenceNode):
            self._check_tag(node, _SEQ_TAG)
            return [self.convert(item, path + (index,)) for index, item in enumerate(node.value)]
        self._check_tag(node, None)
        return self.constructor.construct_object(node)

    def _check_tag(self, node: yaml.Node, expected: str | None) -> None:
        allowed = _SCALAR_TAGS if expected is None else {expected}
        if node.tag not in allowed:
            raise YamlError(
                f"YAML tag '{node.tag}' is not allowed in a spec",
                location=self._location(node),
                expected="plain YAML values (mappings, lists, strings, numbers, booleans, null)",
                got=node.tag,
                hint="specs cannot construct Python objects or run code; remove the tag",
            )

    def _mapping(self, node: yaml.MappingNode, path: Path_) -> dict[str, Any]:
        result: dict[str, Any] = {}
        self.constructor.flatten_mapping(node)  # resolves YAML merge keys (<<)
        for key_node, value_node in node.value:
            if not isinstance(key_node, yaml.ScalarNode):
                raise YamlError(
                    "a mapping key must be a plain name",
                    location=self._location(key_node),
                    got="a list or mapping used as a key",
                )
            self._check_tag(key_node, None)
            key = self.constructor.construct_object(key_node)
            if key is None or isinstance(key, (bool, float)):
                raise YamlError(
                    f"mapping key {key_node.value!r} is read by YAML as {type(key).__name__}, not a name",
                    location=self._location(key_node),
                    hint=f"quote it: '{key_node.value}'",
                )
            key = str(key)
            if key in result:
                first = self.document.keys[path + (key,)]
                raise YamlError(
                    f"duplicate key '{key}'",
                    location=self._location(key_node),
                    hint=f"'{key}' is already defined at line {first[0]}; YAML would silently keep only the last one",
                )
            self.document.keys[path + (key,)] = self._mark(key_node)
            result[key] = self.convert(value_node, path + (key,))
        return result
