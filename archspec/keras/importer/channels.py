"""Layers with `data_format="channels_first"`: imported as their channels-last op between two permutes.

The rule (docs/spec-scaling.md, import): a channels-first layer on an input of shape (C, D1, .., Dn)
becomes `NAME_to_last: permute [2, .., n+1, 1]`, then the layer's own op with channels last (named as
the layer, so its weights copy by name: Keras keeps kernels in one layout whatever the data format),
then, when the output still has axes after the channels, `NAME_to_first: permute [n+1, 1, .., n]`
back. The result is the same function exactly (a transpose moves values, it computes nothing);
consecutive channels-first layers write a permute pair between them that cancels.
"""

from __future__ import annotations

from typing import Any

from archspec.keras.importer.layout import ImportedNode


def channels_first(layer: Any, call: Any) -> bool:
    """True if the layer computes with channels first on an input with axes after the channels."""
    return layer.get_config().get("data_format") == "channels_first" and len(call.input_tensors[0].shape) > 2


def as_channels_last(config: dict[str, Any]) -> dict[str, Any]:
    """The layer's config as the op between the permutes reads it."""
    if config.get("data_format") == "channels_first":
        return {**config, "data_format": "channels_last"}
    return config


def to_last(shape: tuple) -> tuple:
    return (*shape[1:], shape[0])


def between_permutes(node: ImportedNode, inner: tuple, outer: tuple, name: Any) -> list[ImportedNode]:
    """[permute to channels last, `node`, permute back (if the output keeps spatial axes)] in graph order;
    `inner`/`outer` are the layer's input/output shapes (channels first), `name` reserves a spec name."""
    before = ImportedNode(name(f"{node.name}_to_last"), "permute", {"axes": [*range(2, len(inner) + 1), 1]},
                          list(node.sources), shape=to_last(inner))
    node.sources = [before.name]
    node.shape = to_last(outer) if len(outer) > 1 else outer
    if len(outer) < 2:
        return [before, node]
    after = ImportedNode(name(f"{node.name}_to_first"), "permute", {"axes": [len(outer), *range(1, len(outer))]},
                         [node.name], shape=outer)
    return [before, node, after]
