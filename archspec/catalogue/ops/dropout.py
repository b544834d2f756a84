"""Dropout: of single activations, of whole channels (spatial dropout), of a whole residual branch (drop path).

The family (`_Dropping`) shares its Params (a `rate` and an optional `seed`), its shape rule (the
input's) and its Keras arguments (the seed only when set); each op adds what its input must be and
what an imported layer may carry.
"""

from __future__ import annotations

from typing import Any, ClassVar

from pydantic import Field

from archspec.catalogue.ops.base import LayerCall, Op, OpParams, Shape, keras_params, require_rank
from archspec.catalogue.ops.windows import IMAGE, SEQUENCE, WindowOp
from archspec.catalogue.primitives import FLOAT_DTYPES


class DropoutParams(OpParams):
    rate: float = Field(ge=0.0, lt=1.0)
    seed: int | None = None


SpatialDropoutParams = DropoutParams
"""The name spatial dropout's Params had before the family shared them."""


class DropPathParams(DropoutParams):
    rate: float = Field(ge=0.0, lt=1.0, description="probability of dropping an example's whole branch")


class _Dropping(Op):
    """A dropout: the input's shape, Keras's `rate` and `seed` (passed only when set)."""

    keras_class: ClassVar[str]
    module: ClassVar[str] = "keras.layers"
    """Where keras_class lives (drop path is archspec's own layer)."""
    refused: ClassVar[tuple[tuple[str, Any], ...]] = ()
    """Keras options the op does not express, with the value an imported layer must have."""
    Params = DropoutParams
    family = "keep"
    positional = ("rate",)
    foldable = True

    def infer_shape(self, params: DropoutParams, inputs: list[Shape]) -> Shape:
        return inputs[0]

    def layer(self, params: DropoutParams, inputs: list[Shape]) -> LayerCall:
        kwargs = {"rate": params.rate} if params.seed is None else {"rate": params.rate, "seed": params.seed}
        return LayerCall(self.keras_class, kwargs, module=self.module)

    def from_keras(self, config: dict) -> dict:
        return keras_params(config, {"rate": "rate", "seed": "seed"}, **dict(self.refused))


class Dropout(_Dropping):
    name = "dropout"
    input_dtypes = FLOAT_DTYPES
    doc = "Drops a fraction `rate` (0 <= rate < 1) of activations while training."
    keras_class = "Dropout"
    keras_classes = ("Dropout",)
    refused = (("noise_shape", None),)


class _SpatialDropout(WindowOp, _Dropping):
    """Spatial dropout of either layout: the same features (channels) dropped at every step (pixel)."""

    family = "keep"
    refused = (("data_format", "channels_last"),)

    def infer_shape(self, params: DropoutParams, inputs: list[Shape]) -> Shape:
        require_rank(inputs[0], self.layout.rank, self.name)
        return inputs[0]


class SpatialDropout1D(_SpatialDropout):
    name = "spatial_dropout1d"
    input_dtypes = FLOAT_DTYPES
    layout = SEQUENCE
    keras_class = "SpatialDropout1D"
    doc = "Drops whole features of a (steps, features) sequence (the same ones at every step) while training."


class SpatialDropout2D(_SpatialDropout):
    name = "spatial_dropout2d"
    input_dtypes = FLOAT_DTYPES
    layout = IMAGE
    keras_class = "SpatialDropout2D"
    doc = "Drops whole channels of an image (every pixel of them) while training."


class DropPath(_Dropping):
    name = "drop_path"
    input_dtypes = FLOAT_DTYPES
    Params = DropPathParams
    doc = ("Stochastic depth: while training, zeroes the whole input of an example with probability `rate` "
           "and scales the rest by 1 / (1 - rate); the identity at inference. Put it at the end of a residual "
           "branch, before the add.")
    keras_class = "DropPath"
    module = "archspec.keras.layers"
    keras_classes = ("DropPath", "Dropout")
    """Also a Dropout whose noise_shape keeps only the batch axis (None, 1, ..., 1): one draw per
    example, the stochastic depth of keras.applications' EfficientNets (dropout imports the others)."""

    def from_keras(self, config: dict) -> dict:
        shape = config.get("noise_shape", "absent")
        if shape != "absent" and (not shape or tuple(shape)[:1] != (None,) or set(list(shape)[1:]) != {1}):
            raise ValueError(f"noise_shape={shape!r} is not one draw per example")
        return super().from_keras(config)
