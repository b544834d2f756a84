"""Attention as decoder language models write it (LLaMA, Mistral, Qwen2), written with keras.ops.

Keras's GroupQueryAttention (class GroupedQueryAttention) has grouped key/value heads but no positions,
and one bias setting for its four projections. DecoderAttention is that layer plus the two things
decoders add: rotary position embeddings (RoFormer's RoPE), which turn each query and key, per head,
by an angle that grows with its position (keras-hub's decoders turn them at the same place: after the
projections, before the scaled dot product), and an output projection whose bias is set apart from
the others' (Qwen2 has biases on queries, keys and values only). Re-exported by archspec.keras.layers,
which registers archspec's layers for loading.
"""

from __future__ import annotations

from typing import Any

from archspec.keras.backend import import_keras

keras = import_keras()
ops = keras.ops


@keras.saving.register_keras_serializable(package="archspec")
class DecoderAttention(keras.layers.GroupQueryAttention):  # the class GroupedQueryAttention
    """GroupedQueryAttention whose queries and keys may be rotated by position (rotary_max_wavelength not None):
    the first rotary_dims features of a head (all by default), split in halves (x1, x2), become
    x * cos(p * f) + (-x2, x1) * sin(p * f), f_i = wavelength^(-2i/rotary_dims) / scaling; and whose output
    projection has a bias when `output_bias` (None: when use_bias)."""

    def __init__(self, *args: Any, rotary_max_wavelength: float | None = None, rotary_scaling: float = 1.0,
                 rotary_dims: int | None = None, output_bias: bool | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.use_gate:
            raise ValueError("DecoderAttention has no gate (use_gate=True)")
        self.rotary_max_wavelength, self.rotary_scaling = rotary_max_wavelength, rotary_scaling
        self.rotary_dims, self.output_bias = rotary_dims, output_bias

    def build(self, query_shape: Any, value_shape: Any, key_shape: Any = None) -> None:
        """GroupedQueryAttention.build (the same sublayers, names and order), the output projection's bias
        its own setting."""
        key_shape = value_shape if key_shape is None else key_shape
        self.feature_dim = query_shape[-1]
        self._query_dense = self._projection("bqm,muh->bquh", self.num_query_heads, "uh", "query", query_shape)
        self._key_dense = self._projection("bkm,mvh->bkvh", self.num_key_value_heads, "vh", "key", key_shape)
        self._value_dense = self._projection("bkm,mvh->bkvh", self.num_key_value_heads, "vh", "value", value_shape)
        self._softmax = keras.layers.Softmax(axis=-1, dtype=self.dtype_policy)
        self._dropout_layer = keras.layers.Dropout(rate=self.dropout, dtype=self.dtype_policy, seed=self.seed)
        self._dot_product_equation, self._combine_equation = "bquh,bkuh->buqk", "buqk,bkuh->bquh"
        output_bias = self.use_bias if self.output_bias is None else self.output_bias
        self._output_dense = keras.layers.EinsumDense(
            "bquh,uhm->bqm", output_shape=(None, self.feature_dim), bias_axes="m" if output_bias else None,
            name="attention_output", **self._get_common_kwargs_for_sublayer())
        self._output_dense.build((None, None, self.num_query_heads, self.head_dim))
        self.built = True

    def _projection(self, equation: str, heads: int, axes: str, name: str, shape: Any) -> Any:
        dense = keras.layers.EinsumDense(equation, output_shape=(None, heads, self.head_dim),
                                         bias_axes=axes if self.use_bias else None, name=name,
                                         **self._get_common_kwargs_for_sublayer())
        dense.build(shape)
        return dense

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
        """`tensor` (batch, steps, heads, head_dim), its first rotary_dims features (all by default) turned by
        each step's angles (itself without rotary)."""
        if self.rotary_max_wavelength is None:
            return tensor
        dims = self.rotary_dims or self.head_dim
        if dims < self.head_dim:  # GPT-NeoX's partial rotary: the other features pass
            return ops.concatenate([self._turned(tensor[..., :dims], dims), tensor[..., dims:]], axis=-1)
        return self._turned(tensor, dims)

    def _turned(self, tensor: Any, dims: int) -> Any:
        """`tensor` (batch, steps, heads, dims) turned by each step's angles."""
        half = dims // 2
        exponents = ops.arange(0, dims, 2, dtype="float32") / float(dims)  # (half,)
        frequencies = ops.power(float(self.rotary_max_wavelength), -exponents) / float(self.rotary_scaling)
        positions = ops.arange(ops.shape(tensor)[1], dtype="float32")  # (steps,)
        angles = positions[:, None] * frequencies[None, :]  # (steps, half)
        angles = ops.concatenate([angles, angles], axis=-1)[None, :, None, :]  # (1, steps, 1, dims)
        first, second = tensor[..., :half], tensor[..., half:]
        turned = ops.concatenate([-second, first], axis=-1)  # (batch, steps, heads, dims)
        cos, sin = ops.cast(ops.cos(angles), tensor.dtype), ops.cast(ops.sin(angles), tensor.dtype)
        return tensor * cos + turned * sin

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "rotary_max_wavelength": self.rotary_max_wavelength,
                "rotary_scaling": self.rotary_scaling, "rotary_dims": self.rotary_dims, "output_bias": self.output_bias}
