"""Explicit merge nodes: several plain inputs combined into one tensor.

They share their shape rules with the edge kinds (archspec.catalogue.shape_rules), so
`{op: concat}` and a `concat-skip` edge accept and reject the same shapes, and
the element-wise ones broadcast exactly as `add-residual` and `gate` edges do.
"""

from __future__ import annotations

from archspec.catalogue.ops.base import LayerCall, NoParams, Op, OpParams, Shape, ShapeProblem
from archspec.catalogue.shape_rules import Operand, broadcast_shapes, concat_shapes


class ConcatParams(OpParams):
    axis: int = -1


class Concat(Op):
    name = "concat"
    output_dtype = None  # Keras keeps integers (archspec.graph.dtypes)
    family = "merge"
    positional = ("axis",)
    Params = ConcatParams
    arity = "many"
    doc = "Concatenates its plain inputs, in edge order, on `axis` (the channels by default)."

    def merge_shape(self, params: ConcatParams, operands: list[Operand]) -> Shape:
        return concat_shapes(operands, params.axis, what="concat")

    keras_classes = ("Concatenate",)

    def from_keras(self, config: dict) -> dict:
        return {"axis": config["axis"]}

    def layer(self, params: ConcatParams, inputs: list[Shape]) -> LayerCall:
        return LayerCall("Concatenate", {"axis": params.axis})



class _ElementWise(Op):
    """The element-wise merges: no params, any number of broadcast inputs, one Keras merge layer each."""

    Params = NoParams
    arity = "many"
    family = "merge"
    output_dtype = None  # Keras keeps integers (archspec.graph.dtypes; average's mean is float there)
    keras_class: str

    def merge_shape(self, params: NoParams, operands: list[Operand]) -> Shape:
        if self.exact_inputs is not None and len(operands) != self.exact_inputs:
            raise ShapeProblem(
                f"{self.name} takes exactly {self.exact_inputs} inputs",
                expected=str(self.exact_inputs),
                got=str(len(operands)),
            )
        return broadcast_shapes(operands, what=self.name)

    def from_keras(self, config: dict) -> dict:
        return {}

    def layer(self, params: NoParams, inputs: list[Shape]) -> LayerCall:
        return LayerCall(self.keras_class)


class Add(_ElementWise):
    name = "add"
    keras_class = "Add"
    keras_classes = ("Add",)
    doc = "Sums its plain inputs element-wise (shapes broadcast as in numpy)."


class Multiply(_ElementWise):
    name = "multiply"
    keras_class = "Multiply"
    keras_classes = ("Multiply",)
    doc = "Multiplies its plain inputs element-wise (shapes broadcast as in numpy)."


class Subtract(_ElementWise):
    name = "subtract"
    keras_class = "Subtract"
    keras_classes = ("Subtract",)
    exact_inputs = 2
    doc = "First plain input minus the second (in edge order)."


class Average(_ElementWise):
    name = "average"
    keras_class = "Average"
    keras_classes = ("Average",)
    doc = "Element-wise mean of its plain inputs."


class Maximum(_ElementWise):
    name = "maximum"
    keras_class = "Maximum"
    keras_classes = ("Maximum",)
    doc = "Element-wise maximum of its plain inputs."
