"""Three wiring errors found both before a graph exists and by the graph checks, worded once.

A spec without `outputs:` whose every node feeds another has no sink to default to
(archspec.spec.shorthand); the cause, an edge into an input or a cycle, is reported there, where it
is written, with the same message `archspec.graph.build` gives when it checks the built graph.
An edge naming an unknown node is found there too when the spec has no `outputs:`.
"""

from __future__ import annotations

import networkx as nx

from archspec.errors import GraphError, Location, Suggestions


def input_target_error(source: str, target: str, location: Location) -> GraphError:
    """An edge into an input (also found before validation, when a spec without outputs has no sink)."""
    return GraphError(f"edge {source} -> {target}: '{target}' is an input and takes no edges",
                      location=location, hint="inputs are fed with data; point the edge at a node")


def cycle_error(graph: nx.MultiDiGraph, *, before: str = "") -> GraphError | None:
    """The first cycle of `graph` (edges carry `location`) as an error at its closing edge; None if acyclic."""
    try:
        cycle = nx.find_cycle(graph)
    except nx.NetworkXNoCycle:
        return None
    path = " -> ".join([cycle[0][0]] + [edge[1] for edge in cycle])
    return GraphError(f"{before}the edges form a cycle: {path}", location=graph.edges[cycle[-1]]["location"],
                      node=cycle[-1][1], hint="a spec is a DAG: remove or reverse one of these edges")


def unknown_name_error(source: str, target: str, role: str, location: Location, names: Suggestions) -> GraphError:
    """An edge naming no node or input (also found before validation, when a spec without outputs has no sink)."""
    name = source if role == "source" else target
    return GraphError(f"edge {source} -> {target}: unknown {role} '{name}'", location=location,
                      expected="a name defined under 'inputs:' or 'nodes:'", got=repr(name),
                      hint=names.hint(name, "define the node, or fix the name"))
