"""Ops on images (height, width, channels): convolutions, pooling, resizing (padding: padding.py)."""

from __future__ import annotations

from typing import Literal

from pydantic import PositiveInt

from archspec.catalogue.ops.base import (
    Activation,
    IntPair,
    LayerCall,
    Op,
    OpParams,
    Padding,
    Shape,
    ShapeProblem,
    WindowParams,
    conv_length,
    format_shape,
    keras_kwargs,
    keras_params,
    known,
    pair,
    require_rank,
)
from archspec.catalogue.ops.sequence import check_groups
from archspec.catalogue.ops.weights import KERNEL_KEYS, Initializer, Regularizer, weight_kwargs, weight_params
from archspec.catalogue.primitives import FLOAT_DTYPES


class Conv2DParams(WindowParams):
    filters: PositiveInt
    kernel: IntPair = 3
    strides: IntPair = 1
    padding: Padding = "same"
    dilation: IntPair = 1
    activation: Activation | None = None
    use_bias: bool = True
    kernel_init: Initializer | None = None
    bias_init: Initializer | None = None
    kernel_reg: Regularizer | None = None
    bias_reg: Regularizer | None = None
    groups: PositiveInt = 1
    """Grouped convolution (ConvNeXt's depthwise 7x7 is a Conv2D with groups = channels)."""


class Conv2D(Op):
    name = "conv2d"
    family = "conv"
    positional = ("filters", "kernel")
    Params = Conv2DParams
    doc = "2-D convolution; padding 'same' keeps the size (divided by the strides)."
    min_rank = 3
    input_dtypes = ("float32",)

    def infer_shape(self, params: Conv2DParams, inputs: list[Shape]) -> Shape:
        require_rank(inputs[0], 3, "conv2d")
        known(inputs[0][2], "the channels of a conv2d input")
        height, width, channels = inputs[0]
        if params.groups != 1:
            check_groups(int(channels or 0), params.filters, params.groups)
        (kh, kw), (sh, sw), (dh, dw) = pair(params.kernel), pair(params.strides), pair(params.dilation)
        out = (conv_length(height, kh, sh, params.padding, dh), conv_length(width, kw, sw, params.padding, dw))
        _check_positive(out, inputs[0], "conv2d", params.padding)
        return out + (params.filters,)

    keras_classes = ("Conv2D",)

    def from_keras(self, config: dict) -> dict:
        return {**keras_params(config, {**_CONV_KEYS, "groups": "groups"}, data_format="channels_last"),
                **weight_params(config, KERNEL_KEYS)}

    def layer(self, params: Conv2DParams, inputs: list[Shape]) -> LayerCall:
        groups = {"groups": params.groups} if params.groups != 1 else {}  # specs without groups build as before
        return LayerCall("Conv2D", {**keras_kwargs(params, _CONV_KEYS), **groups,
                                    **weight_kwargs(params, KERNEL_KEYS)})

    def count_params(self, params: Conv2DParams, inputs: list[Shape], output: Shape) -> int:
        kh, kw = pair(params.kernel)
        channels = known(inputs[0][2], "conv2d input channels") // params.groups
        return kh * kw * channels * params.filters + (params.filters if params.use_bias else 0)


class Conv2DTransposeParams(OpParams):
    filters: PositiveInt
    kernel: IntPair = 3
    strides: IntPair = 1
    padding: Padding = "same"
    activation: Activation | None = None
    use_bias: bool = True
    kernel_init: Initializer | None = None
    bias_init: Initializer | None = None
    kernel_reg: Regularizer | None = None
    bias_reg: Regularizer | None = None


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


class Pool2DParams(OpParams):
    pool: IntPair = 2
    strides: IntPair | None = None
    padding: Padding = "valid"


class _Pool2D(Op):
    keras_class: str
    positional = ("pool",)
    Params = Pool2DParams
    min_rank = 3

    def infer_shape(self, params: Pool2DParams, inputs: list[Shape]) -> Shape:
        require_rank(inputs[0], 3, self.name)
        height, width, channels = inputs[0]
        (ph, pw) = pair(params.pool)
        (sh, sw) = pair(params.strides if params.strides is not None else params.pool)
        out = (conv_length(height, ph, sh, params.padding), conv_length(width, pw, sw, params.padding))
        _check_positive(out, inputs[0], self.name, params.padding)
        return out + (channels,)

    def from_keras(self, config: dict) -> dict:
        params = keras_params(config, {"pool_size": "pool", "strides": "strides", "padding": "padding"},
                              data_format="channels_last")
        if params.get("strides") == params.get("pool"):
            params.pop("strides")
        return params

    def layer(self, params: Pool2DParams, inputs: list[Shape]) -> LayerCall:
        return LayerCall(self.keras_class, {"pool_size": params.pool, "strides": params.strides,
                                            "padding": params.padding})


class MaxPool2D(_Pool2D):
    name = "max_pool2d"
    output_dtype = None
    family = "conv"
    keras_class = "MaxPooling2D"
    keras_classes = ("MaxPooling2D",)
    doc = "Maximum over `pool`-sized windows (2x2 by default), stepping by `strides` (= pool)."


class AvgPool2D(_Pool2D):
    name = "avg_pool2d"
    input_dtypes = FLOAT_DTYPES
    family = "conv"
    keras_class = "AveragePooling2D"
    keras_classes = ("AveragePooling2D",)
    doc = "Average over `pool`-sized windows (2x2 by default), stepping by `strides` (= pool)."


class GlobalPool2DParams(OpParams):
    keepdims: bool = False
    """Keep the pooled axes as size 1, (h, w, c) -> (1, 1, c): the squeeze of a squeeze-excite block."""


class _GlobalPool2D(Op):
    keras_class: str
    Params = GlobalPool2DParams
    min_rank = 3

    def infer_shape(self, params: GlobalPool2DParams, inputs: list[Shape]) -> Shape:
        require_rank(inputs[0], 3, self.name)
        return (1, 1, inputs[0][2]) if params.keepdims else (inputs[0][2],)

    def from_keras(self, config: dict) -> dict:
        return keras_params(config, {"keepdims": "keepdims"}, data_format="channels_last")

    def layer(self, params: GlobalPool2DParams, inputs: list[Shape]) -> LayerCall:
        return LayerCall(self.keras_class, {"keepdims": True} if params.keepdims else {})


class GlobalAvgPool2D(_GlobalPool2D):
    name = "global_avg_pool2d"
    family = "conv"
    keras_class = "GlobalAveragePooling2D"
    keras_classes = ("GlobalAveragePooling2D",)
    doc = "Averages each channel over the whole image: (h, w, c) -> (c,)."


class GlobalMaxPool2D(_GlobalPool2D):
    name = "global_max_pool2d"
    output_dtype = None
    family = "conv"
    keras_class = "GlobalMaxPooling2D"
    keras_classes = ("GlobalMaxPooling2D",)
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

    def accepted_dtypes(self, params: Upsample2DParams) -> tuple[str, ...]:
        return FLOAT_DTYPES if params.interpolation == "bilinear" else self.input_dtypes  # ints would round
    min_rank = 3

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


_CONV_KEYS = {
    "filters": "filters", "kernel_size": "kernel", "strides": "strides", "padding": "padding",
    "dilation_rate": "dilation", "activation": "activation", "use_bias": "use_bias",
}
"""Keras's Conv2D arguments and the parameters they are, both ways (layer() and from_keras())."""
_UPSAMPLE_KEYS = {"size": "size", "interpolation": "interpolation"}
_TRANSPOSE_KEYS = {key: name for key, name in _CONV_KEYS.items() if key != "dilation_rate"}
"""Conv2DTranspose's: no dilation (from_keras requires Keras's to be 1)."""


def _check_positive(out: tuple[int | None, int | None], source: Shape, what: str, padding: str) -> None:
    if any(size is not None and size < 1 for size in out):
        raise ShapeProblem(
            f"{what} window is larger than its {format_shape(source)} input",
            expected="an input at least as large as the window",
            got=format_shape(source),
            hint="use padding: same, a smaller kernel, or fewer pooling steps before it"
            if padding == "valid" else "use fewer pooling steps before it",
        )
