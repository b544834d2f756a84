"""A tiny arithmetic evaluator for `${...}` in specs: numbers, names, + - * / // % **, comparisons, and, or,
not and parentheses (a block's `when:` condition is one such expression).

Specs are data, never code, so this walks Python's own expression AST and
accepts only those few node types; anything else (calls, attributes,
subscripts, conditional expressions) is refused with a message. No `eval`.
"""

from __future__ import annotations

import ast
import itertools
import math
import operator
from collections.abc import Callable, Mapping
from typing import Any

MAX_EXPRESSION_LENGTH = 200
MAX_EXPONENT = 64
MAX_MAGNITUDE = 10**15

_BINARY: dict[type[ast.operator], Callable[[Any, Any], Any]] = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
    ast.FloorDiv: operator.floordiv,
    ast.Mod: operator.mod,
    ast.Pow: operator.pow,
}
_SIZE_HINT = f"numbers in ${{...}} stay within {MAX_MAGNITUDE:.0e} in magnitude; a layer size never needs more"
_UNARY: dict[type[ast.unaryop], Callable[[Any], Any]] = {ast.UAdd: operator.pos, ast.USub: operator.neg}
_COMPARE: dict[type[ast.cmpop], Callable[[Any, Any], bool]] = {
    ast.Lt: operator.lt, ast.LtE: operator.le, ast.Gt: operator.gt, ast.GtE: operator.ge,
    ast.Eq: operator.eq, ast.NotEq: operator.ne,
}


class ArithError(ValueError):
    """An expression that is malformed, uses something not allowed, or names an unknown variable."""

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.hint = hint


def evaluate(expression: str, names: Mapping[str, Any]) -> Any:
    """The value of `expression`; a lone name may be any value, arithmetic needs numbers."""
    text = expression.strip()
    if not text:
        raise ArithError("empty expression")
    if len(text) > MAX_EXPRESSION_LENGTH:
        raise ArithError(f"expression longer than {MAX_EXPRESSION_LENGTH} characters")
    try:
        tree = ast.parse(text, mode="eval")
    except SyntaxError:
        raise ArithError(f"cannot read {text!r} as arithmetic") from None
    return _value(tree.body, names)


def _value(node: ast.AST, names: Mapping[str, Any]) -> Any:
    if isinstance(node, ast.Constant) and _is_number(node.value):
        return _sized(node.value)
    if isinstance(node, ast.Name):
        if node.id not in names:
            known = ", ".join(sorted(names)) or "none"
            raise ArithError(f"unknown variable '{node.id}' (known: {known})")
        return names[node.id]
    if isinstance(node, ast.UnaryOp) and type(node.op) in _UNARY:
        return _UNARY[type(node.op)](_number(node.operand, names))
    if isinstance(node, ast.BinOp) and type(node.op) in _BINARY:
        left, right = _number(node.left, names), _number(node.right, names)
        if isinstance(node.op, ast.Pow) and abs(right) > MAX_EXPONENT:
            raise ArithError(f"exponent {right} is too large (at most {MAX_EXPONENT})")
        if isinstance(node.op, (ast.Div, ast.FloorDiv, ast.Mod)) and right == 0:
            raise ArithError("division by zero")
        try:
            result = _BINARY[type(node.op)](left, right)
        except ZeroDivisionError:
            raise ArithError(f"'{ast.unparse(node)}' divides by zero (0 to a negative power)",
                             hint="a zero base needs an exponent of 0 or more") from None
        except OverflowError:
            raise ArithError(f"'{ast.unparse(node)}' is too large to compute", hint=_SIZE_HINT) from None
        return _sized(result)
    if isinstance(node, ast.Compare) and all(type(op) in _COMPARE for op in node.ops):
        values = [_value(node.left, names), *(_value(item, names) for item in node.comparators)]
        for (left, right), op in zip(itertools.pairwise(values), node.ops, strict=True):
            if not isinstance(op, (ast.Eq, ast.NotEq)) and not (_is_number(left) and _is_number(right)):
                raise ArithError(f"'{ast.unparse(node)}' orders {left!r} and {right!r}, "
                                 "but only numbers have an order")
            if not _COMPARE[type(op)](left, right):
                return False
        return True
    if isinstance(node, ast.BoolOp):
        parts = [_truth(item, names) for item in node.values]
        return all(parts) if isinstance(node.op, ast.And) else any(parts)
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
        return not _truth(node.operand, names)
    raise ArithError(
        f"'{ast.unparse(node)}' is not allowed: only numbers, variable names, "
        "+ - * / // % **, comparisons, and, or, not and parentheses"
    )


def _truth(node: ast.AST, names: Mapping[str, Any]) -> bool:
    """The value of a condition: `and`, `or` and `not` take comparisons (or names holding true or false)."""
    value = _value(node, names)
    if not isinstance(value, bool):
        raise ArithError(f"'{ast.unparse(node)}' is {value!r}, not true or false",
                         hint="compare it, e.g. ${strides > 1 and filters != 64}")
    return value


def _sized(value: Any) -> Any:
    """`value` if it is a real number of a sensible size (not 1e999, not a complex root)."""
    if isinstance(value, complex):
        raise ArithError("the result is not a real number (a fractional power of a negative number)",
                         hint="raise a positive number to a fractional power")
    if not math.isfinite(value) or abs(value) > MAX_MAGNITUDE:
        raise ArithError(f"{value!r} is not a sensible size (at most {MAX_MAGNITUDE:.0e} in magnitude)",
                         hint=_SIZE_HINT)
    return value


def _number(node: ast.AST, names: Mapping[str, Any]) -> int | float:
    value = _value(node, names)
    if not _is_number(value):
        raise ArithError(f"'{ast.unparse(node)}' is {value!r}, not a number")
    return value


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)
