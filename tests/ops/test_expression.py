"""Tensor expressions without TensorFlow: what parses, the shapes they give, where their errors point."""

from __future__ import annotations

import pytest

import archspec
from archspec.catalogue.expression import ExpressionProblem, parse_expression
from archspec.errors import GraphError, SchemaError, ShapeError, flatten_errors

SPEC = """archspec: 1
name: e
inputs:
  x: {{shape: [28, 28, 32]}}
  c: {{shape: [32]}}
nodes:
  out: {{op: expr, expr: "{expr}"}}
edges:
  - x -> out
  - {{from: c, to: out, as: c}}
outputs: [out]
"""
START = len('  out: {op: expr, expr: "') + 1  # column of the expression's first character


def analyze(expr: str):
    return archspec.analyze(archspec.loads_spec(SPEC.format(expr=expr), name="e.yaml"))


@pytest.mark.parametrize("expr, shape", [
    ("x * c + c", (28, 28, 32)),
    ("x * (1 - sigmoid(c)) + 0.1 * x", (28, 28, 32)),
    ("x - mean(x, -1) + c", (28, 28, 32)),
    ("sum(x, 1) + c", (1, 28, 32)),
    ("softmax(x, 3) - max(x, -1) + c ** 2 / sqrt(abs(c) + 1)", (28, 28, 32)),
    ("-x * c", (28, 28, 32)),
])
def test_expression_shapes_follow_numpy_broadcasting(expr, shape):
    assert analyze(expr).nodes["out"]["shape"] == shape


@pytest.mark.parametrize("expr, offset, cls, words", [
    ("x * sigmod(c)", 4, SchemaError, "unknown function 'sigmod'"),
    ("x + c ** c", 9, SchemaError, "constant exponent"),
    ("x + __import__(c)", 4, SchemaError, "unknown function"),
    ("x + c.real", 4, SchemaError, "not allowed"),
    ("x * 1e999 + c", 4, SchemaError, "1e999 is not a finite number"),
    ("x * z", 4, GraphError, "'z' in the expression of 'out' is neither an input nor a learnable"),
    ("x * mean(c, 4)", 12, ShapeError, "mean() axis 4 does not exist for 1x1x32"),
    ("c + x @ c", 6, ShapeError, "'@' needs the last axis of 'x' to equal the second-to-last of 'c': 32 vs 1"),
])
def test_expression_errors_point_at_the_token(expr, offset, cls, words):
    with pytest.raises(cls) as caught:
        analyze(expr)
    error = flatten_errors(caught.value)[0]
    assert (error.location.line, error.location.column) == (7, START + offset), str(error)
    assert words in str(error)


def test_a_broadcast_error_names_both_shapes_the_axis_and_the_fix():
    text = SPEC.format(expr="x * c").replace("c: {shape: [32]}", "c: {shape: [16]}")
    with pytest.raises(ShapeError) as caught:
        archspec.analyze(archspec.loads_spec(text, name="e.yaml"))
    message = str(caught.value)
    assert "the channels axis is 32 in 'x' but 16 in 'c'" in message
    assert "make 'c' 1x1x32" in message and f"e.yaml:7:{START + 2}" in message


def test_the_parser_refuses_everything_but_arithmetic():
    for text in ("x if c else x", "[x]", "x[0]", "lambda: x", "x < c", "f'{x}'", "x // 2", "x % 2"):
        with pytest.raises(ExpressionProblem):
            parse_expression(text)
    assert parse_expression("x * (1 - t) + h * t").names == ("x", "t", "h")
