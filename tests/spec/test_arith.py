"""The `${...}` evaluator: arithmetic on numbers and names, and nothing else."""

from __future__ import annotations

import pytest

from archspec.spec.arith import ArithError, evaluate


@pytest.mark.parametrize("text, expected", [
    ("width * 2", 128),
    ("(width + 2) // 3", 22),
    ("width / 128", 0.5),
    ("2 ** depth - 1", 7),
    ("-width % 10", 6),
    ("1.5e-3 * 2", 0.003),
    ("act", "relu"),
    ("width > 2 ** depth", True),
    ("1 < depth <= 2", False),
    ("depth == 3 and not width < 64 or act != act", True),
])
def test_evaluates_arithmetic_on_numbers_and_names(text, expected):
    assert evaluate(text, {"width": 64, "depth": 3, "act": "relu"}) == expected


@pytest.mark.parametrize("text, message", [
    ("__import__('os')", "'__import__('os')' is not allowed"),
    ("width.bit_length", "'width.bit_length' is not allowed"),
    ("[1][0]", "'[1][0]' is not allowed"),
    ("width if depth else 2", "'width if depth else 2' is not allowed"),
    ("lambda: 1", "'lambda: 1' is not allowed"),
    ("heigth * 2", "unknown variable 'heigth' (known: act, width)"),
    ("act * 2", "'act' is 'relu', not a number"),
    ("True + 1", "'True' is not allowed"),
    ("act < 2", "'act < 2' orders 'relu' and 2, but only numbers have an order"),
    ("width and depth", "'width' is 64, not true or false"),
    ("9 ** 9 ** 9", "exponent 387420489 is too large (at most 64)"),
    ("width // 0", "division by zero"),
    ("width *", "cannot read 'width *' as arithmetic"),
    ("", "empty expression"),
    ("1" * 201, "expression longer than 200 characters"),
])
def test_refuses_anything_but_arithmetic(text, message):
    with pytest.raises(ArithError) as caught:
        evaluate(text, {"width": 64, "act": "relu"})
    assert str(caught.value).split(": only numbers")[0] == message
