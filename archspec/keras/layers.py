"""The layers Keras lacks, written with keras.ops only so models stay backend-neutral.

Registered as serializable under the package name "archspec": a saved
model.keras loads with `safe_mode=True` once `archspec.keras.layers` is imported.
"""

from __future__ import annotations

from typing import Any

from archspec.catalogue.expression import Folder, fold, parse_expression
from archspec.keras.backend import import_keras

keras = import_keras()  # on the backend archspec chose, quietly
ops = keras.ops


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
    """Adds a learned (sequence_length, features) table to a sequence: x + P; its first rows for a
    shorter sequence. With add=False the output is P alone, shaped like x (keras-hub's PositionEmbedding)."""

    def __init__(self, sequence_length: int, add: bool = True, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.sequence_length = sequence_length
        self.add = add

    def build(self, input_shape: tuple) -> None:
        self.positions = self.add_weight(
            name="positions",
            shape=(self.sequence_length, int(input_shape[-1])),
            initializer=keras.initializers.RandomNormal(stddev=0.02),
        )

    def call(self, inputs: Any) -> Any:
        positions = self.positions  # (L, C)
        if inputs.shape[1] != self.sequence_length:  # a shorter or open-length sequence: its first T rows
            positions = ops.slice(positions, (0, 0), (ops.shape(inputs)[1], positions.shape[1]))  # (T, C)
        if not self.add:
            return ops.broadcast_to(positions, ops.shape(inputs))  # (B, T, C)
        return inputs + positions  # (B, T, C) + (T, C)

    def compute_output_shape(self, input_shape: tuple) -> tuple:
        return input_shape

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "sequence_length": self.sequence_length,
                **({} if self.add else {"add": False})}


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


@keras.saving.register_keras_serializable(package="archspec")
class GaussianSample(keras.layers.Layer):
    """A VAE's z = mean + exp(log_var / 2) * eps while training (the mean at inference), adding
    kl_weight * KL(N(mean, var) || N(0, I)), summed over features and averaged over the batch, to the loss."""

    def __init__(self, kl_weight: float, seed: int | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.kl_weight = kl_weight
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed)

    def call(self, inputs: list, training: bool | None = None) -> Any:
        mean, log_var = inputs
        if self.kl_weight:
            features = tuple(range(1, len(mean.shape)))
            kl = -0.5 * ops.sum(1.0 + log_var - ops.square(mean) - ops.exp(log_var), axis=features)
            self.add_loss(self.kl_weight * ops.mean(kl))
        if not training:
            return mean
        return mean + ops.exp(0.5 * log_var) * keras.random.normal(ops.shape(mean), seed=self.seed_generator)

    def compute_output_shape(self, input_shapes: list) -> Any:
        return input_shapes[0]

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "kl_weight": self.kl_weight, "seed": self.seed}


@keras.saving.register_keras_serializable(package="archspec")
class Take(keras.layers.Layer):
    """x[..., index, ...] on one axis (Keras numbering, batch = 0): token 0, the last timestep (-1)."""

    def __init__(self, axis: int, index: int, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.axis, self.index = axis, index

    def call(self, inputs: Any) -> Any:
        index = self.index if self.index >= 0 else ops.shape(inputs)[self.axis] + self.index
        return ops.take(inputs, index, axis=self.axis)

    def compute_output_shape(self, input_shape: tuple) -> tuple:
        axis = self.axis % len(input_shape)
        return tuple(input_shape[:axis]) + tuple(input_shape[axis + 1:])

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "axis": self.axis, "index": self.index}


@keras.saving.register_keras_serializable(package="archspec")
class Pad(keras.layers.Layer):
    """keras.ops.pad of every axis but the batch, as a layer a model can save: mode constant (with `value`),
    reflect or symmetric."""

    def __init__(self, padding: list, mode: str = "constant", value: float = 0.0, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.padding, self.mode, self.value = [list(pair) for pair in padding], mode, value

    def call(self, inputs: Any) -> Any:
        fill = {"constant_values": self.value} if self.mode == "constant" else {}
        return ops.pad(inputs, [[0, 0], *self.padding], mode=self.mode, **fill)

    def compute_output_shape(self, input_shape: tuple) -> tuple:
        return (input_shape[0], *(None if size is None else size + sum(pair)
                                  for size, pair in zip(input_shape[1:], self.padding)))

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "padding": self.padding, "mode": self.mode, "value": self.value}


@keras.saving.register_keras_serializable(package="archspec")
class SliceAxis(keras.layers.Layer):
    """x[..., start:stop:step, ...] on one axis (Keras numbering; start and stop as slice.indices gives them)."""

    def __init__(self, axis: int, start: int, stop: int, step: int = 1, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.axis, self.start, self.stop, self.step = axis, start, stop, step

    def call(self, inputs: Any) -> Any:
        return ops.take(inputs, ops.arange(self.start, self.stop, self.step), axis=self.axis)

    def compute_output_shape(self, input_shape: tuple) -> tuple:
        shape = list(input_shape)
        shape[self.axis] = len(range(self.start, self.stop, self.step))
        return tuple(shape)

    def get_config(self) -> dict[str, Any]:
        steps = {"step": self.step} if self.step != 1 else {}
        return {**super().get_config(), "axis": self.axis, "start": self.start, "stop": self.stop, **steps}


@keras.saving.register_keras_serializable(package="archspec")
class ClassToken(keras.layers.Layer):
    """Prepends `tokens` learned vectors to a (batch, steps, features) sequence (a ViT's class token)."""

    def __init__(self, tokens: int = 1, initializer: Any = "zeros", **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.tokens, self.initializer = tokens, initializer

    def build(self, input_shape: tuple) -> None:
        self.token = self.add_weight(name="token", shape=(1, self.tokens, int(input_shape[-1])),
                                     initializer=keras.initializers.get(self.initializer))

    def call(self, inputs: Any) -> Any:
        tokens = ops.broadcast_to(self.token, (ops.shape(inputs)[0], self.tokens, inputs.shape[-1]))  # (B, k, C)
        return ops.concatenate([ops.cast(tokens, inputs.dtype), inputs], axis=1)  # (B, k + T, C)

    def compute_output_shape(self, input_shape: tuple) -> tuple:
        steps = None if input_shape[1] is None else input_shape[1] + self.tokens
        return (input_shape[0], steps, input_shape[2])

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "tokens": self.tokens, "initializer": self.initializer}


@keras.saving.register_keras_serializable(package="archspec")
class Fourier(keras.layers.Layer):
    """real(fft2(x)) over the last two axes: FNet's token mixing (keras-hub's FNetEncoder computes it so)."""

    def call(self, inputs: Any) -> Any:
        real, _ = ops.fft2((inputs, ops.zeros_like(inputs)))  # the imaginary part of a real input is zero
        return real

    def compute_output_shape(self, input_shape: tuple) -> tuple:
        return input_shape  # keras.ops.fft2's own rule needs the two sizes; the transform does not


@keras.saving.register_keras_serializable(package="archspec")
class OffsetRMSNormalization(keras.layers.RMSNormalization):
    """RMSNormalization whose learned scale is an offset from 1: x / rms(x) * (1 + scale) (Gemma's). The scale
    starts at zero, the identity, as Gemma's does."""

    def __init__(self, axis: int = -1, epsilon: float = 1e-6, unit_offset: bool = True, **kwargs: Any) -> None:
        super().__init__(axis=axis, epsilon=epsilon, **kwargs)  # unit_offset: in the config, for the importer

    def build(self, input_shape: tuple) -> None:
        super().build(input_shape)
        self.scale.assign(ops.zeros_like(self.scale))

    def call(self, inputs: Any) -> Any:
        scale = 1.0 + ops.cast(self.scale, "float32")
        return ops.rms_normalization(inputs, scale=scale, axis=self.axis, epsilon=self.epsilon)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "unit_offset": True}


_FUNCTIONS = {
    "sigmoid": ops.sigmoid, "tanh": ops.tanh, "exp": ops.exp, "log": ops.log, "sqrt": ops.sqrt,
    "abs": ops.abs, "relu": ops.relu,
    # one meaning per spelling: `gelu` is exact, as `activation: gelu` (keras.ops.gelu alone approximates)
    "gelu": lambda x: ops.gelu(x, approximate=False), "gelu_tanh": lambda x: ops.gelu(x, approximate=True),
    "softmax": lambda x, axis: ops.softmax(x, axis=axis),
    "mean": lambda x, axis: ops.mean(x, axis=axis, keepdims=True),
    "sum": lambda x, axis: ops.sum(x, axis=axis, keepdims=True),
    "max": lambda x, axis: ops.max(x, axis=axis, keepdims=True),
}
def _with_axes_after_batch(tensor: Any, count: int) -> Any:
    """`tensor` with `count` axes of size 1 after its batch axis (variable sizes stay variable)."""
    for _ in range(count):
        tensor = ops.expand_dims(tensor, 1)
    return tensor


_BINARY = {"+": ops.add, "-": ops.subtract, "*": ops.multiply, "/": ops.divide, "**": ops.power,
           "@": ops.matmul}


def _batched(equation: str) -> str:
    """An einsum over the axes after the batch, as one over all axes: each operand's batch axis (B, or 1
    for a constant or learned tensor) is the broadcasting ellipsis."""
    inputs, output = equation.replace(" ", "").split("->")
    return ",".join(f"...{subscripts}" for subscripts in inputs.split(",")) + f"->...{output}"


@keras.saving.register_keras_serializable(package="archspec")
class Expression(keras.layers.Layer):
    """A tensor expression (`op: expr`) over named inputs and learned tensors, with keras.ops.

    Called on the list of inputs in the order of `names`. The expression is
    parsed and checked by archspec.catalogue.expression (a walk over Python's
    expression tree that accepts only arithmetic and a few functions), never
    evaluated as code, so a saved model reloads with safe_mode=True.
    """

    def __init__(self, expr: str, names: list[str], learnable: dict[str, dict[str, Any]] | None = None,
                 **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.expr, self.names, self.learnable = expr, list(names), dict(learnable or {})
        self.expression = parse_expression(expr)
        self.tensors: dict[str, Any] = {}
        for name, spec in self.learnable.items():
            self.tensors[name] = self.add_weight(
                name=name, shape=tuple(spec["shape"]),
                initializer=keras.initializers.get(spec.get("initializer", "zeros")))

    def call(self, inputs: list) -> Any:
        # every tensor is aligned to the same rank before the batch axis would be matched against a feature
        # axis: (B, 8) becomes (B, 1, 1, 8) next to (B, 6, 6, 8), a learned (8,) becomes (1, 1, 1, 8)
        rank = max([len(tensor.shape) - 1 for tensor in inputs] + [len(t.shape) for t in self.tensors.values()]
                   + list(self.expression.constant_ranks))
        values = {name: _with_axes_after_batch(tensor, rank + 1 - len(tensor.shape))
                  for name, tensor in zip(self.names, inputs, strict=True)}
        values.update({name: ops.reshape(tensor, (*(1,) * (rank + 1 - len(tensor.shape)), *tensor.shape))
                       for name, tensor in self.tensors.items()})
        folder = Folder(
            name=lambda name, node: values[name],
            constant=lambda value: value,
            negate=lambda value, node: ops.negative(value),
            binary=lambda symbol, left, right, node: _BINARY[symbol](left, right),
            call=lambda function, value, axis, node: (
                _FUNCTIONS[function](value) if axis is None else _FUNCTIONS[function](value, axis)),
            tensor=lambda value, node: ops.convert_to_tensor(  # a constant: batch axis 1, then aligned
                value.reshape((1,) * (rank + 1 - value.ndim) + value.shape)),
            einsum=lambda equation, values, node: ops.einsum(_batched(equation), *values),
        )
        return fold(self.expression, folder)

    def get_config(self) -> dict[str, Any]:
        config = {**super().get_config(), "expr": self.expr, "names": self.names}
        return {**config, "learnable": self.learnable} if self.learnable else config


from archspec.keras.decoder_attention import DecoderAttention  # noqa: E402, F401  (registered with archspec's layers)
from archspec.keras.disentangled_attention import DisentangledAttention  # noqa: E402, F401  (registered, as above)
from archspec.keras.relative_positions import RelativePositions  # noqa: E402, F401  (registered, as above)
