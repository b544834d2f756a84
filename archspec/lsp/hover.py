"""Hover: what the name under the cursor is (a node's op, parameters, shapes and weights; an op's docs)."""

from __future__ import annotations

from typing import Any

from archspec.catalogue.ops import OPS
from archspec.lsp.analysis import Analysis
from archspec.lsp.describe import describe_block_use, describe_node, describe_op, node_for
from archspec.lsp.names import ROOT, NameIndex, Occurrence


def hover_text(analysis: Analysis, index: NameIndex, line: int, column: int) -> tuple[str, Occurrence] | None:
    """Markdown for the 1-based place, and the occurrence it describes; None where nothing is named."""
    occurrence = index.at(line, column)
    if occurrence is None:
        return None
    graph = analysis.graph
    node = node_for(graph, analysis.file, occurrence) if graph is not None else None
    if node is not None:
        text = describe_node(graph, node)
        if occurrence.role == "op":
            text += "\n\n---\n\n" + describe_op(occurrence.name)
        return text, occurrence
    if occurrence.role == "op" and occurrence.name in OPS:
        return describe_op(occurrence.name), occurrence
    if occurrence.role in ("block", "block-use"):
        return _describe_block(index, occurrence.name), occurrence
    if occurrence.scope == ROOT and occurrence.role == "node" and graph is not None:
        text = describe_block_use(graph, occurrence.name)
        return (text, occurrence) if text else None
    if occurrence.scope != ROOT:
        return f"**{occurrence.name}**: {occurrence.role} of block `{occurrence.scope[-1]}` (shapes: at its uses)", \
            occurrence
    return None


def _describe_block(index: NameIndex, name: str) -> str:
    data: Any = index.data if isinstance(index.data, dict) else {}
    body = (data.get("blocks") or {}).get(name) if isinstance(data.get("blocks"), dict) else None
    if not isinstance(body, dict):
        return f"**{name}**: block"
    parts = [f"**{name}**: block"]
    for key in ("params", "inputs", "outputs"):
        value = body.get(key)
        if value:
            shown = ", ".join(f"{k}={v}" for k, v in value.items()) if isinstance(value, dict) else \
                ", ".join(map(str, value)) if isinstance(value, list) else str(value)
            parts.append(f"{key}: `{shown}`")
    nodes = body.get("nodes")
    if isinstance(nodes, dict):
        parts.append(f"{len(nodes)} nodes")
    return "\n\n".join(parts)
