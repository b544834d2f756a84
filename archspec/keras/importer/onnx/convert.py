"""An ONNX graph as a channels-last Keras Functional model, its weights copied and transposed.

Each ONNX tensor is held as a Keras tensor and a layout: `channels_last` when ONNX's (N, C, H, W)
is Keras's (N, H, W, C), else the same axes. Image inputs and every convolution, pooling and
resize output are channels-last; an operator that reads axes by number (Flatten, Reshape,
Transpose) on a channels-last tensor first gets a Permute back to ONNX's order, so the model
computes exactly what the graph does. The operators themselves are in importer.onnx.operators.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from archspec.keras.importer.onnx.reader import OnnxGraph, OnnxImportError, attributes, layer_name, spec_name


@dataclass
class Value:
    """An ONNX tensor in the Keras model being built."""

    tensor: Any
    channels_last: bool = False
    non_negative: bool = False
    """Known >= 0 (after a ReLU): zero padding then equals max-pooling's -inf padding."""
    form: str = ""
    """How a recurrent layer's ONNX axes differ from the batch-major Keras tensor: `time_major` (T, N, F),
    `directions` (1, N, H: a final state), `steps` (T, 1, N, H: LSTM's Y); `directions2` (2, N, H), `steps2`
    (T, 2, N, H) and `pairs` (T, N, 2, H) for a bidirectional one (Keras: (N, 2H), (N, T, 2H)); empty when
    they do not."""

    @property
    def rank(self) -> int:
        return len(self.tensor.shape)


class Converter:
    """Builds the Keras model node by node; `operators` maps an ONNX op_type to a rule."""

    def __init__(self, graph: OnnxGraph, operators: dict[str, Any]) -> None:
        from archspec.keras.backend import import_keras

        self.keras = import_keras()
        self.graph, self.operators = graph, operators
        self.values: dict[str, Value] = {}
        self.taken: set[str] = set()
        self.skip: set[str] = set()  # nodes folded into the one before (a MatMul's bias Add)
        self.node: Any = None

    def build(self, name: str) -> Any:
        inputs = []
        for tensor, dims in self.graph.inputs.items():
            if any(size is None for size in dims[1:]):
                raise OnnxImportError(f"input '{tensor}' has open axes {dims}; export with fixed sizes "
                                      "(only the batch axis may be dynamic)")
            image = len(dims) == 4
            shape = (*dims[2:], dims[1]) if image else dims[1:]
            keras_input = self.keras.Input(shape=shape, name=spec_name(tensor, "input"))
            self.taken.add(keras_input.name)
            inputs.append(keras_input)
            self.values[tensor] = Value(keras_input, channels_last=image)
        for node in self.graph.nodes:
            if node.name in self.skip:
                continue
            self.node = node
            self.operators[node.op_type](self, node, attributes(node))
        outputs = [self.values[tensor].tensor for tensor in self.graph.outputs]
        return self.keras.Model(inputs, outputs if len(outputs) > 1 else outputs[0], name=name)

    # --- what operator rules call ---

    def fail(self, reason: str) -> OnnxImportError:
        node = self.node
        return OnnxImportError(f"{node.op_type} node '{node.name or node.output[0]}': {reason}")

    def constant(self, tensor: str) -> np.ndarray | None:
        return self.graph.constants.get(tensor)

    def required_constant(self, tensor: str, what: str) -> np.ndarray:
        value = self.constant(tensor)
        if value is None:
            raise self.fail(f"the {what} must be a constant (an initializer), not computed in the graph")
        return value

    def value(self, tensor: str, form: str = "") -> Value:
        """The input `tensor`, which must be in `form` (batch-major unless a rule says otherwise)."""
        if tensor not in self.values:
            raise self.fail(f"its input '{tensor}' is a constant here; only weights may be constants")
        value = self.values[tensor]
        if value.form != form:
            raise self.fail(f"its input '{tensor}' has its batch axis elsewhere ({value.form or 'first'}; "
                            f"this rule reads {form or 'batch first'})")
        return value

    def apply(self, layer: Any, inputs: Any, weights: list[np.ndarray] | None = None) -> Any:
        output = layer(inputs)
        if weights is not None:
            layer.set_weights([np.asarray(weight, dtype="float32") for weight in weights])
        return output

    def layer(self, cls: str, suffix: str = "", **kwargs: Any) -> Any:
        return getattr(self.keras.layers, cls)(name=layer_name(self.node, self.taken, suffix), **kwargs)

    def own_layer(self, cls: str, suffix: str = "", **kwargs: Any) -> Any:
        """One of archspec's own layers (archspec.keras.layers: ClassToken, Take, SliceAxis, Expression...)."""
        from archspec.keras import layers

        return getattr(layers, cls)(name=layer_name(self.node, self.taken, suffix), **kwargs)

    def emit(self, value: Value, index: int = 0) -> None:
        self.values[self.node.output[index]] = value

    def axis(self, value: Value, axis: int) -> int:
        """The Keras axis of ONNX axis `axis` of `value` (counted with the batch)."""
        axis %= value.rank
        if not value.channels_last or axis == 0:
            return axis
        return value.rank - 1 if axis == 1 else axis - 1

    def same_order(self, value: Value) -> Value:
        """`value` in ONNX's axis order (a Permute back from channels-last when it is)."""
        if not value.channels_last:
            return value
        rank = value.rank
        layer = self.layer("Permute", "_to_onnx_order", dims=(rank - 1, *range(1, rank - 1)))
        return Value(self.apply(layer, value.tensor), non_negative=value.non_negative)

    def like(self, values: list[Value]) -> list[Value]:
        """Values made to share one layout (channels-last if any is) for an elementwise merge."""
        if all(item.channels_last == values[0].channels_last for item in values):
            return values
        rank = values[0].rank
        out = []
        for item in values:
            if not item.channels_last:
                layer = self.layer("Permute", "_to_channels_last", dims=(*range(2, rank), 1))
                item = Value(self.apply(layer, item.tensor), channels_last=True, non_negative=item.non_negative)
            out.append(item)
        return out

