"""Spec -> networkx DAG, the one intermediate form that shapes, compile, render and fit read.

Node attributes: `kind` ("input" or "op"), `op`, `params`, `location`, and
`plan` (how the node's inputs combine: see `InputPlan`); `shape` and
`input_shape` are added by `infer_shapes`. Edge attributes (a MultiDiGraph
keyed by the edge's position in the file): `kind`, `params`, `location`,
`index`. Graph attributes: `name`, `doc`, `file`, `outputs`, `train`.

Every structural problem of a file is collected in one pass.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import networkx as nx

from archspec.errors import GraphError, SpecError, did_you_mean, raise_collected
from archspec.graph.ops import OPS
from archspec.spec.models import EdgeSpec, Spec

MODEL_NAME_PATTERN = re.compile(r"[A-Za-z0-9.][A-Za-z0-9_.\\>-]*")
"""TensorFlow's rule for a root name scope, less '/', which Keras refuses in any name: `fit` opens a
scope named after the model, so a name outside it validates and builds, then fails in training."""
MAX_MODEL_NAME_LENGTH = 200
"""A run's folder is named `<model name>-<timestamp>`, and a file name has at most 255 bytes."""


@dataclass
class InputPlan:
    """How a node's in-edges become the tensor its op sees, in the order they apply."""

    mains: list[EdgeSpec] = field(default_factory=list)
    softmax_gate: EdgeSpec | None = None
    merges: list[EdgeSpec] = field(default_factory=list)
    attention: EdgeSpec | None = None


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
    graph = nx.MultiDiGraph(
        name=spec.name, doc=spec.doc, file=spec.file, outputs=list(spec.outputs), train=spec.train,
        spec=spec,
    )
    for name, input_spec in spec.inputs.items():
        graph.add_node(name, kind="input", op="input", params=input_spec,
                       location=spec.input_locations[name])
    for name, node in spec.nodes.items():
        graph.add_node(name, kind="op", op=node.op, params=node.params, location=node.location)

    name_errors = _model_name_errors(spec)
    errors: list[SpecError] = []
    edges = _gate_ops_as_edges(spec, errors)
    reported: set[tuple[str, object]] = set()
    for edge in edges:
        problem = _endpoint_problem(edge, graph)
        if problem:
            # a chain 'a -> typo -> b' names the unknown node in two edges: say it once
            if (problem.got, problem.location) not in reported:
                errors.append(problem)
            reported.add((problem.got, problem.location))
            continue
        graph.add_edge(edge.source, edge.target, key=edge.index, kind=edge.kind,
                       params=edge.params, location=edge.location, index=edge.index, spec=edge)
    for name in spec.outputs:
        if name not in graph:
            errors.append(GraphError(
                f"output '{name}' is not a node or input",
                location=spec.output_locations[name],
                hint=did_you_mean(name, graph.nodes) or "list a node defined under 'nodes:'",
            ))
    if errors:
        return graph, name_errors + errors

    errors.extend(_cycle_errors(graph))
    if errors:
        return graph, name_errors + errors
    for name in graph.nodes:
        if graph.nodes[name]["kind"] == "op" and graph.in_degree(name) == 0:
            continue  # reported below as not reachable from any input
        if graph.nodes[name]["kind"] == "op":
            try:
                graph.nodes[name]["plan"] = _input_plan(graph, name)
            except SpecError as error:
                errors.append(error)
        else:
            graph.nodes[name]["plan"] = InputPlan()
    errors.extend(_reachability_errors(graph, spec))
    return graph, name_errors + errors


def _model_name_errors(spec: Spec) -> list[SpecError]:
    """The model's name must be one Keras and TensorFlow accept (it names the model and its scope)."""
    if MODEL_NAME_PATTERN.fullmatch(spec.name) and len(spec.name) <= MAX_MODEL_NAME_LENGTH:
        return []
    too_long = len(spec.name) > MAX_MODEL_NAME_LENGTH
    return [GraphError(
        f"the model name is too long ({len(spec.name):,} characters)" if too_long else
        f"the model name {spec.name!r} is not one Keras and TensorFlow accept",
        location=spec.document.locate(("name",)),
        expected=f"at most {MAX_MODEL_NAME_LENGTH} characters" if too_long else
        "ASCII letters, digits and _ . - \\ > (no spaces or '/'), starting with a letter, digit or '.'",
        got=f"{len(spec.name):,} characters" if too_long else repr(spec.name),
        hint="the name becomes the Keras model's name and its run folder's; use e.g. 'mnist_cnn'",
    )]


def _gate_ops_as_edges(spec: Spec, errors: list[SpecError]) -> list[EdgeSpec]:
    """A `gate` node is a junction whose in-edge from `by` is a gate edge: rewrite it as one."""
    from archspec.graph.connections import CONNECTIONS

    edges = list(spec.edges)
    for node in spec.nodes.values():
        if node.op != "gate":
            continue
        problem = _gate_by_problem(spec, node.name, node.params.by)
        if problem:
            errors.append(problem)
            continue
        found = False
        for position, edge in enumerate(edges):
            if edge.target == node.name and edge.source == node.params.by and edge.kind == "plain":
                params = CONNECTIONS["gate"].Params(activation=node.params.activation)
                edges[position] = EdgeSpec(edge.source, edge.target, "gate", params, edge.location,
                                           edge.index)
                found = True
        if not found:
            errors.append(GraphError(
                f"gate names by: {node.params.by}, but there is no plain edge "
                f"{node.params.by} -> {node.name}",
                location=spec.document.locate(("nodes", node.name, "by")),
                node=node.name,
                hint=f"add '{node.params.by} -> {node.name}' to the edges",
            ))
    return edges


def _gate_by_problem(spec: Spec, name: str, by: str) -> SpecError | None:
    """`by:` must name another input or node: not the gate itself (a self-loop), not an unknown name."""
    location = spec.document.locate(("nodes", name, "by"))
    if by == name:
        return GraphError(
            f"gate names itself in by: {by}; the gating signal must come from another node",
            location=location, node=name, expected="the name of another input or node", got=repr(by),
            hint="name the node whose output scales (or, with softmax, mixes) this gate's inputs",
        )
    if by not in spec.nodes and by not in spec.inputs:
        return GraphError(
            f"gate names by: {by}, which is not an input or node",
            location=location, node=name, expected="a name defined under 'inputs:' or 'nodes:'",
            got=repr(by),
            hint=did_you_mean(by, [*spec.inputs, *spec.nodes]) or "define the node, or fix the name",
        )
    return None


def _endpoint_problem(edge: EdgeSpec, graph: nx.MultiDiGraph) -> SpecError | None:
    for role, name in (("source", edge.source), ("target", edge.target)):
        if name not in graph:
            return GraphError(
                f"edge {edge.source} -> {edge.target}: unknown {role} '{name}'",
                location=edge.location,
                expected="a name defined under 'inputs:' or 'nodes:'",
                got=repr(name),
                hint=did_you_mean(name, graph.nodes) or "define the node, or fix the name",
            )
    if edge.source == edge.target:
        return GraphError(
            f"edge {edge.source} -> {edge.target} connects a node to itself (a cycle)",
            location=edge.location,
            node=edge.target,
            hint="a spec is a DAG: data flows one way; remove the edge",
        )
    if graph.nodes[edge.target]["kind"] == "input":
        return GraphError(
            f"edge {edge.source} -> {edge.target}: '{edge.target}' is an input and takes no edges",
            location=edge.location,
            hint="inputs are fed with data; point the edge at a node",
        )
    return None


def _cycle_errors(graph: nx.MultiDiGraph) -> list[SpecError]:
    try:
        cycle = nx.find_cycle(graph)
    except nx.NetworkXNoCycle:
        return []
    path = " -> ".join([cycle[0][0]] + [edge[1] for edge in cycle])
    closing = graph.edges[cycle[-1][0], cycle[-1][1], cycle[-1][2]]
    return [GraphError(
        f"the edges form a cycle: {path}",
        location=closing["location"],
        node=cycle[-1][1],
        hint="a spec is a DAG: remove or reverse one of these edges",
    )]


def _in_edges(graph: nx.MultiDiGraph, name: str) -> list[EdgeSpec]:
    return sorted((data["spec"] for _, _, data in graph.in_edges(name, data=True)),
                  key=lambda edge: edge.index)


def _input_plan(graph: nx.MultiDiGraph, name: str) -> InputPlan:
    op = OPS[graph.nodes[name]["op"]]
    location = graph.nodes[name]["location"]
    plan = InputPlan()
    gates = []
    for edge in _in_edges(graph, name):
        if edge.kind == "plain":
            plan.mains.append(edge)
        elif edge.kind == "attention":
            if op.arity != "attention":
                raise GraphError(
                    f"attention edge {edge.source} -> {name}: '{name}' is {_article(op.name)} node",
                    location=edge.location,
                    node=name,
                    expected="an attention edge into an 'attention' node",
                    hint="add an 'attention' node for the target and point the edge at it",
                )
            if plan.attention is not None:
                raise GraphError(
                    f"'{name}' has two attention edges ({plan.attention.source} and {edge.source})",
                    location=edge.location,
                    node=name,
                    hint="one source supplies the keys and values; concat the sources first",
                )
            plan.attention = edge
        elif edge.kind == "gate":
            gates.append(edge)
        else:
            plan.merges.append(edge)
    if not plan.mains:
        side = plan.merges + gates + ([plan.attention] if plan.attention else [])
        raise GraphError(
            "has no main input (no plain edge leads into it)",
            location=location,
            node=name,
            hint=(f"its {side[0].kind} edge from '{side[0].source}' modifies a main input; "
                  f"add a plain edge such as 'x -> {name}'") if side else
            f"add an edge such as 'x -> {name}', or remove the node",
        )
    if op.arity == "many":
        if len(plan.mains) < 2:
            raise GraphError(
                f"a {op.name} node merges two or more inputs, but '{name}' has one",
                location=location, node=name,
                expected="two or more plain edges into it", got=str(len(plan.mains)),
                hint="add the other inputs, or use an identity node",
            )
        if plan.merges or gates:
            edge = (plan.merges + gates)[0]
            raise GraphError(
                f"{edge.kind} edge {edge.source} -> {name}: '{name}' is already {_article(op.name)} node",
                location=edge.location, node=name,
                hint=f"make it a plain edge: '{edge.source} -> {name}'",
            )
        return plan
    softmax = [edge for edge in gates if gate_activation(edge, len(plan.mains)) == "softmax"]
    if softmax and len(plan.mains) == 1:
        raise GraphError(
            f"a softmax gate mixes two or more main inputs, but '{name}' has one "
            f"({plan.mains[0].source})",
            location=softmax[0].location, node=name, edge=f"gate {softmax[0].source} -> {name}",
            expected="two or more plain edges into the target",
            hint="use activation: sigmoid to scale one input, or add the inputs to mix",
        )
    if len(plan.mains) > 1 and not softmax:
        duplicate = _repeated_edge(plan.mains)
        if duplicate:
            first, second = duplicate
            raise GraphError(
                f"the plain edge {second.source} -> {name} is given twice (lines {first.location.line} "
                f"and {second.location.line})",
                location=second.location,
                node=name,
                expected=f"one plain input into a {op.name} node",
                hint="remove one of them (an edge written twice is a duplicate, not a second input)",
            )
        first, second = plan.mains[0], plan.mains[1]
        raise GraphError(
            f"has {len(plan.mains)} plain inputs ({first.source} -> {name} at line "
            f"{first.location.line}, {second.source} -> {name} at line {second.location.line}) "
            "and no rule to merge them",
            location=second.location,
            node=name,
            expected=f"one plain input into a {op.name} node",
            hint=f"make one a merge edge, e.g. {{from: {second.source}, to: {name}, kind: concat-skip}} "
            "(or add-residual), or add a concat/add node, or a softmax gate edge",
        )
    if len(softmax) > 1:
        raise GraphError(
            f"has two softmax gates ({softmax[0].source} and {softmax[1].source})",
            location=softmax[1].location, node=name,
            hint="one gate mixes the inputs; combine the gate signals first",
        )
    if softmax:
        plan.softmax_gate = softmax[0]
        gates.remove(softmax[0])
    plan.merges = sorted(plan.merges + gates, key=lambda edge: edge.index)
    return plan


def _repeated_edge(edges: list[EdgeSpec]) -> tuple[EdgeSpec, EdgeSpec] | None:
    """The first edge whose source an earlier one already has, with that earlier edge."""
    seen: dict[str, EdgeSpec] = {}
    for edge in edges:
        if edge.source in seen:
            return seen[edge.source], edge
        seen[edge.source] = edge
    return None


def _article(word: str) -> str:
    return ("an " if word[:1] in "aeiou" else "a ") + word


def gate_activation(edge: EdgeSpec, mains: int) -> str:
    """The activation a gate edge applies: as written, else softmax over k > 1 inputs, else sigmoid."""
    return edge.params.activation or ("softmax" if mains > 1 else "sigmoid")


def _reachability_errors(graph: nx.MultiDiGraph, spec: Spec) -> list[SpecError]:
    errors: list[SpecError] = []
    inputs = [name for name in graph.nodes if graph.nodes[name]["kind"] == "input"]
    fed: set[str] = set(inputs)
    for name in inputs:
        fed |= nx.descendants(graph, name)
    useful: set[str] = set(spec.outputs)
    for name in spec.outputs:
        useful |= nx.ancestors(graph, name)
    for name in graph.nodes:
        data = graph.nodes[name]
        if name not in fed:
            errors.append(GraphError(
                "is not reachable from any input",
                location=data["location"], node=name,
                hint="connect it to the graph with an edge from an input or another node",
            ))
        elif name not in useful:
            errors.append(GraphError(
                "does not lead to any output",
                location=data["location"], node=name, node_kind=data["kind"].replace("op", "node"),
                hint="connect it onward, add it to 'outputs:', or remove it",
            ))
    return errors


def topological_nodes(graph: nx.MultiDiGraph) -> list[str]:
    """Nodes in an order where every node comes after its inputs; stable across runs."""
    return list(nx.lexicographical_topological_sort(graph, key=_file_order(graph)))


def _file_order(graph: nx.MultiDiGraph) -> Any:
    order = {name: index for index, name in enumerate(graph.nodes)}
    return lambda name: order[name]

