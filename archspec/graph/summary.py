"""Per-node parameter counts and the `archspec summary` table, computed statically (no TensorFlow)."""

from __future__ import annotations

import networkx as nx

from archspec.catalogue.ops import format_shape
from archspec.graph.build import topological_nodes
from archspec.graph.ir import Node, node_of


def node_params(graph: nx.MultiDiGraph, name: str) -> int:
    """Weights of one node's layer (trainable and not), as Keras would count them.

    A node that shares another's layer (`shares:`) owns none: they are counted once, at the owner.
    """
    record = node_of(graph, name)
    if record.is_input or record.shares:
        return 0
    return layer_params(graph, name)


def layer_params(graph: nx.MultiDiGraph, name: str) -> int:
    """Weights the node's op would make for the input it gets (a sharing node's too)."""
    return node_of(graph, name).weight_count()


def node_details(record: Node) -> str:
    """An op node's key parameters as the summary writes them, or `shares NODE` for a sharing node."""
    return f"shares {record.shares}" if record.shares else record.definition.summary(record.params)


def total_params(graph: nx.MultiDiGraph) -> int:
    """Weights of the whole model; equals keras.Model.count_params() of the compiled model."""
    return sum(node_params(graph, name) for name in graph.nodes)


def summary_table(graph: nx.MultiDiGraph) -> str:
    """A table like keras' model.summary(): node, op (key params), inputs, output shape, params."""
    rows = [("node", "op", "from", "output", "params")]
    for name in topological_nodes(graph):
        record = node_of(graph, name)
        if record.is_input:
            rows.append((name, "input", "", format_shape(record.shape), "0"))
            continue
        details = node_details(record)
        sources = []
        for source, _, edge in sorted(graph.in_edges(name, data=True), key=lambda item: item[2].index):
            sources.append(source if edge.kind == "plain" else f"{source} ({edge.kind})")
        rows.append((
            name,
            f"{record.op}({details})" if details else record.op,
            ", ".join(sources),
            format_shape(record.shape),
            f"{node_params(graph, name):,}",
        ))
    widths = [max(len(row[column]) for row in rows) for column in range(len(rows[0]))]
    lines = []
    for index, row in enumerate(rows):
        cells = [cell.ljust(width) if column < 4 else cell.rjust(width)
                 for column, (cell, width) in enumerate(zip(row, widths))]
        lines.append("  ".join(cells).rstrip())
        if index == 0:
            lines.append("  ".join("-" * width for width in widths))
    lines.append("")
    lines.append(f"{graph.graph['name']}: {total_params(graph):,} parameters")
    return "\n".join(lines)
