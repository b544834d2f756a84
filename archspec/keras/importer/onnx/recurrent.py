"""ONNX's LSTM and GRU, and the axis shuffles around them, as Keras's batch-major LSTM and GRU layers.

ONNX recurrent nodes read (T, N, F) and write Y (T, directions, N, H) and the final state
(directions, N, H); exporters put a Transpose before and a Squeeze, Gather or Transpose after.
Those become no layer: the Keras tensor stays batch-major and convert.Value.form says which
ONNX axes it stands for, until a rule brings the batch axis first again.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from archspec.keras.importer.onnx.convert import Converter, Value

GATES = {"LSTM": ([0, 2, 3, 1], 4), "GRU": ([0, 1, 2], 3)}
"""Which of ONNX's gate blocks (LSTM i, o, f, c; GRU z, r, h) come in Keras's order (i, f, c, o; z, r, h)."""


def _reorder(matrix: np.ndarray, order: list[int], count: int) -> np.ndarray:
    return np.concatenate([np.split(matrix, count, axis=0)[index] for index in order], axis=0)


def recurrent(c: Converter, node: Any, attrs: dict) -> None:
    x = c.value(node.input[0], "time_major")
    weight, recur = (c.required_constant(name, "weight") for name in node.input[1:3])
    bias = c.constant(node.input[3]) if len(node.input) > 3 and node.input[3] else None
    optional = [*node.input[4:], "", "", ""]
    directions = 2 if attrs.get("direction", "forward") == "bidirectional" else 1
    if attrs.get("direction", "forward") == "reverse" or attrs.get("layout", 0) or weight.shape[0] != directions:
        raise c.fail("only forward or bidirectional, time-major recurrences are read")
    if optional[0]:
        raise c.fail("sequence lengths are not read (every sequence has all its steps)")
    if any(name and (c.constant(name) is None or np.any(c.constant(name))) for name in optional[1:3]):
        raise c.fail("initial states other than zeros are not read")
    if attrs.get("activations") or attrs.get("clip") or attrs.get("input_forget"):
        raise c.fail("activations, clip and input_forget other than the defaults are not read")
    if node.op_type == "GRU" and not attrs.get("linear_before_reset", 0):
        raise c.fail("linear_before_reset=0 differs from Keras's GRU (reset_after=True)")
    used = [(bool(name) and bool(c.graph.consumers(name))) or name in c.graph.outputs for name in node.output]
    if sum(used[1:]) and used[0]:
        raise c.fail("both the sequence and the final state are used; only one is read")
    kwargs: dict[str, Any] = {"units": attrs["hidden_size"], "return_sequences": used[0], "use_bias": bias is not None,
                              **({"reset_after": True} if node.op_type == "GRU" else {})}
    weights = [item for direction in range(directions)
               for item in _weights(node.op_type, weight[direction], recur[direction],
                                    None if bias is None else bias[direction])]
    if directions == 1:
        layer = c.layer(node.op_type, **kwargs)
    else:  # Keras's Bidirectional concatenates forward then backward, as ONNX's Y orders its directions
        inner = getattr(c.keras.layers, node.op_type)(name=node.op_type.lower(), **kwargs)
        layer = c.layer("Bidirectional", layer=inner, merge_mode="concat")
    output = c.apply(layer, x.tensor, weights)
    suffix = "" if directions == 1 else "2"
    if used[0]:
        c.emit(Value(output, form="steps" + suffix), 0)
    for index in (1, 2)[:len(node.output) - 1]:
        if used[index] and index == 2:
            raise c.fail("the final cell state (Y_c) is not read")
        if used[index]:
            c.emit(Value(output, form="directions" + suffix), index)


def _weights(op_type: str, weight: np.ndarray, recur: np.ndarray, bias: np.ndarray | None) -> list[np.ndarray]:
    """One direction's ONNX weights as Keras's kernel, recurrent kernel and bias, gate blocks reordered."""
    order, count = GATES[op_type]
    weights = [_reorder(weight, order, count).T, _reorder(recur, order, count).T]
    if bias is not None and op_type == "GRU":
        weights.append(np.stack([_reorder(part, order, count) for part in np.split(bias, 2)]))
    elif bias is not None:
        weights.append(_reorder(sum(np.split(bias, 2)), order, count))
    return weights


def squeeze_direction(c: Converter, node: Any, attrs: dict) -> None:
    """Squeeze of the direction axis: Y (T, 1, N, H) -> time-major, a state (1, N, H) -> (N, H)."""
    value = c.values.get(node.input[0])
    axes = [int(item) for item in c.required_constant(node.input[1], "axes")] if len(node.input) > 1 else None
    if value is not None and value.form == "steps" and axes == [1]:
        c.emit(Value(value.tensor, form="time_major"))
    elif value is not None and value.form == "directions" and axes == [0]:
        c.emit(Value(value.tensor))
    else:
        raise c.fail("only the direction axis of a recurrence's output is squeezed")


def gather_state(c: Converter, node: Any, attrs: dict) -> None:
    """The one direction of a final state (`h_n[-1]`, `h_n[0]`)."""
    value = c.values.get(node.input[0])
    index = c.constant(node.input[1])
    count = 2 if value is not None and value.form == "directions2" else 1
    if value is None or not value.form.startswith("directions") or attrs.get("axis", 0) != 0 or index is None \
            or index.ndim or not -count <= int(index) < count:
        raise c.fail("only a direction of a recurrence's final state is gathered")
    if count == 1:
        c.emit(Value(value.tensor))
        return
    units, which = value.tensor.shape[-1] // 2, int(index) % 2  # Bidirectional's (N, 2H): forward, backward
    c.emit(Value(c.apply(c.own_layer("SliceAxis", axis=1, start=which * units, stop=(which + 1) * units),
                         value.tensor)))
