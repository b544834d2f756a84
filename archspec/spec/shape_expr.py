"""Shape-aware `${...}`: expressions over `in`, the tensor a node receives, resolved during shape inference.

`filters: ${in.channels // 2}` cannot be worked out when vars and blocks
expand: the channels are known only once static shape inference reaches the
node. So the front end binds every other name now (vars, block params) and
keeps the rest as a deferred value, `${in.channels // 2}`; the graph stage
(archspec.graph.deferred) evaluates it with the node's input shape, before the
op's shape rule runs.

What `in` offers (docs/spec.md, "Shape-aware expressions"):

    in.channels   the last axis (the features of a dense input)
    in.height, in.width   axes 0 and 1 of an image
    in.rank       the number of axes (batch excluded)
    in.shape[i]   axis i (negative counts from the end)

Evaluation reuses archspec.spec.arith (same operators and bounds): the
`in.…` terms are replaced by numbers, then the arithmetic is evaluated.
"""

from __future__ import annotations

import ast
import math
import re
from collections.abc import Callable, Mapping
from typing import Any

from archspec.spec.arith import ArithError, evaluate

INPUT = "in"
_INPUT_TERM = re.compile(r"(?<![A-Za-z0-9_.])in(?=\s*[.\[])")
_INTERNAL = "in__"
"""`in` is a Python keyword, so the parser reads it under this name."""
ATTRIBUTES: dict[str, Callable[[tuple[int | None, ...]], int | None]] = {
    "channels": lambda shape: shape[-1],
    "height": lambda shape: shape[0],
    "width": lambda shape: shape[1],
    "rank": lambda shape: len(shape),
}


def is_deferred(expression: str) -> bool:
    """True if the text of a `${...}` expression reads the node's input (`in.channels`, `in.shape[0]`)."""
    return _INPUT_TERM.search(expression) is not None


def bind_known(expression: str, names: Mapping[str, Any]) -> str:
    """`expression` with every name other than `in` replaced by its value: `in.channels // r` -> `in.channels // 16`.

    ArithError if the expression cannot be read or names an unknown variable.
    """
    tree = _parse(expression)

    class Bind(ast.NodeTransformer):
        def visit_Name(self, node: ast.Name) -> ast.AST:
            if node.id == _INTERNAL:
                return node
            if node.id not in names:
                known = ", ".join(sorted(names)) or "none"
                raise ArithError(f"unknown variable '{node.id}' (known: {known}, and 'in', the node's input)")
            value = names[node.id]
            if not isinstance(value, (int, float)) or isinstance(value, bool):
                raise ArithError(f"'{node.id}' is {value!r}, not a number")
            return _number(value, node)

    return ast.unparse(Bind().visit(tree)).replace(_INTERNAL, INPUT)


def evaluate_with_input(expression: str, shape: tuple[int | None, ...]) -> Any:
    """The value of a deferred expression for an input of `shape`; ArithError says what is wrong."""
    tree = _parse(expression)

    class Substitute(ast.NodeTransformer):
        def visit_Attribute(self, node: ast.Attribute) -> ast.AST:
            if not _is_input(node.value):
                return self.generic_visit(node)
            if node.attr not in ATTRIBUTES:
                raise ArithError(f"'in' has no '{node.attr}'",
                                 hint="use in.channels, in.height, in.width, in.rank or in.shape[i]")
            if node.attr in ("height", "width") and len(shape) < 2:
                raise ArithError(f"in.{node.attr} needs an image input; this one is {_shape(shape)}")
            return _constant(ATTRIBUTES[node.attr](shape), f"in.{node.attr}", shape, node)

        def visit_Subscript(self, node: ast.Subscript) -> ast.AST:
            target = node.value
            if not (isinstance(target, ast.Attribute) and target.attr == "shape" and _is_input(target.value)):
                return self.generic_visit(node)
            index = node.slice
            if isinstance(index, ast.UnaryOp) and isinstance(index.op, ast.USub) and \
                    isinstance(index.operand, ast.Constant):
                index = ast.Constant(-index.operand.value)
            if not isinstance(index, ast.Constant) or not isinstance(index.value, int) or \
                    isinstance(index.value, bool) or not -len(shape) <= index.value < len(shape):
                raise ArithError(f"in.shape[{ast.unparse(node.slice)}] is not an axis of {_shape(shape)}",
                                 hint=f"an index from 0 to {len(shape) - 1} (or negative from the end)")
            return _constant(shape[index.value], f"in.shape[{index.value}]", shape, node)

        def visit_Name(self, node: ast.Name) -> ast.AST:
            if node.id == _INTERNAL:
                raise ArithError("'in' alone is not a number", hint="use in.channels or in.shape[i]")
            return node

    return evaluate(ast.unparse(Substitute().visit(tree)), {})


def _parse(expression: str) -> ast.expr:
    try:
        return ast.parse(_INPUT_TERM.sub(_INTERNAL, expression.strip()), mode="eval").body
    except SyntaxError:
        raise ArithError(f"cannot read {expression.strip()!r} as arithmetic") from None


def _is_input(node: ast.AST) -> bool:
    return isinstance(node, ast.Name) and node.id == _INTERNAL


def _constant(value: int | None, what: str, shape: tuple[int | None, ...], node: ast.AST) -> ast.AST:
    if value is None:
        raise ArithError(f"{what} is not known when the model is built (the input is {_shape(shape)})")
    return _number(value, node)


def _number(value: float, node: ast.AST) -> ast.AST:
    """A value spliced into an expression as a value: a negative one as a unary minus, which ast.unparse
    brackets where precedence needs it (`a ** 2` with a = -3 is `(-3) ** 2`, 9, never `-3 ** 2`, -9)."""
    if math.copysign(1, value) < 0:
        return ast.copy_location(ast.UnaryOp(ast.USub(), ast.Constant(-value)), node)
    return ast.copy_location(ast.Constant(value), node)


def _shape(shape: tuple[int | None, ...]) -> str:
    return "x".join("?" if size is None else str(size) for size in shape) or "a scalar"
