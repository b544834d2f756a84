"""ONNX's elementwise Add, Mul, Sub, Div and Max: Keras merges, or archspec expressions where they broadcast.

Two tensors of one shape are a Keras merge layer (an `add`, `multiply`, ... node, or an `add-residual`
edge). Tensors that broadcast, or a tensor and a constant, become one `expr` node: a number is written
into the expression (`x * 0.5`), a tensor of weights is a learned tensor of the expression (`x + bias`),
and a learned (steps, features) table added to a sequence is a `positional_embedding` (a ViT's
learned positions). ONNX broadcasts against the batch axis too; a constant that varies along it has
no spec form and is refused.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from archspec.keras.importer.onnx.convert import Converter, Value

MERGES = {"Add": "Add", "Mul": "Multiply", "Sub": "Subtract", "Max": "Maximum"}
SYMBOLS = {"Add": "+", "Mul": "*", "Sub": "-", "Div": "/"}
LEARNED = {"Add": "bias", "Sub": "bias", "Mul": "scale", "Div": "scale"}


def merge(c: Converter, node: Any, attrs: dict) -> None:
    if any(c.constant(name) is not None for name in node.input):
        return _with_constant(c, node)
    values = [c.value(name) for name in node.input]
    if len({item.rank for item in values}) != 1:
        raise c.fail("tensors of different ranks broadcast against the batch axis")
    values = c.like(values)
    if len({tuple(item.tensor.shape[1:]) for item in values}) == 1 and node.op_type in MERGES:
        tensor = c.apply(c.layer(MERGES[node.op_type]), [item.tensor for item in values])
    elif node.op_type in SYMBOLS:  # broadcasting: (N, T, E) + (N, 1, E)
        layer = c.own_layer("Expression", expr=f"x {SYMBOLS[node.op_type]} y", names=["x", "y"])
        tensor = c.apply(layer, [item.tensor for item in values])
    else:
        raise c.fail("only tensors of one shape are merged by Max (no broadcasting)")
    both = all(item.non_negative for item in values) and node.op_type in ("Add", "Max")
    c.emit(Value(tensor, values[0].channels_last, both))


def _with_constant(c: Converter, node: Any) -> None:
    """x op constant (or constant op x): a literal, a learned tensor, or learned positions."""
    first = c.constant(node.input[0]) is not None
    x = c.value(node.input[1 if first else 0])
    constant = c.constant(node.input[0 if first else 1])
    assert constant is not None
    if node.op_type not in SYMBOLS or len(node.input) != 2 or constant.ndim > x.rank:
        raise c.fail(f"{node.op_type} of a tensor and a constant of shape {constant.shape} is not read")
    constant = constant.reshape((1,) * (x.rank - constant.ndim) + constant.shape)
    if constant.shape[0] != 1:
        raise c.fail(f"a constant of shape {constant.shape} varies along the batch axis")
    if x.channels_last:
        constant = np.moveaxis(constant, 1, -1)
    constant = constant[0]
    symbol = SYMBOLS[node.op_type]
    if node.op_type == "Add" and x.rank == 3 and constant.shape == tuple(x.tensor.shape[1:]) and not x.channels_last:
        layer = c.own_layer("PositionalEmbedding", sequence_length=constant.shape[0])
        c.emit(Value(c.apply(layer, x.tensor, [constant])))
        return
    if constant.size == 1:
        number = np.format_float_positional(np.float32(constant.reshape(())), unique=True, trim="0")
        expr, learnable = (f"{number} {symbol} x" if first else f"x {symbol} {number}"), {}
    else:
        while constant.ndim > 1 and constant.shape[0] == 1:  # numpy aligns the trailing axes
            constant = constant[0]
        name = LEARNED[node.op_type]
        expr = f"{name} {symbol} x" if first else f"x {symbol} {name}"
        learnable = {name: {"shape": list(constant.shape)}}
    layer = c.own_layer("Expression", expr=expr, names=["x"], learnable=learnable)
    weights = [constant] if learnable else None
    positive = x.non_negative and node.op_type in ("Add", "Mul") and bool(np.all(constant >= 0))
    c.emit(Value(c.apply(layer, [x.tensor], weights), x.channels_last, positive))
