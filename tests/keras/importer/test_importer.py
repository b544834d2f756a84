"""`archspec import`: Keras Functional models -> specs that compile back to the same model."""

from __future__ import annotations

import numpy as np
import pytest
from typer.testing import CliRunner

import archspec
from archspec.cli import main
from archspec.keras.importer import KerasImportError, import_model
from archspec.spec.frontend import loads_spec

TINY_SPEC = """\
# Imported from tiny by `archspec import`: 11 layers, 422 parameters.
archspec: 1
name: tiny
doc: "Imported from Keras (tiny)."

inputs:
  image: {shape: [8, 8, 3]}

nodes:
  stem:  {op: conv2d, filters: 4}
  dw:    {op: depthwise_conv2d, use_bias: false}
  relu6: {op: relu, max_value: 6.0}
  out:   {op: activation, activation: relu}
  both:  {op: concat}
  gap:   {op: global_avg_pool2d}
  gmp:   {op: global_max_pool2d}
  pool:  {op: max_pool2d}
  sum:   {op: add}
  flat:  {op: flatten}
  head:  {op: dense, units: 2, activation: softmax}

edges:
  - image -> stem
  - stem -> dw -> relu6 -> out
  - {from: stem, to: out, kind: add-residual}
  - stem -> both
  - out -> both
  - out -> pool -> flat
  - {from: stem, to: pool, kind: concat-skip}
  - both -> gap -> sum -> head
  - {from: flat, to: head, kind: concat-skip}
  - both -> gmp -> sum

outputs: [head]
"""


def tiny_model(keras):
    """Adds and concats that fold into edges (one consumer) and that stay nodes (two consumers)."""
    layers = keras.layers
    image = keras.Input((8, 8, 3), name="image")
    stem = layers.Conv2D(4, 3, padding="same", name="stem")(image)
    branch = layers.DepthwiseConv2D(3, padding="same", use_bias=False, name="dw")(stem)
    branch = layers.ReLU(6.0, name="relu6")(branch)
    out = layers.Activation("relu", name="out")(layers.Add(name="add")([stem, branch]))
    skip = layers.MaxPooling2D(name="pool")(layers.Concatenate(name="cat")([out, stem]))
    both = layers.Concatenate(name="both")([stem, out])
    pooled = [layers.GlobalAveragePooling2D(name="gap")(both), layers.GlobalMaxPooling2D(name="gmp")(both)]
    merged = layers.Add(name="sum")(pooled)
    features = layers.Concatenate(name="feat")([merged, layers.Flatten(name="flat")(skip)])
    head = layers.Dense(2, activation="softmax", name="head")(features)
    return keras.Model(image, head, name="tiny")


def assert_round_trip(keras, original, text, name="imported.yaml"):
    """The spec compiles to a model with the same parameters and, given the weights, outputs."""
    rebuilt = archspec.compile_model(archspec.loads_spec(text, name))
    assert rebuilt.count_params() == original.count_params()
    for layer in original.layers:
        if layer.weights:
            rebuilt.get_layer(layer.name).set_weights(layer.get_weights())
    shape = (2, *original.input_shape[1:])
    batch = np.random.default_rng(0).normal(size=shape).astype("float32")
    difference = np.abs(np.asarray(rebuilt(batch)) - np.asarray(original(batch))).max()
    assert difference < 1e-5


def test_import_folds_single_use_merges_into_edges_and_keeps_the_others(keras):
    model = tiny_model(keras)
    text = import_model(model)
    assert text == TINY_SPEC
    assert_round_trip(keras, model, text)


def test_import_command_reads_a_saved_model(keras, tmp_path):
    model = tiny_model(keras)
    model.save(tmp_path / "tiny.keras")
    target = tmp_path / "tiny.yaml"
    runner = CliRunner()
    result = runner.invoke(_app(), ["import", str(tmp_path / "tiny.keras"), "-o", str(target)])
    assert result.output == f"wrote {target}\n"
    assert target.read_text() == TINY_SPEC.replace("from tiny by", f"from {tmp_path / 'tiny.keras'} by") \
        .replace("(tiny)", f"({tmp_path / 'tiny.keras'})")


def _app():
    from archspec.cli import app

    return app


def test_a_sequential_model_imports_with_its_input(keras):
    model = keras.Sequential(
        [keras.Input((4,), name="features"), keras.layers.Dense(3, activation="relu", name="hidden"),
         keras.layers.Dense(2, name="logits")], name="seq",
    )
    text = import_model(model)
    assert text.split("inputs:\n", 1)[1] == (
        "  features: {shape: [4]}\n\n"
        "nodes:\n"
        "  hidden: {op: dense, units: 3, activation: relu}\n"
        "  logits: {op: dense, units: 2}\n\n"
        "edges:\n"
        "  - features -> hidden -> logits\n\n"
        "outputs: [logits]\n"
    )
    assert_round_trip(keras, model, text)


def test_a_decoder_with_transposed_convolutions_round_trips(keras):
    """conv2d_transpose has no dilation: Keras's dilation_rate (1, 1) must not become a parameter."""
    layers = keras.layers
    code = keras.Input((7, 7, 4), name="code")
    up = layers.Conv2DTranspose(8, 3, strides=2, padding="same", activation="relu", name="up1")(code)
    up = layers.Conv2DTranspose(2, 2, strides=2, padding="valid", use_bias=False, name="up2")(up)
    image = layers.UpSampling2D(1, name="same_size")(up)
    model = keras.Model(code, image, name="decoder")
    text = import_model(model)
    assert text.split("nodes:\n", 1)[1].split("\n\n", 1)[0] == (
        "  up1:       {op: conv2d_transpose, filters: 8, strides: 2, activation: relu}\n"
        "  up2:       {op: conv2d_transpose, filters: 2, kernel: 2, strides: 2, padding: valid, use_bias: false}\n"
        "  same_size: {op: upsample2d, size: 1}"
    )
    assert_round_trip(keras, model, text)


def test_a_layer_called_twice_imports_as_a_node_that_shares_it(keras):
    inputs = keras.Input((4,), name="x")
    dense = keras.layers.Dense(4, name="shared")
    model = keras.Model(inputs, dense(dense(inputs)))
    text = import_model(model)  # checked: compiles back to the same parameters and outputs
    assert "  shared_2: {op: dense, shares: shared}\n" in text
    assert "  - x -> shared -> shared_2\n" in text
    assert archspec.compile_model(loads_spec(text)).count_params() == model.count_params() == 20


def test_a_nested_encoder_called_on_two_inputs_imports_as_a_siamese_spec(keras, tmp_path):
    inner = keras.Input((12, 12, 1))
    code = keras.layers.Dense(8, name="d")(keras.layers.Flatten(name="f")(
        keras.layers.Conv2D(4, 3, activation="relu", name="c")(inner)))
    encoder = keras.Model(inner, code, name="encoder")
    a, b = keras.Input((12, 12, 1), name="a"), keras.Input((12, 12, 1), name="b")
    diff = keras.layers.Subtract(name="diff")([encoder(a), encoder(b)])
    model = keras.Model([a, b], keras.layers.Dense(1, activation="sigmoid", name="out")(diff), name="siam")
    model.save(tmp_path / "siam.keras")
    reloaded = keras.models.load_model(tmp_path / "siam.keras", compile=False)
    text = import_model(reloaded)
    for line in ("encoder_c_2: {op: conv2d, shares: encoder_c}", "encoder_d_2: {op: dense, shares: encoder_d}",
                 "- b -> encoder_c_2 -> encoder_f_2 -> encoder_d_2 -> diff"):
        assert line in text
    spec = loads_spec(text)
    assert [name for name, node in spec.nodes.items() if node.shares] == ["encoder_c_2", "encoder_f_2", "encoder_d_2"]


def test_layers_without_an_op_are_refused(keras):
    inputs = keras.Input((5, 4), name="x")
    model = keras.Model(inputs, keras.layers.GaussianNoise(0.1, name="noise")(inputs))
    with pytest.raises(KerasImportError) as caught:
        import_model(model)
    assert str(caught.value) == (
        "layer 'noise' is a GaussianNoise, which no archspec op imports\n"
        "  hint: write a plugin op that lists 'GaussianNoise' in keras_classes (docs/plugins.md) "
        "and pass it with `archspec --plugin module:Op import ...`")


def test_unsupported_settings_are_named(keras):
    inputs = keras.Input((8, 8, 4), name="x")
    model = keras.Model(inputs, keras.layers.Conv2DTranspose(4, 3, dilation_rate=2, name="up")(inputs))
    with pytest.raises(KerasImportError) as caught:
        import_model(model)
    assert str(caught.value) == (
        "layer 'up' (Conv2DTranspose) cannot be written as op conv2d_transpose: "
        "dilation_rate=(2, 2) is not supported (only (1, 1))"
    )


def test_unknown_application_exits_1_with_a_suggestion(capsys):
    with pytest.raises(SystemExit) as exited:
        main(["import", "keras.applications.ResNet5"])
    assert exited.value.code == 1
    assert capsys.readouterr().err == (
        "keras.applications has no model 'ResNet5'; did you mean 'ResNet50' or 'ResNet152' or 'ResNet50V2'?\n"
    )


@pytest.mark.slow
@pytest.mark.parametrize("name, params", [
    ("ResNet50", 25_636_712), ("MobileNetV2", 3_538_984), ("DenseNet121", 8_062_504),
])
def test_keras_applications_round_trip(keras, name, params):
    """Built at 64x64 to keep the test fast; the weights (and their count) do not depend on it."""
    original = getattr(keras.applications, name)(weights=None, input_shape=(64, 64, 3))
    assert original.count_params() == params
    text = import_model(original, f"keras.applications.{name}")
    assert_round_trip(keras, original, text, f"{name}.yaml")
