"""Dropout that drops whole units: channels (spatial dropout) or a whole residual branch (drop path)."""

from __future__ import annotations

from pydantic import Field

from archspec.catalogue.ops.base import LayerCall, Op, OpParams, Shape, keras_params, require_rank
from archspec.catalogue.primitives import FLOAT_DTYPES


class SpatialDropoutParams(OpParams):
    rate: float = Field(ge=0.0, lt=1.0)
    seed: int | None = None


class _SpatialDropout(Op):
    keras_class: str
    rank: int
    Params = SpatialDropoutParams
    foldable = True

    def infer_shape(self, params: SpatialDropoutParams, inputs: list[Shape]) -> Shape:
        require_rank(inputs[0], self.rank, self.name)
        return inputs[0]

    def layer(self, params: SpatialDropoutParams, inputs: list[Shape]) -> LayerCall:
        return LayerCall(self.keras_class, _rate_kwargs(params))

    def from_keras(self, config: dict) -> dict:
        return keras_params(config, {"rate": "rate", "seed": "seed"}, data_format="channels_last")


class SpatialDropout1D(_SpatialDropout):
    name = "spatial_dropout1d"
    input_dtypes = FLOAT_DTYPES
    family = "keep"
    positional = ("rate",)
    keras_class = "SpatialDropout1D"
    keras_classes = ("SpatialDropout1D",)
    rank = 2
    min_rank = 2
    doc = "Drops whole features of a (steps, features) sequence (the same ones at every step) while training."


class SpatialDropout2D(_SpatialDropout):
    name = "spatial_dropout2d"
    input_dtypes = FLOAT_DTYPES
    family = "keep"
    positional = ("rate",)
    keras_class = "SpatialDropout2D"
    keras_classes = ("SpatialDropout2D",)
    rank = 3
    min_rank = 3
    doc = "Drops whole channels of an image (every pixel of them) while training."


class DropPathParams(OpParams):
    rate: float = Field(ge=0.0, lt=1.0, description="probability of dropping an example's whole branch")
    seed: int | None = None


class DropPath(Op):
    name = "drop_path"
    input_dtypes = FLOAT_DTYPES
    family = "keep"
    positional = ("rate",)
    Params = DropPathParams
    foldable = True
    doc = ("Stochastic depth: while training, zeroes the whole input of an example with probability `rate` "
           "and scales the rest by 1 / (1 - rate); the identity at inference. Put it at the end of a residual "
           "branch, before the add.")
    keras_classes = ("DropPath", "Dropout")
    """Also a Dropout whose noise_shape keeps only the batch axis (None, 1, ..., 1): one draw per
    example, the stochastic depth of keras.applications' EfficientNets (dropout imports the others)."""

    def infer_shape(self, params: DropPathParams, inputs: list[Shape]) -> Shape:
        return inputs[0]

    def layer(self, params: DropPathParams, inputs: list[Shape]) -> LayerCall:
        return LayerCall("DropPath", _rate_kwargs(params), module="archspec.keras.layers")

    def from_keras(self, config: dict) -> dict:
        shape = config.get("noise_shape", "absent")
        if shape != "absent" and (not shape or tuple(shape)[:1] != (None,) or set(list(shape)[1:]) != {1}):
            raise ValueError(f"noise_shape={shape!r} is not one draw per example")
        return keras_params(config, {"rate": "rate", "seed": "seed"})


def _rate_kwargs(params: SpatialDropoutParams | DropPathParams) -> dict:
    return {"rate": params.rate} if params.seed is None else {"rate": params.rate, "seed": params.seed}
