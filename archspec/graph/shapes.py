"""Static shape inference over the DAG, without TensorFlow.

Walks the nodes in topological order and folds each node's plan
(archspec.graph.plan, the list the compiler lowers) over shapes. Sets
`input_shape` and `shape` (batch axis excluded) on every node's record
(archspec.graph.ir) and `shape` on every edge's. All mismatches of a file are reported at
once; nodes downstream of a mismatch are skipped rather than reported twice.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import networkx as nx

from archspec.catalogue.ops import Shape, ShapeProblem, format_shape
from archspec.catalogue.primitives import Application, Operand
from archspec.errors import ShapeError, SpecError, raise_collected
from archspec.graph.build import build_graph, build_partial_graph, topological_nodes
from archspec.graph.deferred import has_deferred, resolve_deferred
from archspec.graph.dtypes import dtype_errors
from archspec.graph.ir import Node, edges_of, node_of, replace_node
from archspec.graph.plan import op_input_shape
from archspec.graph.sharing import sharing_errors
from archspec.graph.tensor_limits import tensor_size_error
from archspec.spec.frontend import load_spec
from archspec.spec.models import EdgeSpec, Spec


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
        record = node_of(graph, name)
        if record.is_input:
            record.shape = tuple(record.params.shape)
            _check_rank(name, record, errors, failed)
            continue
        if record.plan is None or any(source in failed for source in graph.predecessors(name)):
            failed.add(name)
            continue
        found: list[SpecError] = []
        try:
            record = _node_shapes(graph, name, record, found)
            errors.extend(found)
            _check_rank(name, record, errors, failed)
        except SpecError as error:
            errors.extend(found)
            errors.append(error)
            failed.add(name)
    for source, _, edge in edges_of(graph):
        edge.shape = node_of(graph, source).shape
    return errors + dtype_errors(graph) + sharing_errors(graph, failed)


MAX_AXES = 253
"""Axes of a tensor, batch axis excluded: TensorFlow allows 254 in all (a reshape to more validated, built,
and aborted the process at its first call)."""


def _check_rank(name: str, record: Node, errors: list[SpecError], failed: set[str]) -> None:
    """A node whose output has more axes, or more values, than the backend allows is an error here, not a crash
    later (graph.tensor_limits)."""
    assert record.shape is not None
    if len(record.shape) > MAX_AXES:
        what = "the input" if record.is_input else "the output"
        errors.append(ShapeError(f"{what} has {len(record.shape):,} axes, more than a tensor may have",
                                 location=record.location, node=name, node_kind=record.noun,
                                 expected=f"at most {MAX_AXES} axes (and the batch axis)",
                                 hint="a tensor has a few axes: (height, width, channels), (steps, features)"))
        failed.add(name)
        return
    too_large = tensor_size_error(name, record)
    if too_large is not None:
        errors.append(too_large)
        failed.add(name)


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


def _node_shapes(graph: nx.MultiDiGraph, name: str, record: Node, errors: list[SpecError]) -> Node:
    """Fold the node's plan over shapes: each application's result is the next one's current tensor.

    Returns the node's record with its shapes, which is a new record when
    deferred params were resolved on the way. A failed merge edge is reported
    and checking goes on with the shape it was meant to give, so later,
    independent problems are reported too; a failed op (or a merge with no
    intended shape) raises.
    """
    current: Operand | None = None
    input_shape: Shape | list[Shape] = ()
    assert record.plan is not None
    for position, application in enumerate(record.plan.applications):
        operands = [current if source is None else Operand(source, node_of(graph, source).shape)
                    for source in application.sources]
        if application.is_op and has_deferred(record):  # ${in.channels ...} needs this input's shape
            record = resolve_deferred(graph, name, operands)  # type: ignore[arg-type]
            replace_node(graph, name, record)
            assert record.plan is not None
            application = record.plan.applications[position]
        try:
            shape = application.shape(operands)  # type: ignore[arg-type]
        except ShapeProblem as problem:
            error = _error(problem, application, name, record, operands)
            intended = application.intended(operands) if application.intended else None  # type: ignore[arg-type]
            if intended is None:
                raise error from None
            errors.append(error)
            shape = intended
        if application.is_op:
            input_shape = op_input_shape(operands)  # type: ignore[arg-type]
        current = Operand(operands[0].name, shape)  # type: ignore[union-attr]
    assert current is not None, f"node {name} has an empty plan"
    record.input_shape, record.shape = input_shape, current.shape
    return record


def _error(problem: ShapeProblem, application: Application, name: str, record: Node,
           operands: list[Operand]) -> ShapeError:
    if application.edge is None:
        return _node_error(problem, name, record)
    if application.names_main:
        return _edge_error(problem, application.edge, name, operands[0], operands[1])
    return _edge_error(problem, application.edge, name)


def _node_error(problem: ShapeProblem, name: str, record: Node) -> ShapeError:
    location = record.location
    offset, start = getattr(problem, "offset", None), record.text_location
    if offset is not None and start is not None and start.column is not None:
        location = replace(start, column=start.column + offset)  # the token of an expr node's expression
    return ShapeError(problem.message, location=location, node=name,
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
