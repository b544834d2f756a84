"""`attention` with `relative` and a `relative` edge: DeBERTa's disentangled attention, against keras-hub's
DisentangledSelfAttention and RelativeEmbedding (the reference implementation) and numpy."""

from __future__ import annotations

import math

import numpy as np
import pytest

import archspec
from archspec.errors import SpecError

SPEC = """\
archspec: 1
name: deberta_attention
inputs:
  tokens: {shape: [null], dtype: int32}
  padding: {shape: [null], dtype: int32}
nodes:
  embed: {op: embedding, input_dim: 30, output_dim: 8}
  table: {op: relative_positions, buckets: 4, features: 8}
  table_norm: {op: layer_norm, epsilon: 1.0e-7}
  att: {op: attention, heads: 2, key_dim: 4, relative: {buckets: 4, max_position: 12}}
edges:
  - tokens -> embed -> att
  - tokens -> table -> table_norm
  - {from: table_norm, to: att, kind: relative}
  - {from: padding, to: att, kind: mask}
outputs: [att]
"""


def _reference(keras):
    """keras-hub's layers, wired as its DeBERTa backbone wires them (a padding mask made (batch, T, T))."""
    pytest.importorskip("keras_hub")
    from keras_hub.src.models.deberta_v3.disentangled_self_attention import DisentangledSelfAttention
    from keras_hub.src.models.deberta_v3.relative_embedding import RelativeEmbedding

    tokens = keras.Input((None,), dtype="int32", name="tokens")
    padding = keras.Input((None,), dtype="int32", name="padding")
    x = keras.layers.Embedding(30, 8, name="embed")(tokens)
    table = RelativeEmbedding(hidden_dim=8, bucket_size=4, layer_norm_epsilon=1e-7, name="rel")(x)
    square = keras.ops.logical_and(keras.ops.cast(padding, "bool")[:, None, :],
                                   keras.ops.ones_like(keras.ops.cast(padding, "bool"))[:, :, None])
    layer = DisentangledSelfAttention(num_heads=2, hidden_dim=8, max_position_embeddings=12, bucket_size=4,
                                      dropout=0.1, name="att")
    return keras.Model([tokens, padding], layer(x, rel_embeddings=table, attention_mask=square))


def _batch(steps=11):
    rng = np.random.default_rng(0)
    tokens = rng.integers(0, 30, size=(3, steps)).astype("int32")
    padding = np.ones((3, steps), "int32")
    padding[0, 7:] = 0
    return [tokens, padding]


def test_relative_attention_equals_keras_hubs_disentangled_self_attention(keras, write_spec):
    ours = archspec.compile_model(write_spec(SPEC.replace("key_dim: 4,", "key_dim: 4, dropout: 0.1,")))
    hand = _reference(keras)
    assert ours.count_params() == hand.count_params() == 30 * 8 + 8 * 8 + 2 * 8 + 4 * (8 * 8 + 8)
    rng = np.random.default_rng(1)
    weights = {layer.name: [rng.normal(size=w.shape).astype("float32") for w in layer.get_weights()]
               for layer in hand.layers}
    for layer in hand.layers:
        layer.set_weights(weights[layer.name])
    ours.get_layer("embed").set_weights(weights["embed"])
    ours.get_layer("table").set_weights(weights["rel"][:1])
    ours.get_layer("table_norm").set_weights(weights["rel"][1:])
    *projections, kernel, bias = weights["att"]
    ours.get_layer("att").set_weights(projections + [kernel.reshape(2, 4, 8), bias])
    batch = _batch()  # 11 steps: distances up to 10 reach the log buckets (beyond buckets / 2 = 2)
    expected = hand.predict(batch, verbose=0)
    np.testing.assert_allclose(ours.predict(batch, verbose=0), expected, atol=1e-5)
    unpadded = hand.predict([batch[0], np.ones_like(batch[1])], verbose=0)
    assert np.abs(unpadded[0] - expected[0]).max() > 1e-3  # the mask is used


def test_log_buckets_follow_debertas_formula(keras):
    from archspec.keras.layers import DisentangledAttention

    layer = DisentangledAttention(num_heads=1, key_dim=2, buckets=8, max_position=64)
    buckets = np.asarray(layer._buckets(40))
    mid = 4
    for i, j in [(0, 0), (5, 2), (2, 5), (3, 0), (0, 3), (20, 1), (1, 39), (39, 0)]:
        distance = i - j
        if abs(distance) < mid:
            expected = distance
        else:
            expected = np.sign(distance) * (math.ceil(math.log(abs(distance) / mid) * (mid - 1)
                                                      / math.log(63 / mid)) + mid)
        assert buckets[i, j] == expected, (i, j)


def test_the_node_compiles_to_disentangled_attention_and_counts_its_weights(write_spec):
    from archspec.graph.ir import node_of

    graph = archspec.analyze(write_spec(SPEC))
    att = node_of(graph, "att")
    assert att.plan.relative.source == "table_norm" and att.plan.mask.source == "padding"
    assert att.weight_count() == 4 * (8 * 8 + 8)
    code = archspec.generate_code(write_spec(SPEC, "again.yaml"))
    assert "DisentangledAttention(num_heads=2, key_dim=4, buckets=4, max_position=12" in code
    assert "value_mask=padding, relative=table_norm)" in code


@pytest.mark.parametrize("change, where, message", [
    (("relative: {buckets: 4, max_position: 12}", "relative: {buckets: 4, max_position: 12}, kv_heads: 1"),
     ":10:", "relative goes with none of kv_heads"),
    (("relative: {buckets: 4, max_position: 12}", "relative: {buckets: 1, max_position: 12}"),
     ":10:", "buckets"),
    ((", relative: {buckets: 4, max_position: 12}", ""), ":14:5:",  # at the edge
     "a relative edge leads into an attention node without `relative`"),
    (("  - {from: table_norm, to: att, kind: relative}\n" + "  - {from: padding, to: att, kind: mask}\n"
      "outputs: [att]", "  - {from: padding, to: att, kind: mask}\noutputs: [att, table_norm]"), ":10:",
     "attention with relative needs a relative edge"),
    (("buckets: 4, features: 8", "buckets: 5, features: 8"), ":14:5:",  # at the edge
     "the relative edge brings 2 * buckets rows of the queries' features"),
    (("  - {from: padding, to: att, kind: mask}\n", "  - {from: padding, to: att, kind: mask}\n"
      "  - {from: embed, to: att, kind: attention}\n"), ":14:", "has a relative edge and an attention edge"),
    (("  - {from: padding, to: att, kind: mask}\n", "  - {from: padding, to: embed, kind: relative}\n"), ":15:",
     "relative edge padding -> embed: 'embed' is an embedding node"),
])
def test_bad_relative_attention_is_located(write_spec, change, where, message):
    with pytest.raises(SpecError) as caught:
        archspec.analyze(write_spec(SPEC.replace(*change)))
    text = str(caught.value)
    assert where in text and message in text, text


def test_a_compiled_relative_attention_imports_back_to_the_same_nodes_and_edge(keras, write_spec):
    from archspec.keras.importer import import_and_rebuild

    model = archspec.compile_model(write_spec(SPEC))
    rng = np.random.default_rng(2)
    model.set_weights([rng.normal(size=weight.shape).astype("float32") for weight in model.get_weights()])
    text, rebuilt = import_and_rebuild(model)
    assert "att:        {op: attention, heads: 2, key_dim: 4, relative: {buckets: 4, max_position: 12}}" in text
    assert "{from: table_norm, to: att, kind: relative}" in text
    batch = _batch()
    np.testing.assert_array_equal(rebuilt.predict(batch, verbose=0), model.predict(batch, verbose=0))
