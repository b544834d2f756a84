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
"""

from __future__ import annotations

import inspect
from typing import Any

from archspec.keras.importer.errors import KerasImportError

_LLAMA_ROPE = "keras_hub.src.models.llama.llama_rotary_embedding.LlamaRotaryEmbedding"
"""Its inverse frequencies ignore its position_scaling_factor (keras-hub 0.32): the rotation is unscaled."""


def rotary_attention(layer: Any, call: Any) -> Any | None:
    """A Functional model of one DecoderAttention computing `layer`'s call (hidden states, attention mask)."""
    from archspec.keras.backend import import_keras
    from archspec.keras.layers import DecoderAttention

    keras = import_keras()
    arguments = inspect.signature(layer.call).bind(*call.arguments.args, **call.arguments.kwargs).arguments
    if arguments.get("cache") is not None or arguments.get("cache_update_index") is not None:
        return None  # a decoding step with a cache: the tracer says what stops it
    projections = [layer._query_dense, layer._key_dense, layer._value_dense, layer._output_dense]
    query_kernel, key_kernel = layer._query_dense.kernel, layer._key_dense.kernel  # (m, heads, D), (m, kv, D)
    attention = DecoderAttention(
        head_dim=int(query_kernel.shape[2]), num_query_heads=int(query_kernel.shape[1]),
        num_key_value_heads=int(key_kernel.shape[1]), use_bias=_use_bias(layer, projections[:3]),
        output_bias=layer._output_dense.bias is not None, **_rotary(layer), name=layer.name,
        dtype=layer.dtype_policy)
    _no_output_dropout(layer)
    fresh = {id(tensor): keras.Input(batch_shape=tuple(tensor.shape), dtype=tensor.dtype)
             for tensor in call.input_tensors}
    hidden = fresh[id(arguments["hidden_states"])]
    mask = arguments.get("attention_mask")
    output = attention(hidden, hidden, attention_mask=fresh.get(id(mask), mask))  # a causal marker stays itself
    mine = [attention._query_dense, attention._key_dense, attention._value_dense, attention._output_dense]
    for target, source in zip(mine, projections):
        target.set_weights(source.get_weights())
    return keras.Model([fresh[id(tensor)] for tensor in call.input_tensors], output)


def _use_bias(layer: Any, projections: list[Any]) -> bool:
    with_bias = [dense.name for dense in projections if dense.bias is not None]
    if with_bias and len(with_bias) < len(projections):
        raise KerasImportError(
            f"layer '{layer.name}' ({type(layer).__name__}) has biases on some projections only "
            f"({', '.join(with_bias)}); an attention node's use_bias is one setting for the three")
    return bool(with_bias)


def _no_output_dropout(layer: Any) -> None:
    rate = getattr(layer, "dropout", getattr(layer, "_dropout", 0)) or 0
    if rate:
        raise KerasImportError(
            f"layer '{layer.name}' ({type(layer).__name__}) drops its attention outputs (dropout={rate}), "
            "where an attention node's dropout drops attention weights\n  hint: build it with dropout=0 to import it")


def _rotary(layer: Any) -> dict[str, float]:
    """DecoderAttention's settings for the layer's RotaryEmbedding; KerasImportError for one it cannot be."""
    rope = layer.rotary_embedding_layer
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

DECODER_ATTENTION = ("keras_hub.src.models.llama.llama_attention.LlamaAttention",
                     "keras_hub.src.models.mistral.mistral_attention.CachedMistralAttention",
                     "keras_hub.src.models.qwen.qwen_attention.QwenAttention")
"""`module.Class` of the attention layers rotary_attention rewrites."""
