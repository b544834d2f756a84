"""Zero-padding and cropping of sequences (1-D) and images (2-D)."""

from __future__ import annotations

from archspec.graph.ops.base import (
    LayerCall,
    Op,
    OpParams,
    PaddingInt,
    Shape,
    ShapeProblem,
    format_shape,
    keras_params,
    require_rank,
)

Amount1D = PaddingInt | tuple[PaddingInt, PaddingInt]
"""n on both ends, or [start, end]."""
Amount2D = PaddingInt | tuple[PaddingInt, PaddingInt] | tuple[
    tuple[PaddingInt, PaddingInt], tuple[PaddingInt, PaddingInt]]
"""n everywhere, [h, w] on both sides of each axis, or [[top, bottom], [left, right]]."""


class ZeroPadding1DParams(OpParams):
    padding: Amount1D = 1


class ZeroPadding1D(Op):
    name = "zero_padding1d"
    positional = ("padding",)
    Params = ZeroPadding1DParams
    doc = "Adds zero steps to a (steps, features) sequence: `padding` n at both ends, or [start, end]."
    min_rank = 2
    keras_classes = ("ZeroPadding1D",)

    def infer_shape(self, params: ZeroPadding1DParams, inputs: list[Shape]) -> Shape:
        require_rank(inputs[0], 2, "zero_padding1d")
        start, end = pair_1d(params.padding)
        steps, features = inputs[0]
        return (None if steps is None else steps + start + end, features)

    def layer(self, params: ZeroPadding1DParams, inputs: list[Shape]) -> LayerCall:
        return LayerCall("ZeroPadding1D", {"padding": pair_1d(params.padding)})

    def from_keras(self, config: dict) -> dict:
        keras_params(config, {}, data_format="channels_last")
        return {"padding": written_1d(config["padding"])}


class ZeroPadding2DParams(OpParams):
    padding: Amount2D = 1


class ZeroPadding2D(Op):
    name = "zero_padding2d"
    positional = ("padding",)
    Params = ZeroPadding2DParams
    doc = "Pads with zeros: `padding` n, [h, w], or [[top, bottom], [left, right]]."
    min_rank = 3
    keras_classes = ("ZeroPadding2D",)

    def infer_shape(self, params: ZeroPadding2DParams, inputs: list[Shape]) -> Shape:
        require_rank(inputs[0], 3, "zero_padding2d")
        (top, bottom), (left, right) = pairs_2d(params.padding)
        height, width, channels = inputs[0]
        return (
            None if height is None else height + top + bottom,
            None if width is None else width + left + right,
            channels,
        )

    def from_keras(self, config: dict) -> dict:
        keras_params(config, {}, data_format="channels_last")
        return {"padding": written_2d(config["padding"])}

    def layer(self, params: ZeroPadding2DParams, inputs: list[Shape]) -> LayerCall:
        return LayerCall("ZeroPadding2D", {"padding": pairs_2d(params.padding)})


class Cropping1DParams(OpParams):
    cropping: Amount1D = 1


class Cropping1D(Op):
    name = "cropping1d"
    positional = ("cropping",)
    Params = Cropping1DParams
    doc = "Removes steps from a (steps, features) sequence: `cropping` n at both ends, or [start, end]."
    min_rank = 2
    keras_classes = ("Cropping1D",)

    def infer_shape(self, params: Cropping1DParams, inputs: list[Shape]) -> Shape:
        require_rank(inputs[0], 2, "cropping1d")
        steps, features = inputs[0]
        return (_cropped(steps, pair_1d(params.cropping), "steps", inputs[0]), features)

    def layer(self, params: Cropping1DParams, inputs: list[Shape]) -> LayerCall:
        return LayerCall("Cropping1D", {"cropping": pair_1d(params.cropping)})

    def from_keras(self, config: dict) -> dict:
        return {"cropping": written_1d(config["cropping"])}


class Cropping2DParams(OpParams):
    cropping: Amount2D = 1


class Cropping2D(Op):
    name = "cropping2d"
    positional = ("cropping",)
    Params = Cropping2DParams
    doc = "Removes rows and columns at the borders: `cropping` n, [h, w], or [[top, bottom], [left, right]]."
    min_rank = 3
    keras_classes = ("Cropping2D",)

    def infer_shape(self, params: Cropping2DParams, inputs: list[Shape]) -> Shape:
        require_rank(inputs[0], 3, "cropping2d")
        rows, columns = pairs_2d(params.cropping)
        height, width, channels = inputs[0]
        return (_cropped(height, rows, "rows", inputs[0]), _cropped(width, columns, "columns", inputs[0]), channels)

    def layer(self, params: Cropping2DParams, inputs: list[Shape]) -> LayerCall:
        return LayerCall("Cropping2D", {"cropping": pairs_2d(params.cropping)})

    def from_keras(self, config: dict) -> dict:
        keras_params(config, {}, data_format="channels_last")
        return {"cropping": written_2d(config["cropping"])}


def pair_1d(amount: int | tuple[int, int]) -> tuple[int, int]:
    """(start, end) of a 1-D padding or cropping given as n or [start, end]."""
    return (amount, amount) if isinstance(amount, int) else (int(amount[0]), int(amount[1]))


def written_1d(amount: tuple[int, int] | list[int]) -> int | list[int]:
    """Keras's (start, end) as a spec writes it: one number when both ends are equal."""
    start, end = amount
    return start if start == end else [start, end]


def written_2d(amount: object) -> int | list:
    """Keras's ((top, bottom), (left, right)) as a spec writes it: n, [h, w], or the pairs."""
    (top, bottom), (left, right) = amount  # type: ignore[misc]
    if top == bottom and left == right:
        return top if top == left else [top, left]
    return [[top, bottom], [left, right]]


def pairs_2d(amount: object) -> tuple[tuple[int, int], tuple[int, int]]:
    """((top, bottom), (left, right)) of a 2-D padding or cropping given as n, [h, w] or the pairs."""
    if isinstance(amount, int):
        return ((amount, amount), (amount, amount))
    first, second = amount  # type: ignore[misc]
    if isinstance(first, int):
        return ((first, first), (second, second))  # type: ignore[return-value]
    return (tuple(first), tuple(second))  # type: ignore[return-value]


def _cropped(size: int | None, amount: tuple[int, int], what: str, shape: Shape) -> int | None:
    if size is None:
        return None
    if sum(amount) >= size:
        raise ShapeProblem(
            f"cropping {amount[0]} + {amount[1]} {what} leaves nothing of a {format_shape(shape)} input",
            expected=f"at most {size - 1} {what} cropped in total",
            got=str(sum(amount)),
        )
    return size - sum(amount)
