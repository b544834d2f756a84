"""Which drawn node or edge each of a spec's problems belongs to, so `render` can mark it in red."""

from __future__ import annotations

import networkx as nx

from archspec.errors import SpecError
from archspec.spec.models import EdgeSpec


def node_errors(graph: nx.MultiDiGraph, errors: list[SpecError]) -> dict[str, list[SpecError]]:
    """Errors by the node they are about: the one they name, or the one written where they point."""
    by_location = {data.location: name for name, data in graph.nodes(data=True)}
    found: dict[str, list[SpecError]] = {}
    for error in errors:
        name = error.node if error.node in graph else by_location.get(error.location)
        if name is not None:
            found.setdefault(name, []).append(error)
    return found


def edge_errors(edges: list[EdgeSpec], errors: list[SpecError]) -> dict[int, list[SpecError]]:
    """Errors by the index of the edge written where they point (an edge error's `edge` names it)."""
    found: dict[int, list[SpecError]] = {}
    for error in errors:
        candidates = [edge for edge in edges if edge.location == error.location]
        if error.edge:
            candidates = [e for e in candidates if error.edge == f"{e.kind} {e.source} -> {e.target}"]
        for edge in candidates:
            found.setdefault(edge.index, []).append(error)
    return found


