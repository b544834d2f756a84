"""The edge kinds: how a source tensor joins its target node's input, checked and lowered.

A node's *main input* is what its plain in-edges bring (one tensor, or k
tensors mixed by a softmax gate). Every other edge kind changes that main
input before the node's op sees it, in the order the edges are written:

    concat-skip   x = concat([x, source], axis)
    add-residual  x = x + source
    gate          x = x * sigmoid(source)            (one main input)
                  x = sum_i softmax(source)_i * x_i  (k main inputs)
    attention     the node (an `attention` op) attends from x to source

Each kind is one `Connection`: its params model, its shape rule and the
Keras layers it lowers to. Merge ops (`concat`, `add`, `gate`, ...) reuse the
same shape rules, so an explicit merge node and an edge kind always agree.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict

from archspec.graph.primitives import LayerCall, Shape, ShapeProblem, Step, format_shape


@dataclass(frozen=True)
class Operand:
    """A tensor entering a merge: the node it comes from and its shape."""

    name: str
    shape: Shape

    def __str__(self) -> str:
        return f"{format_shape(self.shape)} from '{self.name}'"


class EdgeParams(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class PlainParams(EdgeParams):
    pass


class ConcatParams(EdgeParams):
    axis: int = -1


class ResidualParams(EdgeParams):
    pass


class GateParams(EdgeParams):
    activation: Literal["sigmoid", "softmax"] | None = None


class AttentionParams(EdgeParams):
    pass


class Connection:
    """One edge kind. `glyph` is what `render` draws at the target (line styles: diagram.EDGE_STYLES)."""

    kind: ClassVar[str]
    Params: ClassVar[type[EdgeParams]]
    doc: ClassVar[str]
    glyph: ClassVar[str] = ""
    merges: ClassVar[bool] = True
    """False for edges that do not change the main input (plain, attention)."""

    def merge_shape(self, params: Any, main: Operand, source: Operand) -> Shape:
        raise NotImplementedError

    def lower(self, params: Any, main: str, source: str, target: str) -> list[Step]:
        """The steps that merge tensor `source` into tensor `main` at node `target`; the last is the result."""
        raise NotImplementedError


class Plain(Connection):
    kind = "plain"
    Params = PlainParams
    doc = "Passes the tensor on as (one of) the target's main inputs."
    merges = False


class ConcatSkip(Connection):
    kind = "concat-skip"
    Params = ConcatParams
    doc = "Concatenates the source onto the main input (channel axis by default): feature reuse, U-Net."
    glyph = "‖"

    def merge_shape(self, params: ConcatParams, main: Operand, source: Operand) -> Shape:
        return concat_shapes([main, source], params.axis, what="concat-skip")

    def lower(self, params: ConcatParams, main: str, source: str, target: str) -> list[Step]:
        return [Step(f"{target}.concat_skip", f"{target}.concat_skip",
                     LayerCall("Concatenate", {"axis": params.axis}), (main, source), as_list=True)]


class AddResidual(Connection):
    kind = "add-residual"
    Params = ResidualParams
    doc = "Adds the source to the main input, H(x) = F(x) + x: ResNet. Shapes must be equal."
    glyph = "⊕"

    def merge_shape(self, params: ResidualParams, main: Operand, source: Operand) -> Shape:
        return equal_shapes([main, source], what="add-residual")

    def lower(self, params: ResidualParams, main: str, source: str, target: str) -> list[Step]:
        return [Step(f"{target}.add_residual", f"{target}.add_residual", LayerCall("Add"),
                     (main, source), as_list=True)]


class Gate(Connection):
    kind = "gate"
    Params = GateParams
    doc = (
        "Multiplies the main input by sigmoid(source) (one main input), or mixes k main inputs "
        "with softmax(source) weights (k plain inputs)."
    )
    glyph = "⊗"

    def merge_shape(self, params: GateParams, main: Operand, source: Operand) -> Shape:
        if (params.activation or "sigmoid") == "softmax":
            raise ShapeProblem(
                "a softmax gate mixes two or more main inputs, but this node has one",
                expected="two or more plain edges into the target",
                got="one",
                hint="use activation: sigmoid to scale one input, or add the other inputs",
            )
        return sigmoid_gate_shape(main, source)

    def lower(self, params: GateParams, main: str, source: str, target: str) -> list[Step]:
        sigmoid = f"{target}.gate_sigmoid"
        return [
            Step(sigmoid, sigmoid, LayerCall("Activation", {"activation": "sigmoid"}), (source,)),
            Step(f"{target}.gate", f"{target}.gate", LayerCall("Multiply"), (main, sigmoid), as_list=True),
        ]


class Attention(Connection):
    kind = "attention"
    Params = AttentionParams
    doc = "Gives an `attention` node its keys and values; the main input supplies the queries."
    glyph = "◈"  # Geometric Shapes: in common fonts, unlike U+27D0 ⟐
    merges = False


CONNECTIONS: dict[str, Connection] = {
    connection.kind: connection
    for connection in (Plain(), ConcatSkip(), AddResidual(), Gate(), Attention())
}
"""Every edge kind, by the name written in `kind:`."""


def concat_shapes(operands: list[Operand], axis: int, *, what: str) -> Shape:
    """Shape of concatenating `operands` on `axis` (batch excluded); all other axes must match."""
    first = operands[0]
    rank = len(first.shape)
    if not (-rank <= axis < 0 or 1 <= axis <= rank):
        raise ShapeProblem(
            f"{what} axis {axis} does not exist for rank-{rank} inputs",
            expected=f"-1..-{rank} or 1..{rank}",
            got=str(axis),
        )
    index = axis if axis < 0 else axis - 1
    index %= rank
    total: int | None = 0
    for operand in operands:
        if len(operand.shape) != rank:
            raise ShapeProblem(
                f"{what} inputs differ in rank",
                expected=str(first),
                got=str(operand),
                hint="flatten or reshape one side so both have the same number of axes",
            )
        others_first = first.shape[:index] + first.shape[index + 1:]
        others = operand.shape[:index] + operand.shape[index + 1:]
        if not _compatible(others_first, others):
            axis_names = _axis_names(rank)
            mismatch = [axis_names[i] for i in range(rank) if i != index
                        and not _compatible((first.shape[i],), (operand.shape[i],))]
            raise ShapeProblem(
                f"{' and '.join(mismatch)} must match for concatenation on the "
                f"{axis_names[index]} axis",
                expected=str(first),
                got=str(operand),
                hint=_resize_hint(first.shape, operand.shape),
            )
        size = operand.shape[index]
        total = None if total is None or size is None else total + size
    return first.shape[:index] + (total,) + first.shape[index + 1:]


def equal_shapes(operands: list[Operand], *, what: str) -> Shape:
    """Shape of an element-wise merge (add, multiply, ...): every input must have the same shape."""
    first = operands[0]
    for operand in operands[1:]:
        if len(operand.shape) != len(first.shape) or not _compatible(first.shape, operand.shape):
            hint = _resize_hint(first.shape, operand.shape)
            if len(first.shape) == 3 and first.shape[:2] == operand.shape[:2]:
                hint = "add a 1x1 conv2d projection on the shortcut so the channels match, or use concat-skip"
            elif len(first.shape) == len(operand.shape) == 1:
                hint = "add a dense projection on the shortcut so the sizes match, or use concat-skip"
            raise ShapeProblem(
                f"{what} inputs differ in shape",
                expected=str(first),
                got=str(operand),
                hint=hint,
            )
    return tuple(
        next((size for size in sizes if size is not None), None)
        for sizes in zip(*(operand.shape for operand in operands))
    )


def sigmoid_gate_shape(main: Operand, gate: Operand) -> Shape:
    """x * sigmoid(g): g has x's shape, or x's shape with a last axis of 1 (one gate per position)."""
    same = len(gate.shape) == len(main.shape) and _compatible(gate.shape, main.shape)
    per_position = (
        len(gate.shape) == len(main.shape)
        and gate.shape[-1] == 1
        and _compatible(gate.shape[:-1], main.shape[:-1])
    )
    if not (same or per_position):
        raise ShapeProblem(
            "a sigmoid gate must have the shape of the input it scales",
            expected=f"{format_shape(main.shape)} (or last axis 1), like '{main.name}'",
            got=str(gate),
            hint=f"make '{gate.name}' produce {main.shape[-1]} features, e.g. a dense layer with "
            f"units: {main.shape[-1]}",
        )
    return main.shape


def softmax_gate_shape(mains: list[Operand], gate: Operand) -> Shape:
    """sum_i softmax(g)_i * x_i: the x_i share a shape S, and g is S[:-1] + (k,)."""
    shape = equal_shapes(mains, what="softmax-gated")
    expected = shape[:-1] + (len(mains),)
    if len(gate.shape) != len(expected) or not _compatible(gate.shape, expected):
        raise ShapeProblem(
            f"a softmax gate over {len(mains)} inputs needs one logit per input",
            expected=f"{format_shape(expected)} (one weight for each of "
            + ", ".join(f"'{m.name}'" for m in mains) + ")",
            got=str(gate),
            hint=f"make '{gate.name}' a dense layer with units: {len(mains)}",
        )
    return shape


def lower_softmax_gate(mains: list[str], gate: str, target: str) -> Step:
    """The step that mixes tensors `mains` with softmax(`gate`) weights at node `target`."""
    name = f"{target}.gate_softmax"
    return Step(name, name, LayerCall("GateMix", {"inputs": len(mains)}, module="archspec.keras.layers"),
                (*mains, gate), as_list=True)


def _compatible(left: Shape, right: Shape) -> bool:
    return len(left) == len(right) and all(
        a is None or b is None or a == b for a, b in zip(left, right)
    )


def _axis_names(rank: int) -> list[str]:
    if rank == 3:
        return ["height", "width", "channels"]
    if rank == 2:
        return ["steps", "features"]
    return [f"axis {i + 1}" for i in range(rank)]


def _resize_hint(expected: Shape, got: Shape) -> str:
    if (len(expected) == 3 and len(got) == 3 and expected[:2] != got[:2]
            and None not in expected[:2] and None not in got[:2]):
        if got[0] > expected[0]:  # type: ignore[operator]
            return (
                "spatial sizes must match: connect the source from the encoder level of the same "
                "size, or add a max_pool2d on the skip"
            )
        return (
            "spatial sizes must match: connect the skip to a decoder node after the upsample2d that "
            "reaches the same size"
        )
    return "make both inputs the same shape (reshape, pooling, or a projection layer)"
