"""`archspec import` walks the model's graph: reloaded Sequential files, keras.ops calls between layers,
squeeze-excite gates, attention, nested models, and the compile-and-compare check on every import."""

from __future__ import annotations

import re

import numpy as np
import pytest

import archspec
from archspec.catalogue.ops import OPS
from archspec.cli import main
from archspec.keras.importer import KerasImportError, import_model, load_model_to_import
from tests.keras.importer.test_importer import assert_round_trip


def assert_same_model(original, text):
    """The spec compiles to the model: same parameter count, same outputs with its weights (any inputs)."""
    rebuilt = archspec.compile_model(archspec.loads_spec(text, "imported.yaml"))
    assert rebuilt.count_params() == original.count_params()
    for layer in original.layers:
        if layer.weights:
            rebuilt.get_layer(layer.name).set_weights(layer.get_weights())
    rng = np.random.default_rng(0)
    batch = [rng.normal(size=(2, *tensor.shape[1:])).astype("float32") for tensor in original.inputs]
    assert np.abs(np.asarray(rebuilt(batch)) - np.asarray(original(batch))).max() < 1e-5


def _body(text: str) -> str:
    return text.split("inputs:\n", 1)[1]


def lecture_mlp(keras):
    layers = keras.layers
    return keras.Sequential([
        keras.Input((28, 28, 1), name="image"), layers.Flatten(name="flatten"),
        layers.Dense(128, activation="relu", name="hidden"), layers.Dropout(0.2, name="drop"),
        layers.Dense(10, activation="softmax", name="probs")], name="mlp")


def test_a_saved_sequential_model_round_trips(keras, tmp_path):
    """Reloaded, each layer records several calls (Keras's bookkeeping); only this graph's calls count."""
    lecture_mlp(keras).save(tmp_path / "mlp.keras")
    model = load_model_to_import(str(tmp_path / "mlp.keras"))
    assert [len(layer._inbound_nodes) for layer in model.layers] != [1] * len(model.layers)
    text = import_model(model)
    assert _body(text) == (
        "  image: {shape: [28, 28, 1]}\n\n"
        "nodes:\n"
        "  flatten: {op: flatten}\n"
        "  hidden:  {op: dense, units: 128, activation: relu}\n"
        "  drop:    {op: dropout, rate: 0.2}\n"
        "  probs:   {op: dense, units: 10, activation: softmax}\n\n"
        "edges:\n"
        "  - image -> flatten -> hidden -> drop -> probs\n\n"
        "outputs: [probs]\n")
    assert_round_trip(keras, model, text)


def test_keras_ops_between_layers_map_to_ops(keras, tmp_path):
    layers, ops = keras.layers, keras.ops
    image = keras.Input((6, 6, 3), name="image")
    x = layers.Conv2D(4, 3, name="conv")(image)
    x = ops.pad(x, [[0, 0], [1, 1], [1, 1], [0, 0]])
    y = layers.Conv2D(4, 1, name="proj")(x)
    z = ops.concatenate([x, y * x], axis=-1)
    z = ops.reshape(z, (-1, 36, 8))
    keras.Model(image, layers.Dense(2, name="head")(z), name="opsy").save(tmp_path / "opsy.keras")
    model = load_model_to_import(str(tmp_path / "opsy.keras"))
    text = import_model(model)
    assert re.search(r"\n  pad(_\d+)?: +\{op: zero_padding2d\}\n", text), text  # keras.ops names count up
    assert "kind: concat-skip}" in text and "{op: reshape, shape: [36, 8]}" in text and "{op: multiply}" in text
    assert_round_trip(keras, model, text)


def test_split_index_transpose_and_arithmetic_map_to_slices_take_permute_and_expr(keras, tmp_path):
    layers, ops = keras.layers, keras.ops
    tokens = keras.Input((6, 8), name="tokens")
    x = layers.Dense(8, name="proj")(tokens)
    a, b = ops.split(x, 2, axis=-1)
    gated = a * 0.5 + b
    first = ops.transpose(gated, (0, 2, 1))[:, :, 1:4]
    last = x[:, -1]
    out = layers.Concatenate(name="joined")([layers.Flatten(name="flat")(first), last / 2.0])
    keras.Model(tokens, out, name="opsy2").save(tmp_path / "opsy2.keras")
    model = load_model_to_import(str(tmp_path / "opsy2.keras"))
    text = import_model(model)
    for line in ("{op: slice, axis: -1, stop: 4}", "{op: slice, axis: -1, start: 4, stop: 8}",
                 "{op: expr, expr: \"x * 0.5\"}", "{op: permute, axes: [2, 1]}", "{op: take, index: -1}",
                 "{op: slice, axis: 2, start: 1, stop: 4}", "{op: expr, expr: \"x / 2.0\"}"):
        assert line in text, text
    assert_round_trip(keras, model, text)


def test_an_operation_without_an_op_is_one_message(keras, tmp_path, capsys):
    inputs = keras.Input((4, 3), name="x")
    keras.Model(inputs, keras.layers.Dense(2, name="d")(keras.ops.cumsum(inputs, axis=1))) \
        .save(tmp_path / "t.keras")
    with pytest.raises(SystemExit) as exited:
        main(["import", str(tmp_path / "t.keras")])
    assert exited.value.code == 1
    assert re.fullmatch(r"operation 'cumsum(_\d+)?' \(keras.ops Cumsum\(x\)\) has no archspec op to import it as",
                        capsys.readouterr().err.splitlines()[0])


def test_squeeze_excite_imports_as_a_gate_edge(keras):
    layers = keras.layers
    image = keras.Input((8, 8, 6), name="image")
    x = layers.Conv2D(6, 3, padding="same", name="conv")(image)
    s = layers.GlobalAveragePooling2D(name="squeeze")(x)
    s = layers.Reshape((1, 1, 6), name="unflat")(s)
    s = layers.Conv2D(2, 1, activation="relu", name="reduce")(s)
    s = layers.Conv2D(6, 1, name="expand")(s)
    s = layers.Activation("sigmoid", name="excite")(s)
    x = layers.Multiply(name="scale")([x, s])
    model = keras.Model(image, layers.Conv2D(3, 1, name="out")(x), name="se")
    text = import_model(model)
    assert "  - {from: expand, to: out, kind: gate, activation: sigmoid}\n" in text
    assert "scale" not in text and "excite" not in text
    assert_round_trip(keras, model, text)


def test_attention_and_conv1d_import_back(keras, tmp_path):
    layers = keras.layers
    tokens = keras.Input((6, 8), name="tokens")
    memory = keras.Input((5, 8), name="memory")
    x = layers.Conv1D(8, 3, padding="same", name="conv")(tokens)
    x = layers.MultiHeadAttention(2, 4, name="self_att")(x, x, use_causal_mask=True)
    x = layers.MultiHeadAttention(2, 4, value_dim=3, name="cross")(x, memory)
    keras.Model([tokens, memory], x, name="att").save(tmp_path / "att.keras")
    model = load_model_to_import(str(tmp_path / "att.keras"))
    text = import_model(model)
    assert "  self_att: {op: attention, heads: 2, key_dim: 4, causal: true}\n" in text
    assert "  - {from: memory, to: cross, kind: attention}\n" in text
    assert_same_model(model, text)


def test_a_nested_functional_model_is_flattened_with_prefixed_names(keras):
    layers = keras.layers
    inner_in = keras.Input((4,), name="inner_in")
    block = keras.Model(inner_in, layers.Dense(3, activation="relu", name="fc")(inner_in), name="block")
    x = keras.Input((4,), name="x")
    model = keras.Model(x, layers.Dense(2, name="head")(block(x)), name="outer")
    text = import_model(model)
    assert "  block_fc: {op: dense, units: 3, activation: relu}\n" in text
    assert "  - x -> block_fc -> head\n" in text


def test_a_wrong_mapping_makes_import_fail_naming_the_node(keras, monkeypatch):
    dense = OPS["dense"]
    right = type(dense).from_keras

    def drops_the_activation(self, config):
        return {key: value for key, value in right(self, config).items() if key != "activation"}

    monkeypatch.setattr(type(dense), "from_keras", drops_the_activation)
    with pytest.raises(KerasImportError) as caught:
        import_model(lecture_mlp(keras))
    assert str(caught.value).startswith(
        "the imported spec computes other outputs than the model: node 'hidden' (Dense) differs by ")


def test_per_example_dropout_imports_as_drop_path_and_adapted_normalization_keeps_its_weights(keras):
    """EfficientNet's stochastic depth (Dropout with noise_shape (None, 1, 1, 1)) and its input
    Normalization whose statistics are weights."""
    layers = keras.layers
    image = keras.Input((6, 6, 3), name="image")
    x = layers.Normalization(axis=3, name="norm")(image)
    y = layers.Conv2D(3, 3, padding="same", name="conv")(x)
    y = layers.Dropout(0.2, noise_shape=(None, 1, 1, 1), name="drop")(y)
    model = keras.Model(image, layers.Add(name="sum")([y, x]), name="stochastic")
    model.get_layer("norm").set_weights([np.full(3, 0.5), np.full(3, 4.0), np.array(10)])
    model.get_layer("norm").finalize_state()
    text = import_model(model)
    assert "  norm: {op: normalization}\n" in text and "  drop: {op: drop_path, rate: 0.2}\n" in text
    rebuilt = archspec.compile_model(archspec.loads_spec(text))
    assert rebuilt.count_params() == model.count_params() == 3 + 3 + 1 + 84


def test_a_model_on_a_dict_of_inputs_and_outputs_imports_in_model_inputs_order(keras):
    """keras-hub's backbones take a dict ({'token_ids', 'segment_ids', 'padding_mask'}) that Keras flattens by
    key: the spec lists its inputs in that order, so the compiled spec takes the list model.inputs names."""
    from archspec.keras.importer import import_and_rebuild
    from archspec.keras.importer.verify import model_outputs

    zeta, alpha = keras.Input((3,), name="zeta"), keras.Input((3,), name="alpha")
    difference = keras.layers.Subtract(name="minus")([zeta, alpha])  # the order matters
    model = keras.Model({"zeta": zeta, "alpha": alpha},
                        {"wide": keras.layers.Dense(4, name="wide")(difference),
                         "narrow": keras.layers.Dense(2, name="narrow")(difference)})
    text, rebuilt = import_and_rebuild(model)
    assert text.split("inputs:\n", 1)[1].startswith("  alpha: {shape: [3]}\n  zeta: {shape: [3]}\n")
    batch = [np.full((2, 3), 1.0, "float32"), np.full((2, 3), 5.0, "float32")]  # alpha, zeta
    expected = model({"alpha": batch[0], "zeta": batch[1]})
    got = model_outputs(rebuilt, batch)
    assert [output.shape for output in got] == [(2, 2), (2, 4)]  # narrow, wide: Keras flattens by key
    for mine, theirs in zip(got, [expected["narrow"], expected["wide"]]):
        assert np.abs(mine - np.asarray(theirs)).max() < 1e-6
