"""The small types every stage shares: shapes, shape problems, and the lowered program's steps.

They live outside archspec.graph.ops so that the edge kinds (archspec.graph.connections)
and the ops can both use them without importing each other.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

Shape = tuple[int | None, ...]
"""A tensor shape without the batch axis; None is a size known only at run time."""


class ShapeProblem(Exception):
    """Raised by a shape rule; the shape checker adds the file location and node name."""

    def __init__(
        self, message: str, *, expected: str | None = None, got: str | None = None, hint: str | None = None
    ) -> None:
        super().__init__(message)
        self.message = message
        self.expected = expected
        self.got = got
        self.hint = hint


@dataclass(frozen=True)
class LayerCall:
    """A Keras layer to create: `module.cls(**kwargs)`; `module` is keras.layers unless custom."""

    cls: str
    kwargs: dict[str, Any] = field(default_factory=dict)
    module: str = "keras.layers"


@dataclass(frozen=True)
class Step:
    """One line of the lowered model: `var = layer(args)`, or an input when `call` is None.

    The compiler runs the steps in order and `codegen` prints them, so the
    model archspec builds and the code it shows are the same program.
    """

    var: str
    layer_name: str
    call: LayerCall | None
    args: tuple[str, ...] = ()
    as_list: bool = False
    call_kwargs: dict[str, Any] = field(default_factory=dict)
    input_shape: tuple[int | None, ...] | None = None
    input_dtype: str = "float32"


def format_shape(shape: Shape) -> str:
    """(28, 28, 1) written as 28x28x1, variable sizes as '?'; the way people say shapes."""
    if not shape:
        return "scalar"
    return "x".join("?" if size is None else str(size) for size in shape)

