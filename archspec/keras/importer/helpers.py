"""Library helpers whose result the trace cannot compute but the spec can say: replaced while tracing.

A decoder's causal mask is built from the sequence length (`arange(length)` compared with its
transpose), which a symbolic trace with open lengths does not know, so tracing keras-hub's decoders
stopped at `compute_causal_mask`. The spec needs no such tensor: `causal: true` on the attention node
says it. While a layer's call is traced, each helper listed here is replaced (in every module that
imported it) by one that returns a *marker*: a small constant the reader recognises by identity
(importer.masks reads it, and `minimum(padding, marker)`, as a causal mask). The import's check still
compares the spec's outputs with the original model's, so a helper read wrongly is an error.

Mistral's decoder narrows its causal mask to a sliding window in a method, again from the open length
(`arange(length)`); while tracing, MistralTransformerDecoder._compute_self_attention_mask is replaced
(METHODS) by one that returns a windowed causal marker, merged with the padding mask as the original does.

Likewise a library layer that subclasses a Keras layer and adds call arguments (keras-hub's
CachedMultiHeadAttention: `cache=None`) cannot be called on symbolic tensors: Keras hands every
argument to the parent's shape function, which refuses the new ones. While tracing, arguments that
are None and that the shape function does not take are left out of it (a None cache changes no shape).
(A layer that returns `(output, None)`, GPT-NeoX's attention, is recorded by its tensors: importer.trace.)
"""

from __future__ import annotations

import contextlib
import inspect
import sys
import weakref
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

_MARKERS: weakref.WeakValueDictionary[int, np.ndarray] = weakref.WeakValueDictionary()
_WINDOWS: dict[int, int] = {}
"""id of a windowed causal marker -> its window (ids of markers that are gone may linger: harmless, as
a marker is recognised by identity first)."""


def is_causal_marker(value: Any) -> bool:
    """True for a causal mask a replaced helper returned during this process's traces."""
    return _MARKERS.get(id(value)) is value


def marker_window(value: Any) -> int | None:
    """The sliding window of a causal marker, None for a plain causal one."""
    return _WINDOWS.get(id(value)) if is_causal_marker(value) else None


def causal_marker(window: int | None = None) -> np.ndarray:
    """A new marker: a small constant that broadcasts against any (batch, queries, keys) mask."""
    marker = np.ones((1, 1, 1), dtype=bool)
    _MARKERS[id(marker)] = marker
    if window is not None:
        _WINDOWS[id(marker)] = window
    else:
        _WINDOWS.pop(id(marker), None)
    return marker


def _causal_mask(original: Callable[..., Any]) -> Callable[..., Any]:
    """compute_causal_mask(batch, input_length, output_length, cache_index=0): a marker when the mask is the
    plain lower triangle (no cache offset, as queries and keys are one sequence); else the original."""
    def replaced(batch_size: Any, input_length: Any, output_length: Any, cache_index: Any = 0) -> Any:
        if not (isinstance(cache_index, int) and cache_index == 0) or input_length is not output_length:
            return original(batch_size, input_length, output_length, cache_index)
        return causal_marker()
    return replaced


def _windowed_causal_mask(original: Callable[..., Any]) -> Callable[..., Any]:
    """MistralTransformerDecoder._compute_self_attention_mask without a cache: min(padding, causal within the
    sliding window), the window a marker's (the padding merged by keras-hub's own helper, as there)."""
    def replaced(self: Any, decoder_sequence: Any, decoder_padding_mask: Any, decoder_attention_mask: Any,
                 self_attention_cache: Any, self_attention_cache_update_index: Any) -> Any:
        if self_attention_cache is not None or self_attention_cache_update_index is not None:
            return original(self, decoder_sequence, decoder_padding_mask, decoder_attention_mask,
                            self_attention_cache, self_attention_cache_update_index)
        from keras import ops
        from keras_hub.src.layers.modeling.transformer_layer_utils import merge_padding_and_attention_mask

        padding = merge_padding_and_attention_mask(decoder_sequence, decoder_padding_mask, decoder_attention_mask)
        marker = causal_marker(self.sliding_window)
        return marker if padding is None else ops.minimum(padding, marker)
    return replaced


HELPERS: dict[str, Callable[[Callable[..., Any]], Callable[..., Any]]] = {
    "keras_hub.src.layers.modeling.transformer_layer_utils.compute_causal_mask": _causal_mask,
}
"""`module.function` of a library helper -> the wrapper that replaces it while a call is traced."""

METHODS: dict[str, Callable[[Callable[..., Any]], Callable[..., Any]]] = {
    "keras_hub.src.models.mistral.mistral_transformer_decoder.MistralTransformerDecoder._compute_self_attention_mask":
        _windowed_causal_mask,
}
"""`module.Class.method` of a library method -> the wrapper that replaces it on its class while tracing."""


@contextlib.contextmanager
def helpers_replaced() -> Iterator[None]:
    """Replace every loaded HELPERS function, wherever a module holds it by name, and every loaded class's
    METHODS, for the duration."""
    replaced: list[tuple[dict[str, Any], str, Any]] = []
    for path, wrap in HELPERS.items():
        module_name, _, function_name = path.rpartition(".")
        module = sys.modules.get(module_name)
        original = getattr(module, function_name, None) if module is not None else None
        if original is None:
            continue  # the library is not loaded: nothing of it is being traced
        substitute = wrap(original)
        for holder in list(sys.modules.values()):
            namespace = getattr(holder, "__dict__", None)
            if not isinstance(namespace, dict):
                continue
            for key, value in list(namespace.items()):
                if value is original:
                    replaced.append((namespace, key, original))
                    namespace[key] = substitute
    methods: list[tuple[type, str, Any]] = []
    for path, wrap in METHODS.items():
        class_path, _, method_name = path.rpartition(".")
        module_name, _, class_name = class_path.rpartition(".")
        cls = getattr(sys.modules.get(module_name), class_name, None)
        if cls is not None:
            methods.append((cls, method_name, cls.__dict__[method_name]))
            setattr(cls, method_name, wrap(cls.__dict__[method_name]))
    from keras.src.layers import layer as layer_module

    symbolic_call = layer_module.Layer.symbolic_call
    layer_module.Layer.symbolic_call = _without_unknown_nones(symbolic_call)  # type: ignore[method-assign]
    try:
        yield
    finally:
        layer_module.Layer.symbolic_call = symbolic_call  # type: ignore[method-assign]
        for namespace, key, original in replaced:
            namespace[key] = original
        for cls, method_name, original in methods:
            setattr(cls, method_name, original)


def _without_unknown_nones(symbolic_call: Callable[..., Any]) -> Callable[..., Any]:
    """Layer.symbolic_call that leaves out the None keyword arguments its compute_output_spec does not take."""
    def call(layer: Any, *args: Any, **kwargs: Any) -> Any:
        parameters = inspect.signature(layer.compute_output_spec).parameters
        if not any(parameter.kind is inspect.Parameter.VAR_KEYWORD for parameter in parameters.values()):
            kwargs = {key: value for key, value in kwargs.items() if key in parameters or value is not None}
        return symbolic_call(layer, *args, **kwargs)
    return call
