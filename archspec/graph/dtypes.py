"""Which dtype each tensor has, and the ops that refuse it: checked statically, like shapes.

Inputs declare a dtype (float32 by default, int32 for token ids). Without this
check an embedding fed float images builds (Keras truncates the floats to token
ids: a wrong model that trains), and a convolution fed int32 tokens fails deep
inside TensorFlow at build time. Each op says what it accepts
(`Op.input_dtypes`) and what it outputs (`Op.output_dtype`, None for ops such as
flatten that keep their input's); a merge edge (concat-skip, add-residual, a gate)
lowers to a Keras merge layer, which outputs float32.
"""

from __future__ import annotations

import networkx as nx

from archspec.catalogue.primitives import INTEGER_DTYPES
from archspec.errors import ShapeError, SpecError
from archspec.graph.build import topological_nodes
from archspec.graph.ir import Node, node_of

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
        first = plan.mains[0].source
        merged = op.arity == "many" or any(  # a merge edge or softmax gate lowers to a float32 Keras merge
            application.edge is not None or application.mixes for application in plan.applications[:-1])
        seen = FLOAT if merged else node_of(graph, first).dtype
        assert seen is not None
        if seen not in op.input_dtypes:
            errors.append(_error(name, record, op.name, seen, first, op.input_dtypes))
        record.dtype = seen if op.output_dtype is None else op.output_dtype
    return errors


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
