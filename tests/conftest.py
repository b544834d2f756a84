"""Shared fixtures: the repository's specs, and MNIST from $ARCHSPEC_DATA_DIR or ../shared (tests never download).

MNIST is found as the README says: $ARCHSPEC_DATA_DIR (the four IDX files, directly or
in an `mnist/` sub-folder), else ../shared/data/mnist beside the clone, which then
becomes $ARCHSPEC_DATA_DIR for the code under test. Tests that need it use
`needs_mnist`; they are skipped only when neither place holds the files.
"""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path

import pytest

from tests.keras_marker import needs_keras

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


@pytest.fixture(scope="session")
def backend_outputs(tmp_path_factory):
    """backend_outputs(name): every spec the backend tests compare, built on that backend once per session."""
    from tests.backend_outputs import OutputsByBackend

    return OutputsByBackend(tmp_path_factory.mktemp("backends"))


@pytest.fixture
def write_spec(tmp_path):
    """Write spec text to a file and return its path (errors then point at a real file:line:col)."""

    def write(text: str, name: str = "spec.yaml") -> Path:
        path = tmp_path / name
        path.write_text(text)
        return path

    return write


OPT_IN_MARKERS = ("fuzz", "zoo")
"""Markers whose tests run only when the -m expression names them (whatever else it selects)."""


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark every test that builds a model or loads TensorFlow `keras` (tests/keras_marker.py says how),
    so `pytest -m "not keras and not slow"` runs the TensorFlow-free majority; an -m expression
    that does not name fuzz or zoo leaves those long runs out, as the default options do."""
    expression = config.getoption("markexpr") or ""
    kept, dropped = [], []
    for item in items:
        if any(item.get_closest_marker(name) and name not in expression for name in OPT_IN_MARKERS):
            dropped.append(item)
            continue
        kept.append(item)
        if isinstance(item, pytest.Function) and needs_keras(item.function, _fixture_functions(item),
                                                             item.fixturenames):
            item.add_marker(pytest.mark.keras)
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = kept


def _fixture_functions(item: pytest.Function) -> list:
    return [definition.func for name in item.fixturenames
            for definition in item._fixtureinfo.name2fixturedefs.get(name, ())]


def pytest_collection_finish(session: pytest.Session) -> None:
    """In the fast lane, TensorFlow and Keras cannot be imported from here on (see KerasBlocker)."""
    if not _in_fast_lane(session.config):
        return
    if "tensorflow" in sys.modules or "keras" in sys.modules:
        raise pytest.UsageError("collecting the tests loaded TensorFlow: a test module imports it (or a module "
                                "that loads it) at the top; import it inside the tests that need it")
    sys.meta_path.insert(0, BLOCKER)


def _in_fast_lane(config: pytest.Config) -> bool:
    return "not keras" in (config.getoption("markexpr") or "")


WHOLE_MODULE_NEEDS_KERAS = re.compile(r"^pytestmark = pytest\.mark\.keras\b", re.MULTILINE)


def pytest_ignore_collect(collection_path: Path, config: pytest.Config) -> bool | None:
    """In the fast lane, a test module marked `keras` as a whole is not even imported (its top may load PyTorch or
    ONNX Runtime: seconds spent on tests that the lane deselects)."""
    if _in_fast_lane(config) and collection_path.suffix == ".py" and collection_path.name.startswith("test_"):
        return WHOLE_MODULE_NEEDS_KERAS.search(collection_path.read_text()) is not None or None
    return None


class KerasBlocker:
    """A meta-path finder that refuses `tensorflow` and `keras` and remembers who asked.

    Each test that tries fails by name, even if it caught the ImportError, and the
    tests after it still run without TensorFlow, so one run lists every test that
    lacks its marker."""

    def __init__(self) -> None:
        self.tried: list[str] = []

    def find_spec(self, name: str, path: object = None, target: object = None) -> None:
        if name.partition(".")[0] in ("tensorflow", "keras"):
            self.tried.append(name)
            raise ImportError(f"{name} cannot be imported in the TensorFlow-free lane (-m 'not keras')")


BLOCKER = KerasBlocker()


@pytest.fixture(autouse=True)
def _fast_lane_loads_no_tensorflow(request: pytest.FixtureRequest):
    """In the fast lane, a test that tries to import TensorFlow or Keras fails by name: it lacks the marker."""
    BLOCKER.tried.clear()
    yield
    if BLOCKER.tried:
        tried = sorted(set(BLOCKER.tried))[0]
        pytest.fail(f"{request.node.nodeid} imports {tried} in the TensorFlow-free lane (-m 'not keras'): "
                    "it needs the keras marker; teach tests/keras_marker.py what it uses", pytrace=False)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """The fast lane's promise, checked once more at the end: TensorFlow was never imported."""
    if _in_fast_lane(session.config):
        if BLOCKER in sys.meta_path:
            sys.meta_path.remove(BLOCKER)
        if "tensorflow" in sys.modules and exitstatus == 0:
            session.exitstatus = pytest.ExitCode.TESTS_FAILED
