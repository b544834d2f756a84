"""Activation layers with parameters of their own (Keras's LeakyReLU, PReLU, ELU, Softmax).

The parameterless functions are the `activation` op and the `activation:` option of
dense and convolution ops; `relu` (with max_value, threshold) lives in extra.py.
"""

from __future__ import annotations

import math

from pydantic import Field, NonNegativeFloat, PositiveInt

from archspec.catalogue.ops.base import (
    LayerCall,
    Op,
    OpParams,
    Shape,
    ShapeProblem,
    fields_after,
    format_shape,
    keras_params,
)
from archspec.catalogue.ops.weights import weight_group, weight_kwargs, weight_params
from archspec.catalogue.primitives import FLOAT_DTYPES


class _SameShape(Op):
    """An element-wise layer: the output has its input's shape."""

    foldable = True

    def infer_shape(self, params: OpParams, inputs: list[Shape]) -> Shape:
        return inputs[0]


class LeakyReluParams(OpParams):
    negative_slope: NonNegativeFloat = Field(default=0.3, description="the slope below zero (Keras's default)")


class LeakyRelu(_SameShape):
    name = "leaky_relu"
    family = "keep"
    positional = ("negative_slope",)
    Params = LeakyReluParams
    doc = "x above zero, negative_slope * x below (Keras's LeakyReLU; the default slope is 0.3)."
    keras_classes = ("LeakyReLU",)

    def layer(self, params: LeakyReluParams, inputs: list[Shape]) -> LayerCall:
        return LayerCall("LeakyReLU", {"negative_slope": params.negative_slope})

    def from_keras(self, config: dict) -> dict:
        return keras_params(config, {"negative_slope": "negative_slope"})


class EluParams(OpParams):
    alpha: NonNegativeFloat = 1.0


class Elu(_SameShape):
    name = "elu"
    input_dtypes = FLOAT_DTYPES
    family = "keep"
    Params = EluParams
    doc = "x above zero, alpha * (exp(x) - 1) below (Keras's ELU)."
    keras_classes = ("ELU",)

    def layer(self, params: EluParams, inputs: list[Shape]) -> LayerCall:
        return LayerCall("ELU", {"alpha": params.alpha})

    def from_keras(self, config: dict) -> dict:
        return keras_params(config, {"alpha": "alpha"})


class SoftmaxParams(OpParams):
    axis: int = -1


class Softmax(_SameShape):
    name = "softmax"
    input_dtypes = FLOAT_DTYPES
    family = "keep"
    Params = SoftmaxParams
    doc = "Softmax over `axis` (the last by default), e.g. attention weights over the steps (axis: 1)."
    keras_classes = ("Softmax",)

    def infer_shape(self, params: SoftmaxParams, inputs: list[Shape]) -> Shape:
        _check_axes(inputs[0], [params.axis], "softmax axis")
        return inputs[0]

    def layer(self, params: SoftmaxParams, inputs: list[Shape]) -> LayerCall:
        return LayerCall("Softmax", {"axis": params.axis})

    def from_keras(self, config: dict) -> dict:
        axis = config.get("axis", -1)
        return {"axis": axis[0] if isinstance(axis, (list, tuple)) and len(axis) == 1 else axis}


_PRELU_WEIGHTS = {"alpha_initializer": "alpha_init", "alpha_regularizer": "alpha_reg"}


@fields_after(weight_group(_PRELU_WEIGHTS))
class PreluParams(OpParams):
    shared_axes: list[PositiveInt] | None = Field(
        default=None, description="axes (1 = first after the batch) that share one slope, e.g. [1, 2] for images")


class Prelu(_SameShape):
    name = "prelu"
    input_dtypes = FLOAT_DTYPES
    family = "keep"
    Params = PreluParams
    doc = "Leaky ReLU with a learned slope per value (or per channel with shared_axes: [1, 2])."
    keras_classes = ("PReLU",)

    def infer_shape(self, params: PreluParams, inputs: list[Shape]) -> Shape:
        _check_axes(inputs[0], params.shared_axes or [], "prelu shared axis")
        if any(size is None for size in _slope_shape(params, inputs[0])):
            raise ShapeProblem("prelu learns a slope per value, so every unshared axis must be known",
                               got=format_shape(inputs[0]), hint="share the variable axes, e.g. shared_axes: [1]")
        return inputs[0]

    def layer(self, params: PreluParams, inputs: list[Shape]) -> LayerCall:
        kwargs = {} if params.shared_axes is None else {"shared_axes": list(params.shared_axes)}
        return LayerCall("PReLU", {**kwargs, **weight_kwargs(params, _PRELU_WEIGHTS)})

    def from_keras(self, config: dict) -> dict:
        shared = config.get("shared_axes")
        params = {} if shared is None else {"shared_axes": list(shared)}
        return {**params, **weight_params(config, _PRELU_WEIGHTS)}

    def count_params(self, params: PreluParams, inputs: list[Shape], output: Shape) -> int:
        return math.prod(_slope_shape(params, inputs[0]))  # type: ignore[arg-type]


def _slope_shape(params: PreluParams, shape: Shape) -> list[int | None]:
    """The sizes of PReLU's alpha: the input's, without the shared axes (1 = the first after the batch)."""
    shared = {axis if axis > 0 else axis + len(shape) + 1 for axis in params.shared_axes or []}
    return [size for axis, size in enumerate(shape, start=1) if axis not in shared]


def _check_axes(shape: Shape, axes: list[int], what: str) -> None:
    rank = len(shape)
    for axis in axes:
        if axis == 0 or not -rank <= axis <= rank:
            raise ShapeProblem(
                f"{what} {axis} does not exist for an input of shape {format_shape(shape)}",
                expected=f"an axis from 1 to {rank} (or -1 to -{rank})",
                got=str(axis),
                hint="axis 0 is the batch; axes count from 1",
            )
