"""Shared layers (`shares:`) checked against their owner's weights, for every op that has weights.

A layer's weights are made for the first input it sees (a dense's kernel is
features x units; PReLU's slopes and a positional embedding take the input's
whole shape), so a node that calls the layer again must give it an input its
weights fit. Equal weight counts are not enough: PReLU on a transposed input
has as many slopes, in another shape, and fails at its first call. So besides
the counts, every axis where the two inputs differ must be one the weights do
not depend on, which each op's own `count_params` tells: varying that axis
leaves the count unchanged. No op needs to declare anything new.
"""

from __future__ import annotations

import networkx as nx

from archspec.catalogue.ops import Shape, ShapeProblem, format_shape
from archspec.errors import ShapeError, SpecError
from archspec.graph.ir import node_of, nodes_of
from archspec.graph.summary import layer_params


def sharing_errors(graph: nx.MultiDiGraph, failed: set[str]) -> list[SpecError]:
    """One error per sharing node whose input the owner's weights do not fit."""
    errors: list[SpecError] = []
    for name, record in nodes_of(graph):
        owner = record.shares
        if not owner or name in failed or owner in failed:
            continue
        own = node_of(graph, owner)
        if record.shape is None or own.shape is None:
            continue
        mine, theirs = layer_params(graph, name), layer_params(graph, owner)
        if mine != theirs:
            problem = f"'{owner}' gets {_shapes(own.input_shape)} ({theirs:,} weights), '{name}' gets " \
                f"{_shapes(record.input_shape)} ({mine:,} weights)"
        elif (axis := _weighted_axis_that_differs(graph, name, owner)) is not None:
            problem = f"its weights are sized by axis {axis} of the input, and '{owner}' gets " \
                f"{_shapes(own.input_shape)}, '{name}' gets {_shapes(record.input_shape)}"
        else:
            continue
        errors.append(ShapeError(
            f"shares the layer of '{owner}', whose weights do not fit this node's input: {problem}",
            location=record.location, node=name,
            expected=f"{_shapes(own.input_shape)}, the input '{owner}' gets",
            got=_shapes(record.input_shape),
            hint=f"feed '{name}' an input of the shape '{owner}' gets where the weights read it (the features, "
            "or for PReLU and positional embeddings the whole shape), or give it its own op",
        ))
    return errors


def _weighted_axis_that_differs(graph: nx.MultiDiGraph, name: str, owner: str) -> int | None:
    """An axis (1 = the first after the batch) where the two inputs differ and the weights depend on it."""
    record = node_of(graph, name)
    op, params = record.definition, record.params
    mine, theirs = _listed(record.input_shape), _listed(node_of(graph, owner).input_shape)
    try:
        base = op.count_params(params, mine, record.shape)
    except ShapeProblem:
        return None
    for number, (shape, other) in enumerate(zip(mine, theirs, strict=False)):
        for axis in range(len(shape)):
            size, facing = shape[axis], axis + len(other) - len(shape)  # axes face each other from the last
            if size is None or (0 <= facing < len(other) and other[facing] == size):
                continue
            varied = list(mine)
            varied[number] = (*shape[:axis], size + 1, *shape[axis + 1:])
            try:
                depends = op.count_params(params, varied, record.shape) != base
            except ShapeProblem:
                continue
            if depends:
                return axis + 1
    return None


def _listed(shape: Shape | list[Shape]) -> list[Shape]:
    return shape if isinstance(shape, list) else [shape]


def _shapes(shape: Shape | list[Shape]) -> str:
    return ", ".join(map(format_shape, shape)) if isinstance(shape, list) else format_shape(shape)
