"""DeBERTa's disentangled self-attention, written with keras.ops.

Each query scores each key three ways, summed before the softmax: content to content (q . k), content to
position (q . Pk[r]) and position to content (k . Pq[-r]), where r is the key's position relative to the
query, log-bucketed beyond buckets / 2 (within max_position) and clipped to the table's 2 * buckets rows,
and Pq, Pk are the relative-position table projected by the layer's own query and key projections. Each
score is scaled by 1 / sqrt(3 * head_dim) (three kinds of score). Numerically keras-hub's
DisentangledSelfAttention (0.32), whose dropout drops the table and the attention weights alike. Re-exported
by archspec.keras.layers, which registers archspec's layers for loading.
"""

from __future__ import annotations

import math
from typing import Any

from archspec.keras.backend import import_keras

keras = import_keras()
ops = keras.ops


@keras.saving.register_keras_serializable(package="archspec")
class DisentangledAttention(keras.layers.Layer):
    """Self-attention of `query` (batch, steps, features) with a relative-position table `relative`
    (batch, 2 * buckets, features); `value_mask` (batch, steps) leaves out padded keys, as does `attention_mask`
    (batch, queries or 1, steps), keras-hub's form of it."""

    def __init__(self, num_heads: int, key_dim: int, buckets: int, max_position: int, dropout: float = 0.0,
                 use_bias: bool = True, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.num_heads, self.key_dim, self.buckets, self.max_position = num_heads, key_dim, buckets, max_position
        self.dropout, self.use_bias = dropout, use_bias
        self.scale = 1.0 / math.sqrt(3.0 * key_dim)

    def build(self, query_shape: Any, value_shape: Any = None, relative_shape: Any = None) -> None:
        features = int(query_shape[-1])
        bias = {"bias_axes": "de"} if self.use_bias else {}
        self._query_dense, self._key_dense, self._value_dense = (
            keras.layers.EinsumDense("abc,cde->abde", output_shape=(None, self.num_heads, self.key_dim), name=name,
                                     dtype=self.dtype_policy, **bias) for name in ("query", "key", "value"))
        self._output_dense = keras.layers.EinsumDense(
            "abcd,cde->abe", output_shape=(None, features), bias_axes="e" if self.use_bias else None,
            name="attention_output", dtype=self.dtype_policy)
        for dense in (self._query_dense, self._key_dense, self._value_dense):
            dense.build(query_shape)
        self._output_dense.build((None, None, self.num_heads, self.key_dim))
        self._softmax = keras.layers.Softmax(axis=-1, dtype="float32")
        self._dropout_layer = keras.layers.Dropout(self.dropout, dtype=self.dtype_policy)
        self.built = True

    def call(self, query: Any, value: Any = None, relative: Any = None, value_mask: Any = None,
             attention_mask: Any = None, training: Any = None) -> Any:
        queries, keys, values = self._query_dense(query), self._key_dense(query), self._value_dense(query)
        scores = ops.einsum("aecd,abcd->acbe", keys, queries) * self.scale  # (batch, heads, queries, keys)
        table = self._dropout_layer(relative, training=training)
        scores = scores + self._relative_scores(queries, keys, table)
        mask = None if value_mask is None else ops.cast(value_mask, "bool")[:, None, None, :]
        if attention_mask is not None:
            mask = ops.cast(attention_mask, "bool")[:, None]
        weights = self._dropout_layer(self._softmax(scores, mask), training=training)
        attended = ops.einsum("acbe,aecd->abcd", ops.cast(weights, values.dtype), values)  # (batch, steps, heads, D)
        return self._output_dense(attended)

    def _relative_scores(self, queries: Any, keys: Any, table: Any) -> Any:
        """Content-to-position plus position-to-content scores, scaled: (batch, heads, queries, keys)."""
        steps = ops.shape(queries)[1]
        relative = self._buckets(steps)  # (steps, steps): bucket of query i - key j
        span = self.buckets
        to_position = ops.einsum("aecd,abcd->acbe", self._key_dense(table), queries)  # (batch, heads, T, 2 * span)
        to_position = _gathered(to_position, ops.clip(relative + span, 0, 2 * span - 1))
        from_position = ops.einsum("aecd,abcd->acbe", self._query_dense(table), keys)
        from_position = _gathered(from_position, ops.clip(-relative + span, 0, 2 * span - 1))
        return (to_position + ops.transpose(from_position, (0, 1, 3, 2))) * self.scale

    def _buckets(self, steps: Any) -> Any:
        """(steps, steps) int32: i - j, log-bucketed where |i - j| reaches buckets // 2 (keras-hub's
        _make_log_bucket_position)."""
        ids = ops.arange(steps, dtype="int32")
        distance = ids[:, None] - ids[None, :]
        mid = self.buckets // 2
        near = (distance < mid) & (distance > -mid)
        magnitude = ops.where(near, mid - 1, ops.abs(distance))
        logs = ops.log(ops.cast(magnitude, "float32") / float(mid)) * float(mid - 1)
        ratio = ops.log(ops.cast(self.max_position - 1, "float32") / ops.cast(mid, "float32"))  # as keras-hub: float32
        logs = ops.cast(ops.ceil(logs / ratio), "int32") + mid
        return ops.where(magnitude <= mid, distance, logs * ops.sign(distance))

    def compute_output_shape(self, query_shape: Any, *args: Any, **kwargs: Any) -> Any:
        return query_shape

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "num_heads": self.num_heads, "key_dim": self.key_dim,
                "buckets": self.buckets, "max_position": self.max_position, "dropout": self.dropout,
                "use_bias": self.use_bias}


def _gathered(scores: Any, index: Any) -> Any:
    """scores[..., i, index[i, j]]: (batch, heads, T, R) and (T, T) -> (batch, heads, T, T)."""
    shape = ops.shape(scores)
    index = ops.broadcast_to(index[None, None], (shape[0], shape[1], shape[2], shape[2]))
    if keras.config.backend() == "tensorflow":  # take_along_axis on dynamic shapes fails there (keras-hub's note)
        import tensorflow as tf

        return tf.gather(scores, index, batch_dims=3)
    return ops.take_along_axis(scores, index, axis=3)
