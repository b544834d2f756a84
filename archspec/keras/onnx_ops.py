"""Teach tf2onnx the TensorFlow ops archspec's models use that it cannot convert on its own.

Keras's `gelu` (exact, the default) is `0.5 * x * erfc(-x / sqrt(2))` on TensorFlow,
and tf2onnx 1.17 has no handler for `Erfc`: it writes the op into the ONNX file
unconverted, and onnxruntime then refuses the whole graph ("No Op registered
for Erfc"). erfc(x) = 1 - erf(x), and ONNX has had `Erf` since opset 9, so the
handler below writes that. tf2onnx's handler table is global and keyed by op
name, so registering twice is harmless.
"""

from __future__ import annotations

from typing import Any

import numpy as np


def register_onnx_handlers() -> None:
    """Register archspec's extra TF -> ONNX op conversions with tf2onnx (idempotent)."""
    from tf2onnx import utils
    from tf2onnx.handler import tf_op

    class Erfc:
        @classmethod
        def version_9(cls, ctx: Any, node: Any, **kwargs: Any) -> None:
            x = node.input[0]
            dtype = utils.map_onnx_to_numpy_type(ctx.get_dtype(x))
            one = ctx.make_const(utils.make_name(f"{node.name}_one"), np.array(1, dtype=dtype))
            erf = ctx.make_node("Erf", [x], op_name_scope=node.name)
            shapes, dtypes = node.output_shapes, node.output_dtypes
            ctx.remove_node(node.name)
            ctx.make_node("Sub", [one.output[0], erf.output[0]], outputs=[node.output[0]], name=node.name,
                          shapes=shapes, dtypes=dtypes)

    tf_op("Erfc")(Erfc)
