"""The layers Keras lacks, written with keras.ops only so models stay backend-neutral.

Registered as serializable under the package name "archspec": a saved
model.keras loads with `safe_mode=True` once `archspec.keras.layers` is imported.
"""

from __future__ import annotations

from typing import Any

import keras
from keras import ops


@keras.saving.register_keras_serializable(package="archspec")
class GateMix(keras.layers.Layer):
    """sum_i softmax(logits)_i * x_i: a softmax gate mixing `inputs` tensors of one shape.

    Called on [x_1, ..., x_k, logits], where logits has x's shape with a last axis of k.
    """

    def __init__(self, inputs: int, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.inputs = inputs

    def call(self, tensors: list) -> Any:
        *values, logits = tensors
        weights = ops.softmax(logits, axis=-1)  # (..., k)
        mixed = values[0] * weights[..., 0:1]
        for index, value in enumerate(values[1:], start=1):
            mixed = mixed + value * weights[..., index:index + 1]
        return mixed

    def compute_output_shape(self, input_shapes: list) -> Any:
        return input_shapes[0]

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "inputs": self.inputs}


@keras.saving.register_keras_serializable(package="archspec")
class PositionalEmbedding(keras.layers.Layer):
    """Adds a learned (sequence_length, features) table to a sequence: x + P."""

    def __init__(self, sequence_length: int, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.sequence_length = sequence_length

    def build(self, input_shape: tuple) -> None:
        self.positions = self.add_weight(
            name="positions",
            shape=(self.sequence_length, int(input_shape[-1])),
            initializer=keras.initializers.RandomNormal(stddev=0.02),
        )

    def call(self, inputs: Any) -> Any:
        return inputs + self.positions  # (B, T, C) + (T, C)

    def compute_output_shape(self, input_shape: tuple) -> tuple:
        return input_shape

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "sequence_length": self.sequence_length}


@keras.saving.register_keras_serializable(package="archspec")
class DropPath(keras.layers.Layer):
    """Stochastic depth: while training, each example's whole input is dropped with probability `rate`
    and the kept ones are scaled by 1 / (1 - rate); at inference the identity (Huang et al., 2016)."""

    def __init__(self, rate: float, seed: int | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.rate = rate
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed)

    def call(self, inputs: Any, training: bool | None = None) -> Any:
        if not training or self.rate == 0:
            return inputs
        keep = 1.0 - self.rate
        shape = (ops.shape(inputs)[0],) + (1,) * (len(inputs.shape) - 1)  # (B, 1, ..., 1): one draw per example
        mask = ops.floor(keep + keras.random.uniform(shape, seed=self.seed_generator))
        return inputs / keep * mask

    def compute_output_shape(self, input_shape: tuple) -> tuple:
        return input_shape

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "rate": self.rate, "seed": self.seed}
