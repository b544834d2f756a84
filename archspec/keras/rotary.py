"""Attention with rotary position embeddings (RoFormer's RoPE; LLaMA, Mistral, Qwen), written with keras.ops.

Keras's GroupedQueryAttention has no positions; RoPE turns each query and key, per head, by an angle
that grows with its position, so their dot product depends on how far apart they are. This layer is
GroupedQueryAttention with that turn applied to the projected queries and keys (keras-hub's decoders
apply it at the same place: after the projections, before the scaled dot product). Re-exported by
archspec.keras.layers, which registers archspec's layers for loading.
"""

from __future__ import annotations

from typing import Any

from archspec.keras.backend import import_keras

keras = import_keras()
ops = keras.ops


@keras.saving.register_keras_serializable(package="archspec")
class RotaryAttention(keras.layers.GroupQueryAttention):  # the class GroupedQueryAttention
    """GroupedQueryAttention whose queries and keys are rotated by position: the features of a head split
    in halves (x1, x2) become x * cos(p * f) + (-x2, x1) * sin(p * f), f_i = wavelength^(-2i/head_dim) / scaling."""

    def __init__(self, *args: Any, rotary_max_wavelength: float = 10000.0, rotary_scaling: float = 1.0,
                 **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.rotary_max_wavelength, self.rotary_scaling = rotary_max_wavelength, rotary_scaling

    def _compute_attention(self, query: Any, key: Any, value: Any, attention_mask: Any = None,
                           training: Any = None, use_causal_mask: bool = False) -> Any:
        """GroupedQueryAttention's explicit path, on rotated queries and keys. Always explicit: its fused
        dot_product_attention gives a query whose keys are all masked uniform weights, where Keras's masked
        Softmax (MultiHeadAttention's, keras-hub's) gives zeros; a spec's attention is one or the other."""
        if use_causal_mask:  # GroupedQueryAttention.call merges the causal mask in for a subclass; kept for safety
            causal = self._compute_causal_mask(query, value)
            attention_mask = causal if attention_mask is None else ops.logical_and(
                ops.cast(attention_mask, "bool"), causal)
        query = self._rotated(query) * ops.cast(self._inverse_sqrt_head_dim, query.dtype)
        scores = ops.einsum(self._dot_product_equation, query, self._rotated(key))  # (B, heads, T, S)
        scores = self._masked_softmax(scores, attention_mask=attention_mask)
        dropped = self._dropout_layer(scores, training=training) if self.dropout > 0.0 else scores
        return ops.einsum(self._combine_equation, dropped, value), scores  # (B, T, heads, head_dim)

    def _rotated(self, tensor: Any) -> Any:
        """`tensor` (batch, steps, heads, head_dim) turned by each step's angles."""
        half = self.head_dim // 2
        exponents = ops.arange(0, self.head_dim, 2, dtype="float32") / float(self.head_dim)  # (half,)
        frequencies = ops.power(float(self.rotary_max_wavelength), -exponents) / float(self.rotary_scaling)
        positions = ops.arange(ops.shape(tensor)[1], dtype="float32")  # (steps,)
        angles = positions[:, None] * frequencies[None, :]  # (steps, half)
        angles = ops.concatenate([angles, angles], axis=-1)[None, :, None, :]  # (1, steps, 1, head_dim)
        first, second = tensor[..., :half], tensor[..., half:]
        turned = ops.concatenate([-second, first], axis=-1)  # (batch, steps, heads, head_dim)
        cos, sin = ops.cast(ops.cos(angles), tensor.dtype), ops.cast(ops.sin(angles), tensor.dtype)
        return tensor * cos + turned * sin

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "rotary_max_wavelength": self.rotary_max_wavelength,
                "rotary_scaling": self.rotary_scaling}
