"""A library's subclass of a Keras layer, imported as the Keras layer it extends.

keras-hub's decoders call CachedMultiHeadAttention, a MultiHeadAttention that adds a key/value cache
for generation (`cache=None` outside it). Tracing its call would import its insides (EinsumDense
projections, an einsum); the spec has the layer itself: `attention`. So a layer whose own class no op
lists, but one of its Keras base classes does, is imported as that base (its config is the base's).
Whether the subclass computes what the base computes is not assumed: the import's check compares
outputs, and a subclass that differs is an error naming the node, never a silently different spec.
"""

from __future__ import annotations

from typing import Any


def importable_base(layer: Any, by_class: dict[str, list[Any]]) -> str | None:
    """The name of the nearest Keras base class of `layer` that an op imports, None if there is none."""
    for cls in type(layer).__mro__[1:]:
        if cls.__module__.startswith("keras.") and cls.__name__ in by_class:
            return cls.__name__
    return None
