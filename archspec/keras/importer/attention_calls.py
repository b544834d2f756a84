"""A MultiHeadAttention call, read by argument name: queries, keys and values, and its masks.

Keras calls it `layer(query, value, key=None, ..., value_mask=None, attention_mask=None,
use_causal_mask=False)`, by position or keyword (keras-hub writes `query=x, value=x,
attention_mask=mask`). The node's main input is the query; a value other than the query is an
`attention` edge; a key mask (`value_mask`, or an `attention_mask` that importer.masks reads as one)
is a `mask` edge, a causal one `causal: true` (within a sliding window, `window: W`). archspec's
DisentangledAttention (DeBERTa's) also takes `relative=`, its table of relative positions: a `relative` edge.
Anything else (keys
that differ from the values, a query mask, a mask per query and key step) is refused by name.
"""

from __future__ import annotations

import inspect
from typing import Any

from archspec.keras.importer.errors import KerasImportError


def attention_inputs(reader: Any, layer: Any, call: Any) -> tuple[list[str], list[tuple[str, str, dict]], dict]:
    """(sources, merge edges, params the masks say: causal, window) of an attention layer's call; `reader` is
    the GraphReader."""
    bound = inspect.signature(layer.call).bind_partial(*call.arguments.args, **call.arguments.kwargs).arguments
    query = reader.source(bound["query"], layer.name)
    value = reader.source(bound["value"], layer.name) if bound.get("value") is not None else query
    if bound.get("key") is not None and reader.source(bound["key"], layer.name) != value:
        raise KerasImportError(f"layer '{layer.name}' (MultiHeadAttention) has keys that differ "
                               "from its values; an attention node takes one key/value source")
    if bound.get("query_mask") is not None or bound.get("key_mask") is not None:
        which = "query_mask" if bound.get("query_mask") is not None else "key_mask"
        raise KerasImportError(f"layer '{layer.name}' (MultiHeadAttention) is called with {which}=, which no "
                               "spec edge says\n  hint: mask the keys with value_mask= (a `mask` edge)")
    merges: list[tuple[str, str, dict]] = [(value, "attention", {})] if value != query else []
    masks = [_key_mask(reader, layer, bound, name) for name in ("value_mask", "attention_mask")]
    masks = [mask for mask in masks if mask is not None]
    sources = {mask.source for mask in masks} - {None}
    if len(sources) > 1:
        raise KerasImportError(f"layer '{layer.name}' (MultiHeadAttention) masks its keys with two tensors "
                               f"({', '.join(sorted(sources))}); a `mask` edge takes one")
    merges += [(source, "mask", {}) for source in sources]
    if bound.get("relative") is not None:
        merges.append((reader.source(bound["relative"], layer.name), "relative", {}))
    said: dict[str, Any] = {}
    for mask in masks:
        said.update(mask.params())
    return [query], merges, said


def _key_mask(reader: Any, layer: Any, bound: dict[str, Any], name: str) -> Any:
    """The MaskView of one mask argument, None if not given; a mask with no key-mask form is refused."""
    tensor = bound.get(name)
    if tensor is None:
        return None
    view = reader.masks.view_of(tensor, reader.tensors)
    if view is not None and view.broadcast != (name == "attention_mask"):
        view = None  # value_mask is (batch, steps); attention_mask (batch, queries or 1, steps)
    if view is None and id(tensor) in reader.unread:  # made by a keras.ops call with no spec form: its message
        raise reader.unread[id(tensor)]
    if view is None:
        shape = "x".join("?" if size is None else str(size) for size in tensor.shape[1:])
        raise KerasImportError(
            f"layer '{layer.name}' (MultiHeadAttention) is called with {name}= of shape {shape}, which is not "
            "a mask of the key steps\n  hint: an attention node takes a (batch, steps) padding mask (a `mask` "
            "edge) and causal: true; a mask per query and key step has no spec form")
    return view
