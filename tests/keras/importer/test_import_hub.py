"""keras-hub backbones built from constructor arguments (tiny, random weights, no downloads) import
exactly: layers that use weights of their own are rewritten as archspec ops (importer.rewrites)."""

from __future__ import annotations

import numpy as np
import pytest
import yaml

from archspec.keras.importer import import_and_rebuild


@pytest.fixture
def keras_hub(keras):
    """keras-hub (the hub extra), imported inside the tests: it loads TensorFlow."""
    return pytest.importorskip("keras_hub")


def _vit(keras_hub, **settings):
    return keras_hub.models.ViTBackbone(image_shape=(16, 16, 3), patch_size=8, num_layers=1, num_heads=2,
                                        hidden_dim=8, mlp_dim=16, **settings)


def _nodes(text):
    spec = yaml.safe_load(text)
    nodes = dict(spec["nodes"])
    for block in (spec.get("blocks") or {}).values():
        nodes.update(block["nodes"])
    return nodes


def test_a_vit_backbone_imports_its_patching_layer_as_conv_reshape_class_token_positions(keras, keras_hub):
    model = _vit(keras_hub)
    text, rebuilt = import_and_rebuild(model)
    nodes = _nodes(text)
    prefix = "vit_patching_and_embedding_"
    assert {name[len(prefix):]: node["op"] for name, node in nodes.items() if name.startswith(prefix)} == {
        "patch_embedding": "conv2d", "patches": "reshape", "class_token": "class_token",
        "position_embedding": "positional_embedding"}
    assert rebuilt.count_params() == model.count_params()
    patching = model.get_layer("vit_patching_and_embedding")
    np.testing.assert_array_equal(rebuilt.get_layer(prefix + "class_token").get_weights()[0],
                                  np.asarray(patching.class_token))
    np.testing.assert_array_equal(rebuilt.get_layer(prefix + "position_embedding").get_weights()[0],
                                  np.asarray(patching.position_embedding.embeddings))
    images = np.random.default_rng(0).normal(size=(2, 16, 16, 3)).astype("float32")
    assert np.abs(np.asarray(rebuilt(images)) - np.asarray(model(images))).max() < 1e-5


def test_a_vit_backbone_without_a_class_token_has_positions_only(keras, keras_hub):
    model = _vit(keras_hub, use_class_token=False)
    text, rebuilt = import_and_rebuild(model)
    assert not any(node["op"] == "class_token" for node in _nodes(text).values())
    assert rebuilt.count_params() == model.count_params()
    images = np.random.default_rng(1).normal(size=(2, 16, 16, 3)).astype("float32")
    assert np.abs(np.asarray(rebuilt(images)) - np.asarray(model(images))).max() < 1e-5


def test_keras_hubs_position_embedding_is_a_positions_only_table_of_any_length(keras, keras_hub):
    """PositionEmbedding returns its table's first T rows, shaped like its input (BERT then adds them):
    positional_embedding with length (the rows) and add: false, for a sequence of any length."""
    tokens = keras.Input((None,), dtype="int32", name="tokens")
    embedded = keras.layers.Embedding(20, 8, name="embed")(tokens)
    positions = keras_hub.layers.PositionEmbedding(sequence_length=12, name="positions")(embedded)
    model = keras.Model(tokens, keras.layers.Add(name="sum")([embedded, positions]))
    text, rebuilt = import_and_rebuild(model)
    assert yaml.safe_load(text)["nodes"]["positions"] == {"op": "positional_embedding", "length": 12, "add": False}
    assert rebuilt.count_params() == model.count_params() == 20 * 8 + 12 * 8
    np.testing.assert_array_equal(rebuilt.get_layer("positions").get_weights()[0],
                                  model.get_layer("positions").get_weights()[0])
    for steps in (5, 12):  # shorter than the table, and all of it
        batch = np.random.default_rng(steps).integers(0, 20, size=(2, steps)).astype("int32")
        np.testing.assert_allclose(np.asarray(rebuilt(batch)), np.asarray(model(batch)), atol=1e-6)


def test_a_vit_backbones_encoder_blocks_fold_into_one_block_used_twice(keras, keras_hub):
    """Each traced ViTEncoderBlock adds its residual as add(f(x), x): the add joins its own block's unit
    (the input traced in the same layer), so the two blocks have one signature."""
    model = keras_hub.models.ViTBackbone(image_shape=(16, 16, 3), patch_size=8, num_layers=2, num_heads=2,
                                         hidden_dim=8, mlp_dim=16)
    text, rebuilt = import_and_rebuild(model)
    spec = yaml.safe_load(text)
    assert list(spec["blocks"]) == ["block()"]
    assert "=block(repeat=2)" in text
    assert "Written without blocks" not in text
    images = np.random.default_rng(2).normal(size=(2, 16, 16, 3)).astype("float32")
    assert np.abs(np.asarray(rebuilt(images)) - np.asarray(model(images))).max() < 1e-5


def _text_batch(model, steps=7, seed=3):
    """Token ids across the vocabulary and a padding mask with a padded tail in the first row, by input name."""
    rng = np.random.default_rng(seed)
    padding = np.ones((2, steps), "int32")
    padding[0, steps - 3:] = 0
    return {"token_ids": rng.integers(0, 50, size=(2, steps)).astype("int32"), "padding_mask": padding}


@pytest.mark.parametrize("name", ["DistilBertBackbone", "OPTBackbone"])
def test_text_backbones_import_with_their_padding_mask_as_a_mask_edge(keras, keras_hub, name):
    """An encoder (padding mask only) and a decoder (padding and causal masks): the mask-building keras.ops
    calls become a mask edge in the repeated block, the decoder's causal mask `causal: true`."""
    model = getattr(keras_hub.models, name)(vocabulary_size=50, num_layers=2, num_heads=2, hidden_dim=8,
                                            intermediate_dim=16, max_sequence_length=16)
    text, rebuilt = import_and_rebuild(model)
    (block,) = yaml.safe_load(text)["blocks"].values()
    assert {"from": "x2", "to": "self_attention_layer" if name == "DistilBertBackbone" else "self_attention",
            "kind": "mask"} in block["edges"]
    assert ("causal=true" in text) == (name == "OPTBackbone")
    assert "expand_dims" not in text
    from keras.src.layers.layer import Layer
    from keras_hub.src.layers.modeling import transformer_decoder, transformer_layer_utils

    assert transformer_decoder.compute_causal_mask is transformer_layer_utils.compute_causal_mask  # put back
    assert Layer.symbolic_call.__qualname__ == "Layer.symbolic_call"
    batch = _text_batch(model)
    expected = np.asarray(model(batch))
    np.testing.assert_allclose(np.asarray(rebuilt(batch)), expected, atol=1e-5)
    unpadded = dict(batch, padding_mask=np.ones_like(batch["padding_mask"]))
    assert np.abs(np.asarray(model(unpadded))[0] - expected[0]).max() > 1e-4  # the mask matters


def test_a_subclass_of_a_keras_layer_imports_as_its_base_and_is_checked(keras):
    """keras-hub's CachedMultiHeadAttention adds `cache=None` to MultiHeadAttention's call: it imports as
    `attention`; a subclass that computes something else is refused by the import's check, by node."""
    from archspec.keras.importer import KerasImportError

    class CachedAttention(keras.layers.MultiHeadAttention):
        def call(self, query, value, key=None, attention_mask=None, cache=None, training=None):
            return super().call(query, value, key=key, attention_mask=attention_mask, training=training)

    class DoubledDense(keras.layers.Dense):
        def call(self, inputs):
            return super().call(inputs) * 2.0

    tokens = keras.Input((5, 8), name="tokens")
    x = CachedAttention(num_heads=2, key_dim=4, name="att")(query=tokens, value=tokens)
    text, _ = import_and_rebuild(keras.Model(tokens, x))
    assert yaml.safe_load(text)["nodes"]["att"] == {"op": "attention", "heads": 2, "key_dim": 4}
    with pytest.raises(KerasImportError, match=r"computes other outputs than the model: node 'double' "
                                              r"\(DoubledDense\) differs by"):
        import_and_rebuild(keras.Model(tokens, DoubledDense(3, name="double")(tokens)))


def test_a_deit_backbone_whose_blocks_return_none_scores_imports_exactly(keras, keras_hub):
    """DeiT's encoder blocks return (x, None) and its encoder empty score lists beside its output: the
    trace reads the tensors, and the blocks fold as ViT's do."""
    model = keras_hub.models.DeiTBackbone(image_shape=(16, 16, 3), patch_size=8, num_layers=2, num_heads=2,
                                          hidden_dim=8, intermediate_dim=16)
    text, rebuilt = import_and_rebuild(model)
    assert "=block(repeat=2)" in text
    # an inner layer Keras-style named (dense_1, dropout) is numbered within the block, not past its own name
    assert "-> mlp_dense=dense(16, gelu) -> output_layer_output=dense(8)\n" in text
    assert "-> output_layer_dropout=dropout(0.0) -> output_layer_add=add\n" in text
    assert rebuilt.count_params() == model.count_params()
    images = np.random.default_rng(3).normal(size=(2, 16, 16, 3)).astype("float32")
    assert np.abs(np.asarray(rebuilt(images)) - np.asarray(model(images))).max() < 1e-5


def test_an_fnet_backbone_imports_its_fourier_mixing_exactly(keras, keras_hub):
    """FNet: keras.ops.fft2's real part is a fourier node, its Dense's gelu_approximate function an expr after
    it, its [CLS] token take index 0 of a sequence of any length; its outputs a dict."""
    model = keras_hub.models.FNetBackbone(vocabulary_size=50, num_layers=2, hidden_dim=8, intermediate_dim=16,
                                          max_sequence_length=16)
    text, rebuilt = import_and_rebuild(model)
    for step in ("x -> fft2=fourier -> ", "-> intermediate_dense_gelu=expr('gelu_tanh(x)')\n",
                 "=take(index=0) -> pooled_dense", "=layer()"):  # take: get_item, numbered by Keras process-wide
        assert step in text
    assert rebuilt.count_params() == model.count_params()
    rng = np.random.default_rng(4)
    for steps in (5, 12):
        batch = {"token_ids": rng.integers(0, 50, size=(2, steps)).astype("int32"),
                 "segment_ids": rng.integers(0, 4, size=(2, steps)).astype("int32")}
        want = model(batch)
        got = rebuilt(batch)  # by input name
        for index, key in enumerate(("pooled_output", "sequence_output")):
            assert np.abs(np.asarray(got[index]) - np.asarray(want[key])).max() < 1e-5


DECODER = {"vocabulary_size": 50, "num_layers": 2, "num_query_heads": 2, "num_key_value_heads": 1, "hidden_dim": 8,
           "intermediate_dim": 16}


def _perturbed(model, seed=0):
    """Every weight random (RMS scales of ones and zero biases would hide a wrongly placed weight)."""
    rng = np.random.default_rng(seed)
    model.set_weights([rng.normal(scale=0.5, size=weight.shape).astype("float32") for weight in model.get_weights()])
    return model


@pytest.mark.parametrize("name, settings, attention, untied", [
    ("LlamaBackbone", {}, {"use_bias": False}, True),
    ("Qwen2Backbone", {}, {"output_bias": False}, False),  # biases on queries, keys and values; tied embeddings
    ("MistralBackbone", {"sliding_window": 3}, {"use_bias": False, "window": 3}, True),
])
def test_llama_family_backbones_import_as_rotary_grouped_attention_rms_norms_and_their_embedding(
        keras, keras_hub, name, settings, attention, untied):
    model = _perturbed(getattr(keras_hub.models, name)(**DECODER, **settings))
    text, rebuilt = import_and_rebuild(model)
    (block,) = yaml.safe_load(text)["blocks"].values()
    assert block["nodes"]["self_attention"] == {"op": "attention", "heads": 2, "key_dim": 4, "kv_heads": 1,
                                               "rotary": {}, "causal": True, **attention}
    assert "self_attention_layernorm=rms_norm" in text and "sequence_output_layernorm=rms_norm" in text
    assert _nodes(text)["token_embedding"].get("reverse_table", False) is untied
    assert rebuilt.count_params() == model.count_params()
    theirs = model.get_layer("transformer_layer_1")._self_attention_layer
    mine = rebuilt.get_layer("transformer_layer_1_self_attention")
    for sublayer in ("_query_dense", "_key_dense", "_value_dense", "_output_dense"):  # weights by projection
        pairs = zip(getattr(mine, sublayer).get_weights(), getattr(theirs, sublayer).get_weights(), strict=True)
        for got, want in pairs:
            np.testing.assert_array_equal(got, want)
    for got, want in zip(rebuilt.get_layer("token_embedding").get_weights(),
                         model.get_layer("token_embedding").get_weights(), strict=True):
        np.testing.assert_array_equal(got, want)  # Llama's reverse table too
    from keras_hub.src.models.mistral.mistral_transformer_decoder import MistralTransformerDecoder

    method = MistralTransformerDecoder._compute_self_attention_mask  # replaced while tracing, put back
    assert method.__qualname__ == "MistralTransformerDecoder._compute_self_attention_mask"
    batch = _text_batch(model)
    batch["padding_mask"][1, :2] = 0  # a left-padded row: its first queries see no key at all
    np.testing.assert_allclose(np.asarray(rebuilt(batch)), np.asarray(model(batch)), atol=1e-5)


@pytest.mark.parametrize("settings, message", [
    ({"dropout": 0.1}, r"layer 'self_attention' \(LlamaAttention\) drops its attention outputs \(dropout=0.1\), "
                       r"where an attention node's dropout drops attention weights"),
    ({"rope_frequency_adjustment_factor": 8.0, "rope_low_freq_factor": 1.0, "rope_high_freq_factor": 4.0,
      "rope_pretraining_sequence_length": 64},
     r"turns queries and keys with a RoPE variant that `rotary` does not say \(low_freq_factor=1.0\)"),
])
def test_what_a_llama_attention_node_cannot_say_is_refused_by_name(keras, keras_hub, settings, message):
    from archspec.keras.importer import KerasImportError

    with pytest.raises(KerasImportError, match=message):
        import_and_rebuild(keras_hub.models.LlamaBackbone(**DECODER, **settings))


def test_a_gemma_backbone_imports_with_offset_rms_norms_and_its_attention_kernels_transposed(
        keras, keras_hub, monkeypatch):
    """Gemma: RMS norms scaled by (1 + gamma), attention kernels stored (heads, features, head_dim), feed-forward
    EinsumDense layers. Its keras.ops.gelu(approximate=True) is another change's to import; the expr
    gelu_tanh(x) stands in for it here."""
    from archspec.keras.importer import keras_ops

    exact = keras_ops.KERAS_OPS["Gelu"]

    def gelu(call):
        if call.operation.get_config().get("approximate") and len(call.args) == 1 and not call.kwargs:
            return "expr", {"expr": "gelu_tanh(x)"}, [str(call.args[0])], ["x"]
        return exact(call)

    monkeypatch.setitem(keras_ops.KERAS_OPS, "Gelu", gelu)
    model = _perturbed(keras_hub.models.GemmaBackbone(**DECODER, head_dim=4))
    text, rebuilt = import_and_rebuild(model)
    (block,) = yaml.safe_load(text)["blocks"].values()
    assert block["nodes"]["attention"] == {"op": "attention", "heads": 2, "key_dim": 4, "use_bias": False,
                                          "kv_heads": 1, "rotary": {}, "causal": True}
    norms = [layer for layer in rebuilt.layers if type(layer).__name__ == "OffsetRMSNormalization"]
    assert len(norms) == 5  # before attention and feed-forward in each block, and the final one
    assert rebuilt.count_params() == model.count_params()
    theirs = model.get_layer("decoder_block_1").attention.query_dense.kernel  # (heads, features, head_dim)
    mine = rebuilt.get_layer("decoder_block_1_attention")._query_dense.kernel  # (features, heads, head_dim)
    np.testing.assert_array_equal(np.asarray(mine), np.asarray(theirs).transpose(1, 0, 2))
    batch = _text_batch(model)
    np.testing.assert_allclose(np.asarray(rebuilt(batch)), np.asarray(model(batch)), atol=1e-5)


def test_a_gpt_neox_backbone_imports_with_partial_rotary_and_its_fused_projection_split(keras, keras_hub):
    """GPT-NeoX: one fused query/key/value projection, RoPE on a quarter of each head, attention that returns
    (output, None) without a cache. Its feed-forward's gelu_approximate (a Python function as a Dense's
    activation) is another change's to import; exact gelu stands in for it here."""
    model = keras_hub.models.GPTNeoXBackbone(vocabulary_size=50, num_layers=2, num_heads=2, hidden_dim=16,
                                             intermediate_dim=16, max_sequence_length=16)
    for layer in model._flatten_layers():
        if getattr(getattr(layer, "activation", None), "__name__", "") == "gelu_approximate":
            layer.activation = keras.activations.gelu
    model = _perturbed(model)
    text, rebuilt = import_and_rebuild(model)
    assert _nodes(text)["transformer_layer_0_self_attention"] == {
        "op": "attention", "heads": 2, "key_dim": 8, "rotary": {"dims": 2}, "causal": True}
    assert rebuilt.count_params() == model.count_params()
    fused = model.get_layer("transformer_layer_1")._self_attention_layer._qkv_dense.kernel  # (m, heads, 3 * 8)
    mine = rebuilt.get_layer("transformer_layer_1_self_attention")
    np.testing.assert_array_equal(np.asarray(mine._key_dense.kernel), np.asarray(fused)[..., 8:16])
    batch = _text_batch(model)
    np.testing.assert_allclose(np.asarray(rebuilt(batch)), np.asarray(model(batch)), atol=1e-5)
    from keras.src.layers import layer as layer_module
    from keras.src.ops.node import Node

    assert layer_module.Node is Node  # recorded with tensor outputs only while tracing, put back


def test_a_deberta_v3_backbone_imports_its_relative_positions_and_disentangled_attention(keras, keras_hub):
    """DeBERTa-v3: one relative-position table (then its layer norm) shared by every layer's attention through
    a relative edge; 12 steps with buckets of 4 reach the log buckets (distances beyond buckets / 2)."""
    model = _perturbed(keras_hub.models.DebertaV3Backbone(
        vocabulary_size=50, num_layers=2, num_heads=2, hidden_dim=8, intermediate_dim=16, max_sequence_length=16,
        bucket_size=4))
    text, rebuilt = import_and_rebuild(model)
    nodes = _nodes(text)
    assert nodes["self_attention_layer"] == {"op": "attention", "heads": 2, "key_dim": 4, "dropout": 0.1,
                                             "relative": {"buckets": 4, "max_position": 16}}
    assert nodes["rel_embedding_table"]["op"] == "relative_positions"
    (block,) = yaml.safe_load(text)["blocks"].values()
    assert {"from": "x3", "to": "self_attention_layer", "kind": "relative"} in block["edges"]
    assert rebuilt.count_params() == model.count_params()
    np.testing.assert_array_equal(rebuilt.get_layer("rel_embedding_table").get_weights()[0],
                                  np.asarray(model.get_layer("rel_embedding").rel_embeddings))
    batch = _text_batch(model, steps=12)
    np.testing.assert_allclose(np.asarray(rebuilt(batch)), np.asarray(model(batch)), atol=1e-5)
