"""The registry of op kinds: the one place that lists every op a spec can name.

To add an op, write its class (params model, shape rule, Keras layer) next to
its relatives and add it to the tuple below.
"""

from __future__ import annotations

from archspec.graph.ops.activation import Elu, LeakyRelu, Prelu, Softmax
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
from archspec.graph.ops.dropout import DropPath, SpatialDropout1D, SpatialDropout2D
from archspec.graph.ops.embedding import Embedding, PositionalEmbedding
from archspec.graph.ops.expr import Expr
from archspec.graph.ops.extra import DepthwiseConv2D, Relu
from archspec.graph.ops.merge import Add, Average, Concat, Maximum, Multiply, Subtract
from archspec.graph.ops.norm import BatchNorm, GroupNorm, LayerNorm, RmsNorm, UnitNorm
from archspec.graph.ops.padding import Cropping1D, Cropping2D, ZeroPadding1D, ZeroPadding2D
from archspec.graph.ops.preprocessing import Normalization, Rescaling
from archspec.graph.ops.products import Einsum, MatMul
from archspec.graph.ops.recurrent import Gru, Lstm, Masking, SimpleRnn
from archspec.graph.ops.sampling import GaussianSample
from archspec.graph.ops.separable import SeparableConv1D, SeparableConv2D
from archspec.graph.ops.sequence import AvgPool1D, Conv1D, GlobalAvgPool1D, GlobalMaxPool1D, MaxPool1D
from archspec.graph.ops.tokens import ClassToken, Part, Permute, Slice, Split, Take

OPS: dict[str, Op] = {
    op.name: op
    for op in (
        Dense(), Flatten(), Reshape(), Dropout(), BatchNorm(), LayerNorm(), ActivationOp(),
        Identity(), Embedding(), PositionalEmbedding(), GlobalPool1D(),
        Conv2D(), Conv2DTranspose(), MaxPool2D(), AvgPool2D(), GlobalAvgPool2D(), GlobalMaxPool2D(),
        Upsample2D(), ZeroPadding2D(),
        Concat(), Add(), Multiply(), Subtract(), Average(), Maximum(),
        MultiHeadAttention(),
        DepthwiseConv2D(), Relu(),
        Conv1D(), MaxPool1D(), AvgPool1D(), GlobalAvgPool1D(), GlobalMaxPool1D(),
        Lstm(), Gru(), SimpleRnn(), Masking(),
        SeparableConv2D(), SeparableConv1D(), GroupNorm(), RmsNorm(), UnitNorm(),
        SpatialDropout1D(), SpatialDropout2D(), DropPath(),
        LeakyRelu(), Prelu(), Elu(), Softmax(),
        ZeroPadding1D(), Cropping1D(), Cropping2D(), Rescaling(), Normalization(),
        Expr(), Take(), Slice(), Permute(), ClassToken(), Split(), Part(),
        GaussianSample(), MatMul(), Einsum(),
    )
}
"""Every op kind, by the name written in `op:`."""
BUILTIN_OPS = tuple(OPS)
"""The names of archspec's own ops, before plugins add theirs (what the docs list)."""

__all__ = ["BUILTIN_OPS", "OPS", "LayerCall", "Op", "OpParams", "Shape", "ShapeProblem", "format_shape"]
