"""Ops on sequences (steps, features): 1-D convolution (causal, dilated, grouped) and 1-D pooling."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import PositiveInt

from archspec.catalogue.ops.base import (
    Activation,
    LayerCall,
    NoParams,
    Op,
    OpParams,
    Padding,
    Shape,
    ShapeProblem,
    WindowInt,
    WindowParams,
    conv_length,
    format_shape,
    keras_kwargs,
    keras_params,
    known,
    require_rank,
)
from archspec.catalogue.ops.weights import KERNEL_KEYS, Initializer, Regularizer, weight_kwargs, weight_params
from archspec.catalogue.primitives import FLOAT_DTYPES

CausalPadding = Literal["same", "valid", "causal"]


class Conv1DParams(WindowParams):
    filters: PositiveInt
    kernel: WindowInt = 3
    strides: WindowInt = 1
    padding: CausalPadding = "same"
    dilation: WindowInt = 1
    groups: PositiveInt = 1
    activation: Activation | None = None
    use_bias: bool = True
    kernel_init: Initializer | None = None
    bias_init: Initializer | None = None
    kernel_reg: Regularizer | None = None
    bias_reg: Regularizer | None = None


class Conv1D(Op):
    name = "conv1d"
    input_dtypes = FLOAT_DTYPES
    family = "conv"
    positional = ("filters", "kernel")
    Params = Conv1DParams
    doc = ("1-D convolution over the steps of a (steps, features) sequence; padding 'causal' pads on the left "
           "only, so step t sees steps <= t (TCN, WaveNet); `groups` splits the features into groups.")
    min_rank = 2
    keras_classes = ("Conv1D",)

    def infer_shape(self, params: Conv1DParams, inputs: list[Shape]) -> Shape:
        require_rank(inputs[0], 2, "conv1d")
        steps, channels = inputs[0]
        check_groups(known(channels, "the features of a conv1d input"), params.filters, params.groups)
        padding = "same" if params.padding == "causal" else params.padding
        length = conv_length(steps, params.kernel, params.strides, padding, params.dilation)
        check_window(length, inputs[0], "conv1d")
        return (length, params.filters)

    def layer(self, params: Conv1DParams, inputs: list[Shape]) -> LayerCall:
        return LayerCall("Conv1D", {**keras_kwargs(params, _CONV1D_KEYS), **weight_kwargs(params, KERNEL_KEYS)})

    def from_keras(self, config: dict) -> dict:
        params = keras_params(single_values(config), _CONV1D_KEYS, data_format="channels_last")
        return {**params, **weight_params(config, KERNEL_KEYS)}

    def count_params(self, params: Conv1DParams, inputs: list[Shape], output: Shape) -> int:
        channels = known(inputs[0][1], "conv1d input features")
        kernel = params.kernel * (channels // params.groups) * params.filters
        return kernel + (params.filters if params.use_bias else 0)


class Pool1DParams(OpParams):
    pool: WindowInt = 2
    strides: WindowInt | None = None
    padding: Padding = "valid"


class _Pool1D(Op):
    keras_class: str
    positional = ("pool",)
    Params = Pool1DParams
    min_rank = 2

    def infer_shape(self, params: Pool1DParams, inputs: list[Shape]) -> Shape:
        require_rank(inputs[0], 2, self.name)
        steps, features = inputs[0]
        strides = params.strides if params.strides is not None else params.pool
        length = conv_length(steps, params.pool, strides, params.padding)
        check_window(length, inputs[0], self.name)
        return (length, features)

    def layer(self, params: Pool1DParams, inputs: list[Shape]) -> LayerCall:
        return LayerCall(self.keras_class, keras_kwargs(params, _POOL1D_KEYS))

    def from_keras(self, config: dict) -> dict:
        params = keras_params(single_values(config), _POOL1D_KEYS, data_format="channels_last")
        if params.get("strides") == params.get("pool"):
            params.pop("strides")
        return params


class MaxPool1D(_Pool1D):
    name = "max_pool1d"
    output_dtype = None
    family = "conv"
    keras_class = "MaxPooling1D"
    keras_classes = ("MaxPooling1D",)
    doc = "Maximum over windows of `pool` steps (2 by default), stepping by `strides` (= pool)."


class AvgPool1D(_Pool1D):
    name = "avg_pool1d"
    input_dtypes = FLOAT_DTYPES
    family = "conv"
    keras_class = "AveragePooling1D"
    keras_classes = ("AveragePooling1D",)
    doc = "Average over windows of `pool` steps (2 by default), stepping by `strides` (= pool)."


class _GlobalPool1D(Op):
    keras_class: str
    Params = NoParams
    min_rank = 2

    def infer_shape(self, params: NoParams, inputs: list[Shape]) -> Shape:
        require_rank(inputs[0], 2, self.name)
        return (inputs[0][1],)

    def layer(self, params: NoParams, inputs: list[Shape]) -> LayerCall:
        return LayerCall(self.keras_class)

    def from_keras(self, config: dict) -> dict:
        return keras_params(config, {}, data_format="channels_last", keepdims=False)


class GlobalAvgPool1D(_GlobalPool1D):
    name = "global_avg_pool1d"
    family = "conv"
    keras_class = "GlobalAveragePooling1D"
    keras_classes = ("GlobalAveragePooling1D",)
    doc = "Averages each feature over the steps: (steps, features) -> (features,)."


class GlobalMaxPool1D(_GlobalPool1D):
    name = "global_max_pool1d"
    output_dtype = None
    family = "conv"
    keras_class = "GlobalMaxPooling1D"
    keras_classes = ("GlobalMaxPooling1D",)
    doc = "Maximum of each feature over the steps: (steps, features) -> (features,)."


_CONV1D_KEYS = {
    "filters": "filters", "kernel_size": "kernel", "strides": "strides", "padding": "padding",
    "dilation_rate": "dilation", "groups": "groups", "activation": "activation", "use_bias": "use_bias",
}
"""Keras's Conv1D arguments and the parameters they are, both ways."""
_POOL1D_KEYS = {"pool_size": "pool", "strides": "strides", "padding": "padding"}


def single_values(config: dict[str, Any]) -> dict[str, Any]:
    """A 1-D layer's config with its one-element tuples ((3,) for kernel_size 3) as numbers."""
    return {key: value[0] if isinstance(value, (list, tuple)) and len(value) == 1 else value
            for key, value in config.items()}


def check_groups(channels: int, filters: int, groups: int) -> None:
    """Grouped convolution: the features and the filters must both split evenly into the groups."""
    for size, what in ((channels, "input features"), (filters, "filters")):
        if size % groups:
            raise ShapeProblem(
                f"{groups} groups do not divide the {size} {what}",
                expected=f"{what} a multiple of groups ({groups})",
                got=str(size),
                hint="choose groups that divide both the input features and the filters",
            )


def check_window(length: int | None, source: Shape, what: str) -> None:
    """A 'valid' window larger than the sequence leaves nothing."""
    if length is not None and length < 1:
        raise ShapeProblem(
            f"{what} window is longer than its {format_shape(source)} input",
            expected="an input at least as long as the window",
            got=format_shape(source),
            hint="use padding: same (or causal), a smaller kernel, or fewer pooling steps before it",
        )
