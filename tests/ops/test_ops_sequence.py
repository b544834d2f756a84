"""Sequence ops (conv1d, separable_conv1d, 1-D pooling) against the Keras layers they stand for."""

from __future__ import annotations

import pytest

from tests.op_checks import assert_matches_keras, assert_round_trips, located_error

CASES = [
    # (node, input shape, the hand-written Keras layer as a function of keras.layers)
    ("{op: conv1d, filters: 4}", [9, 3], lambda L: L.Conv1D(4, 3, padding="same")),
    ("{op: conv1d, filters: 4, kernel: 5, padding: valid}", [9, 3], lambda L: L.Conv1D(4, 5)),
    ("{op: conv1d, filters: 4, kernel: 3, padding: causal, dilation: 2}", [9, 3],
     lambda L: L.Conv1D(4, 3, padding="causal", dilation_rate=2)),
    ("{op: conv1d, filters: 6, kernel: 2, strides: 2, groups: 3, activation: relu}", [10, 6],
     lambda L: L.Conv1D(6, 2, strides=2, groups=3, activation="relu", padding="same")),
    ("{op: conv1d, filters: 4, use_bias: false, padding: valid, strides: 3}", [10, 2],
     lambda L: L.Conv1D(4, 3, strides=3, use_bias=False)),
    ("{op: separable_conv1d, filters: 5, depth_multiplier: 2}", [9, 3],
     lambda L: L.SeparableConv1D(5, 3, padding="same", depth_multiplier=2)),
    ("{op: separable_conv1d, filters: 5, kernel: 2, padding: valid, dilation: 3}", [9, 3],
     lambda L: L.SeparableConv1D(5, 2, dilation_rate=3)),
    ("{op: max_pool1d}", [9, 3], lambda L: L.MaxPooling1D()),
    ("{op: max_pool1d, pool: 3, strides: 2, padding: same}", [10, 3],
     lambda L: L.MaxPooling1D(3, 2, padding="same")),
    ("{op: avg_pool1d, pool: 3}", [10, 3], lambda L: L.AveragePooling1D(3)),
    ("{op: global_avg_pool1d}", [7, 3], lambda L: L.GlobalAveragePooling1D()),
    ("{op: global_max_pool1d}", [7, 3], lambda L: L.GlobalMaxPooling1D()),
    ("{op: global_max_pool1d, keepdims: true}", [7, 3], lambda L: L.GlobalMaxPooling1D(keepdims=True)),
]


@pytest.mark.parametrize("node, shape, make", CASES, ids=[case[0] for case in CASES])
def test_sequence_op_is_the_keras_layer(keras, node, shape, make):
    assert_matches_keras(keras, node, shape, make(keras.layers))


@pytest.mark.parametrize("node, shape", [case[:2] for case in CASES], ids=[case[0] for case in CASES])
def test_sequence_op_round_trips_through_import(keras, node, shape, tmp_path):
    assert_round_trips(keras, node, shape, tmp_path)


def test_causal_conv1d_output_depends_only_on_the_past(keras):
    import numpy as np

    model = assert_matches_keras(keras, "{op: conv1d, filters: 2, kernel: 3, padding: causal, dilation: 2}",
                                 [8, 1], keras.layers.Conv1D(2, 3, padding="causal", dilation_rate=2))
    signal = np.zeros((1, 8, 1), "float32")
    changed = signal.copy()
    changed[0, 5, 0] = 1.0
    before, after = np.asarray(model(signal)), np.asarray(model(changed))
    assert np.allclose(before[0, :5], after[0, :5]) and not np.allclose(before[0, 5:], after[0, 5:])


@pytest.mark.parametrize("node, shape, message", [
    ("{op: conv1d, filters: 4}", [8, 8, 1], "conv1d needs an input of rank 2 (steps, features)"),
    ("{op: conv1d, filters: 4}", [8], "conv1d needs an input of rank 2 (steps, features)"),
    ("{op: conv1d, filters: 4, groups: 3}", [8, 6], "3 groups do not divide the 4 filters"),
    ("{op: conv1d, filters: 6, groups: 4}", [8, 6], "4 groups do not divide the 6 input features"),
    ("{op: conv1d, filters: 4, kernel: 9, padding: valid}", [8, 2], "conv1d window is longer than its 8x2 input"),
    ("{op: max_pool1d, pool: 3}", [2, 2], "max_pool1d window is longer than its 2x2 input"),
    ("{op: global_max_pool1d}", [4, 4, 2], "global_max_pool1d needs an input of rank 2"),
    ("{op: separable_conv1d, filters: 2}", [4, 4, 2], "separable_conv1d needs an input of rank 2"),
])
def test_sequence_op_misuse_is_located(tmp_path, node, shape, message):
    assert message in located_error(tmp_path, node, shape)


def test_conv1d_strides_with_dilation_is_refused_where_written(tmp_path):
    assert "strides and dilation cannot both be greater than 1" in located_error(
        tmp_path, "{op: conv1d, filters: 2, strides: 2, dilation: 2}", [8, 2])
