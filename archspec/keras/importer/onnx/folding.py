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


def fold_constants(nodes: list[Any], constants: dict[str, np.ndarray], opset: int) -> list[Any]:
    """The nodes left after computing every node of constants (Constant nodes included) into `constants`."""
    left = []
    for node in nodes:
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
