"""The registry of op kinds: the one place that lists every op a spec can name.

To add an op, write its class (params model, shape rule, Keras layer) next to
its relatives and add it to the tuple below.
"""

from __future__ import annotations

from archspec.graph.ops.attention import MultiHeadAttention
from archspec.graph.ops.base import LayerCall, Op, OpParams, Shape, ShapeProblem, format_shape
from archspec.graph.ops.conv import (
    AvgPool2D,
    Conv2D,
    Conv2DTranspose,
    GlobalAvgPool2D,
    GlobalMaxPool2D,
    MaxPool2D,
    Upsample2D,
    ZeroPadding2D,
)
from archspec.graph.ops.core import (
    ActivationOp,
    Dense,
    Dropout,
    Flatten,
    GlobalPool1D,
    Identity,
    Reshape,
)
from archspec.graph.ops.embedding import Embedding, PositionalEmbedding
from archspec.graph.ops.extra import DepthwiseConv2D, Relu
from archspec.graph.ops.merge import Add, Average, Concat, GateOp, Maximum, Multiply, Subtract
from archspec.graph.ops.norm import BatchNorm, LayerNorm

OPS: dict[str, Op] = {
    op.name: op
    for op in (
        Dense(), Flatten(), Reshape(), Dropout(), BatchNorm(), LayerNorm(), ActivationOp(),
        Identity(), Embedding(), PositionalEmbedding(), GlobalPool1D(),
        Conv2D(), Conv2DTranspose(), MaxPool2D(), AvgPool2D(), GlobalAvgPool2D(), GlobalMaxPool2D(),
        Upsample2D(), ZeroPadding2D(),
        Concat(), Add(), Multiply(), Subtract(), Average(), Maximum(), GateOp(),
        MultiHeadAttention(),
        DepthwiseConv2D(), Relu(),
    )
}
"""Every op kind, by the name written in `op:`."""

__all__ = ["OPS", "LayerCall", "Op", "OpParams", "Shape", "ShapeProblem", "format_shape"]
