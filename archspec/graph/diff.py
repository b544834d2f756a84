"""The architectural difference of two specs: nodes and edges added, removed or changed.

Specs are compared after expansion and shape inference, so two files that
write the same graph differently (a chain or single edges, a block or its
copies, a base plus a variant, other generated names or chain order) have
no difference, and the parameter change is the one Keras would report.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import networkx as nx

from archspec.graph.ir import node_of
from archspec.graph.matching import describe_inputs, describe_node, match_graphs
from archspec.graph.shapes import analyze
from archspec.graph.summary import node_params, total_params

EdgeKey = tuple[str, str, str, str]
"""(source, target, kind, parameters): how an edge is compared."""


@dataclass
class SpecDiff:
    """What changed from spec `before` to spec `after`."""

    before: str
    after: str
    nodes_added: list[str] = field(default_factory=list)
    nodes_removed: list[str] = field(default_factory=list)
    nodes_changed: list[tuple[str, str, str]] = field(default_factory=list)
    edges_added: list[EdgeKey] = field(default_factory=list)
    edges_removed: list[EdgeKey] = field(default_factory=list)
    params_before: int = 0
    params_after: int = 0
    node_params: list[tuple[str, int, int]] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not (self.nodes_added or self.nodes_removed or self.nodes_changed
                    or self.edges_added or self.edges_removed)


def diff_specs(before: str | Path, after: str | Path) -> SpecDiff:
    """Compare two spec files (each validated and shape-checked first).

    Nodes are paired by archspec.graph.matching, not by name, and the second
    spec's paired nodes are named as in the first: a generated name
    (`dense_2`) or the order of chain lines is no difference.
    """
    old, new = analyze(before), analyze(after)
    result = SpecDiff(str(before), str(after), params_before=total_params(old),
                      params_after=total_params(new))
    matching = match_graphs(old, new)
    names = {other: name for name, other in matching.mapping.items()}
    result.nodes_added = [name for name in new.nodes if name not in names]
    result.nodes_removed = [name for name in old.nodes if name not in matching.mapping]
    result.nodes_changed = [change for pair in matching.changed if (change := _change(old, new, pair, names))]
    old_edges, new_edges = _edges(old, {}), _edges(new, names)
    result.edges_added = list((Counter(new_edges) - Counter(old_edges)).elements())
    result.edges_removed = list((Counter(old_edges) - Counter(new_edges)).elements())
    for name in old.nodes:
        if name in matching.mapping:
            counts = (node_params(old, name), node_params(new, matching.mapping[name]))
            if counts[0] != counts[1]:
                result.node_params.append((name, *counts))
    return result


def _change(old: nx.MultiDiGraph, new: nx.MultiDiGraph, pair: tuple[str, str],
            names: dict[str, str]) -> tuple[str, str, str] | None:
    """How a paired node changed: its op or parameters, else the order it reads the same inputs in
    (other inputs show as edges)."""
    name, other = pair
    before, after = describe_node(node_of(old, name)), describe_node(node_of(new, other))
    if before != after:
        return name, before, after
    before, after = describe_inputs(old, name, {}), describe_inputs(new, other, names)
    if before != after and sorted(before.split(", ")) == sorted(after.split(", ")):
        return name, f"inputs {before}", f"inputs {after}"
    return None


def _edges(graph: nx.MultiDiGraph, names: dict[str, str]) -> list[EdgeKey]:
    """Each edge, its ends renamed by `names` where the node was paired with one of the other spec."""
    edges = []
    for source, target, data in sorted(graph.edges(data=True), key=lambda edge: edge[2].index):
        params = data.params.model_dump(exclude_defaults=True)
        written = ", ".join(f"{key}={value}" for key, value in params.items())
        edges.append((names.get(source, source), names.get(target, target), data.kind, written))
    return edges


def format_edge(edge: EdgeKey) -> str:
    source, target, kind, params = edge
    if kind == "plain" and not params:
        return f"{source} -> {target}"
    return f"{source} -> {target} ({', '.join(part for part in (kind, params) if part)})"


def format_diff(diff: SpecDiff) -> str:
    """The difference as text: +/- lines per node and edge, then the parameter change."""
    lines = [f"--- {diff.before}", f"+++ {diff.after}"]
    if diff.nodes_added or diff.nodes_removed or diff.nodes_changed:
        lines.append("nodes:")
        lines += [f"  - {name}" for name in diff.nodes_removed]
        lines += [f"  + {name}" for name in diff.nodes_added]
        lines += [f"  ~ {name}: {old} -> {new}" for name, old, new in diff.nodes_changed]
    if diff.edges_added or diff.edges_removed:
        lines.append("edges:")
        lines += [f"  - {format_edge(edge)}" for edge in diff.edges_removed]
        lines += [f"  + {format_edge(edge)}" for edge in diff.edges_added]
    if diff.empty:
        lines.append("no architectural difference")
    change = diff.params_after - diff.params_before
    lines.append(f"parameters: {diff.params_before:,} -> {diff.params_after:,} ({change:+,})")
    width = max((len(name) for name, _, _ in diff.node_params), default=0)
    for name, old, new in diff.node_params:
        lines.append(f"  {name.ljust(width)}  {old:,} -> {new:,} ({new - old:+,})")
    return "\n".join(lines)
