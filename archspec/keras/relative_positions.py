"""A learned table of relative-position vectors, the same for every example (DeBERTa's).

DeBERTa's attention scores content against relative positions: each layer projects one shared table of
2 * buckets vectors (a relative distance from -buckets to buckets - 1, log-bucketed beyond buckets / 2)
with its own query and key projections. keras-hub keeps the table in a RelativeEmbedding layer, layer-
normalised and repeated for each example of the batch; here the table is its own layer (its input only
gives the batch size) so that its layer norm is a plain `layer_norm` node after it. Re-exported by
archspec.keras.layers, which registers archspec's layers for loading.
"""

from __future__ import annotations

from typing import Any

from archspec.keras.backend import import_keras

keras = import_keras()
ops = keras.ops


@keras.saving.register_keras_serializable(package="archspec")
class RelativePositions(keras.layers.Layer):
    """(batch, ...) -> (batch, 2 * buckets, features): a learned (2 * buckets, features) table per example."""

    def __init__(self, buckets: int, features: int, initializer: Any = "glorot_uniform", **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.buckets, self.features, self.initializer = buckets, features, initializer

    def build(self, input_shape: tuple) -> None:
        self.table = self.add_weight(name="table", shape=(2 * self.buckets, self.features),
                                     initializer=keras.initializers.get(self.initializer))

    def call(self, inputs: Any) -> Any:
        table = ops.cast(self.table, self.compute_dtype)[None]  # (1, 2 * buckets, features)
        return ops.broadcast_to(table, (ops.shape(inputs)[0], 2 * self.buckets, self.features))

    def compute_output_shape(self, input_shape: tuple) -> tuple:
        return (input_shape[0], 2 * self.buckets, self.features)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "buckets": self.buckets, "features": self.features,
                "initializer": self.initializer}
