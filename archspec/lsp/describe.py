"""What a written name stands for in the analysed graph, in words: the text of hovers and of the preview's panel.

A node written as a key, an inline chain step and a block use all become
graph nodes (a use becomes many); this module finds them from where they are
written and says what they are: op, resolved parameters, input and output
shapes, parameter count. An op name is described from the op registry.
"""

from __future__ import annotations

from typing import Any

import networkx as nx

from archspec.catalogue.ops import OPS, format_shape
from archspec.graph.ir import node_of
from archspec.graph.summary import node_details, node_params
from archspec.lsp.names import ROOT, Occurrence
from archspec.spec.provenance import BlockCopy


def own_nodes(graph: nx.MultiDiGraph, file: str) -> dict[tuple[int, int], str]:
    """The graph nodes written in `file` itself (not in a block body or a base), by (line, column)."""
    found = {}
    for name, data in graph.nodes(data=True):
        location = data.location
        if location is not None and location.file == file and not location.context and location.line:
            found.setdefault((location.line, location.column or 1), name)
    return found


def node_for(graph: nx.MultiDiGraph, file: str, occurrence: Occurrence) -> str | None:
    """The graph node an occurrence names: a node or input by name, an inline step by where it is written."""
    if occurrence.scope != ROOT:
        return None
    if occurrence.role in ("node", "input", "use", "label") and occurrence.name in graph:
        return occurrence.name
    if occurrence.role == "op":
        steps = [(column, name) for (line, column), name in own_nodes(graph, file).items()
                 if line == occurrence.line and column <= occurrence.column
                 and node_of(graph, name).op == occurrence.name]
        return max(steps)[1] if steps else None
    return None


def block_use_frames(graph: nx.MultiDiGraph, use: str) -> dict[str, BlockCopy]:
    """The graph nodes that a top-level block use `use` became, with the use's copy each belongs to."""
    recorded = graph.graph["spec"].document.block_uses if "spec" in graph.graph else {}
    return {name: frames[0] for name, frames in recorded.items()
            if frames and frames[0].use == use and name in graph}


def describe_node(graph: nx.MultiDiGraph, name: str) -> str:
    """Markdown: a node's op and parameters, its input and output shapes and its parameter count."""
    data = node_of(graph, name)
    if data.is_input:
        return f"**{name}**: input\n\nshape `{shape_text(data.shape)}`"
    details = node_details(data)
    lines = [f"**{name}**: `{data.op}({details})`" if details else f"**{name}**: `{data.op}`"]
    if data.shape is not None:
        lines.append(f"`{shape_text(data.input_shape)}` → `{shape_text(data.shape)}` · "
                     f"{node_params(graph, name):,} parameters")
    else:
        lines.append("shape unknown (an earlier problem stops shape inference here)")
    params = resolved_params(data.params)
    if params:
        lines.append("```yaml\n" + "\n".join(f"{key}: {value}" for key, value in params.items()) + "\n```")
    return "\n\n".join(lines)


def describe_block_use(graph: nx.MultiDiGraph, use: str) -> str | None:
    """Markdown: what a block use became: its block, copies, output shapes and parameters."""
    frames = block_use_frames(graph, use)
    if not frames:
        return None
    copies, last = _last_copy(frames)
    shapes = [f"{port}: `{shape_text(node_of(graph, node).shape)}`"
              for port, node in last.outputs.items() if node in graph]
    total = sum(node_params(graph, node) for node in frames if node_of(graph, node).shape is not None)
    lines = [f"**{use}**: block `{last.block}`" + (f" × {copies}" if copies > 1 else ""),
             f"{len(frames)} nodes · {total:,} parameters"]
    if shapes:
        lines.append("output " + ", ".join(shapes))
    return "\n\n".join(lines)


def output_shape_of_use(graph: nx.MultiDiGraph, use: str) -> Any:
    """The shape out of a block use (its last copy's first output), or None."""
    frames = block_use_frames(graph, use)
    if not frames:
        return None
    node = next(iter(_last_copy(frames)[1].outputs.values()), None)
    return node_of(graph, node).shape if node in graph else None


def _last_copy(frames: dict[str, BlockCopy]) -> tuple[int, BlockCopy]:
    """How many copies a use made (`repeat`), and its last copy, whose outputs are the use's."""
    copies = list(dict.fromkeys(frame.name for frame in frames.values()))
    return len(copies), next(frame for frame in frames.values() if frame.name == copies[-1])


def describe_op(name: str) -> str:
    """Markdown: an op's documentation and its parameters with types and defaults, from the registry."""
    op = OPS[name]
    lines = [f"**{name}** (op)", op.doc or ""]
    if op.positional:
        lines.append("positional in a chain step: " + ", ".join(op.positional))
    rows = [f"- `{field}`: {_type(info.annotation)}" + ("" if info.is_required() else f" = `{info.default!r}`")
            for field, info in op.Params.model_fields.items()]
    if rows:
        lines.append("\n".join(rows))
    return "\n\n".join(line for line in lines if line)


def resolved_params(params: Any) -> dict[str, Any]:
    """An op's parameters as validated (defaults, blocks and vars applied), without the unset ones."""
    if params is None or not hasattr(params, "model_dump"):
        return {}
    return {key: value for key, value in params.model_dump(mode="json").items() if value is not None}


def shape_text(shape: Any) -> str:
    """A node's shape as archspec prints it (`28x28x1`; several inputs joined by commas; `?` unknown)."""
    if shape is None:
        return "?"
    if isinstance(shape, list):
        return ", ".join(map(format_shape, shape))
    return format_shape(shape)


def _type(annotation: Any) -> str:
    text = getattr(annotation, "__name__", None) or str(annotation)
    text = text.replace("typing.", "").replace("archspec.catalogue.ops.", "")
    return text if len(text) <= 80 else text[:77] + "..."
