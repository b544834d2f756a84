"""Ops on feature vectors and sequences: dense, reshaping, regularisation, normalisation."""

from __future__ import annotations

import math
from typing import Literal

from pydantic import Field, PositiveFloat, PositiveInt, model_validator

from archspec.graph.ops.base import (
    Activation,
    LayerCall,
    Op,
    OpParams,
    Shape,
    ShapeProblem,
    format_shape,
    keras_kwargs,
    keras_params,
    known,
)


class DenseParams(OpParams):
    units: PositiveInt
    activation: Activation | None = None
    use_bias: bool = True


class Dense(Op):
    name = "dense"
    positional = ("units", "activation")
    Params = DenseParams
    doc = "Fully connected layer on the last axis: `units` outputs per position."

    def infer_shape(self, params: DenseParams, inputs: list[Shape]) -> Shape:
        known(inputs[0][-1], "the last axis of a dense layer's input")
        return inputs[0][:-1] + (params.units,)

    keras_classes = ("Dense",)

    def from_keras(self, config: dict) -> dict:
        return keras_params(config, _DENSE_KEYS)

    def layer(self, params: DenseParams, inputs: list[Shape]) -> LayerCall:
        return LayerCall("Dense", keras_kwargs(params, _DENSE_KEYS))

    def count_params(self, params: DenseParams, inputs: list[Shape], output: Shape) -> int:
        fan_in = known(inputs[0][-1], "dense input features")
        return fan_in * params.units + (params.units if params.use_bias else 0)


class NoParams(OpParams):
    pass


class Flatten(Op):
    name = "flatten"
    Params = NoParams
    doc = "Flattens every axis but the batch axis into one."

    def infer_shape(self, params: NoParams, inputs: list[Shape]) -> Shape:
        if any(size is None for size in inputs[0]):
            return (None,)
        return (math.prod(inputs[0]),)

    keras_classes = ("Flatten",)

    def from_keras(self, config: dict) -> dict:
        return keras_params(config, {}, data_format="channels_last")

    def layer(self, params: NoParams, inputs: list[Shape]) -> LayerCall:
        return LayerCall("Flatten")


class ReshapeParams(OpParams):
    shape: list[int] = Field(min_length=1, description="target shape without batch; one -1 allowed")

    @model_validator(mode="after")
    def _check(self) -> ReshapeParams:
        if any(size == 0 or size < -1 for size in self.shape):
            raise ValueError("sizes must be positive, or -1 for the one inferred axis")
        if self.shape.count(-1) > 1:
            raise ValueError("at most one size may be -1")
        return self


class Reshape(Op):
    name = "reshape"
    positional = ("shape",)
    Params = ReshapeParams
    doc = "Reshapes to `shape` (batch axis excluded); one size may be -1 and is inferred."

    def infer_shape(self, params: ReshapeParams, inputs: list[Shape]) -> Shape:
        source = inputs[0]
        target = list(params.shape)
        if any(size is None for size in source):
            if -1 in target:
                return tuple(None if size == -1 else size for size in target)
            return tuple(target)
        total = math.prod(source)
        fixed = math.prod(size for size in target if size != -1)
        if -1 in target:
            if total % fixed:
                raise ShapeProblem(
                    f"cannot reshape {format_shape(source)} ({total} values) into {params.shape}",
                    expected=f"a total divisible by {fixed}",
                    got=f"{total} values",
                )
            target[target.index(-1)] = total // fixed
        elif fixed != total:
            raise ShapeProblem(
                f"cannot reshape {format_shape(source)} into {params.shape}",
                expected=f"{total} values in the target shape",
                got=f"{fixed} values",
                hint="use -1 for one size to have it inferred",
            )
        return tuple(target)

    keras_classes = ("Reshape",)

    def from_keras(self, config: dict) -> dict:
        return {"shape": list(config["target_shape"])}

    def layer(self, params: ReshapeParams, inputs: list[Shape]) -> LayerCall:
        return LayerCall("Reshape", {"target_shape": tuple(params.shape)})


class DropoutParams(OpParams):
    rate: float = Field(ge=0.0, lt=1.0)
    seed: int | None = None


class Dropout(Op):
    name = "dropout"
    positional = ("rate",)
    Params = DropoutParams
    foldable = True
    doc = "Drops a fraction `rate` (0 <= rate < 1) of activations while training."

    def infer_shape(self, params: DropoutParams, inputs: list[Shape]) -> Shape:
        return inputs[0]

    keras_classes = ("Dropout",)

    def from_keras(self, config: dict) -> dict:
        return keras_params(config, {"rate": "rate", "seed": "seed"}, noise_shape=None)

    def layer(self, params: DropoutParams, inputs: list[Shape]) -> LayerCall:
        kwargs = {"rate": params.rate}
        if params.seed is not None:
            kwargs["seed"] = params.seed
        return LayerCall("Dropout", kwargs)


class BatchNormParams(OpParams):
    axis: int = -1
    momentum: float = Field(default=0.99, gt=0.0, lt=1.0)
    epsilon: PositiveFloat = 1e-3
    center: bool = True
    scale: bool = True


class BatchNorm(Op):
    name = "batch_norm"
    Params = BatchNormParams
    foldable = True
    doc = "Batch normalisation over `axis` (the channels by default)."

    def infer_shape(self, params: BatchNormParams, inputs: list[Shape]) -> Shape:
        _axis_size(inputs[0], params.axis, "batch_norm")
        return inputs[0]

    keras_classes = ("BatchNormalization",)

    def from_keras(self, config: dict) -> dict:
        return keras_params(config, _NORM_KEYS, renorm=False, synchronized=False)

    def layer(self, params: BatchNormParams, inputs: list[Shape]) -> LayerCall:
        return LayerCall("BatchNormalization", params.model_dump())

    def count_params(self, params: BatchNormParams, inputs: list[Shape], output: Shape) -> int:
        channels = _axis_size(inputs[0], params.axis, "batch_norm")
        return channels * (2 + int(params.center) + int(params.scale))


class LayerNormParams(OpParams):
    axis: int = -1
    epsilon: PositiveFloat = 1e-3
    center: bool = True
    scale: bool = True


class LayerNorm(Op):
    name = "layer_norm"
    Params = LayerNormParams
    doc = "Layer normalisation over `axis` (the features by default)."

    def infer_shape(self, params: LayerNormParams, inputs: list[Shape]) -> Shape:
        _axis_size(inputs[0], params.axis, "layer_norm")
        return inputs[0]

    keras_classes = ("LayerNormalization",)

    def from_keras(self, config: dict) -> dict:
        return keras_params(config, _NORM_KEYS, rms_scaling=False)

    def layer(self, params: LayerNormParams, inputs: list[Shape]) -> LayerCall:
        return LayerCall("LayerNormalization", params.model_dump())

    def count_params(self, params: LayerNormParams, inputs: list[Shape], output: Shape) -> int:
        features = _axis_size(inputs[0], params.axis, "layer_norm")
        return features * (int(params.center) + int(params.scale))


_DENSE_KEYS = {"units": "units", "activation": "activation", "use_bias": "use_bias"}
_EMBEDDING_KEYS = {"input_dim": "input_dim", "output_dim": "output_dim"}
_NORM_KEYS = {"axis": "axis", "momentum": "momentum", "epsilon": "epsilon", "center": "center",
              "scale": "scale"}


def _axis_size(shape: Shape, axis: int, what: str) -> int:
    rank = len(shape) + 1  # Keras counts the batch axis
    if not -rank < axis < rank or axis == 0 or axis == -rank:
        raise ShapeProblem(
            f"{what} axis {axis} does not exist for an input of shape {format_shape(shape)}",
            expected="axis 1 or -1" if rank == 2 else
            f"an axis from 1 to {rank - 1}, or from -1 (the last) to -{rank - 1}",
            got=str(axis),
        )
    index = axis - 1 if axis > 0 else axis
    return known(shape[index], f"the normalised axis of {what}")


class ActivationParams(OpParams):
    activation: Activation


class ActivationOp(Op):
    name = "activation"
    positional = ("activation",)
    Params = ActivationParams
    foldable = True
    doc = "Applies an activation function element-wise (softmax over the last axis)."

    def infer_shape(self, params: ActivationParams, inputs: list[Shape]) -> Shape:
        return inputs[0]

    keras_classes = ("Activation",)

    def from_keras(self, config: dict) -> dict:
        return {"activation": config["activation"]}

    def layer(self, params: ActivationParams, inputs: list[Shape]) -> LayerCall:
        return LayerCall("Activation", {"activation": params.activation})


class Identity(Op):
    name = "identity"
    Params = NoParams
    foldable = True
    doc = "Passes its input on unchanged; a named junction for merges and skips."

    def infer_shape(self, params: NoParams, inputs: list[Shape]) -> Shape:
        return inputs[0]

    keras_classes = ("Identity",)

    def from_keras(self, config: dict) -> dict:
        return {}

    def layer(self, params: NoParams, inputs: list[Shape]) -> LayerCall:
        return LayerCall("Identity")


class EmbeddingParams(OpParams):
    input_dim: PositiveInt = Field(description="vocabulary size")
    output_dim: PositiveInt


class Embedding(Op):
    name = "embedding"
    positional = ("input_dim", "output_dim")
    Params = EmbeddingParams
    doc = "Looks up a learned `output_dim` vector for each integer token below `input_dim`."
    input_dtype = "int32"

    def infer_shape(self, params: EmbeddingParams, inputs: list[Shape]) -> Shape:
        return inputs[0] + (params.output_dim,)

    keras_classes = ("Embedding",)

    def from_keras(self, config: dict) -> dict:
        return keras_params(config, _EMBEDDING_KEYS, mask_zero=False)

    def layer(self, params: EmbeddingParams, inputs: list[Shape]) -> LayerCall:
        return LayerCall("Embedding", keras_kwargs(params, _EMBEDDING_KEYS))

    def count_params(self, params: EmbeddingParams, inputs: list[Shape], output: Shape) -> int:
        return params.input_dim * params.output_dim


class PositionalEmbeddingParams(OpParams):
    pass


class PositionalEmbedding(Op):
    name = "positional_embedding"
    Params = PositionalEmbeddingParams
    doc = "Adds a learned vector per position to a (steps, features) sequence (transformer inputs)."
    min_rank = 2

    def infer_shape(self, params: PositionalEmbeddingParams, inputs: list[Shape]) -> Shape:
        if len(inputs[0]) != 2:
            raise ShapeProblem(
                "positional_embedding needs a sequence (steps, features)",
                got=format_shape(inputs[0]),
                hint="put it after the token projection (a dense node on a rank-2 input)",
            )
        known(inputs[0][0], "the sequence length of positional_embedding")
        return inputs[0]

    def layer(self, params: PositionalEmbeddingParams, inputs: list[Shape]) -> LayerCall:
        steps, _ = inputs[0]
        return LayerCall("PositionalEmbedding", {"sequence_length": steps}, module="archspec.keras.layers")

    def count_params(self, params: PositionalEmbeddingParams, inputs: list[Shape], output: Shape) -> int:
        steps, features = inputs[0]
        return known(steps, "steps") * known(features, "features")


Pooling1D = Literal["avg", "max"]


class GlobalPool1DParams(OpParams):
    mode: Pooling1D = "avg"


class GlobalPool1D(Op):
    name = "global_pool1d"
    Params = GlobalPool1DParams
    doc = "Averages (or maxes) a (steps, features) sequence over its steps."

    def infer_shape(self, params: GlobalPool1DParams, inputs: list[Shape]) -> Shape:
        if len(inputs[0]) != 2:
            raise ShapeProblem("global_pool1d needs a sequence (steps, features)",
                               got=format_shape(inputs[0]))
        return (inputs[0][1],)

    def layer(self, params: GlobalPool1DParams, inputs: list[Shape]) -> LayerCall:
        cls = "GlobalAveragePooling1D" if params.mode == "avg" else "GlobalMaxPooling1D"
        return LayerCall(cls)

