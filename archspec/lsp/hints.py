"""Inlay hints: the output shape after each node, each inline chain step and each block use (`▸ 28x28x64`)."""

from __future__ import annotations

import re

from lsprotocol import types

from archspec.graph.ir import node_of
from archspec.lsp.analysis import Analysis
from archspec.lsp.describe import output_shape_of_use, own_nodes, shape_text
from archspec.lsp.names import ROOT, NameIndex

MARK = "▸ "
_STEP_HEAD = re.compile(r"\w+(?:\s*=\s*\w+)?(?:\.\w+)?")


def inlay_hints(analysis: Analysis, index: NameIndex, first: int, last: int) -> list[types.InlayHint]:
    """Hints for the 0-based lines `first`..`last`: after a node's line, after a chain step's text."""
    graph = analysis.graph
    if graph is None:
        return []
    written = {(o.line, o.column): o for o in index.occurrences if o.scope == ROOT}
    hints = []
    for (line, column), name in own_nodes(graph, analysis.file).items():
        if not first <= line - 1 <= last or line > len(index.lines) or node_of(graph, name).shape is None:
            continue
        occurrence, text = written.get((line, column)), index.lines[line - 1]
        if occurrence is None or occurrence.role == "input":  # an input's line says its shape already
            continue
        # a node written as a key: after its line's value, before a comment; an inline step: after its text
        end = _line_end(text) if occurrence.role == "node" else _step_end(text, column - 1)
        hints.append(_hint(line - 1, end, node_of(graph, name).shape))
    for occurrence in index.occurrences:  # a block use: the shape it hands on
        if occurrence.role == "node" and occurrence.scope == ROOT and occurrence.name not in graph \
                and first <= occurrence.line - 1 <= last:
            shape = output_shape_of_use(graph, occurrence.name)
            if shape is not None:
                hints.append(_hint(occurrence.line - 1, _line_end(index.lines[occurrence.line - 1]), shape))
    return hints


def _hint(line: int, character: int, shape: object) -> types.InlayHint:
    return types.InlayHint(position=types.Position(line, character), label=MARK + shape_text(shape),
                           kind=types.InlayHintKind.Type, padding_left=True)


def _line_end(text: str) -> int:
    """Where a line's content ends: before a trailing `# comment` and spaces."""
    cut = text.find(" #")
    content = text if cut < 0 else text[:cut]
    return len(content.rstrip())


def _step_end(text: str, start: int) -> int:
    """The column just after an inline step `label=op(args)` that starts at 0-based `start`."""
    match = _STEP_HEAD.match(text, start)
    end = match.end() if match else start
    if end < len(text) and text[end] == "(":
        depth = 0
        for position in range(end, len(text)):
            depth += {"(": 1, ")": -1}.get(text[position], 0)
            if depth == 0:
                return position + 1
    return end
