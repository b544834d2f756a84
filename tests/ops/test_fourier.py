"""`fourier` (FNet's token mixing, real(fft2(x)) over the last two axes) against numpy and hand-written Keras:
no weights, the input's shape, any sequence length; its rank and dtype errors located at the node."""

from __future__ import annotations

import numpy as np
import pytest

import archspec
from archspec.keras.codegen import generate_code
from tests.op_checks import assert_matches_keras, assert_round_trips, compile_one, located_error, one_op_spec


def _fft2_real(keras):
    """keras-hub's FNetEncoder.fourier_transform, as a layer of keras.ops."""
    ops = keras.ops
    return keras.layers.Lambda(lambda x: ops.fft2((x, ops.zeros_like(x)))[0])


@pytest.mark.parametrize("shape", [[6, 8], [4, 5, 3]])
def test_fourier_is_the_real_part_of_the_2d_transform_of_the_last_two_axes(keras, shape):
    model = assert_matches_keras(keras, "{op: fourier}", shape, _fft2_real(keras))
    assert model.count_params() == 0
    batch = np.random.default_rng(2).normal(size=(2, *shape)).astype("float32")
    np.testing.assert_allclose(np.asarray(model(batch)), np.fft.fft2(batch).real, atol=1e-4)


def test_fourier_mixes_a_sequence_of_any_length(keras):
    graph, model = compile_one("{op: fourier}", [None, 8])
    assert graph.nodes["y"]["shape"] == (None, 8)
    for steps in (3, 7):
        batch = np.random.default_rng(steps).normal(size=(2, steps, 8)).astype("float32")
        np.testing.assert_allclose(np.asarray(model(batch)), np.fft.fft2(batch).real, atol=1e-4)


def test_fourier_round_trips_through_a_saved_model_and_codegen(keras, tmp_path):
    assert_round_trips(keras, "{op: fourier}", [6, 8], tmp_path)
    code = generate_code(archspec.analyze(archspec.loads_spec(one_op_spec("{op: fourier}", [6, 8]))))
    assert "from archspec.keras.layers import Fourier\n" in code
    assert "y = Fourier(name='y')(x)\n" in code


def test_fourier_of_a_vector_is_refused_at_the_node(tmp_path):
    message = located_error(tmp_path, "{op: fourier}", [8])
    assert message.split(": ", 2)[2] == (
        "fourier transforms the last two axes: it needs an input of rank 2 or more\n"
        "  expected: rank >= 2, e.g. (steps, features)\n"
        "  got:      8 (rank 1)\n"
        "  hint: add a reshape node before it, e.g. reshape: [-1, features]")


def test_fourier_of_integers_is_refused_at_the_node(tmp_path):
    message = located_error(tmp_path, "{op: fourier}", [6, 8], dtype="int32")
    assert message.split(": ", 2)[2].splitlines()[:3] == [
        "fourier needs float32 input, but 'x' gives it int32", "  expected: float32", "  got:      int32 from 'x'"]


def test_fourier_takes_no_parameters(tmp_path):
    assert "unknown parameter 'axes' for op fourier" in located_error(tmp_path, "{op: fourier, axes: [1, 2]}", [6, 8])
