"""The importer's one error type and how a validation error reads in it."""

from __future__ import annotations

from pydantic import ValidationError

from archspec.errors import ArchspecError


class KerasImportError(ArchspecError):
    """A Keras model that archspec cannot express as a spec (or cannot load, or not reproduce)."""


def first_line(error: Exception) -> str:
    if isinstance(error, ValidationError):
        item = error.errors(include_url=False)[0]
        return f"{'.'.join(map(str, item['loc']))}: {item['msg']}"
    return str(error).splitlines()[0]
