"""`op: expr`, a tensor expression over named inputs and learned tensors: `x * (1 - t) + h * t`.

Its inputs are its plain in-edges, each named by the edge's `as:` (the one
unnamed input is `x`); `learnable:` declares tensors of given shapes that the
layer learns (LayerScale's gamma). The expression is parsed and checked by
archspec.catalogue.expression; shapes follow numpy broadcasting (batch excluded);
it lowers to one archspec.keras.layers.Expression layer.
"""

from __future__ import annotations

import math
from typing import Any

from pydantic import Field, PositiveInt, field_validator

from archspec.catalogue.expression import (
    Expression,
    ExpressionProblem,
    Folder,
    cached,
    fold,
    operator_offset,
    parse_expression,
)
from archspec.catalogue.ops.base import LayerCall, Op, OpParams, Shape, ShapeProblem, format_shape
from archspec.catalogue.ops.weights import Initializer, weight_kwargs, weight_params
from archspec.catalogue.primitives import FLOAT_DTYPES, Operand
from archspec.catalogue.products import einsum_shape, matmul_shape
from archspec.catalogue.shape_rules import broadcast_shapes


class LearnableTensor(OpParams):
    shape: list[PositiveInt] = Field(min_length=1, description="the tensor's shape (no batch axis)")
    init: Initializer = "zeros"


class ExprParams(OpParams):
    expr: str = Field(description="the expression, e.g. 'x * sigmoid(g)'")
    learnable: dict[str, LearnableTensor] = Field(default_factory=dict)

    @field_validator("expr")
    @classmethod
    def _readable(cls, value: str) -> str:
        parse_expression(value)  # ExpressionProblem is a ValueError: pydantic reports it at the value
        return value

    def expression(self) -> Expression:
        return cached(self.expr)


class ExprShapeProblem(ShapeProblem):
    """A shape problem at character `offset` of the expression."""

    def __init__(self, problem: ShapeProblem, offset: int) -> None:
        super().__init__(problem.message, expected=problem.expected, got=problem.got, hint=problem.hint)
        self.offset = offset


class Expr(Op):
    name = "expr"
    Params = ExprParams
    arity = "named"
    text_param = "expr"
    positional = ("expr",)
    doc = ("A tensor expression over named inputs and learned tensors, with numpy broadcasting: "
           "`x * (1 - t) + h * t` (highway), `x * gamma + beta` (FiLM), `a * sigmoid(b)` (GLU).")

    def accepted_dtypes(self, params: ExprParams) -> tuple[str, ...]:
        """A learned tensor is float32, and TensorFlow multiplies or adds only tensors of one dtype."""
        return FLOAT_DTYPES if params.learnable else self.input_dtypes

    def expression_shape(self, params: ExprParams, names: list[str], operands: list[Operand]) -> Shape:
        """The result's shape: the expression folded over its inputs' and learnables' shapes."""
        expression = params.expression()
        shapes = {name: operand.shape for name, operand in zip(names, operands, strict=True)}
        shapes.update({name: tuple(tensor.shape) for name, tensor in params.learnable.items()})
        # lower ranks align at their last axis (numpy), constants' too
        rank = max([len(shape) for shape in shapes.values()] + list(expression.constant_ranks))
        shapes = {name: (1,) * (rank - len(shape)) + tuple(shape) for name, shape in shapes.items()}
        return fold(expression, _shape_folder(expression, shapes, rank))[0]

    def layer(self, params: ExprParams, inputs: list[Shape], names: list[str] | None = None) -> LayerCall:
        learnable = {name: {"shape": list(tensor.shape), **weight_kwargs(tensor, {"initializer": "init"})}
                     for name, tensor in params.learnable.items()}
        kwargs: dict[str, Any] = {"expr": params.expr, "names": list(names or [])}
        if learnable:
            kwargs["learnable"] = learnable
        return LayerCall("Expression", kwargs, module="archspec.keras.layers")

    keras_classes = ("Expression", "LayerScale", "CustomScaleLayer")
    """archspec's own layer, and two of keras.applications' arithmetic layers: ConvNeXt's LayerScale
    (x * gamma, a learned per-channel scale) and InceptionResNetV2's scaled residual (x + y * scale)."""

    def from_keras(self, config: dict[str, Any]) -> dict[str, Any]:
        """The expression and its learnables; the input names (config["names"]) name the in-edges."""
        for key, read in _KERAS_FORMS.items():
            if key in config:
                return read(config)
        raise ValueError("the layer's config has none of " + ", ".join(_KERAS_FORMS))

    def count_params(self, params: ExprParams, inputs: list[Shape], output: Shape) -> int:
        return sum(math.prod(tensor.shape) for tensor in params.learnable.values())

    def summary(self, params: ExprParams) -> str:
        return params.expr


def _shape_folder(expression: Expression, shapes: dict[str, Shape], rank: int) -> Folder:
    text = expression.text

    def binary(symbol: str, left: tuple, right: tuple, node: Any) -> tuple:
        operands = [Operand(left[1], left[0]), Operand(right[1], right[0])]
        try:
            shape = matmul_shape(*operands) if symbol == "@" else broadcast_shapes(
                operands, what=f"'{symbol}'", hint=_broadcast_hint(left, right), stretch_both=True)
        except ShapeProblem as problem:
            raise ExprShapeProblem(problem, operator_offset(node, text)) from None
        return shape, _source(node, text)

    def einsum(equation: str, values: list[tuple], node: Any) -> tuple:
        try:
            shape = einsum_shape(equation, [Operand(value_text, shape) for shape, value_text in values])
            if len(shape) != rank and node is not expression.tree:  # it would broadcast against the batch axis
                raise ShapeProblem(
                    f"einsum '{equation}' gives {len(shape)} axes inside a larger expression whose operands have "
                    f"{rank}", expected=f"{rank} output letters", got=equation.split("->")[-1] or "none",
                    hint="keep every axis in the output and reduce with sum(x, axis), or make the einsum a node "
                    "of its own")
        except ShapeProblem as problem:
            raise ExprShapeProblem(problem, node.col_offset) from None
        return shape, _source(node, text)

    def call(function: str, value: tuple, axis: int | None, node: Any) -> tuple:
        shape, _ = value
        if axis is None:
            return shape, _source(node, text)
        rank = len(shape)
        if axis == 0 or not -rank <= axis <= rank:
            problem = ShapeProblem(
                f"{function}() axis {axis} does not exist for {format_shape(shape)} (rank {rank}; "
                "axis 0 is the batch)", expected=f"1..{rank} or -1..-{rank}", got=str(axis))
            raise ExprShapeProblem(problem, _axis_offset(node))
        index = axis - 1 if axis > 0 else axis % rank
        result = shape if function == "softmax" else shape[:index] + (1,) + shape[index + 1:]
        return result, _source(node, text)

    return Folder(
        name=lambda name, node: (shapes[name], name),
        constant=lambda value: ((), repr(value)),
        negate=lambda value, node: value,
        binary=binary,
        call=call,
        tensor=lambda value, node: ((1,) * (rank - value.ndim) + value.shape, _source(node, text)),
        einsum=einsum,
    )


def _broadcast_hint(left: tuple, right: tuple) -> str:
    """The fix: the smaller operand with each clashing size made the larger one's (or 1)."""
    (big, big_text), (small, small_text) = (left, right) if len(left[0]) >= len(right[0]) else (right, left)
    aligned = big[len(big) - len(small):]
    fixed = tuple(size if size in (other, 1) else other for size, other in zip(small, aligned, strict=True))
    return (f"make '{small_text}' {format_shape(fixed)} (or 1 on the clashing axis) so it broadcasts to "
            f"'{big_text}' ({format_shape(big)})")


def _axis_offset(node: Any) -> int:
    """Where an axis function's axis argument is written."""
    if len(node.args) > 1:
        return node.args[1].col_offset
    return next((keyword.value.col_offset for keyword in node.keywords if keyword.arg == "axis"), node.col_offset)


def _source(node: Any, text: str) -> str:
    return text[node.col_offset:node.end_col_offset]


def unused(expression_names: tuple[str, ...], available: list[str]) -> list[str]:
    """The names among `available` that the expression never reads."""
    return [name for name in available if name not in expression_names]


__all__ = ["Expr", "ExprParams", "ExprShapeProblem", "ExpressionProblem", "unused"]


def _expression(config: dict[str, Any]) -> dict[str, Any]:
    learnable = {name: {"shape": list(spec["shape"]),
                        **weight_params(spec, {"initializer": "init"}, {"initializer": "zeros"})}
                 for name, spec in config.get("learnable", {}).items()}
    return {"expr": config["expr"], **({"learnable": learnable} if learnable else {})}


def _layer_scale(config: dict[str, Any]) -> dict[str, Any]:
    gamma = {"shape": [int(config["projection_dim"])], "init": float(config["init_values"])}
    return {"expr": "x * gamma", "learnable": {"gamma": gamma}}


def _scaled_residual(config: dict[str, Any]) -> dict[str, Any]:
    return {"expr": f"x + y * {float(config['scale'])!r}"}


_KERAS_FORMS = {"expr": _expression, "projection_dim": _layer_scale, "scale": _scaled_residual}
"""A key only that layer's config has -> how its config reads as expr parameters."""
