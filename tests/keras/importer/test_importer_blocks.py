"""`archspec import` writes repeated units as blocks with `repeat`, chains of named steps and `defaults:`
(issues 13 and 18), and the spec still compiles to the same model (the importer's own check)."""

from __future__ import annotations

import numpy as np
import pytest
import yaml

import archspec
from archspec.errors import SchemaError
from archspec.keras.importer import import_model, read_spec
from archspec.keras.importer.verify import copy_weights


def residual_stages(keras, auto_bn: bool = False):
    """Two stages of named residual units (`stage2_block1_...`, ResNet's naming); with `auto_bn`
    the batch norms and adds keep the names Keras numbers per session."""
    layers = keras.layers
    image = keras.Input((8, 8, 3), name="image")
    x = layers.Conv2D(8, 3, padding="same", name="stem_conv")(image)
    for stage, width in ((2, 8), (3, 16)):
        for block in range(1, 4):
            name = f"stage{stage}_block{block}_"
            strides = 2 if block == 1 and stage == 3 else 1
            shortcut = x
            if block == 1 and stage == 3:
                shortcut = layers.Conv2D(width, 1, strides=2, name=name + "0_conv")(x)
            y = layers.Conv2D(width, 3, strides=strides, padding="same", use_bias=False, name=name + "1_conv")(x)
            y = layers.BatchNormalization(epsilon=1e-5, **({} if auto_bn else {"name": name + "1_bn"}))(y)
            y = layers.Activation("relu", name=name + "1_relu")(y)
            y = layers.Conv2D(width, 3, padding="same", use_bias=False, name=name + "2_conv")(y)
            y = layers.BatchNormalization(epsilon=1e-5, **({} if auto_bn else {"name": name + "2_bn"}))(y)
            y = layers.Add(**({} if auto_bn else {"name": name + "add"}))([shortcut, y])
            x = layers.Activation("relu", name=name + "out")(y)
    x = layers.GlobalAveragePooling2D(name="pool")(x)
    return keras.Model(image, layers.Dense(3, name="head")(x), name="stages")


def test_repeated_units_become_blocks_with_repeat_and_keep_keras_names(keras):
    model = residual_stages(keras)
    text = import_model(model)
    spec = yaml.safe_load(text)
    assert list(spec["blocks"]) == ["block(filters)"]  # the identity unit; stage 3's projecting unit is used once
    assert "params:" not in text and "inputs: [x]" not in text and "outputs:" not in text  # the short forms
    assert "-> stage2_block=block(filters=8, repeat=3)\n" in text  # stage2_block1..3: one use, repeated
    assert "-> stage3_block=block(filters=16, repeat=2, start=2) ->" in text
    assert spec["defaults"] == {"conv2d": {"use_bias": False}, "batch_norm": {"epsilon": 1e-5}}
    assert "      - x -> 1_conv=conv2d(${filters}) -> 1_bn=batch_norm -> 1_relu=activation(relu) -> " \
        "2_conv=conv2d(${filters})\n" in text
    rebuilt = archspec.compile_model(archspec.loads_spec(text, "stages.yaml"))
    assert sorted(layer.name for layer in rebuilt.layers if layer.weights) == \
        sorted(layer.name for layer in model.layers if layer.weights)  # ImageNet-style weights copy by name
    batch = np.random.default_rng(0).normal(size=(2, 8, 8, 3)).astype("float32")
    for layer in model.layers:
        if layer.weights:
            rebuilt.get_layer(layer.name).set_weights(layer.get_weights())
    np.testing.assert_allclose(rebuilt(batch), model(batch), atol=1e-5)


def test_automatically_named_layers_join_their_unit_and_weights_still_copy(keras):
    model = residual_stages(keras, auto_bn=True)
    text, reader = read_spec(model)
    assert "- x -> 1_conv=conv2d(${filters}) -> batch_normalization=batch_norm -> 1_relu" in text
    rebuilt = archspec.compile_model(archspec.loads_spec(text, "stages.yaml"))
    names = {layer.name for layer in rebuilt.layers}
    assert {"stage2_block1_batch_normalization", "stage3_block3_batch_normalization_1"} <= names
    assert {name for name, layer in reader.layers.items() if layer.weights} <= names  # renamed in the map too
    copy_weights(rebuilt, reader.layers)
    batch = np.random.default_rng(1).normal(size=(2, 8, 8, 3)).astype("float32")
    np.testing.assert_allclose(rebuilt(batch), model(batch), atol=1e-5)
    import_model(model)  # and the importer's own check passes


def test_a_model_without_repeated_units_stays_flat(keras):
    layers = keras.layers
    image = keras.Input((4,), name="x")
    model = keras.Model(image, layers.Dense(2, name="out")(layers.Dense(4, name="hidden")(image)))
    text = import_model(model)
    assert "blocks:" not in text and "defaults:" not in text and "  hidden: {op: dense, units: 4}\n" in text


def test_a_chain_step_name_may_start_with_a_digit_inside_a_block_only():
    block = ("archspec: 1\nname: t\ninputs:\n  x: {shape: [4]}\nblocks:\n  b:\n    params: [n]\n"
             "    inputs: [x]\n    outputs: [2_out]\n    edges:\n"
             "      - x -> 1_fc=dense(${n}) -> 2_out=dense(${n * 2})\n"
             "edges:\n  - x -> layer1=b(n=3)\noutputs: [layer1]\n")
    model = archspec.compile_model(archspec.loads_spec(block, "t.yaml"))
    assert [layer.name for layer in model.layers] == ["x", "layer1_1_fc", "layer1_2_out"]
    top = "archspec: 1\nname: t\ninputs:\n  x: {shape: [4]}\nedges:\n  - x -> 1_a=dense(4)\noutputs: [1_a]\n"
    with pytest.raises(SchemaError) as error:
        archspec.loads_spec(top, "t.yaml")
    assert str(error.value).startswith("t.yaml:6:10: node name '1_a' is not a valid identifier")


def test_a_folding_that_fails_the_check_falls_back_to_the_spec_without_blocks(keras, monkeypatch):
    import archspec.keras.importer as importer

    real = importer.write_body

    def broken(inputs, folded):  # a folding mistake: every block's first conv one filter wider
        return [line.replace("conv2d(${filters})", "conv2d(${filters + 1})") for line in real(inputs, folded)]

    monkeypatch.setattr(importer, "write_body", broken)
    model = residual_stages(keras)
    text = import_model(model)
    assert "# Written without blocks: with them the check failed (" in text
    assert "\nblocks:" not in text
    rebuilt = archspec.compile_model(archspec.loads_spec(text, "stages.yaml"))
    assert rebuilt.count_params() == model.count_params()
