"""Normalisation ops: batch and layer normalisation, over one axis of any input."""

from __future__ import annotations

from pydantic import Field, PositiveFloat

from archspec.graph.ops.base import (
    LayerCall,
    Op,
    OpParams,
    Shape,
    ShapeProblem,
    format_shape,
    keras_params,
    known,
)


class BatchNormParams(OpParams):
    axis: int = -1
    momentum: float = Field(default=0.99, gt=0.0, lt=1.0)
    epsilon: PositiveFloat = 1e-3
    center: bool = True
    scale: bool = True


class BatchNorm(Op):
    name = "batch_norm"
    Params = BatchNormParams
    foldable = True
    doc = "Batch normalisation over `axis` (the channels by default)."

    def infer_shape(self, params: BatchNormParams, inputs: list[Shape]) -> Shape:
        _axis_size(inputs[0], params.axis, "batch_norm")
        return inputs[0]

    keras_classes = ("BatchNormalization",)

    def from_keras(self, config: dict) -> dict:
        return keras_params(config, _NORM_KEYS, renorm=False, synchronized=False)

    def layer(self, params: BatchNormParams, inputs: list[Shape]) -> LayerCall:
        return LayerCall("BatchNormalization", params.model_dump())

    def count_params(self, params: BatchNormParams, inputs: list[Shape], output: Shape) -> int:
        channels = _axis_size(inputs[0], params.axis, "batch_norm")
        return channels * (2 + int(params.center) + int(params.scale))


class LayerNormParams(OpParams):
    axis: int = -1
    epsilon: PositiveFloat = 1e-3
    center: bool = True
    scale: bool = True


class LayerNorm(Op):
    name = "layer_norm"
    Params = LayerNormParams
    doc = "Layer normalisation over `axis` (the features by default)."

    def infer_shape(self, params: LayerNormParams, inputs: list[Shape]) -> Shape:
        _axis_size(inputs[0], params.axis, "layer_norm")
        return inputs[0]

    keras_classes = ("LayerNormalization",)

    def from_keras(self, config: dict) -> dict:
        return keras_params(config, _NORM_KEYS, rms_scaling=False)

    def layer(self, params: LayerNormParams, inputs: list[Shape]) -> LayerCall:
        return LayerCall("LayerNormalization", params.model_dump())

    def count_params(self, params: LayerNormParams, inputs: list[Shape], output: Shape) -> int:
        features = _axis_size(inputs[0], params.axis, "layer_norm")
        return features * (int(params.center) + int(params.scale))


_NORM_KEYS = {"axis": "axis", "momentum": "momentum", "epsilon": "epsilon", "center": "center",
              "scale": "scale"}


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
