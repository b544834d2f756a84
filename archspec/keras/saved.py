"""Loading saved Keras models, safely: `safe_mode=True` always, archspec's own layers registered.

A `.keras` file can hold a `Lambda` layer, whose Python bytecode would run on
loading; Keras refuses it in safe mode, and archspec never turns safe mode
off. archspec's custom layers (archspec.keras.layers) are plain registered classes,
so models compiled by archspec load without any unsafe step.

A `.keras` file is a zip archive, and a small one can inflate to gigabytes (a
1.5 MB file whose config.json inflates to 1.5 GB cost 3.7 GB of memory before
Keras refused it). So the sizes its zip headers declare are checked before
anything is inflated: its JSON files (config, metadata) at most
MAX_JSON_BYTES, any file at most the machine's memory. zipfile never inflates
an entry past its declared size (a lying header ends in a CRC error), so the
check bounds what loading can cost.
"""

from __future__ import annotations

import re
import zipfile
from pathlib import Path
from typing import Any

from archspec.errors import ModelError
from archspec.graph.memory import format_bytes, physical_memory
from archspec.keras.backend import import_keras

MAX_JSON_BYTES = 64 * 2**20
"""The largest config.json / metadata.json a model file may declare (a big model's config is a few MB)."""


def load_keras_model(path: str | Path, *, compile: bool = True) -> Any:
    """Load a `.keras` model with safe_mode=True; raise ModelError for a missing, corrupt or unsafe file."""
    path = Path(path)
    if not path.is_file():
        raise ModelError(f"model file not found: {path}\n  hint: build one with `archspec build SPEC -o {path}`")
    if path.suffix != ".keras":
        raise ModelError(f"{path} is not a .keras file\n  hint: archspec saves and loads the Keras v3 "
                         "format (.keras) only; legacy .h5 and SavedModel folders are not read")
    check_declared_sizes(path)
    keras = import_keras()
    import archspec.keras.layers  # noqa: F401  (registers GateMix and PositionalEmbedding for loading)

    try:
        return keras.saving.load_model(path, compile=compile, safe_mode=True)
    except ValueError as error:
        if "safe_mode" in str(error) or "unsafe" in str(error).lower():
            raise ModelError(
                f"{path} contains code that only loads with safe_mode=False (a Lambda layer or "
                "a lambda function), and archspec does not run code from model files\n"
                "  hint: rebuild the model from its spec, or replace the Lambda layer with a registered layer"
            ) from None
        raise _corrupt(path, error) from None
    except (OSError, zipfile.BadZipFile, KeyError, TypeError, AttributeError) as error:
        raise _corrupt(path, error) from None


def check_declared_sizes(path: Path) -> None:
    """Refuse an archive whose entries declare more than loading should inflate (read from its
    central directory only)."""
    try:
        with zipfile.ZipFile(path) as archive:
            entries = archive.infolist()
    except (OSError, zipfile.BadZipFile) as error:
        raise _corrupt(path, error) from None
    memory = physical_memory()
    for entry in entries:
        limit = MAX_JSON_BYTES if entry.filename.endswith(".json") else memory
        if limit is not None and entry.file_size > limit:
            ratio = entry.file_size / max(entry.compress_size, 1)
            raise ModelError(
                f"{path}: its {entry.filename} would inflate to {format_bytes(entry.file_size)} "
                f"({ratio:,.0f} times its {format_bytes(entry.compress_size)} in the file), more than the "
                f"{format_bytes(limit)} a model file's {'JSON files' if limit == MAX_JSON_BYTES else 'entries'} "
                "may hold; it was not inflated\n"
                "  hint: a file this small cannot hold that much honestly; rebuild the model with `archspec build`")


UNKNOWN_CLASS = re.compile(r"Could not locate class '([^']+)'")
"""How Keras says a saved layer's class is not registered in this process (Keras 3.15)."""


def _corrupt(path: Path, error: Exception) -> ModelError:
    unknown = UNKNOWN_CLASS.search(str(error))
    if unknown:  # the archive is fine: the class that reads it back is missing here
        name = unknown.group(1)
        return ModelError(
            f"cannot load model {path}: it uses the custom class '{name}', which is not registered here\n"
            f"  hint: load the module that defines '{name}' (decorated with "
            "@keras.saving.register_keras_serializable) through a plugin: "
            f"`archspec --plugin module:OpClass ...` with an op that lists '{name}' in keras_classes "
            "(docs/plugins.md)")
    reason = str(error).splitlines()[0][:200] if str(error) else type(error).__name__
    return ModelError(f"cannot load model {path}: {reason}\n"
                      "  hint: the file is not a complete Keras .keras archive; rebuild it with `archspec build`")
