"""ONNX's indexing and axis operators on tensors: Concat (with a class token), Gather, Slice, Split,
Squeeze and Unsqueeze, as Keras's Concatenate and Reshape and archspec's ClassToken, Take and SliceAxis.

A rule reads axes through the converter (a channels-last image keeps its layout where the
operator allows); the batch axis is never indexed, sliced or split: such a graph is refused.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from archspec.keras.importer.onnx.convert import Converter, Value
from archspec.keras.importer.onnx.recurrent import gather_state, squeeze_direction


def concat(c: Converter, node: Any, attrs: dict) -> None:
    if any(c.constant(name) is not None for name in node.input):
        return _class_token(c, node, attrs)
    values = c.like([c.value(name) for name in node.input])
    layer = c.layer("Concatenate", axis=c.axis(values[0], attrs["axis"]))
    c.emit(Value(c.apply(layer, [item.tensor for item in values]), values[0].channels_last,
                 all(item.non_negative for item in values)))


def _class_token(c: Converter, node: Any, attrs: dict) -> None:
    """Concat(token (N, k, E) constant, x (N, T, E), axis 1): k learned tokens before a sequence."""
    token = c.constant(node.input[0])
    if len(node.input) != 2 or token is None or c.constant(node.input[1]) is not None or token.ndim != 3 \
            or attrs["axis"] % 3 != 1 or not np.all(token == token[:1]):
        raise c.fail("a constant is concatenated only as a class token: Concat(token (1, k, E), x (N, T, E), axis=1)")
    x = c.same_order(c.value(node.input[1]))
    layer = c.own_layer("ClassToken", tokens=token.shape[1])
    c.emit(Value(c.apply(layer, x.tensor, [token[:1]])))


def gather(c: Converter, node: Any, attrs: dict) -> None:
    """One constant position of an axis (token 0 of a sequence): Take; a recurrence's state: no layer."""
    value = c.values.get(node.input[0])
    if value is not None and value.form.startswith("directions"):
        return gather_state(c, node, attrs)
    x = c.same_order(c.value(node.input[0]))
    index = c.constant(node.input[1])
    axis = attrs.get("axis", 0) % x.rank
    if index is None or index.ndim or axis == 0:
        raise c.fail("only one constant position of an axis other than the batch is gathered")
    c.emit(Value(c.apply(c.own_layer("Take", axis=axis, index=int(index)), x.tensor)))


def slice_axes(c: Converter, node: Any, attrs: dict) -> None:
    """Slice with constant starts, ends, axes and steps: one SliceAxis per axis."""
    x = c.value(node.input[0])
    starts, ends = (c.required_constant(name, "slice bound") for name in node.input[1:3])
    optional = [*node.input[3:], "", ""]
    axes = c.required_constant(optional[0], "axes") if optional[0] else np.arange(len(starts))
    steps = c.required_constant(optional[1], "steps") if optional[1] else np.ones(len(starts), int)
    tensor = x.tensor
    for count, (start, end, axis, step) in enumerate(zip(starts, ends, axes, steps)):
        axis = c.axis(x, int(axis))
        if axis == 0:
            raise c.fail("slicing the batch axis is not read")
        bounds = slice(int(start), int(end), int(step)).indices(tensor.shape[axis])
        layer = c.own_layer("SliceAxis", f"_{count}" if count else "", axis=axis, start=bounds[0], stop=bounds[1],
                            step=bounds[2])
        tensor = c.apply(layer, tensor)
    c.emit(Value(tensor, x.channels_last, x.non_negative))


def split(c: Converter, node: Any, attrs: dict) -> None:
    """Split into parts of given or equal sizes: one SliceAxis per part."""
    x = c.value(node.input[0])
    axis = c.axis(x, attrs.get("axis", 0))
    if axis == 0:
        raise c.fail("splitting the batch axis is not read")
    size, count = x.tensor.shape[axis], len(node.output)
    given = c.required_constant(node.input[1], "split sizes") if len(node.input) > 1 and node.input[1] else None
    part = -(-size // count)  # ONNX's equal split: the last part takes what is left
    sizes = [int(item) for item in given] if given is not None else [part] * (count - 1) + [size - part * (count - 1)]
    start = 0
    for index, length in enumerate(sizes):
        layer = c.own_layer("SliceAxis", f"_{index}", axis=axis, start=start, stop=start + length)
        c.emit(Value(c.apply(layer, x.tensor), x.channels_last, x.non_negative), index)
        start += length


def squeeze(c: Converter, node: Any, attrs: dict) -> None:
    """The direction axis of a recurrence's output (no layer), else a Reshape to the inferred shape."""
    value = c.values.get(node.input[0])
    if value is not None and value.form in ("steps", "directions"):
        return squeeze_direction(c, node, attrs)
    unsqueeze(c, node, attrs)


def unsqueeze(c: Converter, node: Any, attrs: dict) -> None:
    axes = c.required_constant(node.input[1], "axes") if len(node.input) > 1 else None
    x = c.same_order(c.value(node.input[0]))
    shape = c.graph.shapes.get(node.output[0])
    rank = len(shape or ()) if node.op_type == "Unsqueeze" else x.rank  # the axes count in the output, input
    if axes is None or not shape or None in shape[1:] or any(int(axis) % rank == 0 for axis in axes):
        raise c.fail("only axes other than the batch, with constant axes and a known shape, are read")
    c.emit(Value(c.apply(c.layer("Reshape", target_shape=tuple(shape[1:])), x.tensor), non_negative=x.non_negative))
