"""The importer's one error type and how a validation error reads in it."""

from __future__ import annotations

import re

from pydantic import ValidationError

from archspec.errors import ArchspecError


class KerasImportError(ArchspecError):
    """A Keras model that archspec cannot express as a spec (or cannot load, or not reproduce)."""


KERAS_WRAPPER = "Exception encountered when calling "
"""How Keras opens the error of a layer's call, once per layer the call was inside; the cause follows the last,
after the preface of a symbolic call (KERAS_PREFACE)."""
KERAS_PREFACE = "Could not automatically infer the output shape"


def first_line(error: Exception) -> str:
    """The line that says what went wrong: a validation error's first problem, the message Keras wrapped
    (innermost first: `Rotary dimension must be even`, not `Exception encountered when calling ...`)."""
    if isinstance(error, ValidationError):
        item = error.errors(include_url=False)[0]
        return f"{'.'.join(map(str, item['loc']))}: {item['msg']}"
    lines = [line.strip() for line in re.sub(r"\x1b\[[0-9;]*m", "", str(error)).splitlines() if line.strip()]
    wrapped = [index for index, line in enumerate(lines) if line.startswith(KERAS_WRAPPER)]
    cause = [line for line in lines[wrapped[-1] + 1:] if not line.startswith(KERAS_PREFACE)] if wrapped else []
    return (cause or lines or [""])[0]
