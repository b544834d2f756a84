"""Matrix products as nodes: `matmul` (a @ b) and `einsum` over their plain inputs in edge order.

Their shape rules are archspec.catalogue.products, shared with the `@` and
`einsum(...)` of an `expr` node; they lower to that node's layer
(archspec.keras.layers.Expression) with the product as its expression, so the
two spellings compute the same thing on every backend. They own no weights.
"""

from __future__ import annotations

from string import ascii_lowercase

from pydantic import Field, field_validator

from archspec.catalogue.ops.base import LayerCall, NoParams, Op, OpParams, Shape, ShapeProblem
from archspec.catalogue.primitives import Operand
from archspec.catalogue.products import einsum_shape, matmul_shape, parse_equation


def _expression(expr: str, count: int) -> LayerCall:
    return LayerCall("Expression", {"expr": expr, "names": list(ascii_lowercase[:count])},
                     module="archspec.keras.layers")


class MatMul(Op):
    name = "matmul"
    output_dtype = None  # Keras keeps integers (archspec.graph.dtypes)
    Params = NoParams
    arity = "many"
    exact_inputs = 2
    inputs_hint = "give it the left matrix, then the right one (edge order), or write expr: a @ b"
    doc = ("The matrix product of its two plain inputs in edge order, per example (`a @ b`; leading axes "
           "broadcast): PointNet's `points @ T`.")

    def merge_shape(self, params: NoParams, operands: list[Operand]) -> Shape:
        if len(operands) != 2:
            raise ShapeProblem("matmul multiplies exactly 2 inputs", expected="2", got=str(len(operands)))
        return matmul_shape(*operands)

    def layer(self, params: NoParams, inputs: list[Shape]) -> LayerCall:
        return _expression("a @ b", 2)


class EinsumParams(OpParams):
    equation: str = Field(description="subscripts of each input's axes after the batch, '->', the output's: "
                                      "'nk,km->nm'")

    @field_validator("equation")
    @classmethod
    def _readable(cls, value: str) -> str:
        parse_equation(value)  # its ValueError names the rule; pydantic reports it at the value
        return value


class Einsum(Op):
    name = "einsum"
    positional = ("equation",)
    Params = EinsumParams
    arity = "many"
    inputs_hint = "give it one plain input per operand of its equation, in edge order"
    doc = ("Einstein summation over its plain inputs in edge order; the subscripts name the axes after the "
           "batch (`einsum('nk,km->nm')` is a matmul).")

    def merge_shape(self, params: EinsumParams, operands: list[Operand]) -> Shape:
        return einsum_shape(params.equation, operands)

    def layer(self, params: EinsumParams, inputs: list[Shape]) -> LayerCall:
        names = ", ".join(ascii_lowercase[:len(inputs)])
        return _expression(f"einsum({params.equation!r}, {names})", len(inputs))

    def summary(self, params: EinsumParams) -> str:
        return repr(params.equation)
