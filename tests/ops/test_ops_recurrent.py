"""lstm, gru, simple_rnn (one way and bidirectional) and masking against the Keras layers."""

from __future__ import annotations

import numpy as np
import pytest

import archspec
from tests.op_checks import assert_matches_keras, assert_round_trips, compile_one, located_error

CASES = [
    ("{op: lstm, units: 4}", [6, 3], lambda L: L.LSTM(4)),
    ("{op: lstm, units: 4, return_sequences: true}", [6, 3], lambda L: L.LSTM(4, return_sequences=True)),
    ("{op: lstm, units: 4, bidirectional: true}", [6, 3], lambda L: L.Bidirectional(L.LSTM(4))),
    ("{op: lstm, units: 3, bidirectional: sum, return_sequences: true}", [6, 2],
     lambda L: L.Bidirectional(L.LSTM(3, return_sequences=True), merge_mode="sum")),
    ("{op: lstm, units: 3, use_bias: false, activation: relu}", [5, 2],
     lambda L: L.LSTM(3, use_bias=False, activation="relu")),
    ("{op: gru, units: 5}", [6, 3], lambda L: L.GRU(5)),
    ("{op: gru, units: 5, reset_after: false, return_sequences: true}", [6, 3],
     lambda L: L.GRU(5, reset_after=False, return_sequences=True)),
    ("{op: gru, units: 2, bidirectional: ave}", [6, 3], lambda L: L.Bidirectional(L.GRU(2), merge_mode="ave")),
    ("{op: simple_rnn, units: 4}", [6, 3], lambda L: L.SimpleRNN(4)),
    ("{op: simple_rnn, units: 4, bidirectional: mul, return_sequences: true}", [6, 3],
     lambda L: L.Bidirectional(L.SimpleRNN(4, return_sequences=True), merge_mode="mul")),
    ("{op: masking}", [6, 3], lambda L: L.Masking()),
    ("{op: masking, mask_value: -1.0}", [6, 3], lambda L: L.Masking(-1.0)),
]


@pytest.mark.parametrize("node, shape, make", CASES, ids=[case[0] for case in CASES])
def test_recurrent_op_is_the_keras_layer(keras, node, shape, make):
    assert_matches_keras(keras, node, shape, make(keras.layers))


@pytest.mark.parametrize("node, shape", [case[:2] for case in CASES], ids=[case[0] for case in CASES])
def test_recurrent_op_round_trips_through_import(keras, node, shape, tmp_path):
    assert_round_trips(keras, node, shape, tmp_path)


def test_masked_steps_are_skipped_by_a_following_lstm(keras):
    """masking -> lstm: zero padding at the end of a sequence leaves the last state unchanged."""
    model = archspec.compile_model(archspec.loads_spec("""
archspec: 1
name: masked
inputs:
  x: {shape: [6, 2]}
nodes:
  mask: {op: masking}
  rnn:  {op: lstm, units: 3}
edges:
  - x -> mask -> rnn
outputs: [rnn]
"""))
    sequence = np.random.default_rng(0).normal(size=(1, 6, 2)).astype("float32")
    padded = sequence.copy()
    padded[0, 4:] = 0.0
    short = model.get_layer("rnn")(sequence[:, :4])
    assert np.abs(np.asarray(model(padded)) - np.asarray(short)).max() < 1e-5


def test_embedding_mask_zero_reaches_keras_and_round_trips(keras, tmp_path):
    node = "{op: embedding, input_dim: 10, output_dim: 4, mask_zero: true}"
    _, model = compile_one(node, [5], "int32")
    assert model.get_layer("y").mask_zero is True
    assert_round_trips(keras, node, [5], tmp_path, dtype="int32")


@pytest.mark.parametrize("node, shape, message", [
    ("{op: lstm, units: 4}", [8, 8, 1], "lstm needs an input of rank 2 (steps, features)"),
    ("{op: gru, units: 4}", [8], "gru needs an input of rank 2 (steps, features)"),
    ("{op: simple_rnn, units: 4, bidirectional: true}", [2, 8, 8, 1],
     "simple_rnn needs an input of rank 2 (steps, features)"),
])
def test_recurrent_op_misuse_is_located(tmp_path, node, shape, message):
    assert message in located_error(tmp_path, node, shape)


def test_an_unknown_merge_mode_is_refused_where_written(tmp_path):
    assert "bidirectional" in located_error(tmp_path, "{op: lstm, units: 4, bidirectional: stack}", [6, 2])


def test_codegen_prints_the_wrapped_layer_and_builds_the_same_model(keras):
    text = """
archspec: 1
name: rows
inputs:
  x: {shape: [6, 3]}
nodes:
  rnn: {op: lstm, units: 4, bidirectional: sum, bias_init: 1.0, kernel_reg: {l2: 0.01}}
edges:
  - x -> rnn
outputs: [rnn]
"""
    code = archspec.generate_code(archspec.loads_spec(text))
    assert "rnn = layers.Bidirectional(layer=layers.LSTM(units=4, " in code
    assert "merge_mode='sum', name='rnn')(x)" in code
    namespace: dict = {}
    exec(compile(code, "<codegen rows>", "exec"), namespace)  # generated code, our own output
    hand, ours = namespace["model"], archspec.compile_model(archspec.loads_spec(text))
    assert hand.count_params() == ours.count_params()
    hand.get_layer("rnn").set_weights(ours.get_layer("rnn").get_weights())
    batch = np.random.default_rng(0).normal(size=(2, 6, 3)).astype("float32")
    assert np.abs(np.asarray(hand(batch)) - np.asarray(ours(batch))).max() < 1e-5
    assert np.isclose(float(sum(hand.losses)), float(sum(ours.losses)))
