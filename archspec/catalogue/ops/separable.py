"""Depthwise-separable convolutions (Xception, MobileNet v1): a per-channel filter, then a 1x1 mix."""

from __future__ import annotations

from pydantic import PositiveInt

from archspec.catalogue.ops.base import (
    Activation,
    IntPair,
    LayerCall,
    Op,
    Padding,
    Shape,
    WindowInt,
    WindowParams,
    keras_kwargs,
    keras_params,
    known,
    pair,
    require_rank,
)
from archspec.catalogue.ops.conv import Conv2D, Conv2DParams
from archspec.catalogue.ops.sequence import Conv1D, Conv1DParams, single_values
from archspec.catalogue.ops.weights import Initializer, Regularizer, weight_kwargs, weight_params
from archspec.catalogue.primitives import FLOAT_DTYPES


class SeparableParams(WindowParams):
    """The parameters both separable convolutions take, in this order; windows as one length (1-D)."""

    filters: PositiveInt
    kernel: WindowInt = 3
    strides: WindowInt = 1
    padding: Padding = "same"
    dilation: WindowInt = 1
    depth_multiplier: PositiveInt = 1
    activation: Activation | None = None
    use_bias: bool = True
    depthwise_init: Initializer | None = None
    pointwise_init: Initializer | None = None
    bias_init: Initializer | None = None
    depthwise_reg: Regularizer | None = None
    pointwise_reg: Regularizer | None = None
    bias_reg: Regularizer | None = None


class SeparableConv2DParams(SeparableParams):
    # the windows as one length or (height, width); a field declared again keeps its place
    kernel: IntPair = 3
    strides: IntPair = 1
    dilation: IntPair = 1


class SeparableConv2D(Op):
    name = "separable_conv2d"
    input_dtypes = FLOAT_DTYPES
    family = "conv"
    positional = ("filters", "kernel")
    Params = SeparableConv2DParams
    doc = "A `kernel` filter per input channel (times depth_multiplier), then a 1x1 convolution to `filters`."
    min_rank = 3
    keras_classes = ("SeparableConv2D",)

    def infer_shape(self, params: SeparableConv2DParams, inputs: list[Shape]) -> Shape:
        """conv2d's rule: the depthwise step has conv2d's window, the pointwise step keeps the size."""
        require_rank(inputs[0], 3, "separable_conv2d")
        as_conv = Conv2DParams(filters=params.filters, kernel=params.kernel, strides=params.strides,
                               padding=params.padding, dilation=params.dilation)
        return Conv2D().infer_shape(as_conv, inputs)

    def layer(self, params: SeparableConv2DParams, inputs: list[Shape]) -> LayerCall:
        return LayerCall("SeparableConv2D", {**keras_kwargs(params, _KEYS), **weight_kwargs(params, _WEIGHTS)})

    def from_keras(self, config: dict) -> dict:
        params = keras_params(config, _KEYS, data_format="channels_last")
        return {**params, **weight_params(config, _WEIGHTS)}

    def count_params(self, params: SeparableConv2DParams, inputs: list[Shape], output: Shape) -> int:
        kh, kw = pair(params.kernel)
        return _separable_count(kh * kw, known(inputs[0][2], "separable_conv2d input channels"), params)


class SeparableConv1DParams(SeparableParams):
    pass  # SeparableParams as they are (no docstring: the JSON Schema describes the op, not this class)


class SeparableConv1D(Op):
    name = "separable_conv1d"
    input_dtypes = FLOAT_DTYPES
    family = "conv"
    positional = ("filters", "kernel")
    Params = SeparableConv1DParams
    doc = "separable_conv2d over the steps of a (steps, features) sequence (Keras has no causal padding for it)."
    min_rank = 2
    keras_classes = ("SeparableConv1D",)

    def infer_shape(self, params: SeparableConv1DParams, inputs: list[Shape]) -> Shape:
        require_rank(inputs[0], 2, "separable_conv1d")
        as_conv = Conv1DParams(filters=params.filters, kernel=params.kernel, strides=params.strides,
                               padding=params.padding, dilation=params.dilation)
        return Conv1D().infer_shape(as_conv, inputs)

    def layer(self, params: SeparableConv1DParams, inputs: list[Shape]) -> LayerCall:
        return LayerCall("SeparableConv1D", {**keras_kwargs(params, _KEYS), **weight_kwargs(params, _WEIGHTS)})

    def from_keras(self, config: dict) -> dict:
        params = keras_params(single_values(config), _KEYS, data_format="channels_last")
        return {**params, **weight_params(config, _WEIGHTS)}

    def count_params(self, params: SeparableConv1DParams, inputs: list[Shape], output: Shape) -> int:
        return _separable_count(params.kernel, known(inputs[0][1], "separable_conv1d input features"), params)


def _separable_count(window: int, channels: int, params: SeparableParams) -> int:
    depthwise = window * channels * params.depth_multiplier
    pointwise = channels * params.depth_multiplier * params.filters
    return depthwise + pointwise + (params.filters if params.use_bias else 0)


_KEYS = {
    "filters": "filters", "kernel_size": "kernel", "strides": "strides", "padding": "padding",
    "dilation_rate": "dilation", "depth_multiplier": "depth_multiplier", "activation": "activation",
    "use_bias": "use_bias",
}
"""Keras's SeparableConv1D/2D arguments and the parameters they are, both ways."""
_WEIGHTS = {
    "depthwise_initializer": "depthwise_init", "pointwise_initializer": "pointwise_init",
    "bias_initializer": "bias_init", "depthwise_regularizer": "depthwise_reg",
    "pointwise_regularizer": "pointwise_reg", "bias_regularizer": "bias_reg",
}
