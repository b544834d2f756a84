"""Which dtype each tensor has, and the ops that refuse it: checked statically, like shapes.

Inputs declare a dtype (float32 by default, int32 for token ids). Without this
check an embedding fed float images builds (Keras truncates the floats to token
ids: a wrong model that trains), and a convolution, softmax or average pooling fed
int32 tokens fails deep inside TensorFlow at build time or at the first call. Each op
says what it accepts (`Op.accepted_dtypes`) and what it outputs (`Op.result_dtype`: its
input's for ops such as flatten, max pooling or relu that only move values); a merge
(concat-skip, add-residual, a merge op) keeps integers when all its inputs are integers,
and a gate's activation needs a float source. tests/ops/test_op_dtypes.py holds every
rule against Keras.
"""

from __future__ import annotations

import functools

import networkx as nx

from archspec.catalogue.connections import CONNECTIONS, Gate
from archspec.catalogue.ops.base import Op
from archspec.catalogue.ops.core import INTEGER_ACTIVATIONS
from archspec.catalogue.primitives import INTEGER_DTYPES
from archspec.errors import ShapeError, SpecError
from archspec.graph.build import topological_nodes
from archspec.graph.ir import Node, node_of
from archspec.spec.models import EdgeSpec

FLOAT = "float32"


def dtype_errors(graph: nx.MultiDiGraph) -> list[SpecError]:
    """Annotate `dtype` on every node that has an input plan, and return each op fed a dtype it refuses."""
    errors: list[SpecError] = []
    for name in topological_nodes(graph):
        record = node_of(graph, name)
        if record.is_input:
            record.dtype = record.params.dtype
            continue
        plan = record.plan
        if plan is None or not plan.mains or any(node_of(graph, edge.source).dtype is None for edge in plan.mains):
            continue
        op = record.definition
        seen, source = _merged_dtype(graph, name, record, op, errors)
        accepted = op.accepted_dtypes(record.params)
        if seen not in accepted:
            errors.append(_error(name, record, op.name, seen, source, accepted))
        record.dtype = op.result_dtype(record.params, seen)
    return errors


def _merged_dtype(graph: nx.MultiDiGraph, name: str, record: Node, op: Op,
                  errors: list[SpecError]) -> tuple[str, str]:
    """The dtype the op sees, folded over the node's merges, and the source it comes from.

    Keras's merge layers keep integers when every input is one (concat of two int32 tensors
    is int32; average divides, so it is float); a gate's activation needs a float source.
    """
    assert record.plan is not None
    dtypes = {edge.source: node_of(graph, edge.source).dtype or FLOAT for edge in record.plan.mains}
    first = record.plan.mains[0].source
    seen, source = dtypes[first], first
    for application in record.plan.applications[:-1]:
        if application.edge is None or application.edge.source not in graph.nodes:
            continue
        edge = application.edge
        other, before = node_of(graph, edge.source).dtype or FLOAT, seen
        if edge.kind == "gate":
            activation = Gate.activation(edge, len(dtypes))
            if other in INTEGER_DTYPES and activation not in INTEGER_ACTIVATIONS | {"none"}:
                errors.append(_gate_error(name, edge, activation, other))
            seen = FLOAT if application.mixes or activation != "none" else _promoted(seen, other)
        elif CONNECTIONS[edge.kind].merges:  # a mask edge is only checked, never merged
            seen = _promoted(seen, other)
        source = edge.source if seen != before and seen == other else source
    if op.arity == "many":
        seen = FLOAT if op.name in FLOAT_MERGES else functools.reduce(_promoted, dtypes.values())
        source = next((node for node, dtype in dtypes.items() if dtype == seen), first)
    return seen, source


FLOAT_MERGES = frozenset({"average", "gaussian_sample"})
"""Merge ops whose result is float whatever their inputs (a mean, a random sample)."""


def _promoted(one: str, other: str) -> str:
    """The dtype a merge of two tensors gives: float if either is, else an integer (which width does
    not matter to any check)."""
    if one == other:
        return one
    return FLOAT if FLOAT in (one, other) else "int64" if "int64" in (one, other) else "int32"


def _gate_error(name: str, edge: EdgeSpec, activation: str, dtype: str) -> SpecError:
    return ShapeError(
        f"a {activation} gate needs a float32 source, but '{edge.source}' gives it {dtype}",
        location=edge.location, node=name, edge=f"gate {edge.source} -> {name}",
        expected="float32", got=f"{dtype} from '{edge.source}'",
        hint="gate with a float tensor (a dense layer after an embedding of the ids), not the integer ids",
    )


def _error(name: str, record: Node, op: str, seen: str, source: str, accepted: tuple[str, ...]) -> SpecError:
    wants_integers = set(accepted) <= set(INTEGER_DTYPES)
    named = "int32" if wants_integers else " or ".join(accepted)  # int32 stands for every integer width
    return ShapeError(
        f"{op} needs {named} input, but '{source}' gives it {seen}"
        + (" (an embedding looks up integer token ids; floats would be truncated)" if wants_integers else ""),
        location=record.location,
        node=name,
        expected=f"int32 or another integer dtype ({', '.join(accepted[1:])})" if wants_integers else named,
        got=f"{seen} from '{source}'",
        hint="feed it an input declared `dtype: int32` (token ids), directly or through flatten, reshape or "
        "identity only; for float features use a dense layer instead"
        if wants_integers else
        "declare the input as float32 (the default), or put an embedding before it to turn token ids "
        "into float vectors",
    )
