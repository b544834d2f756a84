"""Depthwise-separable convolutions (Xception, MobileNet v1): a per-channel filter, then a 1x1 mix."""

from __future__ import annotations

import math
from typing import Any, ClassVar

from pydantic import PositiveInt

from archspec.catalogue.ops.base import (
    Activation,
    IntPair,
    LayerCall,
    Shape,
    fields_after,
    keras_kwargs,
    keras_params,
    known,
    require_rank,
)
from archspec.catalogue.ops.conv import Conv2D
from archspec.catalogue.ops.sequence import Conv1D
from archspec.catalogue.ops.weights import weight_group, weight_kwargs, weight_params
from archspec.catalogue.ops.windows import IMAGE, SEQUENCE, Convolution, ConvWindow, WindowOp, single_values, spread
from archspec.catalogue.primitives import FLOAT_DTYPES

_WEIGHTS = {
    "depthwise_initializer": "depthwise_init", "pointwise_initializer": "pointwise_init",
    "bias_initializer": "bias_init", "depthwise_regularizer": "depthwise_reg",
    "pointwise_regularizer": "pointwise_reg", "bias_regularizer": "bias_reg",
}
"""Keras's initialiser and regulariser arguments of a separable convolution and the parameters they are."""


@fields_after(weight_group(_WEIGHTS))
class SeparableParams(ConvWindow):
    """The parameters both separable convolutions take, in this order; windows as one length (1-D)."""

    depth_multiplier: PositiveInt = 1
    activation: Activation | None = None
    use_bias: bool = True


class SeparableConv2DParams(SeparableParams):
    kernel: IntPair = 3  # the windows as one size or (height, width), each in its place
    strides: IntPair = 1
    dilation: IntPair = 1


class SeparableConv1DParams(SeparableParams):
    pass  # SeparableParams as they are (no docstring: the JSON Schema describes the op, not this class)


class Separable(WindowOp):
    """separable_conv1d and separable_conv2d: the convolution of their layout's shape rule, their own weights."""

    convolution: ClassVar[type[Convolution]]
    """The plain convolution of the same layout, whose window the depthwise step has."""
    positional = ("filters", "kernel")

    def infer_shape(self, params: SeparableParams, inputs: list[Shape]) -> Shape:
        """The convolution's rule: the depthwise step has its window, the pointwise step keeps the size."""
        require_rank(inputs[0], self.layout.rank, self.name)
        convolution = self.convolution()
        as_conv = convolution.Params(filters=params.filters, kernel=params.kernel, strides=params.strides,
                                     padding=params.padding, dilation=params.dilation)
        return convolution.infer_shape(as_conv, inputs)

    def layer(self, params: SeparableParams, inputs: list[Shape]) -> LayerCall:
        return LayerCall(self.keras_class, {**keras_kwargs(params, _KEYS), **weight_kwargs(params, _WEIGHTS)})

    def from_keras(self, config: dict[str, Any]) -> dict[str, Any]:
        params = keras_params(single_values(config), _KEYS, data_format="channels_last")
        return {**params, **weight_params(config, _WEIGHTS)}

    def count_params(self, params: SeparableParams, inputs: list[Shape], output: Shape) -> int:
        window = math.prod(spread(params.kernel, len(self.layout.axes)))
        channels = known(inputs[0][-1], f"{self.name} input {self.layout.channels}")
        depthwise = window * channels * params.depth_multiplier
        pointwise = channels * params.depth_multiplier * params.filters
        return depthwise + pointwise + (params.filters if params.use_bias else 0)


class SeparableConv2D(Separable):
    name = "separable_conv2d"
    input_dtypes = FLOAT_DTYPES
    layout = IMAGE
    keras_class = "SeparableConv2D"
    convolution = Conv2D
    Params = SeparableConv2DParams
    doc = "A `kernel` filter per input channel (times depth_multiplier), then a 1x1 convolution to `filters`."


class SeparableConv1D(Separable):
    name = "separable_conv1d"
    input_dtypes = FLOAT_DTYPES
    layout = SEQUENCE
    keras_class = "SeparableConv1D"
    convolution = Conv1D
    Params = SeparableConv1DParams
    doc = "separable_conv2d over the steps of a (steps, features) sequence (Keras has no causal padding for it)."


_KEYS = {
    "filters": "filters", "kernel_size": "kernel", "strides": "strides", "padding": "padding",
    "dilation_rate": "dilation", "depth_multiplier": "depth_multiplier", "activation": "activation",
    "use_bias": "use_bias",
}
"""Keras's SeparableConv1D/2D arguments and the parameters they are, both ways."""
