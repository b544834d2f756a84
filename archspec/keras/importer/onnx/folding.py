"""Constant folding: nodes whose inputs are all constants are computed once, at import.

Exporters leave arithmetic on constants in the graph (torch's `F.pad` writes its pads as
ConstantOfShape, Slice and Cast of literals); those nodes describe no layer, so they are run by
onnx's reference evaluator and become constants, and only nodes that read the model's input
are left for the operator rules.
"""

from __future__ import annotations

from typing import Any

import numpy as np

RANDOM = {"RandomNormal", "RandomUniform", "RandomNormalLike", "RandomUniformLike", "Multinomial", "Bernoulli"}


def fold_graph(model: Any, opset: int) -> tuple[list[Any], dict[str, np.ndarray], dict[str, tuple]]:
    """The nodes left, the constants and the tensor shapes of `model` once all that is constant is computed.

    Folding and shape inference feed each other (a Reshape whose target was computed has a shape only
    once the target is a constant), so they alternate until nothing more folds."""
    from onnx import numpy_helper, shape_inference

    graph = model.graph
    constants = {item.name: numpy_helper.to_array(item) for item in graph.initializer}
    nodes = list(graph.node)
    while True:
        shapes = {info.name: dims(info) for info in [*graph.value_info, *graph.input, *graph.output]}
        left = fold_constants(nodes, constants, opset, shapes)
        if len(left) == len(nodes):
            return left, constants, shapes
        nodes = left
        del graph.node[:]
        graph.node.extend(nodes)
        del graph.initializer[:]
        graph.initializer.extend(numpy_helper.from_array(value, name) for name, value in constants.items())
        del graph.value_info[:]
        graph = shape_inference.infer_shapes(model).graph
        model.graph.CopyFrom(graph)
        graph = model.graph


def dims(info: Any) -> tuple[int | None, ...]:
    """A tensor's sizes as shape inference left them (None where it could not tell)."""
    sizes = info.type.tensor_type.shape.dim
    return tuple(size.dim_value if size.HasField("dim_value") else None for size in sizes)


def fold_constants(nodes: list[Any], constants: dict[str, np.ndarray], opset: int,
                   shapes: dict[str, tuple[int | None, ...]]) -> list[Any]:
    """The nodes left after computing every node of constants (Constant nodes included) into `constants`,
    and the Shape of every tensor whose size is known (all of it, batch included: a fixed-batch export)."""
    left = []
    for node in nodes:
        dims = shapes.get(node.input[0]) if node.op_type == "Shape" and not node.attribute else None
        if dims is not None and None not in dims:
            constants[node.output[0]] = np.array(dims, dtype=np.int64)
            continue
        inputs = [name for name in node.input if name]
        foldable = node.op_type not in RANDOM and node.domain in ("", "ai.onnx")
        if not foldable or not all(name in constants for name in inputs):
            left.append(node)
            continue
        values = _evaluate(node, {name: constants[name] for name in inputs}, opset)
        constants.update(zip(node.output, values))
    return left


def _evaluate(node: Any, inputs: dict[str, np.ndarray], opset: int) -> list[np.ndarray]:
    """One node run by onnx's reference evaluator on constant inputs."""
    from onnx import helper
    from onnx.reference import ReferenceEvaluator

    declared = [helper.make_tensor_value_info(name, helper.np_dtype_to_tensor_dtype(value.dtype), value.shape)
                for name, value in inputs.items()]
    outputs = [helper.make_tensor_value_info(name, 0, None) for name in node.output]
    model = helper.make_model(helper.make_graph([node], "fold", declared, outputs),
                              opset_imports=[helper.make_opsetid("", opset)])
    return [np.asarray(value) for value in ReferenceEvaluator(model).run(None, inputs)]
