"""Tiny op plugins for tests/ops/test_plugins.py: one good op, and the mistakes the registry must refuse."""

from __future__ import annotations

from pydantic import BaseModel

from archspec.plugin import LayerCall, Op, OpParams, Shape


class ScaleParams(OpParams):
    factor: float = 1.0


class Scale(Op):
    """Multiplies its input by a constant: keras.layers.Rescaling, no weights."""

    name = "scale"
    Params = ScaleParams
    doc = "Multiplies by `factor`."

    def infer_shape(self, params: ScaleParams, inputs: list[Shape]) -> Shape:
        return inputs[0]

    def layer(self, params: ScaleParams, inputs: list[Shape]) -> LayerCall:
        return LayerCall("Rescaling", {"scale": params.factor})


class FakeDense(Scale):
    """Tries to take over the built-in name 'dense'."""

    name = "dense"


class LooseParams(BaseModel):
    factor: float = 1.0


class Loose(Scale):
    """Params not derived from OpParams: unknown keys would be silently accepted."""

    name = "loose"
    Params = LooseParams  # type: ignore[assignment]


class Tinted(Scale):
    """Declares a family diagrams have no fill for."""

    name = "tinted"
    family = "purple"


class NotAnOp:
    name = "not_an_op"
