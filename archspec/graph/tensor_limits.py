"""The largest tensor the backend can describe, checked statically like the rank limit (graph.shapes).

TensorFlow counts a tensor's elements in int64 and its bytes in 64 bits, so a tensor of more than
2^63 - 1 bytes cannot exist on any machine, however much memory it has. Such a spec (a dense layer of
4,294,967,296 units after another, an input of 2^32 x 2^32 x 4 values) validated, and only `build` or
`fit` refused it, by this machine's memory (graph.memory); it is a property of the spec, so `validate`
says so, at the node.
"""

from __future__ import annotations

import math

from archspec.errors import ShapeError
from archspec.graph.ir import Node
from archspec.graph.memory import BYTES_PER_PARAM

MAX_TENSOR_BYTES = 2**63 - 1
"""TensorFlow's largest tensor: its byte count is a signed 64-bit integer."""
MAX_TENSOR_VALUES = MAX_TENSOR_BYTES // BYTES_PER_PARAM
"""Float32 values in the largest tensor (2^61 - 1)."""


def tensor_size_error(name: str, record: Node) -> ShapeError | None:
    """A located error when the node's output (one example) or its weights exceed the largest tensor."""
    assert record.shape is not None
    values = math.prod(size or 1 for size in record.shape)
    if values > MAX_TENSOR_VALUES:
        what = "the input" if record.is_input else "the output"
        return _error(name, record, f"{what} of one example holds {values:,} values", values,
                      "check the sizes of this node and the nodes before it (shape, units, upsample size) "
                      "for a typo such as extra zeros")
    if record.is_input or record.shares:
        return None
    weights = record.weight_count()
    if weights > MAX_TENSOR_VALUES:
        return _error(name, record, f"its weights hold {weights:,} values", weights,
                      "check units, filters and the input's last axis for a typo such as extra zeros; "
                      "`archspec summary SPEC` lists every node's parameter count")
    return None


def _error(name: str, record: Node, what: str, values: int, hint: str) -> ShapeError:
    return ShapeError(
        f"{what}, more than any tensor may hold",
        location=record.location, node=name, node_kind=record.noun,
        expected=f"at most {MAX_TENSOR_VALUES:,} float32 values (2^63 - 1 bytes) in one tensor",
        got=f"{values:,} values = {values * BYTES_PER_PARAM:,} bytes",
        hint=hint,
    )
