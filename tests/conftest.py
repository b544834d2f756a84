"""Shared fixtures: the repository's specs, and MNIST from ../shared (tests never download)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SPECS = sorted((ROOT / "specs").glob("*.yaml"))
SHARED_MNIST = ROOT.parent / "shared" / "data" / "mnist"

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")  # as archspec.keras.backend does; C++ log lines help no test
if SHARED_MNIST.is_dir():
    os.environ.setdefault("ARCHSPEC_DATA_DIR", str(SHARED_MNIST))


@pytest.fixture(scope="session")
def keras():
    from archspec.keras.backend import import_keras

    return import_keras()


@pytest.fixture
def write_spec(tmp_path):
    """Write spec text to a file and return its path (errors then point at a real file:line:col)."""

    def write(text: str, name: str = "spec.yaml") -> Path:
        path = tmp_path / name
        path.write_text(text)
        return path

    return write
