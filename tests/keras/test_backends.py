"""Keras 3 on TensorFlow, JAX and PyTorch: the same specs build the same models, and train.

Keras fixes its backend when first imported, so each backend runs in its own
subprocess (tests/backend_outputs.py for building, once per backend for the session; the CLI for training).
"""

from __future__ import annotations

import csv
import json
import math
import os
import subprocess
import sys

import numpy as np
import pytest

from archspec.keras.backend import BACKENDS, BackendError, use_backend
from tests.conftest import ROOT, SPECS

OTHERS = [pytest.param("jax", marks=pytest.mark.jax), pytest.param("torch", marks=pytest.mark.torch)]
TRANSFORMER = str(ROOT / "specs" / "mnist_transformer.yaml")


def run(args: list[str], **env: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, *args], capture_output=True, text=True, cwd=ROOT,
                          env={**os.environ, **env}, timeout=900)


@pytest.mark.slow
@pytest.mark.parametrize("backend", OTHERS)
@pytest.mark.parametrize("spec", SPECS, ids=[path.stem for path in SPECS])
def test_every_spec_builds_the_same_model_on_each_backend(backend_outputs, backend, spec):
    reference, other = backend_outputs("tensorflow"), backend_outputs(backend)
    keys = sorted(key for key in reference if key.startswith(f"{spec.stem}/"))
    assert keys and sorted(key for key in other if key.startswith(f"{spec.stem}/")) == keys
    assert int(other[f"{spec.stem}/params"]) == int(reference[f"{spec.stem}/params"]) > 0
    for key in keys:
        want = reference[key]
        np.testing.assert_allclose(other[key], want, rtol=1e-3, atol=1e-4 * max(np.abs(want).max(), 1e-3),
                                   err_msg=key)


def archspec_on(backend: str, args: list[str], keras, capsys) -> tuple[int, str, str]:
    """`archspec ARGS --backend BACKEND`: in this process if Keras already runs on that backend here (no second
    TensorFlow start-up), else in its own process; (exit code, stdout, stderr)."""
    args = [*args, "--backend", backend]
    if keras.backend.backend() != backend:
        result = run(["-m", "archspec.cli", *args])
        return result.returncode, result.stdout, result.stderr
    from archspec.cli import main

    with pytest.raises(SystemExit) as exited:
        main(args)
    captured = capsys.readouterr()
    return exited.value.code or 0, captured.out, captured.err


@pytest.mark.slow
@pytest.mark.parametrize("backend", [pytest.param("tensorflow"), *OTHERS])
def test_one_fit_step_and_evaluate_on_each_backend(backend, tmp_path, keras, capsys):
    run_dir = tmp_path / "run"
    code, _, err = archspec_on(backend, ["fit", TRANSFORMER, "--epochs", "1", "--subset", "64", "--batch-size", "64",
                                         "--seed", "0", "--out", str(run_dir)], keras, capsys)
    assert code == 0, err[-3000:]
    config = json.loads((run_dir / "config.json").read_text())
    assert config["versions"]["backend"] == backend
    assert config["steps_per_execution"] == 1  # 64 examples less the validation split: one step
    with (run_dir / "history.csv").open() as handle:
        (row,) = list(csv.DictReader(handle))
    assert math.isfinite(float(row["loss"])) and float(row["loss"]) > 0
    code, out, err = archspec_on(backend, ["evaluate", str(run_dir)], keras, capsys)
    assert code == 0, err[-3000:]
    assert out.splitlines()[0].startswith("accuracy: ")


@pytest.mark.torch
def test_a_tf_distribute_strategy_on_torch_is_one_message(tmp_path):
    result = run(["-m", "archspec.cli", "fit", TRANSFORMER, "--backend", "torch", "--strategy", "mirrored",
                  "--out", str(tmp_path / "run")])
    assert (result.returncode, result.stderr) == (
        1, "--strategy mirrored is not available on the torch backend\n  hint: use --backend tensorflow\n")


def test_validate_and_render_import_no_framework_on_any_backend(tmp_path):
    svg = str(tmp_path / "t.svg")
    code = (
        "import sys\n"
        "from archspec.cli import main\n"
        f"for args in (['validate', {TRANSFORMER!r}], ['render', {TRANSFORMER!r}, '-o', {svg!r}]):\n"
        "    try:\n"
        "        main(args)\n"
        "    except SystemExit as e:\n"
        "        assert not e.code, (args, e.code)\n"
        "print(sorted(m for m in ('tensorflow', 'keras', 'jax', 'torch') if m in sys.modules))\n"
    )
    for backend in BACKENDS:
        result = run(["-c", code], KERAS_BACKEND=backend)
        assert result.returncode == 0, result.stderr
        assert result.stdout.splitlines()[-1] == "[]"


def test_keras_cannot_switch_backend_once_imported(keras):
    """In this process, where the keras fixture imported Keras: no subprocess that imports it again."""
    running = keras.backend.backend()
    other = "torch" if running == "jax" else "jax"
    with pytest.raises(BackendError) as error:
        use_backend(other)
    assert str(error.value).splitlines()[0] == (
        f"Keras already runs on {running} in this process, so it cannot switch to {other}")


def test_an_unknown_backend_is_one_message():
    with pytest.raises(BackendError) as error:
        use_backend("mxnet")
    assert str(error.value) == "unknown Keras backend 'mxnet'; use one of tensorflow, jax, torch"


def test_codegen_for_a_backend_selects_it_before_importing_keras(capsys):
    from archspec.cli import main

    with pytest.raises(SystemExit):
        main(["codegen", TRANSFORMER, "--backend", "tensorflow"])
    lines = capsys.readouterr().out.splitlines()
    assert lines[2:7] == ["import os", "", 'os.environ["KERAS_BACKEND"] = "tensorflow"  # before keras is imported',
                          "", "import keras"]
