"""What window ops of either rank share, as Keras's BaseConv serves Conv1D and Conv2D.

A sequence op (steps, features) and an image op (height, width, channels) differ only in their
`Layout`: the axes the window slides over, the suffix of Keras's class and the words of their
messages. The families here (convolution, pooling, global pooling) hold each rule once for any
layout; conv.py and sequence.py declare the ops, each a name, a layout, a Keras class and a doc.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, ClassVar

from pydantic import PositiveInt

from archspec.catalogue.ops.base import (
    IntPair,
    LayerCall,
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
from archspec.catalogue.ops.weights import KERNEL_KEYS, weight_kwargs, weight_params


@dataclass(frozen=True)
class Layout:
    """What a window op knows of its input: the axes it slides over and how its messages name things."""

    suffix: str
    """The end of Keras's class names: Conv1D, MaxPooling2D."""
    axes: tuple[str, ...]
    """What each axis the window slides over holds, for messages: ("steps",) or ("rows", "columns")."""
    channels: str
    """What the last axis holds: features of a sequence, channels of an image."""
    longer: str
    """How a window too big for its input is said: 'longer' (a sequence) or 'larger' (an image)."""
    window_hint: str
    """What to do when a 'valid' window is too big."""

    @property
    def rank(self) -> int:
        """The input's rank, batch excluded: the window axes and the channels."""
        return len(self.axes) + 1


SEQUENCE = Layout("1D", ("steps",), "features", "longer",
                  "use padding: same (or causal), a smaller kernel, or fewer pooling steps before it")
IMAGE = Layout("2D", ("rows", "columns"), "channels", "larger",
               "use padding: same, a smaller kernel, or fewer pooling steps before it")


class WindowOp(Op):
    """An op of one layout with one Keras class: its `min_rank` and `keras_classes` follow from them."""

    layout: ClassVar[Layout]
    keras_class: ClassVar[str]
    family = "conv"

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "layout" in cls.__dict__:
            cls.min_rank = cls.layout.rank
        if "keras_class" in cls.__dict__:
            cls.keras_classes = (cls.keras_class,)


def spread(value: int | tuple[int, ...] | list[int], rank: int) -> tuple[int, ...]:
    """A window size given as one int or one per axis, as one per axis: 3 -> (3, 3) for an image."""
    return (value,) * rank if isinstance(value, int) else tuple(int(size) for size in value)


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


def check_window(sizes: tuple[int | None, ...], source: Shape, what: str, layout: Layout, padding: str) -> None:
    """A 'valid' window larger than its input leaves nothing."""
    if any(size is not None and size < 1 for size in sizes):
        raise ShapeProblem(
            f"{what} window is {layout.longer} than its {format_shape(source)} input",
            expected=f"an input at least as {layout.longer.removesuffix('er')} as the window",
            got=format_shape(source),
            hint=layout.window_hint if padding == "valid" else "use fewer pooling steps before it",
        )


class ConvWindow(WindowParams):
    """The head of every convolution's Params but depthwise's: the window as one length (1-D).

    A 2-D op's Params declare kernel, strides and dilation again as IntPair (a field declared
    again keeps its place); its tail is a field group (`fields_after(KernelWeights)`).
    """

    filters: PositiveInt
    kernel: WindowInt = 3
    strides: WindowInt = 1
    padding: Padding = "same"
    dilation: WindowInt = 1


class Groups(OpParams):
    groups: PositiveInt = 1
    """Grouped convolution (ConvNeXt's depthwise 7x7 is a Conv2D with groups = channels)."""


CONV_KEYS = {
    "filters": "filters", "kernel_size": "kernel", "strides": "strides", "padding": "padding",
    "dilation_rate": "dilation", "groups": "groups", "activation": "activation", "use_bias": "use_bias",
}
"""Keras's Conv1D/Conv2D arguments and the parameters they are, both ways (layer() and from_keras())."""


class Convolution(WindowOp):
    """conv1d and conv2d: one shape rule, parameter count and Keras mapping for either layout.

    Its Params have filters, kernel, strides, padding, dilation, groups and KernelWeights;
    separable and depthwise convolutions borrow its shape rule.
    """

    positional = ("filters", "kernel")
    keras_keys: ClassVar[dict[str, str]] = CONV_KEYS

    def infer_shape(self, params: Any, inputs: list[Shape]) -> Shape:
        rank, layout = len(self.layout.axes), self.layout
        require_rank(inputs[0], layout.rank, self.name)
        *sizes, channels = inputs[0]
        check_groups(known(channels, f"the {layout.channels} of a {self.name} input"), params.filters, params.groups)
        padding = "same" if params.padding == "causal" else params.padding
        out = tuple(conv_length(size, kernel, stride, padding, dilation) for size, kernel, stride, dilation in zip(
            sizes, spread(params.kernel, rank), spread(params.strides, rank), spread(params.dilation, rank),
            strict=True))
        check_window(out, inputs[0], self.name, layout, params.padding)
        return (*out, params.filters)

    def layer(self, params: Any, inputs: list[Shape]) -> LayerCall:
        kwargs = keras_kwargs(params, self.keras_keys)
        if params.groups != 1:
            kwargs["groups"] = params.groups
        return LayerCall(self.keras_class, {**kwargs, **weight_kwargs(params, KERNEL_KEYS)})

    def from_keras(self, config: dict) -> dict:
        keys = {**self.keras_keys, "groups": "groups"}
        params = keras_params(single_values(config), keys, data_format="channels_last")
        return {**params, **weight_params(config, KERNEL_KEYS)}

    def count_params(self, params: Any, inputs: list[Shape], output: Shape) -> int:
        window = math.prod(spread(params.kernel, len(self.layout.axes)))
        channels = known(inputs[0][-1], f"{self.name} input {self.layout.channels}") // params.groups
        return window * channels * params.filters + (params.filters if params.use_bias else 0)


class Pool1DParams(OpParams):
    pool: WindowInt = 2
    strides: WindowInt | None = None
    padding: Padding = "valid"


class Pool2DParams(Pool1DParams):
    # the windows as one size or (height, width); a field declared again keeps its place
    pool: IntPair = 2
    strides: IntPair | None = None


POOL_KEYS = {"pool_size": "pool", "strides": "strides", "padding": "padding"}


class Pooling(WindowOp):
    """Max and average pooling of either layout: Params `pool`, `strides` (None: the pool) and `padding`."""

    positional = ("pool",)

    def infer_shape(self, params: Any, inputs: list[Shape]) -> Shape:
        rank = len(self.layout.axes)
        require_rank(inputs[0], self.layout.rank, self.name)
        *sizes, channels = inputs[0]
        strides = params.strides if params.strides is not None else params.pool
        out = tuple(conv_length(size, pool, stride, params.padding)
                    for size, pool, stride in zip(sizes, spread(params.pool, rank), spread(strides, rank), strict=True))
        check_window(out, inputs[0], self.name, self.layout, params.padding)
        return (*out, channels)

    def layer(self, params: Any, inputs: list[Shape]) -> LayerCall:
        return LayerCall(self.keras_class, keras_kwargs(params, POOL_KEYS))

    def from_keras(self, config: dict) -> dict:
        params = keras_params(single_values(config), POOL_KEYS, data_format="channels_last")
        if params.get("strides") == params.get("pool"):
            params.pop("strides")
        return params


class GlobalPoolParams(OpParams):
    keepdims: bool = False
    """Keep the pooled axes as size 1, (h, w, c) -> (1, 1, c): the squeeze of a squeeze-excite block."""


class GlobalPooling(WindowOp):
    """Global max and average pooling of either layout: every window axis reduced to one value per channel."""

    Params = GlobalPoolParams

    def infer_shape(self, params: GlobalPoolParams, inputs: list[Shape]) -> Shape:
        require_rank(inputs[0], self.layout.rank, self.name)
        channels = inputs[0][-1]
        return (*(1 for _ in self.layout.axes), channels) if params.keepdims else (channels,)

    def layer(self, params: GlobalPoolParams, inputs: list[Shape]) -> LayerCall:
        return LayerCall(self.keras_class, {"keepdims": True} if params.keepdims else {})

    def from_keras(self, config: dict) -> dict:
        return keras_params(config, {"keepdims": "keepdims"}, data_format="channels_last")

