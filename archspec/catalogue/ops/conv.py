"""Ops on images (height, width, channels): convolutions, pooling, resizing (padding: padding.py).

Convolution and pooling are their family's rule (windows.py) with the IMAGE layout; sequence.py
declares their 1-D twins.
"""

from __future__ import annotations

from typing import Literal

from pydantic import PositiveInt

from archspec.catalogue.ops.base import (
    IntPair,
    LayerCall,
    Op,
    OpParams,
    Padding,
    Shape,
    fields_after,
    keras_kwargs,
    keras_params,
    known,
    pair,
    require_rank,
)
from archspec.catalogue.ops.weights import KERNEL_KEYS, KernelWeights, weight_kwargs, weight_params
from archspec.catalogue.ops.windows import (
    CONV_KEYS,
    IMAGE,
    Convolution,
    ConvWindow,
    GlobalPooling,
    GlobalPoolParams,
    Groups,
    Pool2DParams,
    Pooling,
)
from archspec.catalogue.primitives import FLOAT_DTYPES

_CONV2D_KEYS = {key: name for key, name in CONV_KEYS.items() if key != "groups"}
"""Conv2D's arguments but groups, which it passes only when set, so a spec from before `groups` builds the
same call (and prints the same code)."""


@fields_after(KernelWeights, Groups)  # groups last, where conv2d has always listed them
class Conv2DParams(ConvWindow):
    kernel: IntPair = 3  # the windows as one size or (height, width), each in its place
    strides: IntPair = 1
    dilation: IntPair = 1


class Conv2D(Convolution):
    name = "conv2d"
    layout = IMAGE
    keras_class = "Conv2D"
    keras_keys = _CONV2D_KEYS
    Params = Conv2DParams
    doc = "2-D convolution; padding 'same' keeps the size (divided by the strides)."
    input_dtypes = ("float32",)


@fields_after(KernelWeights)
class Conv2DTransposeParams(OpParams):
    filters: PositiveInt
    kernel: IntPair = 3
    strides: IntPair = 1
    padding: Padding = "same"


class Conv2DTranspose(Op):
    name = "conv2d_transpose"
    family = "conv"
    positional = ("filters", "kernel")
    Params = Conv2DTransposeParams
    doc = "Transposed 2-D convolution (learned upsampling): 'same' multiplies the size by the strides."
    min_rank = 3
    input_dtypes = ("float32",)

    def infer_shape(self, params: Conv2DTransposeParams, inputs: list[Shape]) -> Shape:
        require_rank(inputs[0], 3, "conv2d_transpose")
        known(inputs[0][2], "the channels of a conv2d_transpose input")
        (kh, kw), (sh, sw) = pair(params.kernel), pair(params.strides)

        def grow(size: int | None, kernel: int, stride: int) -> int | None:
            if size is None:
                return None
            if params.padding == "same":
                return size * stride
            return (size - 1) * stride + max(kernel, stride)

        return (grow(inputs[0][0], kh, sh), grow(inputs[0][1], kw, sw), params.filters)

    keras_classes = ("Conv2DTranspose",)

    def from_keras(self, config: dict) -> dict:
        return {**keras_params(config, _TRANSPOSE_KEYS, data_format="channels_last", dilation_rate=(1, 1),
                               output_padding=None), **weight_params(config, KERNEL_KEYS)}

    def layer(self, params: Conv2DTransposeParams, inputs: list[Shape]) -> LayerCall:
        kwargs = {**keras_kwargs(params, _TRANSPOSE_KEYS), **weight_kwargs(params, KERNEL_KEYS)}
        return LayerCall("Conv2DTranspose", kwargs)

    def count_params(self, params: Conv2DTransposeParams, inputs: list[Shape], output: Shape) -> int:
        kh, kw = pair(params.kernel)
        channels = known(inputs[0][2], "conv2d_transpose input channels")
        return kh * kw * channels * params.filters + (params.filters if params.use_bias else 0)


class MaxPool2D(Pooling):
    name = "max_pool2d"
    output_dtype = None
    layout = IMAGE
    keras_class = "MaxPooling2D"
    Params = Pool2DParams
    doc = "Maximum over `pool`-sized windows (2x2 by default), stepping by `strides` (= pool)."


class AvgPool2D(Pooling):
    name = "avg_pool2d"
    input_dtypes = FLOAT_DTYPES
    layout = IMAGE
    keras_class = "AveragePooling2D"
    Params = Pool2DParams
    doc = "Average over `pool`-sized windows (2x2 by default), stepping by `strides` (= pool)."


GlobalPool2DParams = GlobalPoolParams
"""The name the params of global_avg_pool2d and global_max_pool2d had before 1-D pools took them too."""


class GlobalAvgPool2D(GlobalPooling):
    name = "global_avg_pool2d"
    layout = IMAGE
    keras_class = "GlobalAveragePooling2D"
    doc = "Averages each channel over the whole image: (h, w, c) -> (c,)."


class GlobalMaxPool2D(GlobalPooling):
    name = "global_max_pool2d"
    output_dtype = None
    layout = IMAGE
    keras_class = "GlobalMaxPooling2D"
    doc = "Maximum of each channel over the whole image: (h, w, c) -> (c,)."


class Upsample2DParams(OpParams):
    size: IntPair = 2
    interpolation: Literal["nearest", "bilinear"] = "nearest"


class Upsample2D(Op):
    name = "upsample2d"
    output_dtype = None
    family = "conv"
    positional = ("size",)
    Params = Upsample2DParams
    doc = "Repeats (or interpolates) pixels to make the image `size` times larger."
    min_rank = 3

    def accepted_dtypes(self, params: Upsample2DParams) -> tuple[str, ...]:
        return FLOAT_DTYPES if params.interpolation == "bilinear" else self.input_dtypes  # ints would round

    def infer_shape(self, params: Upsample2DParams, inputs: list[Shape]) -> Shape:
        require_rank(inputs[0], 3, "upsample2d")
        height, width, channels = inputs[0]
        sh, sw = pair(params.size)
        return (
            None if height is None else height * sh,
            None if width is None else width * sw,
            channels,
        )

    keras_classes = ("UpSampling2D",)

    def from_keras(self, config: dict) -> dict:
        return keras_params(config, _UPSAMPLE_KEYS, data_format="channels_last")

    def layer(self, params: Upsample2DParams, inputs: list[Shape]) -> LayerCall:
        return LayerCall("UpSampling2D", keras_kwargs(params, _UPSAMPLE_KEYS))


_UPSAMPLE_KEYS = {"size": "size", "interpolation": "interpolation"}
_TRANSPOSE_KEYS = {key: name for key, name in CONV_KEYS.items() if key not in ("dilation_rate", "groups")}
"""Conv2DTranspose's: no dilation (from_keras requires Keras's to be 1)."""

