"""Normalisation ops over one axis of any input: batch, layer, group, RMS and unit (L2) normalisation.

All five are one family (`_AxisNorm`): an `axis` that must exist, Keras's arguments mapped both ways
by their names, and weights per channel of that axis (scale and offset, batch norm's statistics,
RMS norm's scale, none for unit norm).
"""

from __future__ import annotations

from typing import Any, ClassVar

from pydantic import Field, PositiveFloat, PositiveInt

from archspec.catalogue.ops.base import (
    LayerCall,
    Op,
    OpParams,
    Shape,
    ShapeProblem,
    fields_after,
    format_shape,
    keras_kwargs,
    keras_params,
    known,
)
from archspec.catalogue.ops.weights import NORM_KEYS, NormWeights, weight_kwargs, weight_params
from archspec.catalogue.primitives import FLOAT_DTYPES


class UnitNormParams(OpParams):
    axis: int = -1


class RmsNormParams(UnitNormParams):
    epsilon: PositiveFloat = 1e-6
    unit_offset: bool = Field(default=False, description="the learned scale is an offset from 1: x / rms(x) * "
                              "(1 + gamma), its zero start the identity (Gemma's)")


@fields_after(NormWeights)
class LayerNormParams(UnitNormParams):
    epsilon: PositiveFloat = 1e-3


@fields_after(NormWeights)
class BatchNormParams(UnitNormParams):
    momentum: float = Field(default=0.99, gt=0.0, lt=1.0)
    epsilon: PositiveFloat = 1e-3


@fields_after(NormWeights)
class GroupNormParams(OpParams):
    groups: PositiveInt = Field(default=32, description="channels are normalised in this many groups")
    axis: int = -1
    epsilon: PositiveFloat = 1e-3


class _AxisNorm(Op):
    """A normalisation over `axis`: its rules once, its Keras class and arguments as data."""

    keras_class: ClassVar[str]
    arguments: ClassVar[tuple[str, ...]]
    """Keras's arguments but the weights', each the parameter of the same name (both ways)."""
    weights: ClassVar[dict[str, str]] = {}
    """Keras's initialiser and regulariser arguments and the parameters they are (NORM_KEYS)."""
    refused: ClassVar[tuple[tuple[str, Any], ...]] = ()
    """Keras options archspec does not express, with the value an imported layer must have."""
    family = "keep"
    foldable = True

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "keras_class" in cls.__dict__ and "keras_classes" not in cls.__dict__:
            cls.keras_classes = (cls.keras_class,)

    def infer_shape(self, params: Any, inputs: list[Shape]) -> Shape:
        _axis_size(inputs[0], params.axis, self.name)
        return inputs[0]

    def from_keras(self, config: dict) -> dict:
        config = {**config, "axis": _one_axis(config.get("axis", -1))}  # a list after a save and reload
        keys = dict(zip(self.arguments, self.arguments, strict=True))
        return {**keras_params(config, keys, **dict(self.refused)), **weight_params(config, self.weights)}

    def layer(self, params: Any, inputs: list[Shape]) -> LayerCall:
        keys = dict(zip(self.arguments, self.arguments, strict=True))
        return LayerCall(self.keras_class, {**keras_kwargs(params, keys), **weight_kwargs(params, self.weights)})

    def per_channel(self, params: Any) -> int:
        """Weights per channel of the axis: the scale and offset that `center` and `scale` keep."""
        return int(params.center) + int(params.scale)

    def count_params(self, params: Any, inputs: list[Shape], output: Shape) -> int:
        per_channel = self.per_channel(params)
        return per_channel and _axis_size(inputs[0], params.axis, self.name) * per_channel


class BatchNorm(_AxisNorm):
    name = "batch_norm"
    Params = BatchNormParams
    doc = "Batch normalisation over `axis` (the channels by default)."
    keras_class = "BatchNormalization"
    arguments = ("axis", "momentum", "epsilon", "center", "scale")
    weights = NORM_KEYS
    refused = (("renorm", False), ("synchronized", False))

    def per_channel(self, params: BatchNormParams) -> int:
        return 2 + super().per_channel(params)  # and the moving mean and variance


class LayerNorm(_AxisNorm):
    name = "layer_norm"
    Params = LayerNormParams
    foldable = False
    doc = "Layer normalisation over `axis` (the features by default)."
    keras_class = "LayerNormalization"
    arguments = ("axis", "epsilon", "center", "scale")
    weights = NORM_KEYS
    refused = (("rms_scaling", False),)


class GroupNorm(_AxisNorm):
    name = "group_norm"
    positional = ("groups",)
    Params = GroupNormParams
    doc = "Group normalisation: the channels of `axis` split into `groups`, each normalised per example."
    keras_class = "GroupNormalization"
    arguments = ("groups", "axis", "epsilon", "center", "scale")
    weights = NORM_KEYS

    def infer_shape(self, params: GroupNormParams, inputs: list[Shape]) -> Shape:
        channels = _axis_size(inputs[0], params.axis, "group_norm")
        if channels % params.groups:
            raise ShapeProblem(
                f"{params.groups} groups do not divide the {channels} channels",
                expected=f"channels a multiple of groups ({params.groups})",
                got=str(channels),
                hint="choose groups that divide the channels (groups: 1 is layer norm over all channels)",
            )
        return inputs[0]


class RmsNorm(_AxisNorm):
    name = "rms_norm"
    input_dtypes = FLOAT_DTYPES
    Params = RmsNormParams
    doc = "Root-mean-square normalisation over `axis` with a learned scale (LLaMA, T5): x / rms(x) * gamma."
    keras_class = "RMSNormalization"
    keras_classes = ("RMSNormalization", "LlamaLayerNorm", "QwenLayerNorm", "MistralLayerNormalization",
                     "OffsetRMSNormalization")
    """Keras's, and keras-hub's RMS norms of LLaMA, Qwen and Mistral, which compute the same (x * rsqrt(mean(x²)
    + epsilon) * scale over the last axis, in float32) with one `scale` weight and only `epsilon` configured;
    and archspec's OffsetRMSNormalization (`unit_offset`), which Gemma's RMSNormalization is rewritten as."""
    arguments = ("axis", "epsilon")

    def from_keras(self, config: dict) -> dict:
        params = super().from_keras(config)
        return {**params, "unit_offset": True} if config.get("unit_offset") else params

    def layer(self, params: RmsNormParams, inputs: list[Shape]) -> LayerCall:
        call = super().layer(params, inputs)
        if not params.unit_offset:
            return call
        return LayerCall("OffsetRMSNormalization", call.kwargs, module="archspec.keras.layers")

    def per_channel(self, params: RmsNormParams) -> int:
        return 1  # the scale


class UnitNorm(_AxisNorm):
    name = "unit_norm"
    input_dtypes = FLOAT_DTYPES
    Params = UnitNormParams
    doc = "Scales each vector along `axis` to length 1 (L2), e.g. embeddings compared by cosine."
    keras_class = "UnitNormalization"
    arguments = ("axis",)

    def per_channel(self, params: UnitNormParams) -> int:
        return 0  # no weights


def _axis_size(shape: Shape, axis: int, what: str) -> int:
    rank = len(shape) + 1  # Keras counts the batch axis
    if not -rank < axis < rank or axis == 0 or axis == -rank:
        raise ShapeProblem(
            f"{what} axis {axis} does not exist for an input of shape {format_shape(shape)}",
            expected="axis 1 or -1" if rank == 2 else
            f"an axis from 1 to {rank - 1}, or from -1 (the last) to -{rank - 1}",
            got=str(axis),
        )
    index = axis - 1 if axis > 0 else axis
    return known(shape[index], f"the normalised axis of {what}")


def _one_axis(axis: int | list[int] | tuple[int, ...]) -> int:
    """A Keras `axis` config (an int, or a list after a save and reload) as the one axis it must be."""
    if isinstance(axis, (list, tuple)):
        if len(axis) != 1:
            raise ValueError(f"axis={list(axis)!r} is not supported (only one axis)")
        return int(axis[0])
    return axis
