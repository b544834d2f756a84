"""Shape-aware parameters (`filters: ${in.channels // 2}`) resolved when shape inference reaches the node.

The front end keeps such a value as text (archspec.spec.shape_expr); this is
the one hook that gives it a number: called by archspec.graph.shapes just
before a node's op application, with the tensor the op receives. The node's
params are validated again with the values (so a value of the wrong kind is an
error at the expression), and its plan is rebuilt with them, so the shape
rule, the parameter count and the Keras layer all see the resolved params.
The result is a new node record (archspec.graph.ir); the caller puts it in place.
"""

from __future__ import annotations

from dataclasses import replace

import networkx as nx
from pydantic import ValidationError

from archspec.catalogue.ops import format_shape
from archspec.catalogue.primitives import Operand
from archspec.errors import ShapeError
from archspec.graph.ir import Node, edges_into, node_of
from archspec.graph.plan import plan_node
from archspec.spec.arith import ArithError
from archspec.spec.shape_expr import evaluate_with_input
from archspec.spec.validate import deferred_expression


def has_deferred(record: Node) -> bool:
    """True if the node still has parameters waiting for its input's shape."""
    return bool(record.deferred)


def resolve_deferred(graph: nx.MultiDiGraph, name: str, operands: list[Operand]) -> Node:
    """Node `name` with its deferred params resolved for `operands` (the op's input first): a new record,
    with the params, the values they took (`resolved`) and the plan made from them."""
    record = node_of(graph, name)
    assert record.deferred
    shape = operands[0].shape
    values = {}
    for key, (text, location) in record.deferred.items():
        expression = deferred_expression(text)
        assert expression is not None
        try:
            values[key] = evaluate_with_input(expression, shape)
        except ArithError as error:
            raise ShapeError(f"cannot evaluate {text!r} for an input of {format_shape(shape)}: {error}",
                             location=location, node=name, hint=error.hint) from None
    op = record.definition
    try:
        params = op.Params.model_validate({**record.params.model_dump(exclude_unset=True), **values})
    except ValidationError as error:
        problem = error.errors()[0]
        key = str(problem["loc"][0]) if problem["loc"] else next(iter(values))
        text, location = record.deferred.get(key, next(iter(record.deferred.values())))
        raise ShapeError(f"{text!r} gives {key} = {values.get(key)!r} for an input of {format_shape(shape)}: "
                         f"{problem['msg']}", location=location, node=name,
                         hint="check the expression against the shape that reaches this node") from None
    plan = plan_node(name, op, params, record.location, [edge.spec for edge in edges_into(graph, name)])
    return replace(record, params=params, deferred={}, resolved=values, plan=plan, meta=dict(record.meta))
