"""What every op kind defines, in one place: its params model, its shape rule, its Keras layer.

An op never imports Keras. It describes the layer it lowers to as a
`LayerCall` (a class name and keyword arguments); the compiler instantiates
it and `codegen` prints it, so the two can never disagree.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Callable
from typing import Annotated, Any, ClassVar, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, create_model, field_validator, model_validator

from archspec.catalogue.primitives import (  # noqa: F401 (re-exported)
    FLOAT_DTYPES,
    INPUT_DTYPES,
    INTEGER_DTYPES,
    LayerCall,
    Shape,
    ShapeProblem,
    Step,
    format_shape,
)

Activation = Literal[
    "linear", "relu", "sigmoid", "softmax", "tanh", "gelu", "elu", "selu", "swish", "silu",
    "softplus", "softsign", "leaky_relu", "relu6", "hard_sigmoid", "exponential", "log_softmax",
    "hard_silu", "hard_swish", "mish", "celu", "hard_tanh", "log_sigmoid", "squareplus", "sparse_plus",
    "sparse_sigmoid", "sparsemax", "hard_shrink", "soft_shrink", "tanh_shrink",
]
"""Every element-wise Keras activation (keras.activations), by its Keras name. swish and hard_swish are
Keras's aliases of silu and hard_silu (a model imported back names them so); glu (halves the last axis)
and threshold (needs arguments) are not element-wise functions of one tensor."""
MAX_WINDOW = 1024
"""The largest kernel, stride, dilation, pool, upsampling factor or padding: TensorFlow aborts the
process on a conv stride of 2^31 - 1 and pads a dilated conv to dilation² values per channel
(65,536 exhausted 23 GiB on an 8x8 image); 1,024 is beyond any image side archspec handles."""
WindowInt = Annotated[int, Field(gt=0, le=MAX_WINDOW)]
IntPair = WindowInt | tuple[WindowInt, WindowInt]
PaddingInt = Annotated[int, Field(ge=0, le=MAX_WINDOW)]
Padding = Literal["same", "valid"]
ArityName = Literal["one", "many", "attention", "named"]
"""How an op's plain inputs reach its layer (Op.arity); archspec.graph.plan.ARITIES has one rule per name."""
Family = Literal["conv", "dense", "merge", "attention", "keep", "other"]
"""How an op is drawn (its fill in `archspec render`): convolution/pooling/padding, dense and sequence
ops, merges, attention, shape-keeping ops (activation, normalisation, dropout), anything else."""


MAX_INT = 2**63 - 1
"""The largest integer a parameter may hold: TensorFlow converts every integer argument (a seed, a
size) to a 64-bit tensor and fails at build time beyond it, long after `validate` said ok."""
FiniteFloat = Annotated[float, Field(allow_inf_nan=False)]
"""A float that is a number: NaN and infinity are refused (OpParams refuses them in every field)."""


class OpParams(BaseModel):
    """Base of every op's parameters: unknown keys are errors, values are immutable.

    Two rules hold for every op, built-in or plugin, so that a spec that validates also builds:
    floats must be finite (NaN or infinity as an epsilon, slope or rate would train a model of
    NaNs, or make Keras refuse it), and integers must fit the 64 bits TensorFlow gives them.
    Rules between fields (strides with dilation) belong in a `model_validator` of the op's
    Params, so they are reported by `validate` at the node, never first met in shape inference.
    """

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    @field_validator("*", mode="after")
    @classmethod
    def _integers_fit_64_bits(cls, value: Any) -> Any:
        if _too_large(value):
            raise ValueError(f"integers must lie within ±{MAX_INT:,} (64 bits, the most TensorFlow accepts)")
        return value


def _too_large(value: Any) -> bool:
    if isinstance(value, bool):
        return False
    if isinstance(value, int):
        return not -MAX_INT - 1 <= value <= MAX_INT
    if isinstance(value, (list, tuple)):
        return any(_too_large(item) for item in value)
    return False


def check_strides_or_dilation(strides: Any, dilation: Any) -> None:
    """Keras's rule for convolutions: a window may step (strides) or spread (dilation), not both."""
    if pair(strides) != (1, 1) and pair(dilation) != (1, 1):
        raise ValueError("strides and dilation cannot both be greater than 1 (Keras forbids it)")


class WindowParams(OpParams):
    """Params of a convolution window (1-D or 2-D) with `strides` and `dilation`: one validator for all."""

    @model_validator(mode="after")
    def _strides_or_dilation(self) -> WindowParams:
        check_strides_or_dilation(self.strides, self.dilation)
        return self


ParamsClass = TypeVar("ParamsClass", bound=type[OpParams])


def fields_after(*groups: type[OpParams]) -> Callable[[ParamsClass], ParamsClass]:
    """A class decorator: the class's own fields first, then each group's, in the order given.

    A group (KernelWeights: activation, use_bias, the initialisers and regularisers) is declared
    once and shared by many Params. As a base class it would put its fields first, and every list a
    user reads in field order (the schema, `unknown parameter` messages, completion) would start
    with kernel_init instead of filters; so the group's fields are appended instead. A group
    holds fields only: its validators are not carried over.
    """

    def append(cls: ParamsClass) -> ParamsClass:
        fields: dict[str, Any] = {name: (info.annotation, copy.copy(info))
                                  for group in groups for name, info in group.model_fields.items()}
        return create_model(cls.__name__, __base__=cls, __module__=cls.__module__, __doc__=cls.__doc__,
                            **fields)  # type: ignore[return-value]

    return append


class NoParams(OpParams):
    """The Params of an op that takes none (flatten, identity, merges): any key is an error."""


class Op:
    """One op kind. Subclasses set `name`, `Params`, `doc` and implement the three rules.

    `arity` says how the node's plain inputs reach the layer: "one" (a single
    tensor), "many" (a list, for merge ops) or "attention" (query plus an
    optional key/value source from an `attention` edge) or "named" (an `expr` node: its inputs by the
    names the edges give them, archspec.graph.named_inputs).
    """

    name: ClassVar[str]
    Params: ClassVar[type[OpParams]]
    doc: ClassVar[str] = ""
    arity: ClassVar[ArityName] = "one"
    min_rank: ClassVar[int] = 1
    input_dtype: ClassVar[str] = "float32"
    input_dtypes: ClassVar[tuple[str, ...]] = INPUT_DTYPES
    """The dtypes of input this op's layer accepts (archspec.graph.dtypes checks them statically).
    Most Keras layers cast integers to float; convolutions fail on them, and an embedding
    quietly truncates floats to token ids, so those ops name one dtype."""
    output_dtype: ClassVar[str | None] = "float32"
    """The dtype of the op's output; None when it is its input's (flatten, reshape, identity, and the
    ops that only move or pick values: max pooling, padding, relu). tests/ops/test_op_dtypes.py checks
    both against Keras for every op."""
    positional: ClassVar[tuple[str, ...]] = ()
    """Parameters an inline chain step may give without their names, in order: conv2d(64, 3)."""
    exact_inputs: ClassVar[int | None] = None
    """For a merge op (arity "many"): the number of plain inputs it takes, when it is fixed."""
    inputs_hint: ClassVar[str] = "add the other inputs, or use an identity node"
    """For a merge op: what to do when its plain inputs are too few (archspec.graph.plan)."""
    family: ClassVar[Family] = "other"
    """The family diagrams colour the op by (docs/render.md has the table); a new op picks one here."""
    foldable: ClassVar[bool] = False
    """True for ops that keep their input's shape and add no structure (activation, normalisation,
    dropout, identity): `render --compact` folds a chain of them into the node before."""

    def accepted_dtypes(self, params: Any) -> tuple[str, ...]:
        """The input dtypes this node's layer accepts; an op whose answer depends on a param overrides it."""
        return self.input_dtypes

    def result_dtype(self, params: Any, seen: str) -> str:
        """The dtype of the node's output when its input is `seen`."""
        return seen if self.output_dtype is None else self.output_dtype

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

    def from_keras_call(self, kwargs: dict[str, Any]) -> dict[str, Any]:
        """Parameters read from the keyword arguments the layer was called with (the inverse of
        `call_kwargs`, e.g. use_causal_mask -> causal)."""
        return {}

    def call_kwargs(self, params: Any) -> dict[str, Any]:
        """Keyword arguments for calling the layer (e.g. use_causal_mask)."""
        return {}

    def count_params(self, params: Any, inputs: list[Shape], output: Shape) -> int:
        """Weights the layer will create (trainable and not), computed without Keras."""
        return 0

    text_param: ClassVar[str | None] = None
    """The parameter that holds text in archspec's expression language (an `expr` node's `expr`): the
    front end checks it token by token and locates its errors at a column of it."""

    def outputs(self, params: Any) -> list[tuple[str, str, Any]]:
        """Named outputs (`split`): (name, op, params) per output, each made a node `NODE.NAME` fed by this
        one (archspec.graph.build); empty for an op with one output, which is every op but a few."""
        return []

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
            hint=_RANK_HINTS.get(rank, "add a reshape or flatten node before it"),
        )


_RANK_HINTS = {
    1: "add a flatten node before it",
    2: "add a reshape node before it to make (steps, features), e.g. reshape: [-1, features]",
}


def known(size: int | None, what: str) -> int:
    """A size that must be known statically (e.g. the channels a conv kernel is built for)."""
    if size is None:
        raise ShapeProblem(f"{what} must be known when the model is built", got="None (variable)")
    return size
