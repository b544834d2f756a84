"""TensorFlow is imported quietly: archspec's output is not preceded by TF's C++ start-up lines."""

from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest

from archspec.keras.backend import stderr_captured
from tests.conftest import ROOT

TF_LOG_LINE = re.compile(r"^([IWEF]\d{4} |WARNING: All log messages before absl)", re.MULTILINE)


def without_log_level() -> dict[str, str]:
    return {key: value for key, value in os.environ.items() if key != "TF_CPP_MIN_LOG_LEVEL"}


def test_captured_stderr_is_dropped_on_success_and_replayed_on_failure(capfd):
    with stderr_captured():
        os.write(2, b"start-up noise\n")
    assert capfd.readouterr().err == ""
    with pytest.raises(RuntimeError), stderr_captured():
        os.write(2, b"why it failed\n")
        raise RuntimeError("import failed")
    assert capfd.readouterr().err == "why it failed\n"


def test_importing_keras_writes_nothing_to_stderr():
    env = without_log_level()
    code = "from archspec.keras.backend import import_keras; k = import_keras(); print(k.backend.backend())"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, env=env)
    assert (result.returncode, result.stdout, result.stderr) == (0, "tensorflow\n", "")


def test_a_training_run_prints_no_tensorflow_log_lines(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "archspec.cli", "fit", "specs/mlp_sequential.yaml", "--epochs", "1",
         "--subset", "256", "--out", str(tmp_path / "run")],
        capture_output=True, text=True, cwd=ROOT, env=without_log_level(), timeout=300,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert TF_LOG_LINE.findall(result.stderr) == [], result.stderr[-3000:]
    assert TF_LOG_LINE.findall(result.stdout) == []
    assert "run folder:" in result.stdout
