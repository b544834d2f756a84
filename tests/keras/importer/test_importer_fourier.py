"""keras.ops calls read by what they compute in context (issue 29, keras-hub's FNet): fft2 of a real input,
its real part taken, is a `fourier` node; a cast to the tensor's own dtype is no node; a call with no spec
form (zeros_like, fft2's imaginary part) is refused only where a node uses its output."""

from __future__ import annotations

import re

import numpy as np
import pytest
import yaml

from archspec.keras.importer import KerasImportError, import_and_rebuild, import_model


def _mixing(keras, imaginary=None):
    """FNetEncoder.fourier_transform between two layers: cast, zeros_like, fft2, the real part, cast."""
    ops = keras.ops
    sequence = keras.Input((6, 8), name="seq")
    hidden = keras.layers.Dense(8, name="embed")(sequence)
    real = ops.cast(hidden, "float32")
    mixed, imag = ops.fft2((real, ops.zeros_like(real) if imaginary is None else imaginary(real)))
    return sequence, hidden, ops.cast(mixed, "float32"), imag


def test_fft2_of_a_real_input_is_a_fourier_node_and_a_cast_to_its_own_dtype_no_node(keras):
    sequence, hidden, mixed, _ = _mixing(keras)
    model = keras.Model(sequence, keras.layers.LayerNormalization(name="norm")(keras.ops.add(hidden, mixed)))
    text, rebuilt = import_and_rebuild(model)
    assert yaml.safe_load(text)["nodes"] == {"embed": {"op": "dense", "units": 8}, "fft2": {"op": "fourier"},
                                             "norm": {"op": "layer_norm"}}
    assert text.split("edges:\n", 1)[1] == (
        "  - seq -> embed\n  - embed -> fft2 -> norm\n  - {from: embed, to: norm, kind: add-residual}\n\n"
        "outputs: [norm]\n")
    batch = np.random.default_rng(0).normal(size=(2, 6, 8)).astype("float32")
    assert rebuilt.count_params() == model.count_params()
    assert np.abs(np.asarray(rebuilt(batch)) - np.asarray(model(batch))).max() < 1e-5


def test_fft2s_imaginary_part_is_refused_where_it_is_used(keras):
    sequence, _, mixed, imag = _mixing(keras)
    model = keras.Model(sequence, keras.layers.Add(name="both")([mixed, imag]))
    with pytest.raises(KerasImportError) as raised:
        import_model(model)
    assert re.match(r"output 1 of operation 'fft2(_\d+)?' \(keras.ops FFT2\) has no archspec op to import it as\n"
                    r"  hint: use only the outputs that import, or write a plugin op \(docs/plugins.md\)$",
                    str(raised.value))


def test_fft2_of_a_complex_input_is_refused_with_its_own_message(keras):
    sequence, _, mixed, _ = _mixing(keras, imaginary=lambda real: keras.ops.multiply(real, 0.5))
    with pytest.raises(KerasImportError) as raised:
        import_model(keras.Model(sequence, mixed))
    assert re.match(r"operation 'fft2(_\d+)?' \(keras.ops FFT2\(\['embed', 'multiply(_\d+)?'\]\)\) has no archspec op",
                    str(raised.value))  # the cast to float32 is the dense's output itself


def test_a_call_with_no_spec_form_is_refused_at_its_first_use_with_its_own_message(keras):
    vector = keras.Input((4,), name="v")
    model = keras.Model(vector, keras.layers.Dense(2, name="out")(keras.ops.cumsum(vector, axis=1)))
    with pytest.raises(KerasImportError) as raised:
        import_model(model)
    assert re.match(r"operation 'cumsum(_\d+)?' \(keras.ops Cumsum\(v\)\) has no archspec op", str(raised.value))


def test_a_cast_to_another_dtype_is_refused(keras):
    tokens = keras.Input((4,), dtype="int32", name="tokens")
    model = keras.Model(tokens, keras.layers.Dense(2, name="out")(keras.ops.cast(tokens, "float32")))
    with pytest.raises(KerasImportError) as raised:
        import_model(model)
    assert re.match(r"operation 'cast(_\d+)?' \(keras.ops Cast\(tokens\)\) has no archspec op", str(raised.value))


def test_a_traced_fourier_mixing_of_a_sequence_of_any_length_imports(keras):
    """keras.ops.fft2's symbolic rule wants both sizes; in a trace a sequence of any length passes."""
    ops = keras.ops

    class Mixing(keras.layers.Layer):
        def call(self, x):
            real, _ = ops.fft2((x, ops.zeros_like(x)))
            return x + real

        def compute_output_shape(self, shape):
            return shape

    sequence = keras.Input((None, 8), name="seq")
    model = keras.Model(sequence, Mixing(name="mix")(sequence))
    text, rebuilt = import_and_rebuild(model)
    assert yaml.safe_load(text)["nodes"]["mix_fft2"] == {"op": "fourier"}
    for steps in (3, 5):
        batch = np.random.default_rng(steps).normal(size=(2, steps, 8)).astype("float32")
        assert np.abs(np.asarray(rebuilt(batch)) - np.asarray(model(batch))).max() < 1e-5
