"""The `mask` edge: an attention node that leaves out padded key steps, against Keras written by hand.

keras-hub and most hand-written transformers pass the padding mask as `attention_mask=mask[:, None, :]`;
archspec lowers the edge as MultiHeadAttention's `value_mask=`. Both must give the same outputs, and
different ones from the unmasked layer (or the test could not fail).
"""

from __future__ import annotations

import numpy as np
import pytest

import archspec
from tests.keras.test_compiler import copy_weights

SELF = """\
archspec: 1
name: masked
inputs:
  tokens: {shape: [null], dtype: int32}
  padding: {shape: [null], dtype: int32}
nodes:
  embed: {op: embedding, input_dim: 50, output_dim: 8}
  att: {op: attention, heads: 2, key_dim: 4, causal: CAUSAL}
edges:
  - tokens -> embed -> att
  - {from: padding, to: att, kind: mask}
outputs: [att]
"""

CROSS = """\
archspec: 1
name: cross
inputs:
  queries: {shape: [3, 8]}
  memory: {shape: [null, 6]}
  padding: {shape: [null]}
nodes:
  att: {op: attention, heads: 2, key_dim: 4}
edges:
  - queries -> att
  - {from: memory, to: att, kind: attention}
  - {from: padding, to: att, kind: mask}
outputs: [att]
"""


def _tokens_and_padding(seed=0):
    rng = np.random.default_rng(seed)
    tokens = rng.integers(0, 50, size=(3, 7)).astype("int32")
    padding = np.ones((3, 7), "int32")
    padding[0, 5:] = 0  # the first row's last two steps are padding
    padding[1, 2:] = 0
    return [tokens, padding]


def _hand_self_attention(keras, causal: bool):
    from keras import ops

    tokens = keras.Input((None,), dtype="int32", name="tokens")
    padding = keras.Input((None,), dtype="int32", name="padding")
    x = keras.layers.Embedding(50, 8, name="embed")(tokens)
    mask = ops.cast(ops.expand_dims(padding, axis=1), "int32")  # keras-hub's merge_padding_and_attention_mask
    layer = keras.layers.MultiHeadAttention(num_heads=2, key_dim=4, name="att")
    out = layer(x, x, attention_mask=mask, use_causal_mask=causal)
    return keras.Model([tokens, padding], out)


@pytest.mark.parametrize("causal", [False, True])
def test_self_attention_mask_equals_keras_attention_mask(keras, write_spec, causal):
    ours = archspec.compile_model(write_spec(SELF.replace("CAUSAL", str(causal).lower())))
    hand = _hand_self_attention(keras, causal)
    assert ours.count_params() == hand.count_params()
    assert copy_weights(hand, ours) == 2
    batch = _tokens_and_padding()
    expected = hand.predict(batch, verbose=0)
    np.testing.assert_allclose(ours.predict(batch, verbose=0), expected, atol=1e-6)
    unmasked = hand.predict([batch[0], np.ones_like(batch[1])], verbose=0)
    assert np.abs(unmasked[:2] - expected[:2]).max() > 1e-3  # the padded rows change: the mask is used
    np.testing.assert_allclose(unmasked[2], expected[2], atol=1e-6)  # the unpadded row does not


def test_cross_attention_mask_masks_the_memory_steps(keras, write_spec):
    ours = archspec.compile_model(write_spec(CROSS))
    queries = keras.Input((3, 8), name="queries")
    memory = keras.Input((None, 6), name="memory")
    padding = keras.Input((None,), name="padding")
    layer = keras.layers.MultiHeadAttention(num_heads=2, key_dim=4, name="att")
    hand = keras.Model([queries, memory, padding],
                       layer(queries, memory, attention_mask=keras.ops.expand_dims(padding, 1)))
    copy_weights(hand, ours)
    rng = np.random.default_rng(1)
    mask = np.ones((2, 5), "float32")
    mask[0, 3:] = 0
    batch = [rng.normal(size=(2, 3, 8)).astype("float32"), rng.normal(size=(2, 5, 6)).astype("float32"), mask]
    np.testing.assert_allclose(ours.predict(batch, verbose=0), hand.predict(batch, verbose=0), atol=1e-6)


def test_generated_code_passes_the_mask_by_keyword(keras, write_spec):
    path = write_spec(SELF.replace("CAUSAL", "true"))
    code = archspec.generate_code(path)
    assert ("att = layers.MultiHeadAttention(num_heads=2, key_dim=4, name='att')(embed, embed, "
            "use_causal_mask=True, value_mask=padding)") in code
    namespace: dict = {}
    exec(compile(code, "<codegen masked>", "exec"), namespace)  # generated code, our own output
    ours = archspec.compile_model(path)
    copy_weights(namespace["model"], ours)
    batch = _tokens_and_padding(seed=2)
    np.testing.assert_allclose(ours.predict(batch, verbose=0), namespace["model"].predict(batch, verbose=0),
                               atol=1e-6)


def test_mask_edge_adds_no_weights_and_is_read_by_the_plan(write_spec):
    from archspec.graph.ir import node_of

    masked = archspec.analyze(write_spec(SELF.replace("CAUSAL", "false")))
    plain = archspec.analyze(write_spec(SELF.replace("CAUSAL", "false").replace(
        "  - {from: padding, to: att, kind: mask}\n", "  - padding -> pool\n").replace(
        "nodes:\n", "nodes:\n  pool: {op: identity}\n").replace("outputs: [att]", "outputs: [att, pool]"),
        "plain.yaml"))
    att = node_of(masked, "att")
    assert att.plan.mask.source == "padding" and att.plan.attention is None
    assert att.weight_count() == node_of(plain, "att").weight_count() == 4 * (8 * 8 + 8)
