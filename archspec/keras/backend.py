"""Import Keras on the chosen backend (TensorFlow unless told), once and quietly.

Keras 3 runs one model on TensorFlow, JAX or PyTorch, but reads its backend
once, when `keras` is first imported, from KERAS_BACKEND. So the choice is
made here, before that import: `use_backend("jax")` (the CLI's `--backend`)
sets KERAS_BACKEND, and a second, different choice in the same process is a
clear error rather than a model silently built on the first one. What each
backend can do that matters to archspec (several steps per call,
tf.distribute) is a row of BACKENDS, not a test of names elsewhere.

TensorFlow's C++ start-up writes lines such as "oneDNN custom operations are
on" and "failed call to cuInit" to stderr, and since TF 2.16 some of them are
written before absl logging is initialised, where TF_CPP_MIN_LOG_LEVEL has no
effect. They are noise before every `archspec fit`, so the import and the
device discovery run with file descriptor 2 pointed at a buffer; if the
import fails, the buffer is replayed so nothing that explains the failure is
lost. Later C++ log lines are filtered at level 3 (errors too: a line such as
"oneDNN supports DT_INT32 only on platforms with AVX-512" appeared at the
first training step, on an AVX-512 machine), because every failure that
matters reaches Python as an exception, which archspec turns into a message.
A TF_CPP_MIN_LOG_LEVEL set by the user is respected; 0 shows everything.
TensorFlow itself is imported through `import_tensorflow` on every backend,
because the runner's input pipeline is tf.data, which Keras 3 accepts on all three.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from archspec.errors import ArchspecError


class BackendError(ArchspecError):
    """A Keras backend that is unknown, not installed, already fixed otherwise, or cannot do what was asked."""


@dataclass(frozen=True)
class Backend:
    """What archspec needs to know about one Keras backend."""

    name: str
    package: str
    """The module that must be importable for Keras to run on it."""
    extra: str
    """`pip install 'archspec[EXTRA]'` installs it."""
    steps_per_execution: bool
    """Keras can run several training steps per call (the torch trainer requires 1)."""
    tf_distribute: bool
    """tf.distribute strategies (mirrored, multiworker) apply to it."""
    tf_graph: bool
    """The model's forward pass traces into a TensorFlow graph (TensorBoard's Graphs tab)."""
    thread_variables: tuple[str, ...] = ()
    """Environment variables, read once at its import, that size its compute thread pool; archspec
    sets each to the usable cores unless the user has (`set_thread_defaults`)."""


BACKENDS: dict[str, Backend] = {
    "tensorflow": Backend("tensorflow", "tensorflow", "", steps_per_execution=True, tf_distribute=True,
                          tf_graph=True),
    "jax": Backend("jax", "jax", "jax", steps_per_execution=True, tf_distribute=False, tf_graph=False),
    "torch": Backend("torch", "torch", "torch", steps_per_execution=False, tf_distribute=False, tf_graph=False,
                     thread_variables=("OMP_NUM_THREADS",)),
}
DEFAULT_BACKEND = "tensorflow"


def use_backend(name: str | None) -> Backend:
    """Choose the Keras backend for this process (None: KERAS_BACKEND, else TensorFlow).

    Must run before Keras is first imported; choosing the backend Keras already
    runs on is allowed, any other choice after that is a BackendError.
    """
    name = name or os.environ.get("KERAS_BACKEND") or DEFAULT_BACKEND
    if name not in BACKENDS:
        raise BackendError(f"unknown Keras backend '{name}'; use one of {', '.join(BACKENDS)}")
    backend = BACKENDS[name]
    running = _running_backend()
    if running is not None and running != name:
        raise BackendError(
            f"Keras already runs on {running} in this process, so it cannot switch to {name}\n"
            f"  hint: Keras fixes its backend when first imported; start a new process (or restart the "
            f"notebook kernel) and call archspec.use_backend('{name}') or set KERAS_BACKEND={name} first"
        )
    if importlib.util.find_spec(backend.package) is None:
        raise BackendError(
            f"the {name} backend needs the '{backend.package}' package, which is not installed\n"
            f"  hint: pip install 'archspec[{backend.extra}]'"
        )
    os.environ["KERAS_BACKEND"] = name
    set_thread_defaults(backend)
    return backend


def usable_cores() -> int:
    """The cores this process may run on (its affinity mask, not the machine's count)."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def set_thread_defaults(backend: Backend) -> None:
    """Size the backend's thread pool to the usable cores, unless the user already has.

    PyTorch's OpenMP pool, left to size itself (to the same 2 cores), ran an MLP epoch in 1.7 s
    where OMP_NUM_THREADS=2 ran it in 0.4 s (docs/results.md, "Backends"): set explicitly, the
    pool stops competing with tf.data's threads. Must run before the backend is imported.
    """
    for variable in backend.thread_variables:
        os.environ.setdefault(variable, str(usable_cores()))


def current_backend() -> Backend:
    """The backend Keras runs on (importing it if needed)."""
    return BACKENDS[import_keras().backend.backend()]


def require(capability: str, what: str) -> None:
    """A BackendError naming `what` unless the current backend has `capability` (a Backend field)."""
    backend = current_backend()
    if not getattr(backend, capability):
        able = [name for name, other in BACKENDS.items() if getattr(other, capability)]
        raise BackendError(f"{what} is not available on the {backend.name} backend\n"
                           f"  hint: use --backend {' or '.join(able)}")


def _running_backend() -> str | None:
    keras = sys.modules.get("keras")
    return keras.backend.backend() if keras is not None and hasattr(keras, "backend") else None


def import_keras() -> Any:
    """keras on the chosen backend; the first call imports it (and TensorFlow's devices) quietly."""
    if "keras" in sys.modules:
        import keras

        return keras
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    use_backend(None)
    with _quiet():
        import keras

        if keras.backend.backend() == "tensorflow":
            import tensorflow as tf

            tf.config.list_physical_devices()  # CUDA's start-up messages come here, not at import
    return keras


def import_tensorflow() -> Any:
    """TensorFlow, imported quietly, whatever backend Keras runs on (tf.data, tf.saved_model, tf.lite)."""
    import_keras()
    if "tensorflow" in sys.modules:
        import tensorflow as tf

        return tf
    with _quiet():
        import tensorflow as tf

        tf.config.list_physical_devices()
    return tf


def _quiet() -> contextlib.AbstractContextManager:
    return stderr_captured() if os.environ.get("TF_CPP_MIN_LOG_LEVEL", "3") != "0" else contextlib.nullcontext()


@contextlib.contextmanager
def stderr_captured() -> Iterator[None]:
    """Point fd 2 (C++ code writes there, not to sys.stderr) at a temporary file for the block.

    On an exception the captured text is written back to stderr before the
    exception propagates.
    """
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile() as buffer:
        os.dup2(buffer.fileno(), 2)
        try:
            yield
        except BaseException:
            os.dup2(saved, 2)
            buffer.seek(0)
            sys.stderr.write(buffer.read().decode("utf-8", "replace"))
            sys.stderr.flush()
            raise
        finally:
            os.dup2(saved, 2)
            os.close(saved)
