"""Errors a user can cause, each carrying where it happened and what would fix it.

Every problem found in a spec becomes a `SpecError`: the CLI prints it and
exits 1, never a traceback. Errors found in one pass are collected into a
`SpecErrors` so that a person fixes a file once, not once per error.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from typing import Iterable, Sequence


@dataclass(frozen=True)
class Location:
    """A place in a spec file; line and column are 1-based, as editors show them."""

    file: str
    line: int | None = None
    column: int | None = None
    context: str | None = field(default=None, compare=False)
    """Where the text was used, when it is not where it was written (a block's use, a base spec)."""

    def __str__(self) -> str:
        parts = [self.file]
        if self.line is not None:
            parts.append(str(self.line))
            if self.column is not None:
                parts.append(str(self.column))
        return ":".join(parts)


class ArchspecError(Exception):
    """Base of every error archspec raises on purpose (the CLI prints these without a traceback)."""


class SpecError(ArchspecError):
    """One user-caused problem, with its location, node, what was expected, what was found, a hint.

    `edge` ("concat-skip enc2 -> dec2") names the subject instead of the node
    when the problem is an edge's; `node` is then the edge's target.
    """

    def __init__(
        self,
        message: str,
        *,
        location: Location | None = None,
        node: str | None = None,
        edge: str | None = None,
        expected: str | None = None,
        got: str | None = None,
        hint: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.location = location
        self.node = node
        self.edge = edge
        self.expected = expected
        self.got = got
        self.hint = hint

    @property
    def line(self) -> int | None:
        return self.location.line if self.location else None

    @property
    def column(self) -> int | None:
        return self.location.column if self.location else None

    def __str__(self) -> str:
        subject = self.edge or (f"node '{self.node}'" if self.node else None)
        head = f"{subject}: {self.message}" if subject else self.message
        if self.location is not None:
            head = f"{self.location}: {head}"
        lines = [head]
        if self.expected is not None:
            lines.append(f"  expected: {self.expected}")
        if self.got is not None:
            lines.append(f"  got:      {self.got}")
        if self.hint:
            lines.append(f"  hint: {self.hint}")
        if self.location is not None and self.location.context:
            lines.append(f"  in:   {self.location.context}")
        return "\n".join(lines)


class YamlError(SpecError):
    """The file is not readable YAML, or uses YAML features a spec may not (tags, bombs)."""


class SchemaError(SpecError):
    """A key, type or value does not fit the spec format."""


class GraphError(SpecError):
    """The nodes and edges do not form a usable DAG (unknown names, cycles, dead ends, ambiguous merges)."""


class ShapeError(SpecError):
    """Tensor shapes do not fit together."""


class SpecErrors(ArchspecError):
    """Several SpecErrors found in one pass over a file, reported together."""

    def __init__(self, errors: Sequence[SpecError]) -> None:
        self.errors = list(errors)
        super().__init__(str(self))

    def __str__(self) -> str:
        return "\n".join(str(error) for error in self.errors)


class DataError(ArchspecError):
    """A dataset is missing, truncated or corrupt."""


class RunError(ArchspecError):
    """A training run cannot start or continue (bad run folder, NaN loss, ...)."""


class RenderError(ArchspecError):
    """A diagram cannot be drawn or written (graphviz's `dot` missing, an unknown node to highlight)."""


def raise_collected(errors: Iterable[SpecError]) -> None:
    """Raise the collected errors, if any: one SpecError alone, several as SpecErrors."""
    errors = list(errors)
    if len(errors) == 1:
        raise errors[0]
    if errors:
        raise SpecErrors(errors)


def did_you_mean(name: str, choices: Iterable[str]) -> str | None:
    """A hint naming the closest valid choices to a misspelt name, or None if none is close."""
    matches = difflib.get_close_matches(str(name), sorted(choices), n=3, cutoff=0.6)
    if not matches:
        return None
    return "did you mean " + " or ".join(f"'{m}'" for m in matches) + "?"


def flatten_errors(error: ArchspecError) -> list[SpecError]:
    """The individual SpecErrors inside an error (for tests and the renderer)."""
    if isinstance(error, SpecErrors):
        return list(error.errors)
    if isinstance(error, SpecError):
        return [error]
    return []
