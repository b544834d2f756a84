"""Ops on feature vectors: dense, reshaping, activation, identity (dropout, norms, embeddings: own modules)."""

from __future__ import annotations

import math
from typing import Literal

from pydantic import Field, PositiveInt, model_validator

from archspec.catalogue.ops.base import (
    Activation,
    LayerCall,
    NoParams,
    Op,
    OpParams,
    Shape,
    ShapeProblem,
    fields_after,
    format_shape,
    keras_kwargs,
    keras_params,
    known,
)
from archspec.catalogue.ops.dropout import Dropout, DropoutParams  # noqa: F401 (re-exported: its old home)
from archspec.catalogue.ops.weights import KERNEL_KEYS, KernelWeights, weight_kwargs, weight_params
from archspec.catalogue.primitives import FLOAT_DTYPES, INPUT_DTYPES


@fields_after(KernelWeights)
class DenseParams(OpParams):
    units: PositiveInt


class Dense(Op):
    name = "dense"
    family = "dense"
    positional = ("units", "activation")
    Params = DenseParams
    doc = "Fully connected layer on the last axis: `units` outputs per position."

    def infer_shape(self, params: DenseParams, inputs: list[Shape]) -> Shape:
        known(inputs[0][-1], "the last axis of a dense layer's input")
        return inputs[0][:-1] + (params.units,)

    keras_classes = ("Dense", "EinsumDense")
    """Keras's Dense, and an EinsumDense whose equation is a dense on the last axis (Gemma's feed-forward
    layers: 'btd,df->btf'), which has the same kernel (in, out) and bias (out,)."""

    def from_keras(self, config: dict) -> dict:
        if "equation" in config:
            config = _dense_of_einsum(config)
        return {**keras_params(config, _DENSE_KEYS), **weight_params(config, KERNEL_KEYS)}

    def layer(self, params: DenseParams, inputs: list[Shape]) -> LayerCall:
        return LayerCall("Dense", {**keras_kwargs(params, _DENSE_KEYS), **weight_kwargs(params, KERNEL_KEYS)})

    def count_params(self, params: DenseParams, inputs: list[Shape], output: Shape) -> int:
        fan_in = known(inputs[0][-1], "dense input features")
        return fan_in * params.units + (params.units if params.use_bias else 0)



def _dense_of_einsum(config: dict) -> dict:
    """An EinsumDense config as a Dense one; ValueError unless its equation multiplies the last axis by a
    kernel (in, out) and keeps the others ('btd,df->btf', '...d,df->...f'), its bias (if any) on `out`."""
    equation = str(config["equation"]).replace(" ", "")
    inputs, _, output = equation.partition("->")
    source, _, kernel = inputs.partition(",")
    if not (len(kernel) == 2 and source[:-1] == output[:-1] and source[-1:] == kernel[0] and output[-1:] == kernel[1]
            and kernel[0] not in output and kernel[1] not in source):
        raise ValueError(f"equation={config['equation']!r} is not supported (only a dense on the last axis, "
                         "as 'btd,df->btf')")
    if config.get("bias_axes") not in (None, kernel[1]):
        raise ValueError(f"bias_axes={config['bias_axes']!r} is not supported (only None or '{kernel[1]}')")
    shape = config["output_shape"]
    units = shape[-1] if isinstance(shape, (list, tuple)) else shape
    return {**config, "units": units, "use_bias": config.get("bias_axes") is not None}


class Flatten(Op):
    name = "flatten"
    family = "dense"
    Params = NoParams
    doc = "Flattens every axis but the batch axis into one."
    output_dtype = None

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
    family = "dense"
    positional = ("shape",)
    Params = ReshapeParams
    doc = "Reshapes to `shape` (batch axis excluded); one size may be -1 and is inferred."
    output_dtype = None

    def infer_shape(self, params: ReshapeParams, inputs: list[Shape]) -> Shape:
        source = inputs[0]
        target = list(params.shape)
        if any(size is None for size in source):
            if -1 in target:
                return tuple(None if size == -1 else size for size in target)
            known_part = math.prod(size for size in source if size is not None)
            if math.prod(target) % known_part:
                raise ShapeProblem(
                    f"cannot reshape {format_shape(source)} into {params.shape} for any length of its "
                    f"variable axis",
                    expected=f"a target whose size is a multiple of {known_part} (the input's fixed axes)",
                    got=f"{math.prod(target)} values",
                    hint="use -1 for the axis that takes the variable length",
                )
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


_DENSE_KEYS = {"units": "units", "activation": "activation", "use_bias": "use_bias"}


VALUE_KEEPING_ACTIVATIONS = frozenset({"linear", "relu", "relu6"})
"""Activations that only pick or clip values: an integer input stays integer."""
INTEGER_ACTIVATIONS = VALUE_KEEPING_ACTIVATIONS | {"tanh", "exponential", "leaky_relu"}
"""Activations Keras computes on integers (the last three cast to float); the others' TensorFlow kernels
(sigmoid, softmax, gelu, ...) have no integer version and fail at the model's first call."""


class ActivationParams(OpParams):
    activation: Activation


class ActivationOp(Op):
    name = "activation"
    family = "keep"
    positional = ("activation",)
    Params = ActivationParams
    foldable = True
    doc = "Applies an activation function element-wise (softmax over the last axis)."

    def accepted_dtypes(self, params: ActivationParams) -> tuple[str, ...]:
        return INPUT_DTYPES if params.activation in INTEGER_ACTIVATIONS else FLOAT_DTYPES

    def result_dtype(self, params: ActivationParams, seen: str) -> str:
        return seen if params.activation in VALUE_KEEPING_ACTIVATIONS else "float32"

    def infer_shape(self, params: ActivationParams, inputs: list[Shape]) -> Shape:
        return inputs[0]

    keras_classes = ("Activation",)

    def from_keras(self, config: dict) -> dict:
        return {"activation": config["activation"]}

    def layer(self, params: ActivationParams, inputs: list[Shape]) -> LayerCall:
        return LayerCall("Activation", {"activation": params.activation})


class Identity(Op):
    name = "identity"
    family = "keep"
    Params = NoParams
    foldable = True
    doc = "Passes its input on unchanged; a named junction for merges and skips."
    output_dtype = None

    def infer_shape(self, params: NoParams, inputs: list[Shape]) -> Shape:
        return inputs[0]

    keras_classes = ("Identity",)

    def from_keras(self, config: dict) -> dict:
        return {}

    def layer(self, params: NoParams, inputs: list[Shape]) -> LayerCall:
        return LayerCall("Identity")


Pooling1D = Literal["avg", "max"]


class GlobalPool1DParams(OpParams):
    mode: Pooling1D = "avg"


class GlobalPool1D(Op):
    name = "global_pool1d"
    family = "conv"
    Params = GlobalPool1DParams
    doc = "Averages (or maxes) a (steps, features) sequence over its steps."

    def infer_shape(self, params: GlobalPool1DParams, inputs: list[Shape]) -> Shape:
        if len(inputs[0]) != 2:
            raise ShapeProblem("global_pool1d needs a sequence (steps, features)",
                               got=format_shape(inputs[0]))
        return (inputs[0][1],)

    def result_dtype(self, params: GlobalPool1DParams, seen: str) -> str:
        return seen if params.mode == "max" else "float32"

    def layer(self, params: GlobalPool1DParams, inputs: list[Shape]) -> LayerCall:
        cls = "GlobalAveragePooling1D" if params.mode == "avg" else "GlobalMaxPooling1D"
        return LayerCall(cls)

