"""Shared fixtures: the repository's specs, and MNIST from $ARCHSPEC_DATA_DIR or ../shared (tests never download).

MNIST is found as the README says: $ARCHSPEC_DATA_DIR (the four IDX files, directly or
in an `mnist/` sub-folder), else ../shared/data/mnist beside the clone, which then
becomes $ARCHSPEC_DATA_DIR for the code under test. Tests that need it use
`needs_mnist`; they are skipped only when neither place holds the files.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SPECS = sorted((ROOT / "specs").glob("*.yaml"))
BESIDE_THE_CLONE = ROOT.parent / "shared" / "data" / "mnist"
MNIST_FILE = "train-images-idx3-ubyte"

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")  # as archspec.keras.backend does; C++ log lines help no test
if not os.environ.get("ARCHSPEC_DATA_DIR") and BESIDE_THE_CLONE.is_dir():
    os.environ["ARCHSPEC_DATA_DIR"] = str(BESIDE_THE_CLONE)


def _mnist_dir() -> Path:
    """The folder of the MNIST IDX files the tests use (it may not exist: then they skip)."""
    chosen = Path(os.environ.get("ARCHSPEC_DATA_DIR") or BESIDE_THE_CLONE).expanduser()
    return chosen / "mnist" if (chosen / "mnist").is_dir() else chosen


SHARED_MNIST = _mnist_dir()
HAVE_MNIST = any((SHARED_MNIST / name).is_file() for name in (MNIST_FILE, f"{MNIST_FILE}.gz"))
needs_mnist = pytest.mark.skipif(
    not HAVE_MNIST, reason="needs MNIST: set ARCHSPEC_DATA_DIR to a folder of its IDX files")


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
