"""Compiled specs against the models a person writes by hand with keras.layers.

Same layers, same parameter counts, and, with the hand model's weights
copied in by layer name, the same outputs on the same input.
"""

from __future__ import annotations

import numpy as np
import pytest

import archspec
from tests.conftest import ROOT

SPECS = ROOT / "specs"


def copy_weights(source, target) -> int:
    """Copy weights layer by layer, matched by name; return how many layers had weights."""
    copied = 0
    for layer in source.layers:
        if layer.weights:
            target.get_layer(layer.name).set_weights(layer.get_weights())
            copied += 1
    return copied


def assert_same_model(ours, hand, inputs, atol=1e-5):
    assert ours.count_params() == hand.count_params()
    assert copy_weights(hand, ours) > 0
    expected = hand.predict(inputs, verbose=0)
    got = ours.predict(inputs, verbose=0)
    np.testing.assert_allclose(got, expected, atol=atol, rtol=1e-5)


def random_images(shape, count=4, seed=0):
    return np.random.default_rng(seed).random((count, *shape)).astype("float32")


def hand_autoencoder(keras, skips: bool):
    layers = keras.layers
    noisy = keras.Input((28, 28, 1))
    enc1 = layers.Conv2D(64, 3, padding="same", activation="relu", name="enc1")(noisy)
    x = layers.MaxPooling2D(name="pool1")(enc1)
    enc2 = layers.Conv2D(128, 3, padding="same", activation="relu", name="enc2")(x)
    x = layers.MaxPooling2D(name="pool2")(enc2)
    x = layers.Conv2D(256, 3, padding="same", activation="relu", name="mid")(x)
    x = layers.Conv2D(128, 3, padding="same", activation="relu", name="dec1")(x)
    x = layers.UpSampling2D(name="up1")(x)
    if skips:
        x = layers.Concatenate()([x, enc2])
    x = layers.Conv2D(64, 3, padding="same", activation="relu", name="dec2")(x)
    x = layers.UpSampling2D(name="up2")(x)
    if skips:
        x = layers.Concatenate()([x, enc1])
    clean = layers.Conv2D(1, 3, padding="same", activation="sigmoid", name="clean")(x)
    return keras.Model(noisy, clean)


def test_unet_equals_hand_written(keras):
    ours = archspec.compile_model(SPECS / "mnist_denoise_unet.yaml")
    assert ours.count_params() == 813_377
    assert ours.get_layer("dec2.concat_skip").__class__.__name__ == "Concatenate"
    assert_same_model(ours, hand_autoencoder(keras, skips=True), random_images((28, 28, 1)))


def test_autoencoder_equals_hand_written(keras):
    ours = archspec.compile_model(SPECS / "mnist_denoise_ae.yaml")
    assert ours.count_params() == 739_073
    assert_same_model(ours, hand_autoencoder(keras, skips=False), random_images((28, 28, 1)))


def test_sequential_mlp_equals_keras_sequential(keras):
    layers = keras.layers
    hand = keras.Sequential([
        keras.Input((28, 28)),
        layers.Flatten(name="flat"),
        layers.Dense(32, activation="relu", name="hidden"),
        layers.Dense(10, activation="softmax", name="probs"),
    ])
    for name in ("mlp_sequential", "mlp_functional"):
        ours = archspec.compile_model(SPECS / f"{name}.yaml")
        assert [layer.name for layer in ours.layers[1:]] == ["flat", "hidden", "probs"]
        assert_same_model(ours, hand, random_images((28, 28)))


def test_carry_input_mlp_concatenates_input_onto_hidden_units(keras):
    layers = keras.layers
    image = keras.Input((28, 28))
    flat = layers.Flatten(name="flat")(image)
    x = layers.Dense(64, activation="relu", name="hidden1")(flat)
    x = layers.Dense(64, activation="relu", name="hidden2")(x)
    x = layers.Concatenate()([x, flat])
    probs = layers.Dense(10, activation="softmax", name="probs")(x)
    ours = archspec.compile_model(SPECS / "mlp_carry_input.yaml")
    assert ours.get_layer("probs").kernel.shape == (64 + 784, 10)
    assert_same_model(ours, keras.Model(image, probs), random_images((28, 28)))


def test_cnn_equals_keras_mnist_convnet(keras):
    layers = keras.layers
    hand = keras.Sequential([
        keras.Input((28, 28, 1)),
        layers.Conv2D(32, 3, activation="relu", name="conv1"),
        layers.MaxPooling2D(name="pool1"),
        layers.Conv2D(64, 3, activation="relu", name="conv2"),
        layers.MaxPooling2D(name="pool2"),
        layers.Flatten(name="flat"),
        layers.Dropout(0.5, name="drop"),
        layers.Dense(10, activation="softmax", name="probs"),
    ])
    ours = archspec.compile_model(SPECS / "mnist_cnn.yaml")
    assert ours.count_params() == 34_826
    assert_same_model(ours, hand, random_images((28, 28, 1)))


def test_small_resnet_adds_shortcuts(keras):
    layers = keras.layers

    image = keras.Input((28, 28, 1))
    x = layers.Conv2D(32, 3, padding="same", name="stem")(image)
    x = layers.BatchNormalization(name="stem_bn")(x)
    stem = layers.Activation("relu", name="stem_relu")(x)
    x = layers.Conv2D(32, 3, padding="same", use_bias=False, name="b1_conv1")(stem)
    x = layers.BatchNormalization(name="b1_bn1")(x)
    x = layers.Activation("relu", name="b1_relu1")(x)
    x = layers.Conv2D(32, 3, padding="same", use_bias=False, name="b1_conv2")(x)
    x = layers.BatchNormalization(name="b1_bn2")(x)
    b1 = layers.Activation("relu", name="b1_out")(layers.Add()([x, stem]))  # H(x) = F(x) + x
    x = layers.Conv2D(64, 3, strides=2, padding="same", use_bias=False, name="b2_conv1")(b1)
    x = layers.BatchNormalization(name="b2_bn1")(x)
    x = layers.Activation("relu", name="b2_relu1")(x)
    x = layers.Conv2D(64, 3, padding="same", use_bias=False, name="b2_conv2")(x)
    x = layers.BatchNormalization(name="b2_bn2")(x)
    shortcut = layers.Conv2D(64, 1, strides=2, use_bias=False, name="proj2")(b1)
    shortcut = layers.BatchNormalization(name="proj2_bn")(shortcut)
    x = layers.Activation("relu", name="b2_out")(layers.Add()([x, shortcut]))
    x = layers.GlobalAveragePooling2D(name="gap")(x)
    probs = layers.Dense(10, activation="softmax", name="probs")(x)
    ours = archspec.compile_model(SPECS / "mnist_resnet.yaml")
    assert_same_model(ours, keras.Model(image, probs), random_images((28, 28, 1)))


def test_softmax_gate_mixes_two_expert_sets(keras):
    ours = archspec.compile_model(SPECS / "gated_mlp_softmax.yaml")
    images = random_images((28, 28))
    flat = images.reshape(len(images), -1)

    def dense(name, activation=None):
        kernel, bias = ours.get_layer(name).get_weights()
        out = flat @ kernel + bias
        return {"relu": np.maximum(out, 0), "tanh": np.tanh(out), None: out}[activation]

    a, b, logits = dense("expert_a", "relu"), dense("expert_b", "tanh"), dense("router")
    weights = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)  # (B, 2)
    mixed = weights[:, :1] * a + weights[:, 1:] * b  # (B, 64)
    kernel, bias = ours.get_layer("mix").get_weights()
    out = mixed @ kernel + bias
    expected = np.exp(out) / np.exp(out).sum(axis=1, keepdims=True)
    np.testing.assert_allclose(ours.predict(images, verbose=0), expected, atol=1e-5)


def test_glu_gate_equals_value_times_sigmoid(keras):
    layers = keras.layers
    image = keras.Input((28, 28))
    flat = layers.Flatten(name="flat")(image)
    value = layers.Dense(128, name="value")(flat)
    gate = layers.Activation("sigmoid")(layers.Dense(128, name="gate_logits")(flat))
    x = layers.Multiply()([value, gate])
    probs = layers.Dense(10, activation="softmax", name="probs")(x)
    ours = archspec.compile_model(SPECS / "glu_mlp.yaml")
    assert_same_model(ours, keras.Model(image, probs), random_images((28, 28)))


def test_transformer_equals_hand_written_encoder_block(keras):
    from archspec.keras.layers import PositionalEmbedding

    layers = keras.layers
    rows = keras.Input((28, 28))
    x = layers.Dense(64, name="embed")(rows)  # (B, 28, 64)
    x = PositionalEmbedding(28, name="pos")(x)
    h = layers.LayerNormalization(name="norm1")(x)
    h = layers.MultiHeadAttention(num_heads=4, key_dim=16, name="attn")(h, h)
    x = layers.Add()([h, x])  # residual around attention
    h = layers.LayerNormalization(name="norm2")(x)
    h = layers.Dense(128, activation="gelu", name="ff1")(h)
    h = layers.Dense(64, name="ff2")(h)
    x = layers.Add()([h, x])  # residual around the feed-forward network
    x = layers.LayerNormalization(name="norm3")(x)
    x = layers.GlobalAveragePooling1D(name="pool")(x)  # (B, 64)
    probs = layers.Dense(10, activation="softmax", name="probs")(x)
    ours = archspec.compile_model(SPECS / "mnist_transformer.yaml")
    assert_same_model(ours, keras.Model(rows, probs), random_images((28, 28)))


def test_codegen_builds_the_same_model(keras):
    for name in ("mnist_denoise_unet", "gated_mlp_softmax", "mnist_transformer"):
        code = archspec.generate_code(SPECS / f"{name}.yaml")
        if name == "gated_mlp_softmax":
            assert "from archspec.keras.layers import GateMix" in code
        namespace: dict = {}
        exec(compile(code, f"<codegen {name}>", "exec"), namespace)  # generated code, our own output
        hand = namespace["model"]
        ours = archspec.compile_model(SPECS / f"{name}.yaml")
        shape = tuple(ours.inputs[0].shape[1:])
        assert_same_model(ours, hand, random_images(shape))


def test_codegen_prints_readable_layer_calls():
    code = archspec.generate_code(SPECS / "mnist_denoise_unet.yaml")
    assert ("dec2_concat_skip = layers.Concatenate(name='dec2.concat_skip')([up1, enc2])" in code)
    assert ("enc1 = layers.Conv2D(filters=64, kernel_size=3, padding='same', activation='relu', "
            "name='enc1')(noisy)") in code


def test_saved_model_loads_in_safe_mode(keras, tmp_path):
    from archspec.cli import main

    target = tmp_path / "gated.keras"
    with pytest.raises(SystemExit) as exit_info:
        main(["build", str(SPECS / "gated_mlp_softmax.yaml"), "-o", str(target)])
    assert exit_info.value.code in (0, None)
    import archspec.keras.layers

    loaded = keras.saving.load_model(target, safe_mode=True)
    ours = archspec.compile_model(SPECS / "gated_mlp_softmax.yaml")
    assert loaded.count_params() == ours.count_params()
    images = random_images((28, 28))
    copy_weights(loaded, ours)
    np.testing.assert_allclose(loaded.predict(images, verbose=0), ours.predict(images, verbose=0), atol=1e-6)


@pytest.mark.slow
def test_resnet50_equals_keras_applications(keras):
    hand = keras.applications.ResNet50(weights=None)
    ours = archspec.compile_model(SPECS / "resnet50.yaml")
    assert ours.count_params() == hand.count_params() == 25_636_712
    assert_same_model(ours, hand, random_images((224, 224, 3), count=2), atol=1e-4)
