"""The layer and call classes that stopped real models at import (issue 29): integer inputs of any width,
variable-length sequences, keras.ops indexing with Ellipsis, None and negative steps. Each imported spec
is compared with the original model on its own weights."""

from __future__ import annotations

import numpy as np
import pytest

import archspec
from archspec.keras.importer import import_and_rebuild, import_model


def assert_same_outputs(original, text, batch):
    """The spec compiles to the model: same parameter count, same outputs with its weights."""
    rebuilt = archspec.compile_model(archspec.loads_spec(text, "imported.yaml"))
    assert rebuilt.count_params() == original.count_params()
    for layer in original.layers:
        if layer.weights:
            rebuilt.get_layer(layer.name).set_weights(layer.get_weights())
    assert np.abs(np.asarray(rebuilt(batch)) - np.asarray(original(batch))).max() < 1e-5


def _nodes(text: str) -> str:
    return text.split("nodes:\n", 1)[1].split("\n\n", 1)[0]


def _ops(text: str) -> list[str]:
    return [line.split(":", 1)[1].strip() for line in _nodes(text).splitlines()]


def test_int64_token_inputs_import_with_their_dtype(keras):
    tokens = keras.Input((12,), dtype="int64", name="tokens")
    hidden = keras.layers.Embedding(50, 8, name="embed")(tokens)
    hidden = keras.layers.GlobalAveragePooling1D(name="pool")(hidden)
    model = keras.Model(tokens, keras.layers.Dense(3, name="out")(hidden))
    text = import_model(model)
    assert "  tokens: {shape: [12], dtype: int64}\n" in text
    assert archspec.compile_model(archspec.loads_spec(text, "imported.yaml")).inputs[0].dtype == "int64"
    batch = np.random.default_rng(0).integers(0, 50, size=(2, 12)).astype("int64")
    assert_same_outputs(model, text, batch)


def test_a_variable_length_sequence_keeps_its_null_steps(keras):
    sequence = keras.Input((None, 6), name="seq")
    hidden = keras.layers.LSTM(8, name="lstm")(sequence)
    model = keras.Model(sequence, keras.layers.Dense(3, name="out")(hidden))
    text = import_model(model)
    assert "  seq: {shape: [null, 6]}\n" in text
    for steps in (5, 9):
        assert_same_outputs(model, text, np.random.default_rng(steps).normal(size=(2, steps, 6)).astype("float32"))


def test_indexing_with_ellipsis_negative_steps_and_new_axes(keras):
    sequence = keras.Input((8, 6), name="seq")
    hidden = keras.layers.Dense(4, name="dense")(sequence)
    hidden = hidden[..., 1:3]
    hidden = hidden[:, ::-1]
    hidden = hidden[:, 6:1:-2]
    hidden = hidden[:, None]
    hidden = hidden[..., -1]
    model = keras.Model(sequence, keras.layers.Flatten(name="flat")(hidden))
    text = import_model(model)
    assert _ops(text) == [  # automatic names (get_item_N) count per session: compared without them
        "{op: dense, units: 4}",
        "{op: slice, axis: 2, start: 1, stop: 3}",
        "{op: slice, step: -1}",
        "{op: slice, start: 6, stop: 1, step: -2}",
        "{op: reshape, shape: [1, 3, 2]}",
        "{op: take, axis: 3, index: -1}",
        "{op: flatten}"]
    assert_same_outputs(model, text, np.random.default_rng(0).normal(size=(2, 8, 6)).astype("float32"))


def test_a_zero_slice_step_is_a_located_error():
    text = ("archspec: 1\nname: s\ninputs:\n  x: [8, 4]\nnodes:\n  cut: {op: slice, step: 0}\n"
            "edges:\n  - x -> cut\noutputs: [cut]\n")
    with pytest.raises(archspec.SpecError) as raised:
        archspec.loads_spec(text, "s.yaml")
    assert "s.yaml:6" in str(raised.value) and "step must not be 0" in str(raised.value)


def test_pad_in_every_mode_imports_and_zero_spatial_pads_stay_zero_padding(keras):
    image = keras.Input((8, 8, 3), name="img")
    padded = keras.ops.pad(image, [[0, 0], [1, 1], [2, 2], [0, 0]], mode="reflect")
    padded = keras.ops.pad(padded, [[0, 0], [0, 2], [1, 0], [0, 0]], mode="symmetric")
    padded = keras.ops.pad(padded, [[0, 0], [1, 1], [1, 1], [0, 1]], constant_values=0.5)
    padded = keras.ops.pad(padded, [[0, 0], [1, 1], [1, 1], [0, 0]])
    model = keras.Model(image, keras.layers.Conv2D(4, 3, name="conv")(padded))
    text = import_model(model)
    assert _ops(text) == [
        "{op: pad, padding: [[1, 1], [2, 2], [0, 0]], mode: reflect}",
        "{op: pad, padding: [[0, 2], [1, 0], [0, 0]], mode: symmetric}",
        "{op: pad, padding: [[1, 1], [1, 1], [0, 1]], value: 0.5}",
        "{op: zero_padding2d}",
        "{op: conv2d, filters: 4, padding: valid}"]
    assert_same_outputs(model, text, np.random.default_rng(0).normal(size=(2, 8, 8, 3)).astype("float32"))


def test_a_reflect_pad_wider_than_its_axis_is_a_located_shape_error():
    text = ("archspec: 1\nname: p\ninputs:\n  x: [3, 4]\nnodes:\n"
            "  mirror: {op: pad, padding: [[3, 0], [0, 0]], mode: reflect}\n"
            "edges:\n  - x -> mirror\noutputs: [mirror]\n")
    with pytest.raises(archspec.ArchspecError) as raised:
        archspec.analyze(archspec.loads_spec(text, "p.yaml"))
    message = str(raised.value)
    assert "p.yaml:6" in message and "reflect padding of 3 on axis 1" in message and "at most 2" in message


def test_channels_first_layers_import_between_permutes(keras):
    layers = keras.layers
    image = keras.Input((3, 12, 12), name="img")
    hidden = layers.Conv2D(8, 3, data_format="channels_first", name="conv")(image)
    hidden = layers.BatchNormalization(axis=1, name="bn")(hidden)
    hidden = layers.MaxPooling2D(data_format="channels_first", name="pool")(hidden)
    hidden = layers.UpSampling2D(data_format="channels_first", name="up")(hidden)
    hidden = layers.GlobalAveragePooling2D(data_format="channels_first", name="gap")(hidden)
    sequence = keras.Input((4, 10), name="seq")
    steps = layers.Conv1D(5, 3, data_format="channels_first", name="conv1d")(sequence)
    steps = layers.Flatten(name="flat")(steps)
    model = keras.Model([image, sequence], layers.Concatenate(name="joined")([hidden, steps]))
    text = import_model(model)
    assert _nodes(text) == (
        "  conv_to_last:    {op: permute, axes: [2, 3, 1]}\n"
        "  conv:            {op: conv2d, filters: 8, padding: valid}\n"
        "  conv_to_first:   {op: permute, axes: [3, 1, 2]}\n"
        "  bn:              {op: batch_norm, axis: 1}\n"
        "  pool_to_last:    {op: permute, axes: [2, 3, 1]}\n"
        "  pool:            {op: max_pool2d}\n"
        "  pool_to_first:   {op: permute, axes: [3, 1, 2]}\n"
        "  up_to_last:      {op: permute, axes: [2, 3, 1]}\n"
        "  up:              {op: upsample2d}\n"
        "  up_to_first:     {op: permute, axes: [3, 1, 2]}\n"
        "  conv1d_to_last:  {op: permute, axes: [2, 1]}\n"
        "  conv1d:          {op: conv1d, filters: 5, padding: valid}\n"
        "  conv1d_to_first: {op: permute, axes: [2, 1]}\n"
        "  gap_to_last:     {op: permute, axes: [2, 3, 1]}\n"
        "  gap:             {op: global_avg_pool2d}\n"
        "  flat:            {op: flatten}\n"
        "  joined:          {op: concat}")
    rng = np.random.default_rng(0)
    batch = [rng.normal(size=(2, 3, 12, 12)).astype("float32"), rng.normal(size=(2, 4, 10)).astype("float32")]
    assert_same_outputs(model, text, batch)


def test_a_reversible_embedding_imports_as_an_embedding_with_its_reverse_table_when_untied(keras):
    tokens = keras.Input((6,), dtype="int32", name="tokens")
    model = keras.Model(tokens, keras.layers.ReversibleEmbedding(40, 8, name="embed")(tokens))
    text = import_model(model)
    assert _ops(text) == ["{op: embedding, input_dim: 40, output_dim: 8}"]
    assert_same_outputs(model, text, np.random.default_rng(0).integers(0, 40, size=(2, 6)).astype("int32"))
    untied = keras.Model(tokens, keras.layers.ReversibleEmbedding(40, 8, tie_weights=False, name="both")(tokens))
    text, rebuilt = import_and_rebuild(untied)
    assert _ops(text) == ["{op: embedding, input_dim: 40, output_dim: 8, reverse_table: true}"]
    assert rebuilt.count_params() == untied.count_params() == 2 * 40 * 8
    for mine, theirs in zip(rebuilt.get_layer("both").get_weights(), untied.get_layer("both").get_weights()):
        np.testing.assert_array_equal(mine, theirs)  # the reverse table too, though no output depends on it


def test_a_cast_to_the_dtype_a_tensor_has_is_no_node(keras):
    """keras-hub's decoders cast to float32 around their activations (for mixed precision): in float32, the
    tensor itself."""
    tokens = keras.Input((5, 8), name="tokens")
    hidden = keras.layers.Dense(4, name="gate")(tokens)
    gated = keras.ops.cast(keras.ops.silu(keras.ops.cast(hidden, "float32")), "float32")
    model = keras.Model(tokens, keras.layers.Dense(3, name="out")(gated))
    text = import_model(model)
    assert _ops(text) == ["{op: dense, units: 4}", "{op: activation, activation: silu}", "{op: dense, units: 3}"]
    assert_same_outputs(model, text, np.random.default_rng(0).normal(size=(2, 5, 8)).astype("float32"))


def test_an_einsum_dense_on_the_last_axis_imports_as_a_dense_and_any_other_is_refused(keras):
    """Gemma's feed-forward layers are EinsumDense('btd,df->btf'): a dense, the same kernel and bias."""
    from archspec.keras.importer import KerasImportError

    tokens = keras.Input((5, 8), name="tokens")
    dense = keras.layers.EinsumDense("btd,df->btf", output_shape=(None, 6), bias_axes="f", name="ffw")(tokens)
    model = keras.Model(tokens, keras.layers.EinsumDense("...f,fd->...d", output_shape=3, name="out")(dense))
    text = import_model(model)
    assert _ops(text) == ["{op: dense, units: 6}", "{op: dense, units: 3, use_bias: false}"]
    assert_same_outputs(model, text, np.random.default_rng(0).normal(size=(2, 5, 8)).astype("float32"))
    heads = keras.layers.EinsumDense("btd,dnh->btnh", output_shape=(None, 2, 4), name="heads")(tokens)
    with pytest.raises(KerasImportError, match=r"layer 'heads' \(EinsumDense\) cannot be written as op dense: "
                                              r"equation='btd,dnh->btnh' is not supported \(only a dense on"):
        import_model(keras.Model(tokens, heads))


def test_a_concrete_scalar_tensor_in_a_call_is_a_number_of_the_expr(keras):
    """Gemma scales its embeddings by ops.cast(ops.sqrt(width)): computed while the model is built, so a
    concrete scalar tensor, written into the expr like a Python number."""
    tokens = keras.Input((6,), dtype="int32", name="tokens")
    embedded = keras.layers.Embedding(20, 8, name="embed")(tokens)
    scale = keras.ops.cast(keras.ops.sqrt(8.0), "float32")
    model = keras.Model(tokens, keras.ops.multiply(embedded, scale))
    text = import_model(model)
    assert _ops(text)[1] == f'{{op: expr, expr: "x * {float(np.sqrt(np.float32(8.0)).astype(np.float32))!r}"}}'
    assert_same_outputs(model, text, np.random.default_rng(0).integers(0, 20, size=(2, 6)).astype("int32"))
