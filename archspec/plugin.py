"""The stable API for op plugins: everything a plugin op needs, from one module (docs/plugins.md).

    from archspec.plugin import LayerCall, Op, OpParams, Shape

    class ScaleOp(Op):
        name = "scale"
        ...

Internal modules move (the catalogue was `archspec.ops`, then `archspec.graph.ops`, now
`archspec.catalogue.ops`); the names below do not. The old paths still import, with a
DeprecationWarning naming this module (archspec/moved.py).
"""

from __future__ import annotations

from archspec.catalogue.ops import OPS
from archspec.catalogue.ops.base import (
    MAX_WINDOW,
    Activation,
    FiniteFloat,
    IntPair,
    NoParams,
    Op,
    OpParams,
    Padding,
    check_strides_or_dilation,
    conv_length,
    keras_kwargs,
    keras_params,
    known,
    pair,
    require_rank,
)
from archspec.catalogue.ops.weights import Initializer, Regularizer, weight_kwargs, weight_params
from archspec.catalogue.plugins import ENTRY_POINT_GROUP, load_entry_points, load_plugin, register_op
from archspec.catalogue.primitives import LayerCall, Shape, ShapeProblem, format_shape

__all__ = [  # an op and its parameters, shapes and their rules, Keras configs both ways, the registry
    "ENTRY_POINT_GROUP", "MAX_WINDOW", "OPS", "Activation", "FiniteFloat", "Initializer", "IntPair", "LayerCall",
    "NoParams", "Op", "OpParams", "Padding", "Regularizer", "Shape", "ShapeProblem", "check_strides_or_dilation",
    "conv_length", "format_shape", "keras_kwargs", "keras_params", "known", "load_entry_points", "load_plugin",
    "pair", "register_op", "require_rank", "weight_kwargs", "weight_params",
]
