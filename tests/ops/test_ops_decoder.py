"""The ops' parameters for decoder language models (LLaMA and its family) against hand-written Keras:
an embedding's untied reverse table; grouped key/value heads, rotary positions, an output projection
without bias and a sliding window in attention; Gemma's RMS norm scaled by (1 + gamma)."""

from __future__ import annotations

import numpy as np
import pytest

from archspec.graph.summary import node_params
from tests.op_checks import assert_matches_keras, assert_round_trips, compile_one, located_error


def test_an_embedding_with_a_reverse_table_is_kerass_untied_reversible_embedding(keras, tmp_path):
    node = "{op: embedding, input_dim: 40, output_dim: 8, reverse_table: true}"
    tokens = np.random.default_rng(0).integers(0, 40, size=(2, 6)).astype("int32")
    model = assert_matches_keras(keras, node, [6], keras.layers.ReversibleEmbedding(40, 8, tie_weights=False),
                                 dtype="int32", inputs=tokens)
    layer = model.get_layer("y")
    assert [weight.shape for weight in layer.weights] == [(40, 8), (8, 40)]  # both tables, counted
    vectors = np.random.default_rng(1).normal(size=(2, 8)).astype("float32")
    np.testing.assert_allclose(np.asarray(layer(vectors, reverse=True)), vectors @ layer.get_weights()[1], atol=1e-5)
    assert_round_trips(keras, node, [6], tmp_path, dtype="int32")


def _complex_rope(tensor: np.ndarray, wavelength: float, scaling: float, dims: int | None = None) -> np.ndarray:
    """RoPE as RoFormer writes it: feature pairs (x_i, x_{i + D/2}) as complex numbers, times e^(i p f_i); with
    `dims`, only the first dims features (D = dims), the others as they are."""
    if dims is not None:
        return np.concatenate([_complex_rope(tensor[..., :dims], wavelength, scaling), tensor[..., dims:]], axis=-1)
    half = tensor.shape[-1] // 2
    frequencies = wavelength ** (-np.arange(half) * 2 / tensor.shape[-1]) / scaling  # (D/2,)
    turns = np.exp(1j * np.arange(tensor.shape[1])[:, None] * frequencies)[None, :, None, :]  # (1, T, 1, D/2)
    pairs = (tensor[..., :half] + 1j * tensor[..., half:]) * turns
    return np.concatenate([pairs.real, pairs.imag], axis=-1)


def _attention_by_hand(x, weights, heads, kv_heads, rope=None, causal=False, window=None):
    """Grouped-query attention in NumPy: projections, RoPE, shared key/value heads, 1/sqrt(D), softmax."""
    query_kernel, key_kernel, value_kernel, output_kernel = weights
    query = np.einsum("btm,muh->btuh", x, query_kernel)  # (B, T, H, D)
    key, value = np.einsum("btm,mvh->btvh", x, key_kernel), np.einsum("btm,mvh->btvh", x, value_kernel)
    if rope is not None:
        query, key = _complex_rope(query, *rope), _complex_rope(key, *rope)
    key, value = np.repeat(key, heads // kv_heads, axis=2), np.repeat(value, heads // kv_heads, axis=2)
    scores = np.einsum("bquh,bkuh->buqk", query, key) / np.sqrt(query.shape[-1])  # (B, H, T, T)
    queries, keys = np.indices(scores.shape[-2:])
    if causal:
        scores = np.where(keys <= queries, scores, -np.inf)
    if window is not None:
        scores = np.where(np.abs(queries - keys) < window, scores, -np.inf)
    probabilities = np.exp(scores - scores.max(axis=-1, keepdims=True))
    probabilities /= probabilities.sum(axis=-1, keepdims=True)
    return np.einsum("bquh,uhm->bqm", np.einsum("buqk,bkuh->bquh", probabilities, value), output_kernel)


def test_kv_heads_alone_is_kerass_grouped_query_attention(keras):
    _, model = compile_one("{op: attention, heads: 4, key_dim: 2, kv_heads: 2}", [5, 8])
    layer = model.get_layer("y")
    assert type(layer) is keras.layers.GroupQueryAttention  # the class GroupedQueryAttention
    source = keras.Input((5, 8))
    reference = keras.layers.GroupQueryAttention(head_dim=2, num_query_heads=4, num_key_value_heads=2)
    expected = keras.Model(source, reference(source, source))
    # query 8*4*2 + 4*2, key and value 8*2*2 + 2*2 each, output 4*2*8 + 8
    assert layer.count_params() == reference.count_params() == 72 + 2 * 36 + 72
    rng = np.random.default_rng(0)
    layer.set_weights([rng.normal(size=weight.shape).astype("float32") for weight in layer.get_weights()])
    reference.set_weights(layer.get_weights())
    x = rng.normal(size=(2, 5, 8)).astype("float32")
    assert np.abs(np.asarray(model(x)) - np.asarray(expected(x))).max() < 1e-5


@pytest.mark.parametrize("rotary, rope", [("{}", (10000.0, 1.0)), ("{max_wavelength: 500, scaling: 2}", (500.0, 2.0)),
                                          ("{dims: 2}", (10000.0, 1.0, 2))])
def test_rotary_grouped_causal_attention_is_the_hand_written_computation(keras, rotary, rope):
    node = f"{{op: attention, heads: 4, key_dim: 4, kv_heads: 2, use_bias: false, causal: true, rotary: {rotary}}}"
    graph, model = compile_one(node, [6, 8])
    layer = model.get_layer("y")
    assert layer.count_params() == node_params(graph, "y") == 8 * 4 * 4 + 2 * 8 * 2 * 4 + 4 * 4 * 8
    rng = np.random.default_rng(1)
    weights = [rng.normal(scale=0.5, size=weight.shape).astype("float32") for weight in layer.get_weights()]
    layer.set_weights(weights)
    x = rng.normal(size=(2, 6, 8)).astype("float32")
    want = _attention_by_hand(x.astype("float64"), weights, heads=4, kv_heads=2, rope=rope, causal=True)
    assert np.abs(np.asarray(model(x)) - want).max() < 1e-5
    unrotated = _attention_by_hand(x.astype("float64"), weights, heads=4, kv_heads=2, causal=True)
    assert np.abs(np.asarray(model(x)) - unrotated).max() > 1e-2  # the positions do turn the vectors


@pytest.mark.parametrize("node", [
    "{op: attention, heads: 4, key_dim: 2, kv_heads: 2}",
    "{op: attention, heads: 2, key_dim: 4, rotary: {max_wavelength: 500.0}}",
    "{op: attention, heads: 4, key_dim: 4, kv_heads: 1, use_bias: false, causal: true, rotary: {scaling: 2.0}}",
    "{op: attention, heads: 2, key_dim: 4, kv_heads: 1, rotary: {}, output_bias: false}",
    "{op: attention, heads: 2, key_dim: 4, output_bias: false}",
    "{op: attention, heads: 2, key_dim: 4, kv_heads: 1, causal: true, window: 3}",
    "{op: attention, heads: 2, key_dim: 4, rotary: {}, causal: true, window: 3}",
    "{op: attention, heads: 2, key_dim: 6, rotary: {dims: 2}}",
])
def test_grouped_and_rotary_attention_round_trip_through_import(keras, tmp_path, node):
    assert_round_trips(keras, node, [6, 8], tmp_path)


@pytest.mark.parametrize("node, message", [
    ("{op: attention, heads: 4, key_dim: 2, kv_heads: 3}", "kv_heads (3) must divide heads (4)"),
    ("{op: attention, heads: 2, key_dim: 3, rotary: {}}", "rotary turns an even number of features"),
    ("{op: attention, heads: 2, key_dim: 4, rotary: {dims: 3}}", "rotary turns an even number of features"),
    ("{op: attention, heads: 2, key_dim: 4, rotary: {dims: 6}}", "rotary dims (6) exceeds key_dim (4)"),
    ("{op: attention, heads: 2, key_dim: 4, value_dim: 8, kv_heads: 1}", "value_dim must equal key_dim"),
    ("{op: attention, heads: 2, key_dim: 4, rotary: {wavelength: 500}}", "wavelength"),
    ("{op: attention, heads: 2, key_dim: 4, rotary: {scaling: 0}}", "scaling"),
    ("{op: attention, heads: 2, key_dim: 4, kv_heads: 0}", "kv_heads"),
    ("{op: attention, heads: 2, key_dim: 4, value_dim: 2, output_bias: false}", "value_dim must equal key_dim"),
    ("{op: attention, heads: 2, key_dim: 4, window: 0}", "window"),
])
def test_bad_grouped_or_rotary_attention_is_located(tmp_path, node, message):
    assert message in located_error(tmp_path, node, [6, 8])


def test_output_bias_false_drops_only_the_output_projections_bias(keras):
    """Qwen2's attention: biases on queries, keys and values, none on the output. The same as Keras's
    GroupQueryAttention with use_bias whose output bias is zero, less that bias's parameters."""
    graph, model = compile_one("{op: attention, heads: 4, key_dim: 2, kv_heads: 2, output_bias: false}", [5, 8])
    layer = model.get_layer("y")
    source = keras.Input((5, 8))
    reference = keras.layers.GroupQueryAttention(head_dim=2, num_query_heads=4, num_key_value_heads=2)
    expected = keras.Model(source, reference(source, source))
    assert layer.count_params() == node_params(graph, "y") == reference.count_params() - 8
    assert layer._output_dense.bias is None and layer._query_dense.bias is not None
    rng = np.random.default_rng(2)
    weights = [rng.normal(size=weight.shape).astype("float32") for weight in layer.get_weights()]
    layer.set_weights(weights)
    reference.set_weights([*weights, np.zeros(8, "float32")])  # its output bias last, zero
    x = rng.normal(size=(2, 5, 8)).astype("float32")
    assert np.abs(np.asarray(model(x)) - np.asarray(expected(x))).max() < 1e-5


def test_a_window_keeps_the_latest_keys_of_a_causal_attention(keras):
    """Mistral's sliding window: with causal, each query sees its own step and the window - 1 before it."""
    node = "{op: attention, heads: 2, key_dim: 4, kv_heads: 1, use_bias: false, causal: true, window: 2}"
    _, model = compile_one(node, [6, 8])
    layer = model.get_layer("y")
    rng = np.random.default_rng(3)
    weights = [rng.normal(scale=0.5, size=weight.shape).astype("float32") for weight in layer.get_weights()]
    layer.set_weights(weights)
    x = rng.normal(size=(2, 6, 8)).astype("float32")
    want = _attention_by_hand(x.astype("float64"), weights, heads=2, kv_heads=1, causal=True, window=2)
    assert np.abs(np.asarray(model(x)) - want).max() < 1e-5
    unwindowed = _attention_by_hand(x.astype("float64"), weights, heads=2, kv_heads=1, causal=True)
    assert np.abs(np.asarray(model(x)) - unwindowed).max() > 1e-3


def test_a_unit_offset_rms_norm_scales_by_one_plus_its_weight(keras, tmp_path):
    """Gemma's RMS norm: x / rms(x) * (1 + gamma), gamma starting at zero (the identity scale)."""
    graph, model = compile_one("{op: rms_norm, epsilon: 0.001, unit_offset: true}", [5, 6])
    layer = model.get_layer("y")
    assert layer.count_params() == node_params(graph, "y") == 6
    np.testing.assert_array_equal(layer.get_weights()[0], np.zeros(6, "float32"))
    gamma = np.random.default_rng(4).normal(size=6).astype("float32")
    layer.set_weights([gamma])
    x = np.random.default_rng(5).normal(size=(2, 5, 6)).astype("float32")
    want = x / np.sqrt((x.astype("float64") ** 2).mean(axis=-1, keepdims=True) + 0.001) * (1 + gamma)
    assert np.abs(np.asarray(model(x)) - want).max() < 1e-5
    assert_round_trips(keras, "{op: rms_norm, epsilon: 0.001, unit_offset: true}", [5, 6], tmp_path)
