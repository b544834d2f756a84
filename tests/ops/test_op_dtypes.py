"""Every op's static dtype rule agrees with Keras on integer input: refused exactly where Keras fails.

For each op case of tests/ops/test_ops.py (and every activation, merge op and merge
edge) fed an int32 input: when archspec accepts the spec, the compiled model runs in
training and in inference and its output is an integer tensor exactly where archspec
annotated one; when archspec refuses it, the same spec compiled without the dtype check
(as `validate` accepted it before) fails inside Keras at its first call.
"""

from __future__ import annotations

import typing

import numpy as np
import pytest

import archspec.graph.shapes as shapes
from archspec.catalogue.ops.base import Activation
from archspec.catalogue.primitives import INTEGER_DTYPES
from archspec.errors import ShapeError
from archspec.spec.frontend import loads_spec
from tests.ops.test_ops import CASES

OP_CASES = [(params, shape) for params, shape in CASES]
OP_CASES += [(f"{{op: activation, activation: {name}}}", [6]) for name in typing.get_args(Activation)]
OP_CASES += [
("{op: global_pool1d, mode: avg}", [6, 4])]
ROUNDING = {"{op: rms_norm}", "{op: upsample2d, size: 2, interpolation: bilinear}",
            "{op: upsample2d, size: [2, 3], interpolation: bilinear}"}
"""Refused although Keras runs them: the layer computes in float and rounds its output back to the
input's integers, a quietly different model."""
MERGES = ["add", "average", "concat", "maximum", "multiply", "subtract", "matmul"]
EDGES = ["concat-skip", "add-residual", "gate"]


def one_op(params: str, shape: list[int]) -> str:
    return (f"archspec: 1\nname: t\ninputs: {{x: {{shape: {shape}, dtype: int32}}}}\n"
            f"nodes:\n  y: {params}\nedges:\n  - x -> y\noutputs: [y]\n")


def two_inputs(second: str, node: str, edges: str) -> str:
    return (f"archspec: 1\nname: t\ninputs: {{x: {{shape: [4, 4], dtype: int32}}, "
            f"z: {{shape: [4, 4], dtype: {second}}}}}\nnodes:\n  y: {node}\nedges:\n{edges}outputs: [y]\n")


SPECS = [pytest.param(one_op(params, shape), id=params) for params, shape in OP_CASES if params not in ROUNDING]
SPECS += [pytest.param(two_inputs(second, f"{{op: {op}}}", "  - x -> y\n  - z -> y\n"), id=f"{op}-{second}")
          for op in MERGES for second in ("int32", "float32")]
SPECS += [pytest.param(two_inputs(second, "{op: identity}", f"  - x -> y\n  - {{from: z, to: y, kind: {kind}}}\n"),
                       id=f"{kind}-{second}") for kind in EDGES for second in ("int32", "float32")]


def output_is_integer(graph, training: bool) -> bool:
    return str(run_model(graph, training).dtype).removeprefix("<dtype: '").removesuffix("'>") in INTEGER_DTYPES


def run_model(graph, training: bool):
    from archspec.keras.compiler import compile_model

    model = compile_model(graph)
    inputs = [np.ones((2, *model_input.shape[1:]), dtype=model_input.dtype) for model_input in model.inputs]
    return model(inputs if len(inputs) > 1 else inputs[0], training=training)


@pytest.mark.parametrize("text", SPECS)
def test_integer_input_is_refused_exactly_where_keras_fails(text, monkeypatch):
    try:
        graph = shapes.analyze(loads_spec(text))
    except ShapeError as refused:
        assert "float32" in refused.message, refused.message
        monkeypatch.setattr(shapes, "dtype_errors", lambda graph: [])  # validate as it was before the check
        graph = shapes.analyze(loads_spec(text))
        with pytest.raises(Exception):  # noqa: B017 - TensorFlow's errors differ by op
            run_model(graph, training=True)
        return
    for training in (True, False):
        assert output_is_integer(graph, training) == (graph.nodes["y"]["dtype"] in INTEGER_DTYPES), training


@pytest.mark.parametrize("params", sorted(ROUNDING))
def test_layers_that_round_a_float_result_to_integers_are_refused(params, monkeypatch):
    text = one_op(params, [4, 4, 2] if "upsample" in params else [6])
    with pytest.raises(ShapeError, match="needs float32 input"):
        shapes.analyze(loads_spec(text))
    monkeypatch.setattr(shapes, "dtype_errors", lambda graph: [])
    assert output_is_integer(shapes.analyze(loads_spec(text)), training=False)
