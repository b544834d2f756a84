"""Every op's compile mapping has its import mapping: compile a small model with each op (and each
option that changes the Keras layer), save it to .keras, reload, import, and get the same node and
the same outputs back. A new op without an import fails `test_every_op_has_a_case`."""

from __future__ import annotations

import numpy as np
import pytest
import yaml

import archspec
from archspec.catalogue.ops import OPS
from archspec.keras.importer import import_model

IMG, SEQ, VEC = [6, 6, 4], [5, 4], [6]
CASES: list[tuple[str, list[int], str | None]] = [
    # (node, input shape, the op it imports as when another op owns the Keras class)
    ("{op: dense, units: 3, activation: relu, use_bias: false}", VEC, None),
    ("{op: dense, units: 3, kernel_init: he_normal, kernel_reg: {l2: 0.01}}", VEC, None),
    ("{op: flatten}", IMG, None),
    ("{op: reshape, shape: [9, 16]}", IMG, None),
    ("{op: dropout, rate: 0.3}", VEC, None),
    ("{op: batch_norm, momentum: 0.9, epsilon: 0.001}", IMG, None),
    ("{op: layer_norm, center: false}", SEQ, None),
    ("{op: activation, activation: gelu}", VEC, None),
    ("{op: identity}", VEC, None),
    ("{op: embedding, input_dim: 7, output_dim: 3, mask_zero: true}", [5], None),
    ("{op: positional_embedding}", SEQ, None),
    ("{op: relative_positions, buckets: 3, features: 2}", SEQ, None),
    ("{op: global_pool1d, mode: max}", SEQ, "global_max_pool1d"),
    ("{op: global_pool1d}", SEQ, "global_avg_pool1d"),
    ("{op: conv2d, filters: 3, kernel: [3, 1], strides: 2, padding: valid, activation: relu}", IMG, None),
    ("{op: conv2d, filters: 3, dilation: 2, use_bias: false}", IMG, None),
    ("{op: conv2d, filters: 6, kernel: 3, groups: 2}", IMG, None),
    ("{op: conv2d_transpose, filters: 3, strides: 2}", IMG, None),
    ("{op: max_pool2d, pool: 3, strides: 1, padding: same}", IMG, None),
    ("{op: avg_pool2d}", IMG, None),
    ("{op: global_avg_pool2d}", IMG, None),
    ("{op: global_max_pool2d}", IMG, None),
    ("{op: global_avg_pool2d, keepdims: true}", IMG, None),
    ("{op: upsample2d, size: 2, interpolation: bilinear}", IMG, None),
    ("{op: zero_padding2d, padding: [[1, 0], [2, 1]]}", IMG, None),
    ("{op: concat}", IMG, None),
    ("{op: add}", IMG, None),
    ("{op: multiply}", IMG, None),
    ("{op: subtract}", IMG, None),
    ("{op: average}", IMG, None),
    ("{op: maximum}", IMG, None),
    ("{op: gaussian_sample, kl_weight: 0.5, seed: 3}", VEC, None),
    ("{op: matmul}", [4, 4], "expr"),  # they compile to the expr layer, and import as the expression
    ("{op: einsum, equation: 'ij,jk->ik'}", [4, 4], "expr"),
    ("{op: attention, heads: 2, key_dim: 3, causal: true}", SEQ, None),
    ("{op: attention, heads: 2, key_dim: 3, value_dim: 2, use_bias: false}", SEQ, None),
    ("{op: depthwise_conv2d, depth_multiplier: 2, strides: 2}", IMG, None),
    ("{op: relu, max_value: 6.0}", VEC, None),
    ("{op: conv1d, filters: 4, kernel: 3, groups: 2, padding: causal}", SEQ, None),
    ("{op: max_pool1d}", SEQ, None),
    ("{op: avg_pool1d, pool: 3, strides: 1, padding: same}", SEQ, None),
    ("{op: global_avg_pool1d}", SEQ, None),
    ("{op: global_max_pool1d}", SEQ, None),
    ("{op: lstm, units: 3, return_sequences: true}", SEQ, None),
    ("{op: lstm, units: 3, bidirectional: true}", SEQ, None),
    ("{op: gru, units: 3}", SEQ, None),
    ("{op: simple_rnn, units: 3, bidirectional: sum}", SEQ, None),
    ("{op: masking}", SEQ, None),
    ("{op: separable_conv2d, filters: 5, depth_multiplier: 2}", IMG, None),
    ("{op: separable_conv1d, filters: 5}", SEQ, None),
    ("{op: group_norm, groups: 2}", IMG, None),
    ("{op: rms_norm}", SEQ, None),
    ("{op: unit_norm}", VEC, None),
    ("{op: spatial_dropout1d, rate: 0.2}", SEQ, None),
    ("{op: spatial_dropout2d, rate: 0.2}", IMG, None),
    ("{op: drop_path, rate: 0.1}", IMG, None),
    ("{op: leaky_relu, negative_slope: 0.1}", VEC, None),
    ("{op: prelu, shared_axes: [1, 2]}", IMG, None),
    ("{op: elu, alpha: 0.5}", VEC, None),
    ("{op: softmax, axis: 1}", SEQ, None),
    ("{op: zero_padding1d, padding: [1, 2]}", SEQ, None),
    ("{op: cropping1d, cropping: 1}", SEQ, None),
    ("{op: cropping2d, cropping: [[1, 0], [0, 1]]}", IMG, None),
    ("{op: pad, padding: [[1, 0], [0, 2], [0, 0]], mode: symmetric}", IMG, None),
    ("{op: slice, axis: 2, start: 3, step: -2}", SEQ, None),
    ("{op: rescaling, scale: 0.5, offset: -1.0}", IMG, None),
    ("{op: expr, expr: \"x * gamma + 1.0\", learnable: {gamma: {shape: [4], init: ones}}}", SEQ, None),
    ("{op: take, axis: 1, index: -1}", SEQ, None),
    ("{op: slice, axis: 2, start: 1, stop: 3}", SEQ, None),
    ("{op: permute, axes: [2, 1]}", SEQ, None),
    ("{op: class_token, tokens: 2}", SEQ, None),
    ("{op: fourier}", SEQ, None),
    ("{op: part, axis: -1, index: 1, parts: 2}", SEQ, "slice"),
    ("{op: normalization}", IMG, None),
    ("{op: normalization, mean: [0.5, 1.0, 0.0, 2.0], variance: [1.0, 4.0, 2.0, 0.25]}", IMG, None),
]


def spec_text(node: str, shape: list[int]) -> str:
    """A spec of node y on input x; a merge op (arity many) or attention gets a second input w."""
    op = OPS[yaml.safe_load(node)["op"]]
    dtype = op.input_dtype
    two = op.arity == "many" or "value_dim" in node
    second = f"  w: {{shape: {shape}, dtype: {dtype}}}\n" if two else ""
    edges = "  - x -> y\n" + ("  - w -> y\n" if op.arity == "many" else "")
    if two and op.arity == "attention":
        edges += "  - {from: w, to: y, kind: attention}\n"
    return (f"archspec: 1\nname: one_op\ninputs:\n  x: {{shape: {shape}, dtype: {dtype}}}\n{second}"
            f"nodes:\n  y: {node}\nedges:\n{edges}outputs: [y]\n")


SPLIT = """archspec: 1
name: halves
inputs:
  x: {shape: [5, 4]}
nodes:
  y: {op: split, axis: -1, into: [a, b]}
  z: {op: multiply}
edges:
  - x -> y
  - y.a -> z
  - y.b -> z
outputs: [z]
"""


def test_a_split_imports_as_one_slice_per_output(keras, tmp_path):
    model = archspec.compile_model(archspec.loads_spec(SPLIT))
    model.save(tmp_path / "split.keras")
    text = import_model(keras.saving.load_model(tmp_path / "split.keras"))
    nodes = yaml.safe_load(text)["nodes"]
    assert [node for node in nodes.values() if node["op"] == "slice"] == [
        {"op": "slice", "axis": -1, "stop": 2}, {"op": "slice", "axis": -1, "start": 2, "stop": 4}]
    batch = np.random.default_rng(0).normal(size=(2, 5, 4)).astype("float32")
    rebuilt = archspec.compile_model(archspec.loads_spec(text))
    assert np.abs(np.asarray(rebuilt(batch)) - np.asarray(model(batch))).max() < 1e-6


def test_every_op_has_a_case():
    covered = {yaml.safe_load(node)["op"] for node, _, _ in CASES} | {"split"}
    assert covered == set(OPS) - {name for name in OPS if type(OPS[name]).__module__.startswith("tests")}


@pytest.mark.parametrize("node, shape, imports_as", CASES, ids=[node for node, _, _ in CASES])
def test_each_op_survives_save_reload_import(keras, tmp_path, node, shape, imports_as):
    model = archspec.compile_model(archspec.loads_spec(spec_text(node, shape)))
    rng = np.random.default_rng(1)
    for layer in model.layers:  # random weights: a mapping that drops a setting cannot agree by luck
        layer.set_weights([_random(rng, weight) for weight in layer.weights])
        if hasattr(layer, "finalize_state"):  # a Normalization's statistics follow its weights
            layer.finalize_state()
    model.save(tmp_path / "one.keras")
    reloaded = keras.saving.load_model(tmp_path / "one.keras")
    text = import_model(reloaded)
    wanted = yaml.safe_load(node)
    written = yaml.safe_load(text)["nodes"]["y"]
    assert written["op"] == (imports_as or wanted["op"]), text
    params = OPS[written["op"]].Params
    if imports_as is None:
        strip = {key: value for key, value in wanted.items() if key != "op"}
        assert params.model_validate({k: v for k, v in written.items() if k != "op"}) == \
            params.model_validate(strip), text
    rebuilt = archspec.compile_model(archspec.loads_spec(text))
    assert rebuilt.count_params() == model.count_params()
    for layer in reloaded.layers:
        if layer.weights:
            rebuilt.get_layer(layer.name).set_weights(layer.get_weights())
            if hasattr(layer, "finalize_state"):
                rebuilt.get_layer(layer.name).finalize_state()
    batch = [_example(rng, tensor) for tensor in model.inputs]
    feed = batch if len(batch) > 1 else batch[0]
    assert np.abs(np.asarray(rebuilt(feed)) - np.asarray(model(feed))).max() < 1e-5


def _example(rng: np.random.Generator, tensor) -> np.ndarray:
    shape = (2, *tensor.shape[1:])
    if "int" in str(tensor.dtype):
        return rng.integers(0, 7, size=shape).astype(str(tensor.dtype))
    return rng.normal(size=shape).astype("float32")


def _random(rng: np.random.Generator, weight) -> np.ndarray:
    """Normal values; positive ones for a variance (a negative one makes NaNs that equal nothing)."""
    values = rng.normal(scale=0.5, size=weight.shape).astype(str(weight.dtype))
    return np.abs(values) + 0.1 if "variance" in weight.path else values
