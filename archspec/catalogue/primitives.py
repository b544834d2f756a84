"""The small types every stage shares: shapes, shape problems, and the lowered program's steps.

They live outside archspec.catalogue.ops so that the edge kinds (archspec.catalogue.connections)
and the ops can both use them without importing each other.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

Shape = tuple[int | None, ...]
"""A tensor shape without the batch axis; None is a size known only at run time."""

INTEGER_DTYPES = ("int32", "int64", "int16", "int8", "uint8", "uint16")
"""The integer widths an input may declare (token ids: int32 as archspec writes them, int64 as NumPy
and tokenizers give them); every op that takes integers takes each of them."""
FLOAT_DTYPES = ("float32",)
"""What an op that computes in floating point accepts: TensorFlow's kernels for softmax, exp, average
pooling, 1-D and separable convolutions have no integer version, and Keras does not cast for them."""
INPUT_DTYPES = ("float32", *INTEGER_DTYPES)
"""Every dtype an input may declare."""


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
    tensor_kwargs: tuple[tuple[str, str], ...] = ()
    """Keyword arguments that are tensors, as (keyword, var): an attention's `value_mask`."""
    input_shape: tuple[int | None, ...] | None = None
    input_dtype: str = "float32"
    shares: str | None = None
    """The layer_name of an earlier step whose layer this step calls again (a node with `shares:`)."""


@dataclass(frozen=True)
class Operand:
    """A tensor entering a merge or an op: the node it comes from and its shape."""

    name: str
    shape: Shape

    def __str__(self) -> str:
        return f"{format_shape(self.shape)} from '{self.name}'"


@dataclass(frozen=True)
class Application:
    """One step of a node's input plan (archspec.graph.plan): a rule applied to some tensors.

    `sources` names the nodes whose outputs it reads, in order; None stands
    for the node's tensor so far (the result of the application before).
    The shape checker folds `shape` over a node's applications and the
    lowering folds `lower`; each application's result is the next one's
    None. `lower` gets the argument variables, the node's name and the
    operand shapes, and returns the steps it adds (none: it passes its
    first argument on). A problem of the application is located at `edge`
    (an EdgeSpec), or at the node when it is None; `names_main` adds which
    main input the edge met. `intended` is the shape a failed application
    was meant to give, so checking can go on past it and report every error
    of a file; None stops the node there.
    """

    sources: tuple[str | None, ...]
    shape: Callable[[list[Operand]], Shape]
    lower: Callable[[list[str], str, list[Shape]], list[Step]]
    edge: Any = None
    names_main: bool = False
    mixes: bool = False
    """True for an application that combines all of the node's plain inputs (a softmax gate)."""
    intended: Callable[[list[Operand]], Shape | None] | None = None
    is_op: bool = False
    """True for the node's own op: what it sees is the node's `input_shape`."""


def format_shape(shape: Shape) -> str:
    """(28, 28, 1) written as 28x28x1, variable sizes as '?'; the way people say shapes."""
    if not shape:
        return "scalar"
    return "x".join("?" if size is None else str(size) for size in shape)

