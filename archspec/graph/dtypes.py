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

from archspec.catalogue.ops import OPS
from archspec.catalogue.primitives import INTEGER_DTYPES
from archspec.errors import ShapeError, SpecError
from archspec.graph.build import topological_nodes

FLOAT = "float32"


def dtype_errors(graph: nx.MultiDiGraph) -> list[SpecError]:
    """Annotate `dtype` on every node that has an input plan, and return each op fed a dtype it refuses."""
    errors: list[SpecError] = []
    for name in topological_nodes(graph):
        data = graph.nodes[name]
        if data["kind"] == "input":
            data["dtype"] = data["params"].dtype
            continue
        plan = data.get("plan")
        if plan is None or not plan.mains or any("dtype" not in graph.nodes[edge.source] for edge in plan.mains):
            continue
        op = OPS[data["op"]]
        first = plan.mains[0].source
        merged = op.arity == "many" or any(  # a merge edge or softmax gate lowers to a float32 Keras merge
            application.edge is not None or application.mixes for application in plan.applications[:-1])
        seen = FLOAT if merged else graph.nodes[first]["dtype"]
        if seen not in op.input_dtypes:
            errors.append(_error(name, data, op.name, seen, first, op.input_dtypes))
        data["dtype"] = seen if op.output_dtype is None else op.output_dtype
    return errors


def _error(name: str, data: dict, op: str, seen: str, source: str, accepted: tuple[str, ...]) -> SpecError:
    wants_integers = set(accepted) <= set(INTEGER_DTYPES)
    named = "int32" if wants_integers else " or ".join(accepted)  # int32 stands for every integer width
    return ShapeError(
        f"{op} needs {named} input, but '{source}' gives it {seen}"
        + (" (an embedding looks up integer token ids; floats would be truncated)" if wants_integers else ""),
        location=data["location"],
        node=name,
        expected=f"int32 or another integer dtype ({', '.join(accepted[1:])})" if wants_integers else named,
        got=f"{seen} from '{source}'",
        hint="feed it an input declared `dtype: int32` (token ids), directly or through flatten, reshape or "
        "identity only; for float features use a dense layer instead"
        if wants_integers else
        "declare the input as float32 (the default), or put an embedding before it to turn token ids "
        "into float vectors",
    )
