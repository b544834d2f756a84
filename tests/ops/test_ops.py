"""Each op's static shape rule and parameter count agree with the Keras layer it lowers to."""

from __future__ import annotations

import pytest

import archspec
from archspec.catalogue.ops import OPS
from archspec.graph.summary import node_params

CASES = [
    # (op params as YAML flow mapping, input shape)
    ("{op: dense, units: 7}", [5]),
    ("{op: dense, units: 7, use_bias: false}", [3, 5]),
    ("{op: conv2d, filters: 4, kernel: 3}", [9, 9, 2]),
    ("{op: conv2d, filters: 4, kernel: 3, padding: valid}", [9, 9, 2]),
    ("{op: conv2d, filters: 4, kernel: [3, 5], strides: 2}", [9, 11, 2]),
    ("{op: conv2d, filters: 4, kernel: 3, strides: 2, padding: valid}", [10, 9, 2]),
    ("{op: conv2d, filters: 4, kernel: 3, dilation: 2, padding: valid}", [9, 9, 2]),
    ("{op: conv2d_transpose, filters: 3, kernel: 3, strides: 2}", [7, 7, 4]),
    ("{op: conv2d_transpose, filters: 3, kernel: 3, strides: 2, padding: valid}", [7, 7, 4]),
    ("{op: conv2d_transpose, filters: 3, kernel: 2, strides: 3, padding: valid}", [5, 6, 4]),
    ("{op: max_pool2d}", [9, 8, 3]),
    ("{op: max_pool2d, pool: 3, strides: 2}", [11, 11, 3]),
    ("{op: max_pool2d, pool: 3, strides: 2, padding: same}", [11, 10, 3]),
    ("{op: avg_pool2d, pool: [2, 3]}", [8, 9, 3]),
    ("{op: global_avg_pool2d}", [5, 5, 6]),
    ("{op: global_max_pool2d}", [5, 5, 6]),
    ("{op: upsample2d}", [5, 6, 2]),
    ("{op: upsample2d, size: [2, 3], interpolation: bilinear}", [5, 6, 2]),
    ("{op: zero_padding2d, padding: 3}", [5, 5, 1]),
    ("{op: zero_padding2d, padding: [1, 2]}", [5, 5, 1]),
    ("{op: zero_padding2d, padding: [[1, 0], [2, 3]]}", [5, 5, 1]),
    ("{op: flatten}", [4, 5, 6]),
    ("{op: reshape, shape: [-1, 6]}", [4, 5, 6]),
    ("{op: reshape, shape: [10, 12]}", [4, 5, 6]),
    ("{op: dropout, rate: 0.3}", [8]),
    ("{op: batch_norm}", [4, 4, 3]),
    ("{op: batch_norm, axis: 1, center: false}", [4, 3]),
    ("{op: layer_norm}", [6, 8]),
    ("{op: layer_norm, scale: false}", [6, 8]),
    ("{op: activation, activation: gelu}", [6]),
    ("{op: identity}", [6, 2]),
    ("{op: positional_embedding}", [6, 8]),
    ("{op: relative_positions, buckets: 3, features: 4}", [6, 8]),
    ("{op: global_pool1d}", [6, 8]),
    ("{op: global_pool1d, mode: max}", [6, 8]),
    ("{op: attention, heads: 2, key_dim: 4}", [6, 8]),
    ("{op: attention, heads: 3, key_dim: 4, value_dim: 5, use_bias: false}", [6, 8]),
    ("{op: attention, heads: 2, key_dim: 4, causal: true}", [6, 8]),
    ("{op: depthwise_conv2d, kernel: 3}", [9, 9, 4]),
    ("{op: depthwise_conv2d, kernel: 3, strides: 2, padding: valid, depth_multiplier: 2}", [9, 9, 4]),
    ("{op: relu}", [6]),
    ("{op: relu, max_value: 6.0}", [6, 3]),
    ("{op: conv1d, filters: 4, kernel: 3, padding: causal, dilation: 2}", [9, 3]),
    ("{op: conv1d, filters: 4, kernel: 5, strides: 2, padding: valid, groups: 2}", [11, 4]),
    ("{op: max_pool1d, pool: 3, strides: 2}", [11, 3]),
    ("{op: avg_pool1d}", [8, 3]),
    ("{op: global_avg_pool1d}", [8, 3]),
    ("{op: global_max_pool1d}", [8, 3]),
    ("{op: lstm, units: 5, return_sequences: true}", [6, 3]),
    ("{op: gru, units: 5, bidirectional: true}", [6, 3]),
    ("{op: simple_rnn, units: 5, bidirectional: sum}", [6, 3]),
    ("{op: masking}", [6, 3]),
    ("{op: separable_conv2d, filters: 5, kernel: 3, depth_multiplier: 2}", [8, 8, 3]),
    ("{op: separable_conv1d, filters: 5, kernel: 3, padding: valid}", [8, 3]),
    ("{op: group_norm, groups: 2}", [4, 4, 6]),
    ("{op: rms_norm}", [6, 8]),
    ("{op: unit_norm}", [6, 8]),
    ("{op: spatial_dropout1d, rate: 0.2}", [6, 8]),
    ("{op: spatial_dropout2d, rate: 0.2}", [4, 4, 8]),
    ("{op: drop_path, rate: 0.2}", [4, 4, 8]),
    ("{op: leaky_relu, negative_slope: 0.1}", [6]),
    ("{op: prelu, shared_axes: [1, 2]}", [4, 4, 3]),
    ("{op: elu}", [6]),
    ("{op: softmax, axis: 1}", [6, 3]),
    ("{op: zero_padding1d, padding: [1, 2]}", [6, 3]),
    ("{op: cropping1d, cropping: [1, 2]}", [6, 3]),
    ("{op: cropping2d, cropping: [[1, 0], [2, 1]]}", [6, 6, 3]),
    ("{op: pad, padding: [[1, 2], [2, 2], [0, 1]], mode: reflect}", [6, 6, 3]),
    ("{op: rescaling, scale: 0.5, offset: 1.0}", [4, 4, 3]),
    ("{op: normalization, mean: [0.0, 1.0, 2.0], variance: [1.0, 2.0, 3.0]}", [4, 4, 3]),
    ("{op: expr, expr: 'x * g + softmax(x, 1)', learnable: {g: {shape: [1, 3]}}}", [4, 3]),
    ("{op: take, axis: 1, index: -1}", [6, 3]),
    ("{op: slice, axis: 2, start: 1, stop: -1}", [6, 5]),
    ("{op: permute, axes: [3, 1, 2]}", [4, 5, 3]),
    ("{op: class_token, tokens: 3}", [6, 4]),
    ("{op: part, index: 1, parts: 2}", [6, 4]),
    ("{op: part, axis: 1, index: 2, sizes: [1, 2, 3]}", [6, 4]),
    ("{op: fourier}", [6, 8]),
]


def single_op_spec(node: str, shape: list[int], dtype: str = "float32") -> str:
    return f"""
archspec: 1
name: one_op
inputs:
  x: {{shape: {shape}, dtype: {dtype}}}
nodes:
  y: {node}
edges:
  - x -> y
outputs: [y]
"""


@pytest.mark.parametrize("node, shape", CASES, ids=[case[0] for case in CASES])
def test_shape_rule_and_params_match_keras(node, shape, keras):
    graph = archspec.analyze(archspec.loads_spec(single_op_spec(node, shape)))
    model = archspec.compile_model(graph)
    layer = model.get_layer("y")
    assert tuple(layer.output.shape[1:]) == graph.nodes["y"]["shape"]
    assert layer.count_params() == node_params(graph, "y")


def test_embedding_takes_integer_tokens(keras):
    graph = archspec.analyze(archspec.loads_spec(
        single_op_spec("{op: embedding, input_dim: 50, output_dim: 8}", [12], dtype="int32")))
    model = archspec.compile_model(graph)
    assert graph.nodes["y"]["shape"] == (12, 8)
    assert tuple(model.get_layer("y").output.shape[1:]) == (12, 8)
    assert model.count_params() == node_params(graph, "y") == 400


def test_every_op_is_exercised_by_a_case():
    named = {case[0].split("op: ")[1].split(",")[0].rstrip("}") for case in CASES}
    merges = {name for name, op in OPS.items() if op.arity == "many"} | {"embedding"}
    merges |= {"split"}  # its outputs need edges from them: tests/ops/test_tensor_ops.py
    assert set(OPS) - named - merges == set()


def test_every_op_has_a_doc_and_its_name_as_key():
    for name, op in OPS.items():
        assert op.name == name
        assert op.doc, f"op {name} needs a one-line doc (docs/spec.md and render show it)"


def test_docs_describe_every_op_and_edge_kind():
    from archspec.catalogue.connections import CONNECTIONS
    from tests.conftest import ROOT

    text = (ROOT / "docs" / "spec.md").read_text()
    for name in OPS:
        assert f"`{name}`" in text, f"docs/spec.md does not describe op {name}"
    for kind in CONNECTIONS:
        assert f"`{kind}`" in text, f"docs/spec.md does not describe edge kind {kind}"

