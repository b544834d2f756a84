"""Safe YAML -> a positioned Document: reading the file, and turning parser failures into located errors.

We read YAML as a stream of parser events (libyaml's C parser when PyYAML has
it, PyYAML's own otherwise) and build the data ourselves (archspec.spec.composer),
so that every key and value keeps its position, duplicate keys are errors,
only plain YAML tags are accepted, scalars follow YAML 1.2 (archspec.spec.scalars)
and input is bounded. The limits are documented in docs/security.md.
"""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from archspec.errors import Location, YamlError
from archspec.spec.chain_colons import colon_hint, colon_in_chain
from archspec.spec.composer import MAX_DEPTH, Composer
from archspec.spec.document import Document
from archspec.spec.syntax import LINE_BREAK

MAX_FILE_BYTES = 10 * 1024 * 1024
"""Largest spec file read (10 MiB); ResNet-50 written out in full is about 15 KB."""

_EVENT_LOADER = yaml.CSafeLoader if yaml.__with_libyaml__ else yaml.SafeLoader


def load_yaml(path: str | Path) -> Document:
    """Read and parse a spec file safely; raise YamlError with a location on any problem."""
    name = str(path)
    try:
        path = Path(path)
        if path.is_dir():
            raise YamlError(f"{name} is a directory, not a spec file", hint="name a .yaml file")
        with path.open("rb") as stream:
            raw = stream.read(MAX_FILE_BYTES + 1)  # bounded even for a pipe or a device
    except FileNotFoundError:
        raise YamlError(
            f"spec file not found: {name}", hint="check the path (it is relative to the current directory)"
        ) from None
    except (OSError, ValueError) as error:  # ValueError: an embedded NUL; OSError: too long, ...
        reason = getattr(error, "strerror", None) or str(error)
        raise YamlError(f"cannot read spec file {name!r}: {reason}",
                        hint="check the path: the system refuses this file name") from None
    if len(raw) > MAX_FILE_BYTES:
        raise YamlError(
            "spec file is too large",
            location=Location(name),
            expected=f"at most {MAX_FILE_BYTES:,} bytes",
            got=f"more than {MAX_FILE_BYTES:,} bytes",
            hint="a spec describes an architecture, not data; see docs/security.md for the limits",
        )
    return parse_yaml(raw, name)


def parse_yaml(raw: bytes | str, name: str = "<string>", *, where: Location | None = None,
               max_entries: int | None = None) -> Document:
    """Parse spec text (bytes must be UTF-8) into a positioned Document.

    `where`, if given, is the location every position takes (a `--set` value
    is one command-line argument, not a file with lines). `max_entries` is
    (default: composer.MAX_ENTRIES) raised only for text archspec wrote itself: an expanded spec may hold more
    edges than a person writes (a dense block's fan-in), bounded by the values limit.
    """
    if isinstance(raw, bytes):
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as error:
            line, column = _position(raw[:error.start].decode("utf-8", errors="replace"))
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
        document.data = Composer(document, where, max_entries).compose(yaml.parse(text, Loader=_EVENT_LOADER))
    except yaml.MarkedYAMLError as error:
        raise _syntax_error(error, name, text, where) from None
    except yaml.reader.ReaderError as error:
        line, column = _position(text.encode("utf-8")[:error.position].decode("utf-8", errors="replace"))
        raise YamlError(
            f"invalid YAML: character U+{error.character:04X} is not allowed ({error.reason})",
            location=where or Location(name, line, column),
            hint="remove the character, or write it as an escape inside double quotes",
        ) from None
    except yaml.YAMLError as error:
        raise YamlError(f"invalid YAML: {error}", location=where or Location(name)) from None
    return document


def _position(before: str) -> tuple[int, int]:
    """1-based line and column of the character after the text `before` (any YAML line break counts)."""
    lines = LINE_BREAK.split(before)
    return len(lines), len(lines[-1]) + 1


_GROUP_CHAIN = re.compile(r"\s*(-\s+)?(\w+:\s*)?\[[^\]]*\]\s*->")
"""A chain starting with a group, `- [a, b] -> add`, which YAML cannot read unquoted."""


def _syntax_error(error: yaml.MarkedYAMLError, name: str, text: str, where: Location | None) -> YamlError:
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
    if line is not None and column is not None and "mapping values" in problem \
            and colon_in_chain(_line(text, line), column):
        hint = colon_hint()
    if line is not None and _GROUP_CHAIN.match(_line(text, line)):
        hint = ("YAML reads a line that starts with '[' as a list: quote the chain (- \"[a, b] -> add\") "
                "or leave out the brackets (- a, b -> add)")
    last = len(LINE_BREAK.split(text))
    if line is not None and line > last:  # libyaml puts the end of the stream past the last line
        line, column = last, len(_line(text, last)) + 1
    return YamlError(f"invalid YAML: {problem}", location=where or Location(name, line, column), hint=hint)


def _line(text: str, line: int) -> str:
    lines = LINE_BREAK.split(text)
    return lines[line - 1] if 0 < line <= len(lines) else ""

