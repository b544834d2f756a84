"""Saved models load only with safe_mode=True, and bad files give one clear ModelError."""

from __future__ import annotations

import numpy as np
import pytest

import archspec
from archspec.errors import ModelError
from archspec.keras.saved import load_keras_model
from tests.conftest import ROOT


def test_a_compiled_model_round_trips(keras, tmp_path):
    model = archspec.compile_model(ROOT / "specs" / "gated_mlp_softmax.yaml")  # uses GateMix
    path = tmp_path / "model.keras"
    model.save(path)
    loaded = load_keras_model(path)
    sample = np.random.default_rng(0).random((2, 28, 28), dtype=np.float32)
    np.testing.assert_allclose(loaded(sample), model(sample), rtol=1e-6)
    assert loaded.count_params() == model.count_params()


def test_a_lambda_layer_is_refused(keras, tmp_path):
    inputs = keras.Input(shape=(3,))
    model = keras.Model(inputs, keras.layers.Lambda(lambda x: x * 2)(inputs))
    path = tmp_path / "lambda.keras"
    model.save(path)
    with pytest.raises(ModelError) as caught:
        load_keras_model(path)
    assert str(caught.value).splitlines()[0] == (
        f"{path} contains code that only loads with safe_mode=False (a Lambda layer or a lambda "
        "function), and archspec does not run code from model files")


def test_missing_and_corrupt_files(keras, tmp_path):
    with pytest.raises(ModelError) as caught:
        load_keras_model(tmp_path / "none.keras")
    assert str(caught.value).splitlines()[0] == f"model file not found: {tmp_path / 'none.keras'}"
    corrupt = tmp_path / "corrupt.keras"
    corrupt.write_bytes(b"PK\x03\x04 not really a zip archive")
    with pytest.raises(ModelError) as caught:
        load_keras_model(corrupt)
    assert str(caught.value).startswith(f"cannot load model {corrupt}: ")
    legacy = tmp_path / "model.h5"
    legacy.write_bytes(b"\x89HDF\r\n")
    with pytest.raises(ModelError) as caught:
        load_keras_model(legacy)
    assert str(caught.value).splitlines()[0] == f"{legacy} is not a .keras file"


def test_archspec_import_of_an_unsafe_or_corrupt_file_is_a_message(keras, tmp_path, capsys):
    from archspec.cli import main

    inputs = keras.Input(shape=(3,))
    unsafe = tmp_path / "lambda.keras"
    keras.Model(inputs, keras.layers.Lambda(lambda x: x + 1)(inputs)).save(unsafe)
    corrupt = tmp_path / "corrupt.keras"
    corrupt.write_bytes(b"not a zip")
    for path, first in ((unsafe, f"{unsafe} contains code that only loads with safe_mode=False"),
                        (corrupt, f"cannot load model {corrupt}: ")):
        with pytest.raises(SystemExit) as stop:
            main(["import", str(path)])
        err = capsys.readouterr().err
        assert stop.value.code == 1
        assert err.startswith(first) and "Traceback" not in err
