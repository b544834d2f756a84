"""The registry of op kinds: the one place that lists every op a spec can name.

To add an op, write its class (params model, shape rule, Keras layer) next to
its relatives and add it to the tuple below.
"""

from __future__ import annotations

from archspec.catalogue.ops.activation import Elu, LeakyRelu, Prelu, Softmax
from archspec.catalogue.ops.attention import MultiHeadAttention
from archspec.catalogue.ops.base import LayerCall, Op, OpParams, Shape, ShapeProblem, format_shape
from archspec.catalogue.ops.conv import (
    AvgPool2D,
    Conv2D,
    Conv2DTranspose,
    GlobalAvgPool2D,
    GlobalMaxPool2D,
    MaxPool2D,
    Upsample2D,
)
from archspec.catalogue.ops.core import (
    ActivationOp,
    Dense,
    Flatten,
    GlobalPool1D,
    Identity,
    Reshape,
)
from archspec.catalogue.ops.dropout import Dropout, DropPath, SpatialDropout1D, SpatialDropout2D
from archspec.catalogue.ops.embedding import Embedding, PositionalEmbedding, RelativePositions
from archspec.catalogue.ops.expr import Expr
from archspec.catalogue.ops.extra import DepthwiseConv2D, Relu
from archspec.catalogue.ops.merge import Add, Average, Concat, Maximum, Multiply, Subtract
from archspec.catalogue.ops.norm import BatchNorm, GroupNorm, LayerNorm, RmsNorm, UnitNorm
from archspec.catalogue.ops.padding import Cropping1D, Cropping2D, Pad, ZeroPadding1D, ZeroPadding2D
from archspec.catalogue.ops.preprocessing import Normalization, Rescaling
from archspec.catalogue.ops.products import Einsum, MatMul
from archspec.catalogue.ops.recurrent import Gru, Lstm, Masking, SimpleRnn
from archspec.catalogue.ops.sampling import GaussianSample
from archspec.catalogue.ops.separable import SeparableConv1D, SeparableConv2D
from archspec.catalogue.ops.sequence import AvgPool1D, Conv1D, GlobalAvgPool1D, GlobalMaxPool1D, MaxPool1D
from archspec.catalogue.ops.spectral import Fourier
from archspec.catalogue.ops.tokens import ClassToken, Part, Permute, Slice, Split, Take

OPS: dict[str, Op] = {
    op.name: op
    for op in (
        Dense(), Flatten(), Reshape(), Dropout(), BatchNorm(), LayerNorm(), ActivationOp(),
        Identity(), Embedding(), PositionalEmbedding(), RelativePositions(), GlobalPool1D(),
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
        ZeroPadding1D(), Cropping1D(), Cropping2D(), Pad(), Rescaling(), Normalization(),
        Expr(), Take(), Slice(), Permute(), ClassToken(), Split(), Part(),
        GaussianSample(), MatMul(), Einsum(), Fourier(),
    )
}
"""Every op kind, by the name written in `op:`."""
BUILTIN_OPS = tuple(OPS)
"""The names of archspec's own ops, before plugins add theirs (what the docs list)."""

__all__ = ["BUILTIN_OPS", "OPS", "LayerCall", "Op", "OpParams", "Shape", "ShapeProblem", "format_shape"]
