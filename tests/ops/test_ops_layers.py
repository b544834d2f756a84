"""Layer vocabulary (norms, activations, padding, cropping, preprocessing, separable conv, dropouts)
against the hand-written Keras layers."""

from __future__ import annotations

import numpy as np
import pytest

from archspec.catalogue.ops.base import Activation
from tests.op_checks import assert_matches_keras, assert_round_trips, compile_one, located_error

CASES = [
    ("{op: separable_conv2d, filters: 6}", [8, 8, 3], lambda L: L.SeparableConv2D(6, 3, padding="same")),
    ("{op: separable_conv2d, filters: 6, kernel: [3, 5], strides: 2, padding: valid, depth_multiplier: 2}",
     [9, 11, 3], lambda L: L.SeparableConv2D(6, (3, 5), strides=2, depth_multiplier=2)),
    ("{op: group_norm, groups: 2}", [4, 4, 6], lambda L: L.GroupNormalization(2)),
    ("{op: group_norm, groups: 3, center: false, epsilon: 0.01}", [5, 6],
     lambda L: L.GroupNormalization(3, center=False, epsilon=0.01)),
    ("{op: rms_norm}", [5, 6], lambda L: L.RMSNormalization()),
    ("{op: rms_norm, epsilon: 0.001}", [4, 4, 6], lambda L: L.RMSNormalization(epsilon=0.001)),
    ("{op: unit_norm}", [5, 6], lambda L: L.UnitNormalization()),
    ("{op: unit_norm, axis: 1}", [5, 6], lambda L: L.UnitNormalization(axis=1)),
    ("{op: spatial_dropout1d, rate: 0.3}", [5, 6], lambda L: L.SpatialDropout1D(0.3)),
    ("{op: spatial_dropout2d, rate: 0.3}", [4, 4, 6], lambda L: L.SpatialDropout2D(0.3)),
    ("{op: leaky_relu}", [6], lambda L: L.LeakyReLU()),
    ("{op: leaky_relu, negative_slope: 0.1}", [6], lambda L: L.LeakyReLU(0.1)),
    ("{op: elu, alpha: 0.5}", [6], lambda L: L.ELU(0.5)),
    ("{op: softmax, axis: 1}", [5, 6], lambda L: L.Softmax(axis=1)),
    ("{op: prelu}", [4, 4, 3], lambda L: L.PReLU()),
    ("{op: prelu, shared_axes: [1, 2]}", [4, 4, 3], lambda L: L.PReLU(shared_axes=[1, 2])),
    ("{op: zero_padding1d, padding: 2}", [5, 3], lambda L: L.ZeroPadding1D(2)),
    ("{op: zero_padding1d, padding: [1, 3]}", [5, 3], lambda L: L.ZeroPadding1D((1, 3))),
    ("{op: cropping1d, cropping: [1, 2]}", [6, 3], lambda L: L.Cropping1D((1, 2))),
    ("{op: cropping1d}", [6, 3], lambda L: L.Cropping1D(1)),
    ("{op: cropping2d, cropping: 1}", [6, 7, 2], lambda L: L.Cropping2D(1)),
    ("{op: cropping2d, cropping: [1, 2]}", [6, 7, 2], lambda L: L.Cropping2D((1, 2))),
    ("{op: cropping2d, cropping: [[0, 1], [2, 3]]}", [6, 7, 2], lambda L: L.Cropping2D(((0, 1), (2, 3)))),
    ("{op: rescaling, scale: 0.00392156862745098}", [4, 4, 3], lambda L: L.Rescaling(1 / 255)),
    ("{op: rescaling, scale: 2.0, offset: -1.0}", [6], lambda L: L.Rescaling(2.0, offset=-1.0)),
    ("{op: normalization, mean: [0.5, 1.0, -1.0], variance: [4.0, 1.0, 0.25]}", [4, 4, 3],
     lambda L: L.Normalization(mean=[0.5, 1.0, -1.0], variance=[4.0, 1.0, 0.25])),
    ("{op: normalization, mean: 0.1307, variance: 0.0953}", [6, 6, 1],
     lambda L: L.Normalization(mean=0.1307, variance=0.0953)),
    ("{op: drop_path, rate: 0.2}", [4, 3], None),
]


@pytest.mark.parametrize("node, shape, make", CASES, ids=[case[0] for case in CASES])
def test_layer_op_is_the_keras_layer(keras, node, shape, make):
    if make is None:  # archspec's own layer: the identity at inference
        from archspec.keras.layers import DropPath

        make = lambda _: DropPath(0.2)  # noqa: E731
    assert_matches_keras(keras, node, shape, make(keras.layers))


@pytest.mark.parametrize("node, shape", [case[:2] for case in CASES], ids=[case[0] for case in CASES])
def test_layer_op_round_trips_through_import(keras, node, shape, tmp_path):
    assert_round_trips(keras, node, shape, tmp_path)


ACTIVATIONS = list(Activation.__args__)
ALIASES = {"swish": "silu", "hard_swish": "hard_silu"}


@pytest.mark.parametrize("name", ACTIVATIONS)
def test_every_activation_is_keras_and_round_trips(keras, name, tmp_path):
    node = f"{{op: activation, activation: {name}}}"
    assert_matches_keras(keras, node, [6], keras.layers.Activation(name))
    assert_round_trips(keras, node, [6], tmp_path, expected={"op": "activation", "activation": ALIASES.get(name, name)})


@pytest.mark.parametrize("name", ["gelu", "mish", "hard_swish", "selu", "log_softmax"])
def test_activation_option_of_weighted_ops(keras, name):
    assert_matches_keras(keras, f"{{op: dense, units: 3, activation: {name}}}", [5],
                         keras.layers.Dense(3, activation=name))
    assert_matches_keras(keras, f"{{op: conv1d, filters: 3, activation: {name}}}", [6, 2],
                         keras.layers.Conv1D(3, 3, padding="same", activation=name))


def test_drop_path_drops_whole_examples_while_training_only(keras):
    _, model = compile_one("{op: drop_path, rate: 0.5, seed: 3}", [4, 3])
    ones = np.ones((64, 4, 3), "float32")
    assert np.array_equal(np.asarray(model(ones, training=False)), ones)
    trained = np.asarray(model(ones, training=True))
    per_example = trained.reshape(64, -1)
    assert set(np.unique(per_example)) == {0.0, 2.0}  # dropped, or kept and scaled by 1 / (1 - 0.5)
    assert all(len(set(row)) == 1 for row in per_example)  # the whole example, not single values
    assert 10 < (per_example[:, 0] == 0).sum() < 54


@pytest.mark.parametrize("node, shape, message", [
    ("{op: group_norm, groups: 4}", [5, 6], "4 groups do not divide the 6 channels"),
    ("{op: rms_norm, axis: 3}", [5, 6], "rms_norm axis 3 does not exist"),
    ("{op: separable_conv2d, filters: 3}", [8, 3], "separable_conv2d needs an input of rank 3"),
    ("{op: spatial_dropout2d, rate: 0.1}", [8, 3], "spatial_dropout2d needs an input of rank 3"),
    ("{op: spatial_dropout1d, rate: 0.1}", [8, 8, 3], "spatial_dropout1d needs an input of rank 2"),
    ("{op: cropping1d, cropping: [3, 3]}", [6, 2], "cropping 3 + 3 steps leaves nothing of a 6x2 input"),
    ("{op: cropping2d, cropping: [1, 4]}", [6, 8, 2], "cropping 4 + 4 columns leaves nothing"),
    ("{op: zero_padding1d}", [6, 6, 2], "zero_padding1d needs an input of rank 2"),
    ("{op: normalization, mean: [0.0, 1.0], variance: [1.0, 1.0]}", [6, 3],
     "normalization has 2 mean values for 6x3 inputs"),
    ("{op: softmax, axis: 3}", [6, 3], "softmax axis 3 does not exist"),
    ("{op: prelu}", [None, 3], "every unshared axis must be known"),
    ("{op: drop_path, rate: 1.0}", [6], "rate"),
    ("{op: activation, activation: glu}", [6], "activation"),
])
def test_layer_op_misuse_is_located(tmp_path, node, shape, message):
    assert message in located_error(tmp_path, node, shape)
