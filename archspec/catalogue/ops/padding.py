"""Zero-padding and cropping of sequences (1-D) and images (2-D); `pad`: any axes, any mode."""

from __future__ import annotations

import inspect
from typing import Any, ClassVar, Literal

from pydantic import Field, NonNegativeInt, create_model

from archspec.catalogue.ops.base import (
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
from archspec.catalogue.ops.windows import IMAGE, SEQUENCE, WindowOp

Amount1D = PaddingInt | tuple[PaddingInt, PaddingInt]
"""n on both ends, or [start, end]."""
Amount2D = PaddingInt | tuple[PaddingInt, PaddingInt] | tuple[
    tuple[PaddingInt, PaddingInt], tuple[PaddingInt, PaddingInt]]
"""n everywhere, [h, w] on both sides of each axis, or [[top, bottom], [left, right]]."""
AMOUNTS = {SEQUENCE: Amount1D, IMAGE: Amount2D}


class _Border(WindowOp):
    """Zero-padding or cropping of the outer axes: one (start, end) pair per axis, as Keras takes them.

    An op of the family declares its name, layout and Keras class; its docstring is its doc, and
    its Params (ZeroPadding1DParams: `padding`, n or [start, end]) are its key with its layout's
    amounts, made here, so that each rule and each parameter is written once for both layouts.
    """

    output_dtype = None  # zeros around integers stay integers

    key: ClassVar[str]
    """The parameter and the Keras argument: `padding` or `cropping`."""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "layout" in cls.__dict__:
            cls.doc = inspect.cleandoc(cls.__doc__ or "")
            cls.Params = create_model(f"{cls.__name__}Params", __base__=OpParams, __module__=cls.__module__,
                                      __qualname__=f"{cls.__qualname__}.Params",  # pickled by that path
                                      **{cls.key: (AMOUNTS[cls.layout], 1)})

    def pairs(self, params: OpParams) -> tuple[tuple[int, int], ...]:
        amount = getattr(params, self.key)
        return (pair_1d(amount),) if self.layout is SEQUENCE else pairs_2d(amount)

    def resize(self, size: int | None, pair: tuple[int, int], what: str, shape: Shape) -> int | None:
        raise NotImplementedError

    def infer_shape(self, params: OpParams, inputs: list[Shape]) -> Shape:
        require_rank(inputs[0], self.layout.rank, self.name)
        *sizes, channels = inputs[0]
        return (*(self.resize(size, pair, what, inputs[0])
                  for size, pair, what in zip(sizes, self.pairs(params), self.layout.axes, strict=True)), channels)

    def layer(self, params: OpParams, inputs: list[Shape]) -> LayerCall:
        pairs = self.pairs(params)
        return LayerCall(self.keras_class, {self.key: pairs[0] if len(pairs) == 1 else pairs})

    def from_keras(self, config: dict) -> dict:
        keras_params(config, {}, data_format="channels_last")
        written = written_1d if self.layout is SEQUENCE else written_2d
        return {self.key: written(config[self.key])}


class _Padding(_Border):
    key = "padding"
    positional = ("padding",)

    def resize(self, size: int | None, pair: tuple[int, int], what: str, shape: Shape) -> int | None:
        return None if size is None else size + sum(pair)


class _Cropping(_Border):
    key = "cropping"
    positional = ("cropping",)

    def resize(self, size: int | None, pair: tuple[int, int], what: str, shape: Shape) -> int | None:
        return _cropped(size, pair, what, shape)


class ZeroPadding1D(_Padding):
    """Adds zero steps to a (steps, features) sequence: `padding` n at both ends, or [start, end]."""

    name, layout, keras_class = "zero_padding1d", SEQUENCE, "ZeroPadding1D"


class ZeroPadding2D(_Padding):
    """Pads with zeros: `padding` n, [h, w], or [[top, bottom], [left, right]]."""

    name, layout, keras_class = "zero_padding2d", IMAGE, "ZeroPadding2D"


class Cropping1D(_Cropping):
    """Removes steps from a (steps, features) sequence: `cropping` n at both ends, or [start, end]."""

    name, layout, keras_class = "cropping1d", SEQUENCE, "Cropping1D"


class Cropping2D(_Cropping):
    """Removes rows and columns at the borders: `cropping` n, [h, w], or [[top, bottom], [left, right]]."""

    name, layout, keras_class = "cropping2d", IMAGE, "Cropping2D"


PAD_MODES = ("constant", "reflect", "symmetric")
"""The modes of keras.ops.pad that every Keras backend computes (edge, wrap and the statistics modes are
NumPy's and JAX's only)."""


class PadParams(OpParams):
    padding: list[tuple[NonNegativeInt, NonNegativeInt]] = Field(
        min_length=1, description="[start, end] for each axis of the input (batch excluded), in order")
    mode: Literal[PAD_MODES] = "constant"  # type: ignore[valid-type]
    value: float = Field(default=0.0, description="the fill of mode constant")


class Pad(Op):
    name = "pad"
    output_dtype = None
    family = "conv"
    Params = PadParams
    doc = ("Pads every axis by its [start, end] pair: with `value` (mode constant), mirrored without the edge "
           "(reflect) or with it (symmetric), as keras.ops.pad and torch's F.pad do.")
    keras_classes = ("Pad",)

    def infer_shape(self, params: PadParams, inputs: list[Shape]) -> Shape:
        shape = inputs[0]
        require_rank(shape, len(params.padding), self.name)
        if len(shape) != len(params.padding):
            raise ShapeProblem(f"pad gives {len(params.padding)} [start, end] pairs for a {format_shape(shape)} input",
                               expected=f"{len(shape)} pairs, one per axis", got=str(len(params.padding)))
        limit = {"reflect": 1, "symmetric": 0}.get(params.mode)
        for axis, (size, pair) in enumerate(zip(shape, params.padding), start=1):
            if limit is not None and size is not None and max(pair) > size - limit:
                raise ShapeProblem(f"{params.mode} padding of {max(pair)} on axis {axis} needs more positions than "
                                   f"the {size} of a {format_shape(shape)} input",
                                   expected=f"at most {size - limit}", got=str(max(pair)),
                                   hint="pad less, or use mode constant")
        return tuple(None if size is None else size + sum(pair) for size, pair in zip(shape, params.padding))

    def layer(self, params: PadParams, inputs: list[Shape]) -> LayerCall:
        return LayerCall("Pad", {"padding": [list(pair) for pair in params.padding], "mode": params.mode,
                                 "value": params.value}, module="archspec.keras.layers")

    def from_keras(self, config: dict) -> dict:
        return {"padding": [list(pair) for pair in config["padding"]], "mode": config["mode"],
                **({"value": config["value"]} if config["value"] else {})}


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
