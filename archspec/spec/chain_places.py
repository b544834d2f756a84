"""Where each character of a chain is in the file: the line and column a step's error points at.

A chain may be quoted, or a plain scalar folded over several lines (a line
break and the indentation after it read as one space), so offsets in the
chain's text are mapped back through the file's lines, split once per file.
A chain in a loop's body is the written text with each `${i}` filled in
(archspec.spec.loops): a step after one is still found where it is written.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from archspec.errors import Location
from archspec.spec.document import Document, Path_


def chain_columns(document: Document, lines: list[str], path: Path_, text: str) -> Callable[[int], Location]:
    """Where offset N of chain `text` (written at `path`, in the file's `lines`) is; the chain's start if unknown.

    The chain may be quoted, or a plain scalar folded over several lines (a
    line break and the indentation after it read as one space).
    """
    start = document.locate(path)
    if start.file != document.file or start.line is None or start.column is None or not document.text:
        return lambda offset: start
    if start.line > len(lines):
        return lambda offset: start
    line = lines[start.line - 1]
    column = start.column - 1
    if column < len(line) and line[column] in "'\"" and not line.startswith(text, column):
        column += 1  # a quoted chain: the text starts after the quote
    places = _places(lines, start.line - 1, column, text)
    if places is None:
        return lambda offset: start
    return lambda offset: Location(start.file, *places[min(offset, len(places) - 1)], start.context)


def _places(lines: list[str], row: int, column: int, text: str) -> list[tuple[int, int]] | None:
    """The 1-based (line, column) of each character of `text` as written from (row, column); None if it differs."""
    places: list[tuple[int, int]] = []
    index = 0
    while index < len(text):
        line = lines[row] if row < len(lines) else ""
        if column >= len(line) and text[index] == " " and row + 1 < len(lines):
            places.append((row + 1, column + 1))  # a line break folded into one space
            row, column, index = row + 1, 0, index + 1
            line = lines[row]
            while column < len(line) and line[column] in " \t":
                column += 1
            continue
        filled = _filled_value(line, column, text, index)
        if filled is not None:  # a loop index filled in: its value stands where its ${...} is written
            end, index_after = filled
            places.extend([(row + 1, column + 1)] * (index_after - index))
            column, index = end, index_after
            continue
        if column >= len(line) or line[column] != text[index]:
            return None
        places.append((row + 1, column + 1))
        column, index = column + 1, index + 1
    places.append((row + 1, column + 1))
    return places


_VALUE = re.compile(r"\$\{[^{}]*\}|-?\d+(?:\.\d+)?(?:e[-+]?\d+)?|True|False")
"""What a `${...}` becomes in a loop's filled text: a number (or a truth value), or an expression kept for later."""


def _filled_value(line: str, column: int, text: str, index: int) -> tuple[int, int] | None:
    """Where a `${...}` written at `column` ends, and where its filled value ends in `text`; None if there is
    no `${...}` here or `text` has it as written."""
    if not line.startswith("${", column):
        return None
    end = line.find("}", column)
    if end < 0 or text.startswith(line[column:end + 1], index):
        return None
    value = _VALUE.match(text, index)
    return None if value is None else (end + 1, value.end())
