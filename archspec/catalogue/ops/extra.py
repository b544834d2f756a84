"""Ops that keras.applications models need beyond the basics: depthwise convolution, ReLU(max)."""

from __future__ import annotations

from pydantic import Field, NonNegativeFloat, PositiveFloat, PositiveInt

from archspec.catalogue.ops.base import (
    IntPair,
    LayerCall,
    Op,
    OpParams,
    Padding,
    Shape,
    WindowParams,
    fields_after,
    keras_kwargs,
    keras_params,
    known,
    pair,
    require_rank,
)
from archspec.catalogue.ops.conv import Conv2D, Conv2DParams
from archspec.catalogue.ops.weights import DEPTHWISE_KEYS, KernelWeights, weight_kwargs, weight_params


@fields_after(KernelWeights)
class DepthwiseConv2DParams(WindowParams):
    kernel: IntPair = 3
    strides: IntPair = 1
    padding: Padding = "same"
    depth_multiplier: PositiveInt = 1
    dilation: IntPair = 1


class DepthwiseConv2D(Op):
    name = "depthwise_conv2d"
    family = "conv"
    positional = ("kernel",)
    Params = DepthwiseConv2DParams
    doc = "One `kernel` filter per input channel (times depth_multiplier): MobileNet's cheap convolution."
    min_rank = 3
    input_dtypes = ("float32",)
    keras_classes = ("DepthwiseConv2D",)

    def infer_shape(self, params: DepthwiseConv2DParams, inputs: list[Shape]) -> Shape:
        """conv2d's rule, with as many filters as input channels times the depth multiplier."""
        require_rank(inputs[0], 3, "depthwise_conv2d")
        channels = known(inputs[0][2], "the channels of a depthwise_conv2d input")
        as_conv = Conv2DParams(filters=channels * params.depth_multiplier, kernel=params.kernel,
                               strides=params.strides, padding=params.padding, dilation=params.dilation)
        return Conv2D().infer_shape(as_conv, inputs)

    def layer(self, params: DepthwiseConv2DParams, inputs: list[Shape]) -> LayerCall:
        return LayerCall("DepthwiseConv2D", {**keras_kwargs(params, _KEYS), **weight_kwargs(params, DEPTHWISE_KEYS)})

    def count_params(self, params: DepthwiseConv2DParams, inputs: list[Shape], output: Shape) -> int:
        kh, kw = pair(params.kernel)
        outputs = output[2]
        return kh * kw * outputs + (outputs if params.use_bias else 0)

    def from_keras(self, config: dict) -> dict:
        return {**keras_params(config, _KEYS, data_format="channels_last"), **weight_params(config, DEPTHWISE_KEYS)}


_KEYS = {
    "kernel_size": "kernel", "strides": "strides", "padding": "padding",
    "depth_multiplier": "depth_multiplier", "dilation_rate": "dilation",
    "activation": "activation", "use_bias": "use_bias",
}
"""Keras's DepthwiseConv2D arguments and the parameters they are, both ways."""


class ReluParams(OpParams):
    max_value: PositiveFloat | None = Field(default=None, description="clip at this value (6 = relu6)")
    negative_slope: NonNegativeFloat = 0.0
    threshold: NonNegativeFloat = Field(default=0.0, description="Keras refuses a negative threshold")


class Relu(Op):
    name = "relu"
    output_dtype = None
    family = "keep"
    positional = ("max_value",)
    Params = ReluParams
    doc = "max(x, 0), optionally clipped at `max_value` (MobileNet's ReLU6) or leaky below `threshold`."
    keras_classes = ("ReLU",)

    def infer_shape(self, params: ReluParams, inputs: list[Shape]) -> Shape:
        return inputs[0]

    def layer(self, params: ReluParams, inputs: list[Shape]) -> LayerCall:
        return LayerCall("ReLU", params.model_dump())

    def from_keras(self, config: dict) -> dict:
        return keras_params(config, {"max_value": "max_value", "negative_slope": "negative_slope",
                                     "threshold": "threshold"})
