"""Normalisation ops over one axis of any input: batch, layer, group, RMS and unit (L2) normalisation."""

from __future__ import annotations

from pydantic import Field, PositiveFloat, PositiveInt

from archspec.catalogue.ops.base import (
    LayerCall,
    Op,
    OpParams,
    Shape,
    ShapeProblem,
    format_shape,
    keras_kwargs,
    keras_params,
    known,
)
from archspec.catalogue.ops.weights import NORM_KEYS, Initializer, Regularizer, weight_kwargs, weight_params
from archspec.catalogue.primitives import FLOAT_DTYPES


class BatchNormParams(OpParams):
    axis: int = -1
    momentum: float = Field(default=0.99, gt=0.0, lt=1.0)
    epsilon: PositiveFloat = 1e-3
    center: bool = True
    scale: bool = True
    gamma_init: Initializer | None = None
    beta_init: Initializer | None = None
    gamma_reg: Regularizer | None = None
    beta_reg: Regularizer | None = None


class BatchNorm(Op):
    name = "batch_norm"
    family = "keep"
    Params = BatchNormParams
    foldable = True
    doc = "Batch normalisation over `axis` (the channels by default)."

    def infer_shape(self, params: BatchNormParams, inputs: list[Shape]) -> Shape:
        _axis_size(inputs[0], params.axis, "batch_norm")
        return inputs[0]

    keras_classes = ("BatchNormalization",)

    def from_keras(self, config: dict) -> dict:
        params = keras_params(config, _NORM_KEYS, renorm=False, synchronized=False)
        return {**params, **weight_params(config, NORM_KEYS)}

    def layer(self, params: BatchNormParams, inputs: list[Shape]) -> LayerCall:
        kwargs = {**keras_kwargs(params, _NORM_KEYS), **weight_kwargs(params, NORM_KEYS)}
        return LayerCall("BatchNormalization", kwargs)

    def count_params(self, params: BatchNormParams, inputs: list[Shape], output: Shape) -> int:
        channels = _axis_size(inputs[0], params.axis, "batch_norm")
        return channels * (2 + int(params.center) + int(params.scale))


class LayerNormParams(OpParams):
    axis: int = -1
    epsilon: PositiveFloat = 1e-3
    center: bool = True
    scale: bool = True
    gamma_init: Initializer | None = None
    beta_init: Initializer | None = None
    gamma_reg: Regularizer | None = None
    beta_reg: Regularizer | None = None


class LayerNorm(Op):
    name = "layer_norm"
    family = "keep"
    Params = LayerNormParams
    doc = "Layer normalisation over `axis` (the features by default)."

    def infer_shape(self, params: LayerNormParams, inputs: list[Shape]) -> Shape:
        _axis_size(inputs[0], params.axis, "layer_norm")
        return inputs[0]

    keras_classes = ("LayerNormalization",)

    def from_keras(self, config: dict) -> dict:
        config = {**config, "axis": _one_axis(config.get("axis", -1))}  # a list after a save and reload
        return {**keras_params(config, _LAYER_NORM_KEYS, rms_scaling=False), **weight_params(config, NORM_KEYS)}

    def layer(self, params: LayerNormParams, inputs: list[Shape]) -> LayerCall:
        kwargs = {**keras_kwargs(params, _LAYER_NORM_KEYS), **weight_kwargs(params, NORM_KEYS)}
        return LayerCall("LayerNormalization", kwargs)

    def count_params(self, params: LayerNormParams, inputs: list[Shape], output: Shape) -> int:
        features = _axis_size(inputs[0], params.axis, "layer_norm")
        return features * (int(params.center) + int(params.scale))


_NORM_KEYS = {"axis": "axis", "momentum": "momentum", "epsilon": "epsilon", "center": "center",
              "scale": "scale"}
_LAYER_NORM_KEYS = {key: name for key, name in _NORM_KEYS.items() if key != "momentum"}


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


class GroupNormParams(OpParams):
    groups: PositiveInt = Field(default=32, description="channels are normalised in this many groups")
    axis: int = -1
    epsilon: PositiveFloat = 1e-3
    center: bool = True
    scale: bool = True
    gamma_init: Initializer | None = None
    beta_init: Initializer | None = None
    gamma_reg: Regularizer | None = None
    beta_reg: Regularizer | None = None


class GroupNorm(Op):
    name = "group_norm"
    family = "keep"
    positional = ("groups",)
    Params = GroupNormParams
    foldable = True
    doc = "Group normalisation: the channels of `axis` split into `groups`, each normalised per example."

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

    keras_classes = ("GroupNormalization",)

    def from_keras(self, config: dict) -> dict:
        return {**keras_params(config, _GROUP_NORM_KEYS), **weight_params(config, NORM_KEYS)}

    def layer(self, params: GroupNormParams, inputs: list[Shape]) -> LayerCall:
        kwargs = {**keras_kwargs(params, _GROUP_NORM_KEYS), **weight_kwargs(params, NORM_KEYS)}
        return LayerCall("GroupNormalization", kwargs)

    def count_params(self, params: GroupNormParams, inputs: list[Shape], output: Shape) -> int:
        channels = _axis_size(inputs[0], params.axis, "group_norm")
        return channels * (int(params.center) + int(params.scale))


class RmsNormParams(OpParams):
    axis: int = -1
    epsilon: PositiveFloat = 1e-6


class RmsNorm(Op):
    name = "rms_norm"
    input_dtypes = FLOAT_DTYPES
    family = "keep"
    Params = RmsNormParams
    foldable = True
    doc = "Root-mean-square normalisation over `axis` with a learned scale (LLaMA, T5): x / rms(x) * gamma."
    keras_classes = ("RMSNormalization",)

    def infer_shape(self, params: RmsNormParams, inputs: list[Shape]) -> Shape:
        _axis_size(inputs[0], params.axis, "rms_norm")
        return inputs[0]

    def from_keras(self, config: dict) -> dict:
        config = {**config, "axis": _one_axis(config.get("axis", -1))}
        return keras_params(config, {"axis": "axis", "epsilon": "epsilon"})

    def layer(self, params: RmsNormParams, inputs: list[Shape]) -> LayerCall:
        return LayerCall("RMSNormalization", {"axis": params.axis, "epsilon": params.epsilon})

    def count_params(self, params: RmsNormParams, inputs: list[Shape], output: Shape) -> int:
        return _axis_size(inputs[0], params.axis, "rms_norm")


class UnitNormParams(OpParams):
    axis: int = -1


class UnitNorm(Op):
    name = "unit_norm"
    input_dtypes = FLOAT_DTYPES
    family = "keep"
    Params = UnitNormParams
    foldable = True
    doc = "Scales each vector along `axis` to length 1 (L2), e.g. embeddings compared by cosine."
    keras_classes = ("UnitNormalization",)

    def infer_shape(self, params: UnitNormParams, inputs: list[Shape]) -> Shape:
        _axis_size(inputs[0], params.axis, "unit_norm")
        return inputs[0]

    def from_keras(self, config: dict) -> dict:
        return {"axis": _one_axis(config.get("axis", -1))}

    def layer(self, params: UnitNormParams, inputs: list[Shape]) -> LayerCall:
        return LayerCall("UnitNormalization", {"axis": params.axis})


_GROUP_NORM_KEYS = {"groups": "groups", **_LAYER_NORM_KEYS}


def _one_axis(axis: int | list[int] | tuple[int, ...]) -> int:
    """A Keras `axis` config (an int, or a list after a save and reload) as the one axis it must be."""
    if isinstance(axis, (list, tuple)):
        if len(axis) != 1:
            raise ValueError(f"axis={list(axis)!r} is not supported (only one axis)")
        return int(axis[0])
    return axis
