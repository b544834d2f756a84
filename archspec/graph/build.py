"""Spec -> networkx DAG, the one intermediate form that shapes, compile, render and fit read.

Each node's data is a typed `Node` record and each edge's an `Edge` record
(archspec.graph.ir: declared fields, a `meta` dict for extras). Building sets
a node's kind, op, params, locations, shares, `output_of` (on the node of a
named output, `halves.a`: its owner) and `plan` (the applications that make
its output: archspec.graph.plan); `infer_shapes` adds the shapes. Edges are
keyed by their position in the file. Graph attributes: `name`, `doc`,
`file`, `outputs`, `train`, `spec`.

Every structural problem of a file is collected in one pass.
"""

from __future__ import annotations

from typing import Any

import networkx as nx

from archspec.catalogue.connections import CONNECTIONS
from archspec.catalogue.ops import OPS
from archspec.errors import GraphError, SpecError, Suggestions, raise_collected
from archspec.graph.ir import SpecGraph, edges_into, node_of
from archspec.graph.plan import NodePlan, plan_node
from archspec.spec.models import EdgeSpec, NodeSpec, Spec
from archspec.spec.wiring import cycle_error, input_target_error, unknown_name_error

OUTPUT_SEPARATOR = "."
"""Between a node and one of its named outputs: `halves.a`."""


def build_graph(spec: Spec) -> nx.MultiDiGraph:
    """Build the DAG of a validated spec and check its structure; raise SpecError(s) if unusable."""
    graph, errors = build_partial_graph(spec)
    raise_collected(errors)
    return graph


def build_partial_graph(spec: Spec) -> tuple[nx.MultiDiGraph, list[SpecError]]:
    """The graph as far as it can be built, and every structural problem found, without raising.

    `render` draws an invalid spec from this. Checks run in stages (edges,
    cycles, input plans, reachability) and a stage that finds problems stops
    the later ones, whose errors would only be consequences; nodes whose
    input plan failed have no `plan`. Edges with an unknown endpoint are left out.
    """
    graph = SpecGraph(
        name=spec.name, doc=spec.doc, file=spec.file, outputs=list(spec.outputs), train=spec.train,
        spec=spec,
    )
    for name, input_spec in spec.inputs.items():
        graph.add_node(name, name=name, kind="input", op="input", params=input_spec,
                       location=spec.input_locations[name])
    for name, node in spec.nodes.items():
        graph.add_node(name, name=name, kind="op", op=node.op, params=node.params, location=node.location,
                       text_location=node.text_location, deferred=node.deferred, shares=node.shares)
    output_edges = [edge for name, node in spec.nodes.items() for edge in _add_outputs(graph, name, node)]

    errors: list[SpecError] = []
    reported: set[tuple[str, object]] = set()
    named_outputs = _named_outputs(graph)
    names = Suggestions(graph.nodes)
    for edge in spec.edges:
        problem = _endpoint_problem(edge, graph, names) or _whole_split_problem(edge, named_outputs)
        if problem:
            # a chain 'a -> typo -> b' names the unknown node in two edges: say it once
            if (problem.got, problem.location) not in reported:
                errors.append(problem)
            reported.add((problem.got, problem.location))
            continue
        graph.add_edge(edge.source, edge.target, key=edge.index, kind=edge.kind,
                       params=edge.params, location=edge.location, index=edge.index, spec=edge)
    for edge in output_edges:
        graph.add_edge(edge.source, edge.target, key=edge.index, kind=edge.kind,
                       params=edge.params, location=edge.location, index=edge.index, spec=edge)
    for name in spec.outputs:
        if name not in graph:
            errors.append(GraphError(
                f"output '{name}' is not a node or input",
                location=spec.output_locations[name],
                hint=names.hint(name, "list a node defined under 'nodes:'"),
            ))
    if errors:
        return graph, errors

    errors.extend(_cycle_errors(graph))
    if errors:
        return graph, errors
    for name in graph.nodes:
        record = node_of(graph, name)
        if record.is_input:
            record.plan = NodePlan()
            continue
        if graph.in_degree(name) == 0:
            continue  # reported below as not reachable from any input
        try:
            record.plan = plan_node(name, record.definition, record.params, record.location,
                                    [edge.spec for edge in edges_into(graph, name)], record.text_location)
        except SpecError as error:
            errors.append(error)
    errors.extend(_reachability_errors(graph, spec))
    return graph, errors


def _add_outputs(graph: nx.MultiDiGraph, name: str, spec: NodeSpec) -> list[EdgeSpec]:
    """A node with named outputs (a `split`) gets one node per output, `NAME.OUTPUT`, fed by it.

    The outputs are ordinary nodes (op and params from the op's `outputs`), so
    plan, shapes, lowering, codegen, diagrams and summaries need nothing new;
    edges address them by name.
    """
    edges = []
    for output, op, params in OPS[spec.op].outputs(spec.params):
        full = f"{name}{OUTPUT_SEPARATOR}{output}"
        graph.add_node(full, name=full, kind="op", op=op, params=params, location=spec.location, output_of=name)
        edges.append(EdgeSpec(name, full, "plain", CONNECTIONS["plain"].Params(), spec.location, -1))
    return edges


def _named_outputs(graph: nx.MultiDiGraph) -> dict[str, list[str]]:
    """Each node with named outputs and their nodes, found in one pass (not one pass per edge)."""
    found: dict[str, list[str]] = {}
    for node, owner in graph.nodes(data="output_of"):
        if owner is not None:
            found.setdefault(owner, []).append(node)
    return found


def _whole_split_problem(edge: EdgeSpec, named_outputs: dict[str, list[str]]) -> SpecError | None:
    """An edge from a node with named outputs must name one of them."""
    outputs = named_outputs.get(edge.source)
    if not outputs:
        return None
    return GraphError(
        f"edge {edge.source} -> {edge.target}: '{edge.source}' has named outputs; the edge must name one",
        location=edge.location, node=edge.target, expected="one of " + ", ".join(outputs),
        got=edge.source, hint=f"write '{outputs[0]} -> {edge.target}'",
    )


def _endpoint_problem(edge: EdgeSpec, graph: nx.MultiDiGraph, names: Suggestions) -> SpecError | None:
    for role, name in (("source", edge.source), ("target", edge.target)):
        if name not in graph:
            return unknown_name_error(edge.source, edge.target, role, edge.location, names)
    if edge.source == edge.target:
        return GraphError(
            f"edge {edge.source} -> {edge.target} connects a node to itself (a cycle)",
            location=edge.location,
            node=edge.target,
            hint="a spec is a DAG: data flows one way; remove the edge",
        )
    if node_of(graph, edge.target).is_input:
        return input_target_error(edge.source, edge.target, edge.location)
    return None


def _cycle_errors(graph: nx.MultiDiGraph) -> list[SpecError]:
    error = cycle_error(graph)
    return [] if error is None else [error]


def _reachability_errors(graph: nx.MultiDiGraph, spec: Spec) -> list[SpecError]:
    errors: list[SpecError] = []
    inputs = [name for name in graph.nodes if node_of(graph, name).is_input]
    fed: set[str] = set(inputs)
    for name in inputs:
        fed |= nx.descendants(graph, name)
    useful: set[str] = set(spec.outputs)
    for name in spec.outputs:
        useful |= nx.ancestors(graph, name)
    for name in graph.nodes:
        record = node_of(graph, name)
        if name not in fed:
            errors.append(GraphError(
                "is not reachable from any input",
                location=record.location, node=name,
                hint="connect it to the graph with an edge from an input or another node",
            ))
        elif name not in useful and record.output_of:
            owner = record.output_of
            errors.append(GraphError(
                f"output '{name.removeprefix(owner + OUTPUT_SEPARATOR)}' of '{owner}' is used by no edge",
                location=record.location, node=owner,
                hint=f"use it (an edge from '{name}'), or split into fewer outputs (or use slice)",
            ))
        elif name not in useful:
            errors.append(GraphError(
                "does not lead to any output",
                location=record.location, node=name, node_kind=record.noun,
                hint="connect it onward, add it to 'outputs:', or remove it",
            ))
    return errors


def topological_nodes(graph: nx.MultiDiGraph) -> list[str]:
    """Nodes in an order where every node comes after its inputs; stable across runs."""
    return list(nx.lexicographical_topological_sort(graph, key=_file_order(graph)))


def _file_order(graph: nx.MultiDiGraph) -> Any:
    order = {name: index for index, name in enumerate(graph.nodes)}
    return lambda name: order[name]

