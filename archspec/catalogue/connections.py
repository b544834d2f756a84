"""The edge kinds: how a source tensor joins its target node's input, checked and lowered.

A node's *main input* is what its plain in-edges bring (one tensor, or k
tensors mixed by a softmax gate). Every other edge kind changes that main
input before the node's op sees it, in the order the edges are written:

    concat-skip   x = concat([x, source], axis)
    add-residual  x = x + source                     (numpy broadcasting)
    gate          x = x * f(source)                  (one main input; f = sigmoid, hard_sigmoid,
                                                      tanh or none; numpy broadcasting)
                  x = sum_i softmax(source)_i * x_i  (k main inputs)
    attention     the node (an `attention` op) attends from x to source
    mask          the node (an `attention` op) attends only to the key steps where source != 0
    relative      the node (an `attention` op with `relative`) scores relative positions from source

Each kind is one `Connection`: its params model, where its edges go in the
node's input plan (`collect`), the application it becomes (`application`:
shape rule and Keras layers), and its label in diagrams. archspec.graph.plan
asks each edge's connection; it never branches on kind names. The base
class is in connection_base, the two kinds that feed an attention node in
attention_edges; this module lists every kind (`CONNECTIONS`).
"""

from __future__ import annotations

from typing import Any, ClassVar, Literal

from pydantic import ConfigDict, Field

from archspec.catalogue.attention_edges import (  # noqa: F401
    Attention,
    AttentionParams,
    Mask,
    MaskParams,
    Relative,
    RelativeParams,
)
from archspec.catalogue.connection_base import (
    Connection,
    EdgeParams,
    EdgeStyle,
    NodeInputs,
)
from archspec.catalogue.primitives import Application, LayerCall, Operand, Shape, Step
from archspec.catalogue.shape_rules import (
    broadcast_shapes,
    concat_intended,
    concat_shapes,
    equal_shapes,  # noqa: F401 (re-exported: ops written against the old module import it from here)
    gate_shape,
    sigmoid_gate_shape,  # noqa: F401 (re-exported, as above)
    softmax_gate_shape,
)
from archspec.errors import GraphError


class PlainParams(EdgeParams):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    name: str | None = Field(default=None, alias="as", pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")
    """`as:` names the input inside an `expr` node's expression (only there)."""


class ConcatParams(EdgeParams):
    axis: int = -1


class ResidualParams(EdgeParams):
    pass


GateActivation = Literal["sigmoid", "hard_sigmoid", "softmax", "tanh", "none"]


class GateParams(EdgeParams):
    activation: GateActivation | None = None
    """None: softmax over k > 1 main inputs, else sigmoid (see Gate.activation)."""


class Plain(Connection):
    kind = "plain"
    style = EdgeStyle("#546e7a", "solid", 1.3, "────")
    Params = PlainParams
    doc = "Passes the tensor on as (one of) the target's main inputs."
    merges = False

    def collect(self, edge: Any, inputs: NodeInputs) -> None:
        inputs.mains.append(edge)

    def label(self, edge: Any, mains: int) -> str:
        """An input of an expr node is drawn with the name its expression reads."""
        return f"as {edge.params.name}" if edge.params.name else ""


class ConcatSkip(Connection):
    kind = "concat-skip"
    style = EdgeStyle("#1e88e5", "dashed", 2.0, "╌╌╌╌")
    Params = ConcatParams
    doc = "Concatenates the source onto the main input (channel axis by default): feature reuse, U-Net."
    glyph = "‖"

    def merge_shape(self, params: ConcatParams, main: Operand, source: Operand) -> Shape:
        return concat_shapes([main, source], params.axis, what="concat-skip")

    def intended_shape(self, params: ConcatParams, main: Operand, source: Operand) -> Shape | None:
        return concat_intended(main.shape, source.shape, params.axis)

    def lower(self, params: ConcatParams, main: str, source: str, target: str) -> list[Step]:
        return [Step(f"{target}.concat_skip", f"{target}.concat_skip",
                     LayerCall("Concatenate", {"axis": params.axis}), (main, source), as_list=True)]


class AddResidual(Connection):
    kind = "add-residual"
    style = EdgeStyle("#2e7d32", "bold", 2.6, "━━━━")
    Params = ResidualParams
    doc = "Adds the source to the main input, H(x) = F(x) + x: ResNet. Shapes broadcast as in numpy."
    glyph = "⊕"

    def merge_shape(self, params: ResidualParams, main: Operand, source: Operand) -> Shape:
        return broadcast_shapes([main, source], what="add-residual")

    def lower(self, params: ResidualParams, main: str, source: str, target: str) -> list[Step]:
        return [Step(f"{target}.add_residual", f"{target}.add_residual", LayerCall("Add"),
                     (main, source), as_list=True)]


class Gate(Connection):
    kind = "gate"
    style = EdgeStyle("#ef6c00", "dotted", 2.4, "┈┈┈┈")
    Params = GateParams
    doc = (
        "Multiplies the main input by f(source), f = sigmoid (default), hard_sigmoid, tanh or none, "
        "the shapes broadcasting as in numpy; with k main inputs, mixes them with softmax(source) weights."
    )
    glyph = "⊗"
    LABELS: ClassVar[dict[str, str]] = {
        "sigmoid": "σ", "hard_sigmoid": "hard σ", "tanh": "tanh", "softmax": "softmax", "none": "",
    }
    """What the diagram writes on a gate edge, by activation."""

    @staticmethod
    def activation(edge: Any, mains: int) -> str:
        """The activation a gate edge applies: as written, else softmax over k > 1 inputs, else sigmoid."""
        return edge.params.activation or ("softmax" if mains > 1 else "sigmoid")

    def application(self, edge: Any, mains: list[Any]) -> Application:
        activation = self.activation(edge, len(mains))
        if activation != "softmax":
            return Application(
                (None, edge.source),
                shape=lambda operands: gate_shape(operands[0], operands[1], activation),
                lower=lambda args, target, shapes: _gate_steps(activation, args[0], args[1], target),
                edge=edge,
                names_main=True,
                intended=lambda operands: operands[0].shape,
            )
        if len(mains) == 1:
            raise GraphError(
                f"a softmax gate mixes two or more main inputs, but '{edge.target}' has one "
                f"({mains[0].source})",
                location=edge.location, node=edge.target, edge=f"gate {edge.source} -> {edge.target}",
                expected="two or more plain edges into the target",
                hint="use activation: sigmoid to scale one input, or add the inputs to mix",
            )
        return Application(
            (*(main.source for main in mains), edge.source),
            shape=lambda operands: softmax_gate_shape(operands[:-1], operands[-1]),
            lower=lambda args, target, shapes: [_gate_mix(args[:-1], args[-1], target)],
            edge=edge,
            mixes=True,
        )

    def label(self, edge: Any, mains: int) -> str:
        return self.LABELS[self.activation(edge, mains)]


def _gate_steps(activation: str, main: str, source: str, target: str) -> list[Step]:
    """x * f(g): Activation(f) named T.gate_F (none: no layer), then Multiply named T.gate."""
    steps = []
    if activation != "none":
        name = f"{target}.gate_{activation}"
        steps.append(Step(name, name, LayerCall("Activation", {"activation": activation}), (source,)))
        source = name
    return [*steps, Step(f"{target}.gate", f"{target}.gate", LayerCall("Multiply"), (main, source),
                         as_list=True)]


def _gate_mix(mains: list[str], gate: str, target: str) -> Step:
    """The step that mixes tensors `mains` with softmax(`gate`) weights at node `target`."""
    name = f"{target}.gate_softmax"
    return Step(name, name, LayerCall("GateMix", {"inputs": len(mains)}, module="archspec.keras.layers"),
                (*mains, gate), as_list=True)


CONNECTIONS: dict[str, Connection] = {
    connection.kind: connection
    for connection in (Plain(), ConcatSkip(), AddResidual(), Gate(), Attention(), Mask(), Relative())
}
"""Every edge kind, by the name written in `kind:`."""
