"""What every op kind defines, in one place: its params model, its shape rule, its Keras layer.

An op never imports Keras. It describes the layer it lowers to as a
`LayerCall` (a class name and keyword arguments); the compiler instantiates
it and `codegen` prints it, so the two can never disagree.
"""

from __future__ import annotations

import math
from typing import Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, PositiveInt

from archspec.graph.primitives import LayerCall, Shape, ShapeProblem, Step, format_shape  # noqa: F401 (re-exported)

Activation = Literal[
    "linear", "relu", "sigmoid", "softmax", "tanh", "gelu", "elu", "selu", "swish", "silu",
    "softplus", "softsign", "leaky_relu", "relu6", "hard_sigmoid", "exponential", "log_softmax",
]
IntPair = PositiveInt | tuple[PositiveInt, PositiveInt]
Padding = Literal["same", "valid"]


class OpParams(BaseModel):
    """Base of every op's parameters: unknown keys are errors, values are immutable."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class Op:
    """One op kind. Subclasses set `name`, `Params`, `doc` and implement the three rules.

    `arity` says how the node's plain inputs reach the layer: "one" (a single
    tensor), "many" (a list, for merge ops) or "attention" (query plus an
    optional key/value source from an `attention` edge).
    """

    name: ClassVar[str]
    Params: ClassVar[type[OpParams]]
    doc: ClassVar[str] = ""
    arity: ClassVar[Literal["one", "many", "attention"]] = "one"
    min_rank: ClassVar[int] = 1
    input_dtype: ClassVar[str] = "float32"
    positional: ClassVar[tuple[str, ...]] = ()
    """Parameters an inline chain step may give without their names, in order: conv2d(64, 3)."""
    foldable: ClassVar[bool] = False
    """True for ops that keep their input's shape and add no structure (activation, normalisation,
    dropout, identity): `render --compact` folds a chain of them into the node before."""

    def infer_shape(self, params: Any, inputs: list[Shape]) -> Shape:
        raise NotImplementedError

    def merge_shape(self, params: Any, operands: list[Any]) -> Shape:
        """Shape rule of ops of arity "many"; `operands` are connections.Operand (name, shape)."""
        raise NotImplementedError

    def layer(self, params: Any, inputs: list[Shape]) -> LayerCall | None:
        """The Keras layer this node becomes; None when the node is only a junction."""
        raise NotImplementedError

    keras_classes: ClassVar[tuple[str, ...]] = ()
    """Keras layer classes that `archspec import` turns into this op (the inverse of `layer`)."""

    def from_keras(self, config: dict[str, Any]) -> dict[str, Any]:
        """This op's parameters for a Keras layer's config; ValueError if the op cannot express it."""
        raise ValueError(f"op {self.name} cannot be imported from Keras")

    def call_kwargs(self, params: Any) -> dict[str, Any]:
        """Keyword arguments for calling the layer (e.g. use_causal_mask)."""
        return {}

    def count_params(self, params: Any, inputs: list[Shape], output: Shape) -> int:
        """Weights the layer will create (trainable and not), computed without Keras."""
        return 0

    def summary(self, params: Any) -> str:
        """The key parameters in a few characters, for tables and diagrams."""
        values = params.model_dump(exclude_defaults=True)
        return ", ".join(f"{key}={_short(value)}" for key, value in values.items())


def _short(value: Any) -> str:
    if isinstance(value, (list, tuple)):
        return "x".join(str(v) for v in value)
    return str(value)


def keras_params(config: dict[str, Any], names: dict[str, str], **required: Any) -> dict[str, Any]:
    """Op parameters from a Keras layer config: `names` maps Keras keys to parameter names.

    Equal pairs become one number (kernel_size (3, 3) -> kernel: 3), the
    'linear' activation becomes none, and every `required` key must have the
    given value (e.g. data_format='channels_last'), else ValueError says which.
    """
    for key, value in required.items():
        if key in config and config[key] != value:
            raise ValueError(f"{key}={config[key]!r} is not supported (only {value!r})")
    params = {}
    for keras_key, name in names.items():
        if keras_key not in config:
            continue
        value = config[keras_key]
        if isinstance(value, (list, tuple)):
            value = value[0] if len(set(value)) == 1 and len(value) == 2 else list(value)
        if keras_key == "activation" and name == "activation" and value == "linear":
            value = None
        if isinstance(value, dict):
            raise ValueError(f"{keras_key}={value.get('class_name', value)!r} is not supported")
        params[name] = value
    return params


def keras_kwargs(params: Any, names: dict[str, str]) -> dict[str, Any]:
    """A Keras layer's arguments from op parameters: keras_params the other way, from the same key map."""
    return {keras_key: getattr(params, name) for keras_key, name in names.items()}


def pair(value: int | tuple[int, int]) -> tuple[int, int]:
    """A kernel/stride/size given as one int or two, as (height, width)."""
    return (value, value) if isinstance(value, int) else (int(value[0]), int(value[1]))


def conv_length(size: int | None, kernel: int, stride: int, padding: str, dilation: int = 1) -> int | None:
    """Output length of a convolution or pooling window along one axis (as Keras computes it)."""
    if size is None:
        return None
    if padding == "same":
        return math.ceil(size / stride)
    effective = (kernel - 1) * dilation + 1
    return (size - effective) // stride + 1


def require_rank(shape: Shape, rank: int, what: str) -> None:
    """Raise a ShapeProblem unless `shape` has exactly `rank` axes (batch excluded)."""
    if len(shape) != rank:
        layout = {1: "(features,)", 2: "(steps, features)", 3: "(height, width, channels)"}[rank]
        raise ShapeProblem(
            f"{what} needs an input of rank {rank} {layout}",
            expected=f"rank {rank} {layout}",
            got=f"{format_shape(shape)} (rank {len(shape)})",
            hint="add a reshape or flatten node before it" if rank != 1 else "add a flatten node before it",
        )


def known(size: int | None, what: str) -> int:
    """A size that must be known statically (e.g. the channels a conv kernel is built for)."""
    if size is None:
        raise ShapeProblem(f"{what} must be known when the model is built", got="None (variable)")
    return size
