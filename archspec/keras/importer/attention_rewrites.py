"""keras-hub's decoder attention layers, rewritten as archspec's DecoderAttention (an `attention` node with
`kv_heads`, `rotary` and maybe `output_bias`).

LlamaAttention, MistralAttention and QwenAttention are Python layers around four EinsumDense projections:
queries (heads), keys and values (kv_heads, repeated for each group of query heads), and the output;
RotaryEmbedding turns the queries and keys; softmax(q.k / sqrt(head_dim)) under the decoder's causal
and padding mask weighs the values. That is Keras's GroupQueryAttention with RoPE, projection for
projection (the same kernel shapes), so each projection's weights copy into the same sublayer of a
DecoderAttention (whose output projection may go without the others' bias: Qwen's). What it cannot say
is refused by name: a bias on some of queries, keys and values only, dropout on the attention outputs
(keras-hub drops those, an attention node its weights), RoPE with Llama 3.1's frequency smoothing or
YaRN. The import's check then compares outputs.

DeBERTa's DisentangledSelfAttention (query, key, value and output projections, all with biases, scores against
relative positions) becomes archspec's DisentangledAttention, its table of relative positions (the
RelativeEmbedding's, rewritten apart) a `relative` edge.
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass
from typing import Any

from archspec.keras.importer.errors import KerasImportError

_LLAMA_ROPE = "keras_hub.src.models.llama.llama_rotary_embedding.LlamaRotaryEmbedding"
"""Its inverse frequencies ignore its position_scaling_factor (keras-hub 0.32): the rotation is unscaled."""


@dataclass(frozen=True)
class Layout:
    """Where a library's attention layer keeps what DecoderAttention needs."""

    projections: tuple[str, str, str, str]
    """Attributes of the query, key, value and output EinsumDense layers."""
    rope: str
    """Attribute of its RotaryEmbedding."""
    hidden: str
    """Its call's argument of the hidden states."""
    heads_first: bool = False
    """Query, key and value kernels are (heads, features, head_dim) (Gemma's), not (features, heads, head_dim)."""
    drops_weights: bool = False
    """Its dropout drops attention weights, as an attention node's does (Gemma's); else its outputs (refused)."""


_LLAMA = Layout(("_query_dense", "_key_dense", "_value_dense", "_output_dense"), "rotary_embedding_layer",
                "hidden_states")
_GEMMA = Layout(("query_dense", "key_dense", "value_dense", "output_dense"), "rope_layer", "x", heads_first=True,
                drops_weights=True)


def rotary_attention(layer: Any, call: Any) -> Any | None:
    """A Functional model of one DecoderAttention computing `layer`'s call (hidden states, attention mask)."""
    layout = LAYOUTS[f"{type(layer).__module__}.{type(layer).__name__}"]
    arguments = _arguments(layer, call)
    if arguments is None:
        return None
    _refuse_gemma_options(layer)
    projections = [getattr(layer, name) for name in layout.projections]
    query, key = projections[0].kernel.shape, projections[1].kernel.shape  # (m, heads, D), or (heads, m, D)
    heads, kv_heads = (query[0], key[0]) if layout.heads_first else (query[1], key[1])
    settings = {"head_dim": int(query[2]), "num_query_heads": int(heads), "num_key_value_heads": int(kv_heads),
                "use_bias": _use_bias(layer, projections[:3]), "output_bias": projections[3].bias is not None,
                "dropout": _dropout(layer, layout.drops_weights), **_rotary(layer, getattr(layer, layout.rope))}
    weights = [dense.get_weights() for dense in projections]
    if layout.heads_first:
        for index in range(3):
            weights[index][0] = weights[index][0].transpose(1, 0, 2)  # (heads, m, D) -> (m, heads, D)
    return _attention_model(layer, call, arguments[layout.hidden], arguments.get("attention_mask"), settings, weights)


def neox_attention(layer: Any, call: Any) -> Any | None:
    """GPT-NeoX's attention: one fused projection (m, heads, 3D) of queries, keys and values (each head's
    D features in that order), RoPE on the first rotary_dim features of each head, an output projection
    (heads * D, m): the same as DecoderAttention with rotary dims, its kernels split and reshaped."""
    arguments = _arguments(layer, call)
    if arguments is None:
        return None
    heads, size = int(layer.num_heads), int(layer.attn_head_size)
    kernel, bias = layer._qkv_dense.get_weights()  # (m, heads, 3 * size), (heads, 3 * size)
    parts = [[kernel[..., index * size:(index + 1) * size], bias[..., index * size:(index + 1) * size]]
             for index in range(3)]
    output_kernel, output_bias = layer._output_dense.get_weights()  # (heads * size, m), (m,)
    weights = [*parts, [output_kernel.reshape(heads, size, -1), output_bias]]
    rotary = _rotary(layer, layer.rotary_embedding_layer)
    if layer.rotary_dim < size:
        rotary["rotary_dims"] = int(layer.rotary_dim)
    settings = {"head_dim": size, "num_query_heads": heads, "num_key_value_heads": heads, "use_bias": True,
                "dropout": _dropout(layer, drops_weights=True), **rotary}
    return _attention_model(layer, call, arguments["hidden_states"], arguments.get("attention_mask"), settings,
                            weights)


def _arguments(layer: Any, call: Any) -> dict[str, Any] | None:
    """The call's arguments by name; None for a decoding step with a cache (the tracer says what stops it)."""
    arguments = inspect.signature(layer.call).bind(*call.arguments.args, **call.arguments.kwargs).arguments
    if arguments.get("cache") is not None or arguments.get("cache_update_index") not in (None, 0):
        return None
    return arguments


def _attention_model(layer: Any, call: Any, hidden: Any, mask: Any, settings: dict[str, Any],
                     weights: list[list[Any]]) -> Any:
    """One DecoderAttention of the layer's name on fresh inputs for the call's tensors, its query, key, value and
    output projections holding `weights`."""
    from archspec.keras.backend import import_keras
    from archspec.keras.layers import DecoderAttention

    keras = import_keras()
    attention = DecoderAttention(**settings, name=layer.name, dtype=layer.dtype_policy)
    fresh = {id(tensor): keras.Input(batch_shape=tuple(tensor.shape), dtype=tensor.dtype)
             for tensor in call.input_tensors}
    output = attention(fresh[id(hidden)], fresh[id(hidden)], attention_mask=fresh.get(id(mask), mask))  # a marker
    mine = [attention._query_dense, attention._key_dense, attention._value_dense, attention._output_dense]
    for target, values in zip(mine, weights):
        target.set_weights(values)
    return keras.Model([fresh[id(tensor)] for tensor in call.input_tensors], output)


def _refuse_gemma_options(layer: Any) -> None:
    """Gemma 2's options beyond plain attention: logit soft-capping, a sliding window inside the layer, a
    query scale other than 1/sqrt(head_dim)."""
    refused = [f"{name}={getattr(layer, name)!r}" for name, plain in _PLAIN_GEMMA
               if getattr(layer, name, plain) != plain]
    per_head = getattr(layer, "hidden_dim", 0) // max(getattr(layer, "num_query_heads", 1), 1)
    if not getattr(layer, "query_head_dim_normalize", True) and per_head != layer.head_dim:
        refused.append("query_head_dim_normalize=False (queries scaled by 1/sqrt(hidden_dim / heads))")
    if refused:
        raise KerasImportError(f"layer '{layer.name}' ({type(layer).__name__}) has {', '.join(refused)}, which an "
                               "attention node does not say")


_PLAIN_GEMMA = (("logit_soft_cap", None), ("use_sliding_window_attention", False))


def _use_bias(layer: Any, projections: list[Any]) -> bool:
    with_bias = [dense.name for dense in projections if dense.bias is not None]
    if with_bias and len(with_bias) < len(projections):
        raise KerasImportError(
            f"layer '{layer.name}' ({type(layer).__name__}) has biases on some projections only "
            f"({', '.join(with_bias)}); an attention node's use_bias is one setting for the three")
    return bool(with_bias)


def _dropout(layer: Any, drops_weights: bool) -> float:
    rate = getattr(layer, "dropout", getattr(layer, "_dropout", 0)) or 0
    if rate and not drops_weights:
        raise KerasImportError(
            f"layer '{layer.name}' ({type(layer).__name__}) drops its attention outputs (dropout={rate}), "
            "where an attention node's dropout drops attention weights\n  hint: build it with dropout=0 to import it")
    return float(rate)


def _rotary(layer: Any, rope: Any) -> dict[str, Any]:
    """DecoderAttention's settings for the layer's RotaryEmbedding; KerasImportError for one it cannot be.
    (Gemma interleaves the halves of each rotated head: the same permutation of queries and keys, which
    leaves their dot products as they are.)"""
    kind = f"{type(rope).__module__}.{type(rope).__name__}"
    refused = [f"{name}={getattr(rope, name)!r}" for name, plain in _PLAIN_ROPE if getattr(rope, name, plain) != plain]
    if refused:
        raise KerasImportError(
            f"layer '{layer.name}' ({type(layer).__name__}) turns queries and keys with a RoPE variant that "
            f"`rotary` does not say ({', '.join(refused)}); only RoPE with linear position scaling imports")
    scaling = 1.0 if kind == _LLAMA_ROPE else float(rope.scaling_factor)
    return {"rotary_max_wavelength": float(rope.max_wavelength), "rotary_scaling": scaling}


_PLAIN_ROPE = (("rope_type", "linear"), ("denominator_dim", None), ("low_freq_factor", None),
               ("sequence_axis", 1), ("feature_axis", -1))
"""RotaryEmbedding settings and the only value each may have for `rotary` to say the rotation."""

LAYOUTS: dict[str, Layout] = {
    "keras_hub.src.models.llama.llama_attention.LlamaAttention": _LLAMA,
    "keras_hub.src.models.mistral.mistral_attention.CachedMistralAttention": _LLAMA,
    "keras_hub.src.models.qwen.qwen_attention.QwenAttention": _LLAMA,
    "keras_hub.src.models.gemma.gemma_attention.CachedGemmaAttention": _GEMMA,
}
"""`module.Class` of the attention layers rotary_attention rewrites -> where each keeps its parts."""

NEOX_ATTENTION = "keras_hub.src.models.gpt_neo_x.gpt_neo_x_attention.GPTNeoXAttention"
"""`module.Class` of the attention layer neox_attention rewrites."""


def disentangled_attention(layer: Any, call: Any) -> Any:
    """DeBERTa's attention (hidden states, relative positions, attention mask): one DisentangledAttention of the
    layer's name, its output kernel (heads * D, m) reshaped to (heads, D, m)."""
    from archspec.keras.backend import import_keras
    from archspec.keras.layers import DisentangledAttention

    keras = import_keras()
    arguments = inspect.signature(layer.call).bind(*call.arguments.args, **call.arguments.kwargs).arguments
    if arguments.get("return_attention_scores"):
        raise KerasImportError(f"layer '{layer.name}' ({type(layer).__name__}) returns its attention scores, which "
                               "an attention node does not")
    heads, size = int(layer.num_heads), int(layer.attn_head_size)
    attention = DisentangledAttention(num_heads=heads, key_dim=size, buckets=int(layer.bucket_size),
                                      max_position=int(layer.max_position_embeddings), dropout=float(layer.dropout),
                                      name=layer.name, dtype=layer.dtype_policy)
    fresh = {id(tensor): keras.Input(batch_shape=tuple(tensor.shape), dtype=tensor.dtype)
             for tensor in call.input_tensors}
    hidden, mask = fresh[id(arguments["inputs"])], arguments.get("attention_mask")
    output = attention(hidden, hidden, relative=fresh[id(arguments["rel_embeddings"])],
                       attention_mask=fresh.get(id(mask), mask))
    kernel, bias = layer._output_dense.get_weights()  # (heads * D, m), (m,)
    weights = [dense.get_weights() for dense in (layer._query_dense, layer._key_dense, layer._value_dense)]
    attention.set_weights([value for pair in weights for value in pair] + [kernel.reshape(heads, size, -1), bias])
    return keras.Model([fresh[id(tensor)] for tensor in call.input_tensors], output)


DISENTANGLED_ATTENTION = "keras_hub.src.models.deberta_v3.disentangled_self_attention.DisentangledSelfAttention"
"""`module.Class` of the attention layer disentangled_attention rewrites."""
