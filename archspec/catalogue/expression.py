"""Tensor expressions (`op: expr`): parse once, check statically, evaluate with any backend's functions.

`x * (1 - t) + h * t` is read with Python's own expression parser and walked
node by node, like `${...}` (archspec.spec.arith): only numbers, names,
`+ - * /`, unary minus, `**` with a constant exponent and the calls in
`FUNCTIONS` are accepted; nothing is ever `eval`ed. The same walk serves
three purposes, through `fold`: the shape checker folds shapes (numpy
broadcasting, batch axis excluded), the Keras layer folds tensors with
keras.ops (archspec.keras.layers.Expression), and both see one tree.
Every problem carries the character offset of the token it is about, so the
error points at the column of the bad token.
"""

from __future__ import annotations

import ast
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from archspec.catalogue.products import parse_equation

MAX_EXPRESSION_LENGTH = 500

ELEMENTWISE = ("sigmoid", "tanh", "exp", "log", "sqrt", "abs", "relu", "gelu", "gelu_tanh")
REDUCTIONS = ("mean", "sum", "max")
AXIS_FUNCTIONS = (*REDUCTIONS, "softmax")
CONSTANTS = ("eye", "zeros", "ones", "full")
FUNCTIONS = (*ELEMENTWISE, *AXIS_FUNCTIONS, "einsum", *CONSTANTS)
"""Every function an expression may call: element-wise ones take one tensor (`gelu` is the exact GELU,
as `activation: gelu`; `gelu_tanh` its tanh approximation), the others `(x, axis)`
(softmax's axis defaults to -1; mean/sum/max keep the reduced axis with size 1, so the result
broadcasts back: `x - mean(x, -1)`); `einsum("nk,km->nm", a, b)` names the axes after the batch; the
constants `eye(n)`, `zeros(shape)`, `ones(shape)`, `full(shape, value)` and literal lists `[[1, 0], [0, 1]]`
are float32 tensors without a batch axis, like learned ones."""
MAX_CONSTANT_SIZE = 65_536
"""Most numbers a constant tensor holds: an expression's constants are small (an identity, a mask)."""

_OPERATORS: dict[type[ast.operator], str] = {
    ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/", ast.Pow: "**", ast.MatMult: "@",
}


class ExpressionProblem(ValueError):
    """A problem of an expression at character `offset` of its text."""

    def __init__(self, message: str, offset: int, *, expected: str | None = None, got: str | None = None,
                 hint: str | None = None) -> None:
        super().__init__(message)
        self.message, self.offset, self.expected, self.got, self.hint = message, offset, expected, got, hint


@dataclass(frozen=True)
class Expression:
    """A parsed, checked expression: its text, tree and the names it reads (in order of first use)."""

    text: str
    tree: ast.expr
    names: tuple[str, ...]
    constant_ranks: tuple[int, ...] = ()
    """The ranks of its constant tensors: every operand is aligned to the highest rank before folding."""


def parse_expression(text: str) -> Expression:
    """The expression `text`, or an ExpressionProblem at the first token it cannot accept."""
    if not text.strip():
        raise ExpressionProblem("empty expression", 0, hint='write e.g. expr: "x * sigmoid(g)"')
    if len(text) > MAX_EXPRESSION_LENGTH:
        raise ExpressionProblem(f"expression longer than {MAX_EXPRESSION_LENGTH} characters", 0)
    if "\n" in text.strip():
        raise ExpressionProblem("an expression is one line", text.index("\n"))
    try:
        tree = ast.parse(text, mode="eval").body
    except SyntaxError as error:
        offset = max((error.offset or 1) - 1, 0)
        raise ExpressionProblem(f"cannot read {text.strip()!r} as an expression ({error.msg})",
                                min(offset, len(text) - 1),
                                hint="use names, numbers, + - * / ** @, parentheses and "
                                + ", ".join(FUNCTIONS)) from None
    names: list[str] = []
    _check(tree, text, names)
    return Expression(text, tree, tuple(names), tuple(constant_tensor(node).ndim for node in _constants(tree)))


def _constants(node: ast.AST) -> list[ast.AST]:
    """The constant tensors of a tree (not the shape lists inside them)."""
    if _is_constant_tensor(node):
        return [node]
    return [found for child in ast.iter_child_nodes(node) for found in _constants(child)]


def _check(node: ast.AST, text: str, names: list[str]) -> None:
    if isinstance(node, ast.Constant) and _is_number(node.value):
        if not math.isfinite(node.value):
            raise ExpressionProblem(f"{text[node.col_offset:node.end_col_offset]} is not a finite number",
                                    node.col_offset, hint="write numbers a float can hold (at most about 1e308)")
        return
    if isinstance(node, ast.Name):
        if node.id in FUNCTIONS:
            raise ExpressionProblem(f"'{node.id}' is a function; call it, e.g. {node.id}(x)", node.col_offset)
        if node.id not in names:
            names.append(node.id)
        return
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
        _check(node.operand, text, names)
        return
    if isinstance(node, ast.BinOp) and type(node.op) in _OPERATORS:
        _check(node.left, text, names)
        if isinstance(node.op, ast.Pow) and constant_of(node.right) is None:
            raise ExpressionProblem("'**' needs a constant exponent", node.right.col_offset,
                                    got=ast.unparse(node.right), hint="write e.g. x ** 2 or x ** 0.5")
        _check(node.right, text, names)
        return
    if _is_constant_tensor(node):
        constant_tensor(node)
        return
    if isinstance(node, ast.Call):
        _check_call(node, text, names)
        return
    word = type(node).__name__
    if isinstance(node, ast.BinOp):
        word = f"the operator after '{ast.unparse(node.left)}'"
        offset = operator_offset(node, text)
    else:
        offset = node.col_offset  # type: ignore[attr-defined]
    raise ExpressionProblem(f"'{ast.unparse(node)}' is not allowed in an expression ({word})", offset,
                            expected="names, numbers, + - * / ** @, parentheses, " + ", ".join(FUNCTIONS))


def _check_call(node: ast.Call, text: str, names: list[str]) -> None:
    if not isinstance(node.func, ast.Name) or node.func.id not in FUNCTIONS:
        called = ast.unparse(node.func)
        raise ExpressionProblem(f"unknown function '{called}'", node.func.col_offset,
                                expected="one of " + ", ".join(FUNCTIONS), got=called)
    function = node.func.id
    keywords = {keyword.arg: keyword for keyword in node.keywords}
    if function == "einsum":
        _check_einsum(node, text, names)
        return
    if function in ELEMENTWISE:
        if len(node.args) != 1 or keywords:
            raise ExpressionProblem(f"{function}() takes one tensor", node.col_offset,
                                    got=ast.unparse(node), hint=f"write {function}(x)")
    else:
        axis_node = node.args[1] if len(node.args) > 1 else keywords.get("axis")
        axis_node = axis_node.value if isinstance(axis_node, ast.keyword) else axis_node
        extra = [key for key in keywords if key != "axis"]
        if not node.args or len(node.args) > 2 or extra or (axis_node is None and function != "softmax"):
            raise ExpressionProblem(f"{function}() takes a tensor and an axis", node.col_offset,
                                    got=ast.unparse(node), hint=f"write {function}(x, -1)")
        if axis_node is not None and not isinstance(constant_of(axis_node), int):
            raise ExpressionProblem(f"the axis of {function}() must be a whole number", axis_node.col_offset,
                                    got=ast.unparse(axis_node), hint="axis 1 is the first axis after the batch, "
                                    "-1 the last")
    _check(node.args[0], text, names)


def _check_einsum(node: ast.Call, text: str, names: list[str]) -> None:
    first = node.args[0] if node.args else None
    if node.keywords or len(node.args) < 2 or not (isinstance(first, ast.Constant) and isinstance(first.value, str)):
        raise ExpressionProblem("einsum() takes an equation in quotes, then its tensors", node.col_offset,
                                got=ast.unparse(node), hint="write einsum('nk,km->nm', a, b)")
    try:
        inputs, _ = parse_equation(first.value)
    except ValueError as error:
        raise ExpressionProblem(str(error), first.col_offset) from None
    if len(inputs) != len(node.args) - 1:
        raise ExpressionProblem(f"einsum '{first.value}' takes {len(inputs)} tensor(s), not {len(node.args) - 1}",
                                node.col_offset, got=ast.unparse(node))
    for argument in node.args[1:]:
        _check(argument, text, names)


def _is_constant_tensor(node: ast.AST) -> bool:
    return isinstance(node, ast.List) or (
        isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in CONSTANTS)


def constant_tensor(node: ast.AST) -> np.ndarray:
    """The float32 tensor `eye(3)`, `zeros([2, 3])`, `ones(4)`, `full([2, 2], 0.5)` or `[[1, 0], [0, 1]]`
    stands for; ExpressionProblem at the node if it is malformed or too big."""
    def problem(message: str) -> ExpressionProblem:
        return ExpressionProblem(message, node.col_offset, got=ast.unparse(node),
                                 hint="write eye(3), zeros([2, 3]), ones(4), full([2, 2], 0.5) or [[1, 0], [0, 1]]")

    if isinstance(node, ast.List):
        try:
            value = np.array(ast.literal_eval(node), dtype="float32")
        except (ValueError, TypeError):
            raise problem("a literal tensor is a rectangular list of numbers") from None
        if value.dtype == object or not np.isfinite(value).all() or value.size == 0:
            raise problem("a literal tensor is a rectangular list of finite numbers")
    else:
        assert isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
        function, args = node.func.id, node.args
        wanted = {"eye": 1, "zeros": 1, "ones": 1, "full": 2}[function]
        shape = constant_of(args[0]) if args and not isinstance(args[0], (ast.List, ast.Tuple)) else (
            [constant_of(item) for item in args[0].elts] if args else None)
        sizes = [shape] if isinstance(shape, int) else shape
        fill = constant_of(args[1]) if function == "full" and len(args) == 2 else 0
        if (len(args) != wanted or node.keywords or not sizes or fill is None
                or not all(isinstance(size, int) and size > 0 for size in sizes)):
            raise problem(f"{function}() takes " + ("a size" if function == "eye" else "a shape") +
                          (" and a number" if function == "full" else "") + " of positive whole numbers")
        if math.prod(sizes) > MAX_CONSTANT_SIZE:
            raise problem(f"a constant tensor holds at most {MAX_CONSTANT_SIZE:,} numbers")
        make = {"eye": lambda: np.eye(sizes[0]), "zeros": lambda: np.zeros(sizes), "ones": lambda: np.ones(sizes),
                "full": lambda: np.full(sizes, fill)}[function]
        value = make().astype("float32")
    if value.size > MAX_CONSTANT_SIZE:
        raise problem(f"a constant tensor holds at most {MAX_CONSTANT_SIZE:,} numbers")
    return value


def call_axis(node: ast.Call) -> int:
    """The axis argument of an axis function call (checked by parse_expression); softmax defaults to -1."""
    if len(node.args) > 1:
        return int(constant_of(node.args[1]))  # type: ignore[arg-type]
    for keyword in node.keywords:
        if keyword.arg == "axis":
            return int(constant_of(keyword.value))  # type: ignore[arg-type]
    return -1


def constant_of(node: ast.AST) -> int | float | None:
    """The number a constant (or a negated constant) stands for, else None."""
    if isinstance(node, ast.Constant) and _is_number(node.value):
        return node.value
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
        inner = constant_of(node.operand)
        if inner is not None:
            return -inner if isinstance(node.op, ast.USub) else inner
    return None


def operator_offset(node: ast.BinOp, text: str) -> int:
    """Where a binary operator's token is: the first character after its left operand and any ')'."""
    line_start = 0  # expressions are one line
    offset = line_start + (node.left.end_col_offset or node.left.col_offset)
    while offset < len(text) and text[offset] in " )":
        offset += 1
    return offset


@dataclass(frozen=True)
class Folder:
    """What to do at each kind of tree node; `fold` walks the tree bottom up calling these."""

    name: Callable[[str, ast.Name], Any]
    constant: Callable[[float], Any]
    negate: Callable[[Any, ast.UnaryOp], Any]
    binary: Callable[[str, Any, Any, ast.BinOp], Any]
    call: Callable[[str, Any, int | None, ast.Call], Any]
    tensor: Callable[[np.ndarray, ast.AST], Any]
    einsum: Callable[[str, list[Any], ast.Call], Any]


def fold(expression: Expression, folder: Folder) -> Any:
    """The value of a checked expression, computed by `folder` (shapes, tensors, ...)."""
    return _fold(expression.tree, folder)


def _fold(node: ast.AST, folder: Folder) -> Any:
    if _is_constant_tensor(node):
        return folder.tensor(constant_tensor(node), node)
    if isinstance(node, ast.Constant):
        return folder.constant(node.value)
    if isinstance(node, ast.Name):
        return folder.name(node.id, node)
    if isinstance(node, ast.UnaryOp):
        value = _fold(node.operand, folder)
        return folder.negate(value, node) if isinstance(node.op, ast.USub) else value
    if isinstance(node, ast.BinOp):
        if isinstance(node.op, ast.Pow):
            return folder.binary("**", _fold(node.left, folder), folder.constant(constant_of(node.right)), node)
        return folder.binary(_OPERATORS[type(node.op)], _fold(node.left, folder), _fold(node.right, folder), node)
    assert isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
    function = node.func.id
    if function == "einsum":
        return folder.einsum(node.args[0].value, [_fold(argument, folder) for argument in node.args[1:]], node)
    axis = call_axis(node) if function in AXIS_FUNCTIONS else None
    return folder.call(function, _fold(node.args[0], folder), axis, node)


def cached(text: str, cache: dict[str, Expression] = {}) -> Expression:  # noqa: B006 (a deliberate memo)
    """parse_expression, once per text (the layer folds it at every call)."""
    if text not in cache:
        cache[text] = parse_expression(text)
    return cache[text]


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def names_in(expression: Expression) -> Mapping[str, int]:
    """Each name the expression reads, with the offset of its first use (for 'not an input' errors)."""
    offsets: dict[str, int] = {}
    for node in ast.walk(expression.tree):
        if isinstance(node, ast.Name) and node.id not in FUNCTIONS:
            offsets[node.id] = min(offsets.get(node.id, node.col_offset), node.col_offset)
    return offsets
