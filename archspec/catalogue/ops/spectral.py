"""Ops that mix positions by a fixed transform instead of learned weights: FNet's Fourier token mixing."""

from __future__ import annotations

from archspec.catalogue.ops.base import FLOAT_DTYPES, LayerCall, NoParams, Op, Shape, ShapeProblem, format_shape


class Fourier(Op):
    name = "fourier"
    family = "attention"
    Params = NoParams
    doc = ("The real part of the 2-D discrete Fourier transform over the last two axes (a sequence's steps "
           "and features): FNet's token mixing, in place of attention, with no weights (Lee-Thorp et al., 2021).")
    min_rank = 2
    input_dtypes = FLOAT_DTYPES

    def infer_shape(self, params: NoParams, inputs: list[Shape]) -> Shape:
        shape = inputs[0]
        if len(shape) < 2:
            raise ShapeProblem("fourier transforms the last two axes: it needs an input of rank 2 or more",
                               expected="rank >= 2, e.g. (steps, features)",
                               got=f"{format_shape(shape)} (rank {len(shape)})",
                               hint="add a reshape node before it, e.g. reshape: [-1, features]")
        return shape

    keras_classes = ("Fourier",)

    def from_keras(self, config: dict) -> dict:
        return {}

    def layer(self, params: NoParams, inputs: list[Shape]) -> LayerCall:
        return LayerCall("Fourier", module="archspec.keras.layers")
