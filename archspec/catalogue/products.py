"""Shape rules of matrix products: `a @ b` (numpy's matmul) and einsum, batch axis excluded.

The `matmul` and `einsum` ops (archspec.catalogue.ops.products) and the `@` and
`einsum(...)` of an `expr` node use these, so both spellings accept the same
shapes. Shapes are per example: `points @ T` with points 64x3 and T 3x3 is
64x3, and an einsum's subscripts name the axes after the batch only.
"""

from __future__ import annotations

import re

from archspec.catalogue.primitives import Operand, Shape, ShapeProblem, format_shape
from archspec.catalogue.shape_rules import broadcast_shapes

EQUATION = re.compile(r"^([a-z]+(?:,[a-z]+)*)->([a-z]*)$")


def matmul_shape(left: Operand, right: Operand) -> Shape:
    """(..., n, k) @ (..., k, m) -> (..., m): the leading axes broadcast, the inner sizes must be equal."""
    for operand in (left, right):
        if len(operand.shape) < 2:
            raise ShapeProblem(
                f"'@' multiplies matrices, but '{operand.name}' is {format_shape(operand.shape)} "
                f"(rank {len(operand.shape)} after the batch)",
                expected="2 or more axes after the batch", got=str(operand),
                hint=f"reshape '{operand.name}' to a matrix (e.g. 1x{operand.shape[0]}), or use * for an "
                "element-wise product")
    inner, other = left.shape[-1], right.shape[-2]
    if inner is not None and other is not None and inner != other:
        raise ShapeProblem(
            f"'@' needs the last axis of '{left.name}' to equal the second-to-last of '{right.name}': "
            f"{inner} vs {other}",
            expected=f"{format_shape(right.shape[:-2] + (inner, right.shape[-1]))} for '{right.name}'",
            got=str(right), hint=f"make '{right.name}' {inner} rows, or transpose one side (permute)")
    leading = [Operand(operand.name, operand.shape[:-2]) for operand in (left, right)]
    batch = broadcast_shapes(leading, what="'@' leading", stretch_both=True) if any(o.shape for o in leading) else ()
    return tuple(batch) + (left.shape[-2], right.shape[-1])


def parse_equation(equation: str) -> tuple[list[str], str]:
    """`ij,jk->ik` as (["ij", "jk"], "ik"); ValueError with the rule if it is no such equation."""
    match = EQUATION.match(equation.replace(" ", ""))
    if not match:
        raise ValueError(f"einsum equation {equation!r} is not 'subscripts,...->output' in lowercase letters "
                         "(the axes after the batch, e.g. 'nk,km->nm')")
    inputs, output = match.group(1).split(","), match.group(2)
    known = set("".join(inputs))
    for letter in output:
        if letter not in known or output.count(letter) > 1:
            raise ValueError(f"einsum output letter '{letter}' of {equation!r} "
                             + ("is given twice" if letter in known else "names no input axis"))
    return inputs, output


def einsum_shape(equation: str, operands: list[Operand]) -> Shape:
    """The output shape of einsum `equation` over `operands` (each subscript one axis after the batch)."""
    try:
        inputs, output = parse_equation(equation)
    except ValueError as error:
        raise ShapeProblem(str(error)) from None
    if len(inputs) != len(operands):
        raise ShapeProblem(f"einsum {equation!r} has {len(inputs)} operand(s), but {len(operands)} are given",
                           expected=str(len(inputs)), got=str(len(operands)))
    sizes: dict[str, tuple[int | None, Operand]] = {}
    for subscripts, operand in zip(inputs, operands, strict=True):
        if len(subscripts) != len(operand.shape):
            raise ShapeProblem(
                f"einsum subscripts '{subscripts}' name {len(subscripts)} axes, but '{operand.name}' has "
                f"{len(operand.shape)} after the batch", expected=f"{len(operand.shape)} letters", got=str(operand))
        for letter, size in zip(subscripts, operand.shape, strict=True):
            seen, first = sizes.setdefault(letter, (size, operand))
            if seen is not None and size is not None and seen != size:
                raise ShapeProblem(
                    f"einsum axis '{letter}' is {seen} in '{first.name}' but {size} in '{operand.name}'",
                    expected=str(first), got=str(operand), hint="an axis named by one letter has one size")
            if seen is None:
                sizes[letter] = (size, operand)
    return tuple(sizes[letter][0] for letter in output)
