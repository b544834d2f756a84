"""The backend's thread defaults and the one line `fit` prints for a backend slower than TensorFlow on a CPU."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from archspec.graph.shapes import analyze
from archspec.keras.backend import BACKENDS, set_thread_defaults, usable_cores
from archspec.train.pace import model_family, pace_note
from tests.conftest import ROOT

SPECS = ROOT / "specs"


@pytest.mark.parametrize(("spec", "family"), [
    ("mlp_sequential", "dense"), ("mnist_cnn", "convolutional"), ("mnist_denoise_unet", "convolutional"),
])
def test_model_family_is_convolutional_when_any_node_convolves(spec: str, family: str) -> None:
    assert model_family(analyze(SPECS / f"{spec}.yaml")) == family


def test_pace_note_names_the_backend_family_and_reason() -> None:
    cnn = analyze(SPECS / "mnist_cnn.yaml")
    assert pace_note("jax", cnn) == (
        "archspec: note: on a CPU the jax backend trains convolutional models slower than TensorFlow: "
        "XLA's CPU convolutions (0.07-0.62x); --backend tensorflow is faster here "
        "(docs/results.md, \"Backends\")")


def test_no_pace_note_on_tensorflow_or_where_the_backend_keeps_pace() -> None:
    mlp, cnn = analyze(SPECS / "mlp_sequential.yaml"), analyze(SPECS / "mnist_cnn.yaml")
    assert pace_note("tensorflow", cnn) is None
    assert pace_note("jax", mlp) is None
    assert pace_note("torch", mlp) is not None


def test_torch_threads_default_to_the_usable_cores(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    set_thread_defaults(BACKENDS["torch"])
    assert int(os.environ["OMP_NUM_THREADS"]) == usable_cores()


def test_a_thread_count_the_user_set_is_kept(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    set_thread_defaults(BACKENDS["torch"])
    assert os.environ["OMP_NUM_THREADS"] == "1"


@pytest.mark.parametrize("backend", [pytest.param("jax", marks=pytest.mark.jax),
                                     pytest.param("torch", marks=pytest.mark.torch), "tensorflow"])
def test_runs_on_cpu_answers_on_every_backend(backend: str, keras) -> None:
    if keras.backend.backend() == backend:  # Keras runs on it in this process already: no second start-up
        from archspec.train.pace import runs_on_cpu

        assert runs_on_cpu() is True
        return
    code = (f"from archspec.keras.backend import use_backend; use_backend({backend!r})\n"
            "from archspec.train.pace import runs_on_cpu; print(runs_on_cpu())")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.splitlines()[-1] == "True"  # no accelerator on the test machines
