"""One spec text, as an editor holds it, checked as `archspec validate` checks the file: errors, graph, shapes.

The language server and the preview page both read specs that may be half
typed, so nothing here raises: every problem becomes a located SpecError in
`Analysis.errors`, and whatever could be built (the graph, as far as it is
valid, with its shapes) is kept beside them. Never imports TensorFlow.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

import networkx as nx

from archspec.errors import ArchspecError, Location, SchemaError, SpecError, YamlError, flatten_errors
from archspec.graph.build import build_partial_graph
from archspec.graph.shapes import annotate_shapes
from archspec.spec.document import Document
from archspec.spec.frontend import front_end
from archspec.spec.loader import MAX_FILE_BYTES, parse_yaml
from archspec.train.tasks import task_problems


@dataclass
class Analysis:
    """What is known of one spec text: its own parsed document, the analysed graph, and every problem."""

    file: str
    text: str
    graph: nx.MultiDiGraph | None = None
    errors: list[SpecError] = field(default_factory=list)
    parses: bool = True
    """Whether the text is YAML archspec reads (half-typed text often is not)."""

    @cached_property
    def document(self) -> Document | None:
        """This text alone (no base merged): where its keys and values are written. Parsed when first
        asked for, so that the diagnostics after an edit do not wait for it."""
        if not self.parses:
            return None
        try:
            return parse_yaml(self.text, self.file)
        except ArchspecError:
            return None


def analyze_text(text: str, file: str | Path) -> Analysis:
    """Check spec `text` written at path `file` (bases are read from disk relative to it); never raises."""
    name = str(file)
    result = Analysis(name, text)
    if len(text) > MAX_FILE_BYTES or len(text.encode("utf-8", errors="replace")) > MAX_FILE_BYTES:
        result.parses = False
        result.errors.append(YamlError(
            "spec file is too large", location=Location(name, 1, 1),
            expected=f"at most {MAX_FILE_BYTES:,} bytes", got=f"{len(text.encode('utf-8', errors='replace')):,}",
            hint="a spec describes an architecture, not data; see docs/security.md for the limits"))
        return result
    try:
        spec = front_end(parse_yaml(text, name))
    except ArchspecError as error:
        result.errors.extend(flatten_errors(error) or [SchemaError(str(error), location=Location(name, 1, 1))])
        result.parses = not any(isinstance(problem, YamlError) and problem.location is not None
                                and problem.location.file == name for problem in result.errors)
        return result
    except (OSError, RecursionError, ValueError) as error:  # a base the system refuses, a path too long
        result.errors.append(SchemaError(f"cannot check this spec: {error}", location=Location(name, 1, 1)))
        return result
    graph, errors = build_partial_graph(spec)
    result.graph = graph
    if nx.is_directed_acyclic_graph(graph):
        errors = errors + annotate_shapes(graph)
        if not errors and spec.train is not None:  # the data check of `validate`
            errors = task_problems(graph, spec.train.task, spec.train.dataset)
    result.errors.extend(_unique(errors))
    return result


def _unique(errors: list[SpecError]) -> list[SpecError]:
    """The same mistake at the same place once (a block's copies share their text)."""
    seen: set[tuple] = set()
    kept = []
    for error in errors:
        key = (type(error), error.location, error.message, error.expected, error.got)
        if key not in seen:
            seen.add(key)
            kept.append(error)
    return kept
