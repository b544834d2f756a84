"""Import Keras on the TensorFlow backend, once and quietly.

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
"""

from __future__ import annotations

import contextlib
import os
import sys
import tempfile
from collections.abc import Iterator
from typing import Any


def import_keras() -> Any:
    """keras on the TensorFlow backend; the first call imports TensorFlow and finds its devices."""
    if "keras" in sys.modules:
        import keras

        return keras
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    os.environ.setdefault("KERAS_BACKEND", "tensorflow")
    quiet = os.environ["TF_CPP_MIN_LOG_LEVEL"] != "0"
    with stderr_captured() if quiet else contextlib.nullcontext():
        import keras

        if keras.backend.backend() == "tensorflow":
            import tensorflow as tf

            tf.config.list_physical_devices()  # CUDA's start-up messages come here, not at import
    return keras


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
