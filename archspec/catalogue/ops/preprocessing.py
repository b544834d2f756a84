"""Input preprocessing inside the model: rescaling pixel values, normalising with given statistics."""

from __future__ import annotations

from typing import Any

from pydantic import Field, NonNegativeFloat, model_validator

from archspec.catalogue.ops.base import LayerCall, Op, OpParams, Shape, ShapeProblem, format_shape, keras_params


class RescalingParams(OpParams):
    scale: float
    offset: float = 0.0


class Rescaling(Op):
    name = "rescaling"
    family = "keep"
    positional = ("scale", "offset")
    Params = RescalingParams
    foldable = True
    doc = "x * scale + offset, e.g. scale: 0.00392156862745098 (1/255) for pixels in [0, 1]."
    keras_classes = ("Rescaling",)

    def infer_shape(self, params: RescalingParams, inputs: list[Shape]) -> Shape:
        return inputs[0]

    def layer(self, params: RescalingParams, inputs: list[Shape]) -> LayerCall:
        return LayerCall("Rescaling", {"scale": params.scale, "offset": params.offset})

    def from_keras(self, config: dict) -> dict:
        for key in ("scale", "offset"):
            if not isinstance(config.get(key, 0.0), (int, float)):
                raise ValueError(f"{key} per channel is not supported (only one number)")
        return keras_params(config, {"scale": "scale", "offset": "offset"})


class NormalizationParams(OpParams):
    mean: float | list[float] | None = Field(
        default=None, description="one number, or one per feature of the last axis; both null: statistics "
        "are weights (set by adapt(), or copied from an imported model: EfficientNet's input layer)")
    variance: NonNegativeFloat | list[NonNegativeFloat] | None = None

    @model_validator(mode="after")
    def _same_length(self) -> NormalizationParams:
        if (self.mean is None) != (self.variance is None):
            raise ValueError("give both mean and variance, or neither (statistics as weights)")
        if isinstance(self.mean, list) and isinstance(self.variance, list) and len(self.mean) != len(self.variance):
            raise ValueError(f"mean has {len(self.mean)} values but variance has {len(self.variance)}")
        return self


class Normalization(Op):
    name = "normalization"
    family = "keep"
    Params = NormalizationParams
    foldable = True
    doc = "(x - mean) / sqrt(variance) with given statistics (per feature of the last axis, or one for all)."
    keras_classes = ("Normalization",)

    def infer_shape(self, params: NormalizationParams, inputs: list[Shape]) -> Shape:
        features = inputs[0][-1] if inputs[0] else None
        for key in ("mean", "variance"):
            value = getattr(params, key)
            if isinstance(value, list) and len(value) not in (1, features):
                raise ShapeProblem(
                    f"normalization has {len(value)} {key} values for {format_shape(inputs[0])} inputs",
                    expected=f"one number, or {features} (one per feature of the last axis)",
                    got=str(len(value)),
                )
        return inputs[0]

    def layer(self, params: NormalizationParams, inputs: list[Shape]) -> LayerCall:
        if params.mean is None:
            return LayerCall("Normalization", {})
        return LayerCall("Normalization", {"mean": params.mean, "variance": params.variance})

    def count_params(self, params: NormalizationParams, inputs: list[Shape], output: Shape) -> int:
        """Statistics held as weights: mean and variance per feature, and Keras's sample count."""
        return 0 if params.mean is not None else 2 * int(inputs[0][-1] or 0) + 1

    def from_keras(self, config: dict) -> dict:
        if config.get("invert"):
            raise ValueError("invert=True is not supported")
        axis = config.get("axis")
        axes = [-1] if axis is None else list(axis) if isinstance(axis, (list, tuple)) else [axis]
        if len(axes) != 1:  # a single axis: the last one, or the import's compile-and-compare check says so
            raise ValueError(f"axis={axis!r} is not supported (only the last axis, -1)")
        if config.get("mean") is None:
            return {}
        return {"mean": _plain(config["mean"]), "variance": _plain(config["variance"])}


def _plain(value: Any) -> float | list[float]:
    """A config's statistics as a number or a flat list of numbers."""
    if isinstance(value, (int, float)):
        return float(value)
    items = [float(item) for item in (value.tolist() if hasattr(value, "tolist") else value)]
    return items
