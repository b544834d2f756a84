"""Keras model names as spec model names."""

from __future__ import annotations

import re

from archspec.spec.syntax import MAX_MODEL_NAME_LENGTH, MODEL_NAME_PATTERN


def model_name(name: str) -> str:
    """A Keras model name as a spec's: Keras accepts names (spaces, accents) that TensorFlow refuses in `fit`."""
    if MODEL_NAME_PATTERN.fullmatch(name) and len(name) <= MAX_MODEL_NAME_LENGTH:
        return name
    safe = re.sub(r"[^A-Za-z0-9_.-]", "_", name)[:MAX_MODEL_NAME_LENGTH]
    return safe if MODEL_NAME_PATTERN.fullmatch(safe) else f"m{safe}"[:MAX_MODEL_NAME_LENGTH]
