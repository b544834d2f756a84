"""Errors a user can cause, each carrying where it happened and what would fix it.

Every problem found in a spec becomes a `SpecError`: the CLI prints it and
exits 1, never a traceback. Errors found in one pass are collected into a
`SpecErrors` so that a person fixes a file once, not once per error.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
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


MAX_SHOWN_COPIES = 10
"""Nodes named in one error's `also:` line; the rest are counted."""

MAX_DETAIL_CHARS = 1000
"""Longest message or detail printed: a spec can hold a megabyte-long name, the terminal should not."""


def _shorten(text: str | None) -> str | None:
    if text is None or len(text) <= MAX_DETAIL_CHARS:
        return text
    return f"{text[:MAX_DETAIL_CHARS - 40]}... ({len(text):,} characters in all)"


class ArchspecError(Exception):
    """Base of every error archspec raises on purpose (the CLI prints these without a traceback)."""


class SpecError(ArchspecError):
    """One user-caused problem, with its location, node, what was expected, what was found, a hint.

    `edge` ("concat-skip enc2 -> dec2") names the subject instead of the node
    when the problem is an edge's; `node` is then the edge's target.
    `node_kind` is "input" when `node` names an input.
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
        hint: str | Callable[[], str | None] | None = None,
        node_kind: str = "node",
    ) -> None:
        message = _shorten(message)
        super().__init__(message)
        self.message = message
        self.location = location
        self.node = _shorten(node)
        self.edge = _shorten(edge)
        self.expected = _shorten(expected)
        self.got = _shorten(got)
        self._hint = hint
        self.node_kind = node_kind
        self.copies: list[str] = []
        """Other nodes with this same error at this same place (copies of a block, nodes given one default)."""

    @property
    def hint(self) -> str | None:
        """The hint; one given as a function (a did-you-mean over 10,000 names) is computed when first read.

        A file with thousands of errors prints only MAX_SHOWN_ERRORS of them, so
        the others never pay for their suggestion.
        """
        if callable(self._hint):
            self._hint = self._hint()
        return _shorten(self._hint)

    @property
    def line(self) -> int | None:
        return self.location.line if self.location else None

    @property
    def column(self) -> int | None:
        return self.location.column if self.location else None

    def __str__(self) -> str:
        subject = self.edge or (f"{self.node_kind} '{self.node}'" if self.node else None)
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
        if self.copies:
            shown = ", ".join(self.copies[:MAX_SHOWN_COPIES])
            more = len(self.copies) - MAX_SHOWN_COPIES
            lines.append(f"  same in: {shown}{f' and {more:,} more' if more > 0 else ''}")
        return "\n".join(lines)


class YamlError(SpecError):
    """The file is not readable YAML, or uses YAML features a spec may not (tags, bombs)."""


class SchemaError(SpecError):
    """A key, type or value does not fit the spec format."""


class GraphError(SpecError):
    """The nodes and edges do not form a usable DAG (unknown names, cycles, dead ends, ambiguous merges)."""


class ShapeError(SpecError):
    """Tensor shapes do not fit together."""


MAX_SHOWN_ERRORS = 50
"""Errors printed for one file; a chain through 10,000 misspelt names should not print 10,000."""


class SpecErrors(ArchspecError):
    """Several SpecErrors found in one pass over a file, reported together."""

    def __init__(self, errors: Sequence[SpecError]) -> None:
        self.errors = list(errors)
        super().__init__(f"{len(self.errors)} errors")  # the text waits for __str__: each hint is a search

    def __str__(self) -> str:
        shown = [str(error) for error in self.errors[:MAX_SHOWN_ERRORS]]
        hidden = len(self.errors) - len(shown)
        if hidden > 0:
            shown.append(f"... and {hidden} more error{'s' if hidden > 1 else ''}")
        return "\n".join(shown)


class DataError(ArchspecError):
    """A dataset is missing, truncated or corrupt."""


class RunError(ArchspecError):
    """A training run cannot start or continue (bad run folder, NaN loss, ...)."""


class PluginError(ArchspecError):
    """A custom op plugin cannot be loaded or registered (bad name, clash, not an Op)."""


class ModelError(ArchspecError):
    """A saved model file is missing, corrupt, or would need unsafe deserialization."""


class RenderError(ArchspecError):
    """A diagram cannot be drawn or written (graphviz's `dot` missing, an unknown node to highlight)."""


def raise_collected(errors: Iterable[SpecError]) -> None:
    """Raise the collected errors, if any: one SpecError alone, several as SpecErrors.

    One mistake is one message: the same error at the same place is reported
    once, whether a bad value in `vars:` is used many times or a node of a
    repeated block fails in every copy (the first copy's error names the
    others in its `copies`).
    """
    unique: dict[tuple, SpecError] = {}
    named: dict[tuple, set[str | None]] = {}
    for error in errors:
        identity = _identity(error)
        first = unique.setdefault(identity, error)
        seen = named.setdefault(identity, {first.node})
        if error.node not in seen:
            seen.add(error.node)
            first.copies.append(error.node)
    errors = list(unique.values())
    if len(errors) == 1:
        raise errors[0]
    if errors:
        raise SpecErrors(errors)


def _identity(error: SpecError) -> tuple:
    """What makes two errors the same mistake: class, the place it was written and what they say.

    The node and the use context are left out: they tell the copies of one
    written mistake apart, not two mistakes.
    """
    if error.location is None or error.location.line is None:
        return (id(error),)
    message = error.message.replace(f"'{error.node}'", "'\0'") if error.node else error.message  # 'stage2_c2' has one
    return (type(error), error.location, message, error.expected, error.got)


def suggest(name: str, choices: Iterable[str], otherwise: str | None = None) -> Callable[[], str | None]:
    """A hint to give SpecError: did_you_mean(name, choices), else `otherwise`, computed only if printed."""
    return lambda: did_you_mean(name, choices) or otherwise


class Suggestions:
    """Did-you-mean hints over one set of names (a graph's 10,000 nodes): the names are sorted once and
    each distinct misspelt name is searched once, however many errors repeat it; only printed errors search."""

    def __init__(self, choices: Iterable[str]) -> None:
        self._choices = choices
        self._sorted: list[str] | None = None
        self._found: dict[str, str | None] = {}

    def hint(self, name: str, otherwise: str | None = None) -> Callable[[], str | None]:
        """A hint to give SpecError, like suggest()."""
        return lambda: self._search(name) or otherwise

    def _search(self, name: str) -> str | None:
        if name not in self._found:
            if self._sorted is None:
                self._sorted = sorted(self._choices)
            self._found[name] = did_you_mean(name, self._sorted)
        return self._found[name]


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
