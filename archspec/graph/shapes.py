"""Static shape inference over the DAG, without TensorFlow.

Walks the nodes in topological order, combines each node's inputs as its
`InputPlan` says (the same rules the compiler lowers), and applies the op's
shape rule. Sets `input_shape` and `shape` (batch axis excluded) on every
node and `shape` on every edge. All mismatches of a file are reported at
once; nodes downstream of a mismatch are skipped rather than reported twice.
"""

from __future__ import annotations

from pathlib import Path

import networkx as nx

from archspec.errors import ShapeError, SpecError, raise_collected
from archspec.graph.build import build_graph, build_partial_graph, topological_nodes
from archspec.graph.connections import CONNECTIONS, Operand, softmax_gate_shape
from archspec.graph.dtypes import dtype_errors
from archspec.graph.ops import OPS, Shape, ShapeProblem, format_shape
from archspec.spec.models import EdgeSpec, Spec, load_spec


def infer_shapes(graph: nx.MultiDiGraph) -> nx.MultiDiGraph:
    """Annotate `graph` in place with the shape of every node and edge; raise ShapeError(s)."""
    raise_collected(annotate_shapes(graph))
    return graph


def annotate_shapes(graph: nx.MultiDiGraph) -> list[SpecError]:
    """Annotate every shape that can be inferred and return the problems instead of raising.

    Also takes a partial graph (`build_partial_graph`, acyclic): a node without
    an input plan, or downstream of a failed node, gets no shape.
    """
    errors: list[SpecError] = []
    failed: set[str] = set()
    for name in topological_nodes(graph):
        data = graph.nodes[name]
        if data["kind"] == "input":
            data["shape"] = tuple(data["params"].shape)
            data["input_shape"] = None
            continue
        if "plan" not in data or any(source in failed for source in graph.predecessors(name)):
            failed.add(name)
            continue
        try:
            data["input_shape"], data["shape"] = _node_shapes(graph, name)
        except SpecError as error:
            errors.append(error)
            failed.add(name)
    for source, _, edge in graph.edges(data=True):
        edge["shape"] = graph.nodes[source].get("shape")
    return errors + dtype_errors(graph)


def analyze(source: str | Path | Spec | nx.MultiDiGraph) -> nx.MultiDiGraph:
    """A validated, shape-annotated DAG from a spec path, a Spec, or an already analysed graph."""
    if isinstance(source, nx.MultiDiGraph):
        return source
    spec = source if isinstance(source, Spec) else load_spec(source)
    return infer_shapes(build_graph(spec))


def analyze_partial(
    source: str | Path | Spec | nx.MultiDiGraph,
) -> tuple[nx.MultiDiGraph, list[SpecError]]:
    """Like `analyze`, but returns the graph as far as it is valid, with the problems found.

    For drawing an invalid spec (`render`). Load errors (YAML, schema) still
    raise: without a validated spec there is nothing to draw. A graph with a
    cycle gets no shapes.
    """
    if isinstance(source, nx.MultiDiGraph):
        return source, []
    spec = source if isinstance(source, Spec) else load_spec(source)
    graph, errors = build_partial_graph(spec)
    if nx.is_directed_acyclic_graph(graph):
        errors = errors + annotate_shapes(graph)
    return graph, errors


def _operand(graph: nx.MultiDiGraph, edge: EdgeSpec) -> Operand:
    return Operand(edge.source, graph.nodes[edge.source]["shape"])


def _node_shapes(graph: nx.MultiDiGraph, name: str) -> tuple[Shape | list[Shape], Shape]:
    data = graph.nodes[name]
    op = OPS[data["op"]]
    plan = data["plan"]
    params = data["params"]
    mains = [_operand(graph, edge) for edge in plan.mains]

    if op.arity == "many":
        try:
            shape = op.merge_shape(params, mains)
        except ShapeProblem as problem:
            raise _node_error(problem, name, data) from None
        return [operand.shape for operand in mains], shape

    if plan.softmax_gate is not None:
        gate = _operand(graph, plan.softmax_gate)
        try:
            main = Operand(mains[0].name, softmax_gate_shape(mains, gate))
        except ShapeProblem as problem:
            raise _edge_error(problem, plan.softmax_gate, name) from None
    else:
        main = mains[0]

    for edge in plan.merges:
        source = _operand(graph, edge)
        try:
            merged = CONNECTIONS[edge.kind].merge_shape(edge.params, main, source)
        except ShapeProblem as problem:
            raise _edge_error(problem, edge, name, main, source) from None
        main = Operand(main.name, merged)

    inputs = [main.shape]
    if op.arity == "attention":
        source = _operand(graph, plan.attention) if plan.attention else main
        inputs.append(source.shape)
    try:
        shape = op.infer_shape(params, inputs)
    except ShapeProblem as problem:
        raise _node_error(problem, name, data) from None
    return (inputs if op.arity == "attention" else main.shape), shape


def _node_error(problem: ShapeProblem, name: str, data: dict) -> ShapeError:
    return ShapeError(problem.message, location=data["location"], node=name,
                      expected=problem.expected, got=problem.got, hint=problem.hint)


def _edge_error(problem: ShapeProblem, edge: EdgeSpec, target: str, main: Operand | None = None,
                source: Operand | None = None) -> ShapeError:
    """A shape problem of an edge, located at the edge; `main`/`source` say what met what."""
    message = problem.message
    if main is not None and source is not None and main.shape != source.shape:  # contrast only a difference
        message = (f"{source.name} is {format_shape(source.shape)} but {target}'s main input "
                   f"({main.name}) is {format_shape(main.shape)}; {message}")
    return ShapeError(
        message,
        location=edge.location,
        node=target,
        edge=f"{edge.kind} {edge.source} -> {target}",
        expected=problem.expected,
        got=problem.got,
        hint=problem.hint,
    )
