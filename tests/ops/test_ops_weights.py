"""Per-node initialisers and regularisers reach the Keras layer, import back, and are checked where written."""

from __future__ import annotations

import numpy as np
import pytest

from archspec.catalogue.ops import OPS
from tests.op_checks import assert_round_trips, compile_one, located_error

CONSTANTS = [
    # (node with constant initialisers, input shape, {weight name suffix: the constant it must hold})
    ("{op: dense, units: 3, kernel_init: 0.5, bias_init: -2.0}", [4], {"kernel": 0.5, "bias": -2.0}),
    ("{op: conv2d, filters: 2, kernel_init: 0.25, bias_init: 1.0}", [5, 5, 2], {"kernel": 0.25, "bias": 1.0}),
    ("{op: conv2d_transpose, filters: 2, kernel_init: 0.25, bias_init: 1.0}", [5, 5, 2],
     {"kernel": 0.25, "bias": 1.0}),
    ("{op: depthwise_conv2d, kernel_init: 0.25, bias_init: 1.0}", [5, 5, 2], {"kernel": 0.25, "bias": 1.0}),
    ("{op: conv1d, filters: 2, kernel_init: 0.25, bias_init: 3.0}", [6, 2], {"kernel": 0.25, "bias": 3.0}),
    ("{op: separable_conv2d, filters: 2, depthwise_init: 0.5, pointwise_init: 0.25, bias_init: 1.0}", [5, 5, 2],
     {"depthwise_kernel": 0.5, "pointwise_kernel": 0.25, "bias": 1.0}),
    ("{op: separable_conv1d, filters: 2, depthwise_init: 0.5, pointwise_init: 0.25, bias_init: 1.0}", [6, 2],
     {"depthwise_kernel": 0.5, "pointwise_kernel": 0.25, "bias": 1.0}),
    ("{op: lstm, units: 2, kernel_init: 0.5, recurrent_init: 0.25, bias_init: 0.0, unit_forget_bias: false}",
     [5, 3], {"/kernel": 0.5, "recurrent_kernel": 0.25, "bias": 0.0}),
    ("{op: gru, units: 2, kernel_init: 0.5, recurrent_init: 0.25, bias_init: 1.0, bidirectional: true}", [5, 3],
     {"/kernel": 0.5, "recurrent_kernel": 0.25, "bias": 1.0}),
    ("{op: simple_rnn, units: 2, kernel_init: 0.5, recurrent_init: zeros}", [5, 3],
     {"/kernel": 0.5, "recurrent_kernel": 0.0}),
    ("{op: embedding, input_dim: 7, output_dim: 3, embeddings_init: 0.5}", [4], {"embeddings": 0.5}),
    ("{op: batch_norm, gamma_init: 0.0, beta_init: 0.5}", [4, 4, 2], {"gamma": 0.0, "beta": 0.5}),
    ("{op: layer_norm, gamma_init: 2.0, beta_init: 0.5}", [4, 3], {"gamma": 2.0, "beta": 0.5}),
    ("{op: group_norm, groups: 1, gamma_init: 0.0, beta_init: ones}", [4, 3], {"gamma": 0.0, "beta": 1.0}),
    ("{op: prelu, alpha_init: 0.25}", [4, 3], {"alpha": 0.25}),
]


@pytest.mark.parametrize("node, shape, constants", CONSTANTS, ids=[case[0] for case in CONSTANTS])
def test_initialisers_reach_the_keras_weights(keras, node, shape, constants):
    dtype = "int32" if "embedding" in node else "float32"
    _, model = compile_one(node, shape, dtype)
    weights = model.get_layer("y").weights
    for suffix, value in constants.items():
        matching = [w for w in weights if w.path.endswith(suffix.lstrip("/")) and
                    (not suffix.startswith("/") or "recurrent" not in w.path)]
        assert matching, f"no weight {suffix} among {[w.path for w in weights]}"
        for weight in matching:
            assert np.allclose(np.asarray(weight), value), weight.path


@pytest.mark.parametrize("node, shape", [case[:2] for case in CONSTANTS], ids=[case[0] for case in CONSTANTS])
def test_initialisers_import_back(keras, node, shape, tmp_path):
    assert_round_trips(keras, node, shape, tmp_path, dtype="int32" if "embedding" in node else "float32")


@pytest.mark.parametrize("node, shape, expected", [
    ("{op: dense, units: 3, kernel_init: he_normal, bias_init: ones}", [4], ("HeNormal", "Ones")),
    ("{op: conv1d, filters: 3, kernel_init: orthogonal, bias_init: random_normal}", [5, 2],
     ("Orthogonal", "RandomNormal")),
])
def test_named_initialisers_are_the_keras_initialisers(keras, node, shape, expected, tmp_path):
    _, model = compile_one(node, shape)
    layer = model.get_layer("y")
    assert (type(layer.kernel_initializer).__name__, type(layer.bias_initializer).__name__) == expected
    assert_round_trips(keras, node, shape, tmp_path)


@pytest.mark.parametrize("node, shape, cls, config", [
    ("{op: conv2d, filters: 2, kernel_init: {name: variance_scaling, scale: 2.0, mode: fan_out, "
     "distribution: untruncated_normal}}", [5, 5, 2], "VarianceScaling",
     {"scale": 2.0, "mode": "fan_out", "distribution": "untruncated_normal"}),
    ("{op: dense, units: 3, kernel_init: {name: random_normal, stddev: 0.02, seed: 7}}", [4], "RandomNormal",
     {"mean": 0.0, "stddev": 0.02, "seed": 7}),
    ("{op: conv1d, filters: 3, kernel_init: {name: he_uniform, seed: 1}}", [5, 2], "HeUniform", {"seed": 1}),
])
def test_initialisers_with_arguments_reach_keras_and_import_back(keras, node, shape, cls, config, tmp_path):
    _, model = compile_one(node, shape)
    initializer = model.get_layer("y").kernel_initializer
    assert type(initializer).__name__ == cls
    assert {key: initializer.get_config()[key] for key in config} == config
    assert_round_trips(keras, node, shape, tmp_path)


def test_regularisers_add_their_penalty_to_the_loss(keras, tmp_path):
    node = "{op: dense, units: 3, kernel_reg: {l2: 0.01}, bias_init: 1.0, bias_reg: {l1: 0.1, l2: 0.5}}"
    _, model = compile_one(node, [4])
    model(np.zeros((1, 4), "float32"))
    kernel, bias = model.get_layer("y").get_weights()
    expected = 0.01 * (kernel ** 2).sum() + 0.1 * np.abs(bias).sum() + 0.5 * (bias ** 2).sum()
    assert np.isclose(float(sum(np.asarray(loss) for loss in model.losses)), expected, rtol=1e-5)
    assert_round_trips(keras, node, [4], tmp_path)


@pytest.mark.parametrize("op", ["conv2d", "lstm", "batch_norm", "prelu", "embedding"])
def test_a_node_without_initialisers_builds_the_layer_it_always_did(op):
    """No initialiser or regulariser argument reaches Keras unless the node sets one (existing specs)."""
    params = {"conv2d": {"filters": 2}, "lstm": {"units": 2}, "embedding": {"input_dim": 3, "output_dim": 2}}
    shape = {"conv2d": (4, 4, 1), "lstm": (4, 2), "batch_norm": (4, 2), "prelu": (4,), "embedding": (4,)}[op]
    call = OPS[op].layer(OPS[op].Params(**params.get(op, {})), [shape])
    inner = call.kwargs.get("layer", call)
    assert not [key for key in inner.kwargs if key.endswith(("_initializer", "_regularizer"))]


@pytest.mark.parametrize("node, message", [
    ("{op: dense, units: 3, kernel_init: he_normall}", "kernel_init"),
    ("{op: dense, units: 3, kernel_reg: {l3: 0.1}}", "l3"),
    ("{op: dense, units: 3, kernel_reg: {l2: -0.1}}", "l2"),
    ("{op: batch_norm, kernel_init: zeros}", "kernel_init"),
    ("{op: dense, units: 3, kernel_init: {name: he_normal, stddev: 0.1}}", "he_normal takes seed, not stddev"),
    ("{op: dense, units: 3, bias_init: {name: variance_scaling, mode: fan_sideways}}", "mode"),
])
def test_bad_initialisers_and_regularisers_are_located(tmp_path, node, message):
    assert message in located_error(tmp_path, node, [4])


@pytest.mark.parametrize("value", ["foo", "[1]"])
def test_a_bad_initialiser_is_one_message_that_says_a_number_is_accepted_too(tmp_path, value):
    text = located_error(tmp_path, f"{{op: dense, units: 3, bias_init: {value}}}", [4])
    assert text.count("invalid value for 'bias_init'") == 1
    assert "'identity' or 'variance_scaling', or a number or a mapping" in text
