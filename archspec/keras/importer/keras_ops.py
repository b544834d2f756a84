"""`keras.ops` calls between layers (operations of the graph that are not layers) -> spec ops.

A registry from the operation's class name to a function that returns (op, params, sources)
or None when the call has no spec form; `unmappable` words the one message for those.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from archspec.keras.importer.errors import KerasImportError


@dataclass
class OpCall:
    operation: Any
    call: Any
    args: list[Any]
    """Positional arguments: tensors as TensorRef (their spec name and shape), other values as given."""
    kwargs: dict[str, Any]
    output_shape: tuple | None = None
    """The call's (first) output shape without the batch axis."""

    def tensors(self) -> list[Any]:
        return [item for item in self.args if hasattr(item, "shape") and isinstance(item, str)]


class TensorRef(str):
    """A tensor argument of a keras.ops call: its producer's spec name, with its shape."""

    shape: tuple

    def __new__(cls, name: str, shape: tuple) -> TensorRef:
        ref = super().__new__(cls, name)
        ref.shape = shape
        return ref


class Unread:
    """A tensor argument whose producer has no spec form: a mapping may absorb it (fft2's zero imaginary part
    is no input of its fourier node); a mapping that writes it as a source raises the producer's error."""

    def __init__(self, error: KerasImportError) -> None:
        self.error = error

    def __str__(self) -> str:
        raise self.error

    @staticmethod
    def first(args: list[Any]) -> Unread | None:
        """The first Unread among a call's arguments (one level of lists): the cause to report first."""
        return next((item for arg in args for item in (arg if isinstance(arg, list) else [arg])
                     if isinstance(item, Unread)), None)


Mapped = Any
"""(op, params, sources) or (op, params, sources, input names) for an expr; a list of those for an
operation with several outputs (split), None for an output with no spec form; None when the call has no
spec form. A cast to the dtype the tensor has is no call at all (`passes_through`, read before mapping)."""


def _binary(op: str | None, symbol: str | None) -> Callable[[OpCall], Mapped]:
    """x OP y of two tensors: the merge op (numpy broadcasting, as the compiled layer does); of a tensor
    and a number: an expr (`x * 2.0`)."""
    def convert(call: OpCall) -> Mapped:
        if len(call.args) != 2 or call.kwargs:
            return None
        tensors = call.tensors()
        if len(tensors) == 2 and op is not None:
            return op, {}, [str(item) for item in call.args]
        if symbol is None:
            return None
        if len(tensors) == 1 and all(_is_number(item) for item in call.args if item is not tensors[0]):
            left, right = ("x" if item is tensors[0] else repr(float(item)) for item in call.args)
            return "expr", {"expr": f"{left} {symbol} {right}"}, [str(tensors[0])], ["x"]
        if len(tensors) == 2:
            return "expr", {"expr": f"x {symbol} y"}, [str(item) for item in call.args], ["x", "y"]
        return None
    return convert


def _is_number(value: Any) -> bool:
    """A Python number, or a concrete scalar tensor (Gemma scales its embeddings by sqrt(width), computed
    eagerly while the model was built): symbolic tensors arrive here as TensorRef, never as values."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return True
    if isinstance(value, str) or getattr(value, "shape", None) != ():
        return False
    kind = np.asarray(value).dtype.kind
    return kind in "iuf"


def _transpose(call: OpCall) -> Mapped:
    """keras.ops.transpose that keeps the batch axis first: permute."""
    axes = call.operation.get_config().get("axes")
    if len(call.tensors()) != 1 or axes is None or next(iter(axes)) != 0:
        return None
    return "permute", {"axes": [int(axis) for axis in list(axes)[1:]]}, [str(call.args[0])]


def _get_item(call: OpCall) -> Mapped:
    """x[:, i], x[..., a:b], x[:, ::-1] (one axis indexed, any step, the batch kept): take or slice along that
    axis; x[:, None] (new axes only): a reshape to the output shape."""
    if len(call.args) != 2 or len(call.tensors()) != 1:
        return None
    source = call.args[0]
    key = _full_key(call.args[1], len(source.shape) + 1)
    full = slice(None, None, None)
    if key is None or key[0] != full:
        return None
    if None in key:
        shape = call.output_shape
        if any(item not in (None, full) for item in key) or shape is None or None in shape:
            return None
        return "reshape", {"shape": [int(size) for size in shape]}, [str(source)]
    picked = [(axis, item) for axis, item in enumerate(key) if axis and item != full]
    if len(picked) != 1:
        return None
    axis, item = picked[0]
    if isinstance(item, int) and not isinstance(item, bool):
        return "take", {"axis": axis, "index": item}, [str(source)]
    if isinstance(item, slice):
        bounds = {name: value for name, value in (("start", item.start), ("stop", item.stop)) if value is not None}
        steps = {"step": item.step} if item.step not in (None, 1) else {}
        return "slice", {"axis": axis, **bounds, **steps}, [str(source)]
    return None


def _full_key(key: Any, rank: int) -> list[Any] | None:
    """An index key as one entry per axis of the result's source: Ellipsis expanded to full slices, missing
    trailing axes filled; None where the key is not a basic index."""
    key = list(key) if isinstance(key, (list, tuple)) else [key]
    if key.count(Ellipsis) > 1:
        return None
    consumed = sum(1 for item in key if item is not None and item is not Ellipsis)
    if consumed > rank:
        return None
    full = slice(None, None, None)
    if Ellipsis in key:
        at = key.index(Ellipsis)
        return key[:at] + [full] * (rank - consumed) + key[at + 1:]
    return key + [full] * (rank - consumed)


def _split(call: OpCall) -> Mapped:
    """keras.ops.split into equal sections or at indices: one slice per output."""
    config = call.operation.get_config()
    sections, axis = config.get("indices_or_sections"), int(config.get("axis", 0))
    if len(call.tensors()) != 1 or axis == 0:
        return None
    shape = call.args[0].shape
    size = shape[axis - 1] if axis > 0 else shape[axis]
    if size is None:
        return None
    if isinstance(sections, int):
        cuts = [size * index // sections for index in range(1, sections)]
    else:
        cuts = [int(index) for index in sections]
    bounds = list(zip([0, *cuts], [*cuts, size]))
    return [("slice", {"axis": axis, **({"start": start} if start else {}), "stop": stop}, [str(call.args[0])])
            for start, stop in bounds]


def _fft2(call: OpCall) -> Mapped:
    """keras.ops.fft2 of a real tensor (its imaginary part a zeros_like): the real part of the transform is a
    fourier node (FNet's mixing); the imaginary part has no op, an error only where a node uses it."""
    parts = call.args[0] if len(call.args) == 1 else None
    if not isinstance(parts, list) or len(parts) != 2 or not isinstance(parts[0], TensorRef):
        return None
    imaginary = call.call.arguments.args[0][1]
    if type(imaginary._keras_history.operation).__name__ != "ZerosLike":
        return None
    return [("fourier", {}, [str(parts[0])]), None]


def _pad(call: OpCall) -> Mapped:
    """keras.ops.pad: with zeros on the spatial axes only, zero_padding1d/2d (as before); any other (another
    value, reflect or symmetric, the channels padded too), a pad node. The batch axis is never padded."""
    config = call.operation.get_config()
    width = [list(map(int, pair)) for pair in config.get("pad_width", [])]
    value = call.kwargs.get("constant_values", call.args[1] if len(call.args) > 1 else None)
    mode = config.get("mode", "constant")
    if len(call.tensors()) != 1 or not width or width[0] != [0, 0] or not (value is None or _is_number(value)):
        return None
    source = [str(call.args[0])]
    inner = width[1:-1]
    if mode == "constant" and value in (None, 0, 0.0) and width[-1] == [0, 0] and len(inner) in (1, 2):
        if len(inner) == 1:
            return "zero_padding1d", {"padding": inner[0] if inner[0][0] != inner[0][1] else inner[0][0]}, source
        same = inner[0][0] == inner[0][1] and inner[1][0] == inner[1][1]
        padding: Any = [inner[0][0], inner[1][0]] if same else inner
        if same and inner[0][0] == inner[1][0]:
            padding = inner[0][0]
        return "zero_padding2d", {"padding": padding}, source
    fill = {"value": float(value)} if mode == "constant" and value else {}
    return "pad", {"padding": width[1:], **({"mode": mode} if mode != "constant" else {}), **fill}, source


def _reshape(call: OpCall) -> Mapped:
    """keras.ops.reshape that keeps the batch axis (-1 or None first, no other -1)."""
    shape = list(call.operation.get_config().get("newshape", []))
    if len(call.tensors()) != 1 or not shape or shape[0] not in (-1, None) or -1 in shape[1:]:
        return None
    return "reshape", {"shape": [int(size) for size in shape[1:]]}, [str(call.args[0])]


def _concatenate(call: OpCall) -> Mapped:
    """keras.ops.concatenate([a, b, ...], axis) of tensors: a concat node."""
    items = call.args[0] if call.args else []
    axis = call.operation.get_config().get("axis", 0)
    if not isinstance(items, list) or len(items) < 2 or not all(isinstance(item, str) for item in items):
        return None
    if axis == 0:
        return None  # the batch axis
    rank = len(items[0].shape) + 1
    params = {} if axis in (-1, rank - 1) else {"axis": axis}
    return "concat", params, [str(item) for item in items]


def _activation(name: str, **required: Any) -> Callable[[OpCall], Mapped]:
    """keras.ops.relu(x), keras.ops.gelu(x, approximate=False), ...: an activation node, when the call's
    settings are those of the Keras activation of that name (keras.ops.gelu approximates by default; the
    activation does not)."""
    def convert(call: OpCall) -> Mapped:
        config = {key: value for key, value in call.operation.get_config().items() if key != "name"}
        if len(call.tensors()) != 1 or len(call.args) != 1 or call.kwargs or config != required:
            return None
        return "activation", {"activation": name}, [str(call.args[0])]
    return convert


def _gelu(call: OpCall) -> Mapped:
    """keras.ops.gelu(x, approximate=False): the `gelu` activation (exact, as Keras's activation of that name);
    the tanh approximation (keras.ops.gelu's default, keras-hub's gelu_approximate): the expression
    `gelu_tanh(x)`, which no activation name means."""
    if call.operation.get_config().get("approximate") is not True:
        return _EXACT_GELU(call)
    if len(call.tensors()) != 1 or len(call.args) != 1 or call.kwargs:
        return None
    return "expr", {"expr": "gelu_tanh(x)"}, [str(call.args[0])], ["x"]


_EXACT_GELU = _activation("gelu", approximate=False)

_ACTIVATIONS = {"Relu": "relu", "Relu6": "relu6", "Sigmoid": "sigmoid", "HardSigmoid": "hard_sigmoid",
                "Tanh": "tanh", "HardTanh": "hard_tanh", "Silu": "silu", "HardSilu": "hard_silu", "Selu": "selu",
                "Softplus": "softplus", "Softsign": "softsign", "LogSigmoid": "log_sigmoid", "Mish": "mish",
                "TanhShrink": "tanh_shrink", "SparseSigmoid": "sparse_sigmoid"}
"""keras.ops activation operations without settings -> the activation of that name."""

KERAS_OPS: dict[str, Callable[[OpCall], Mapped]] = {
    **{cls: _activation(name) for cls, name in _ACTIVATIONS.items()},
    "Gelu": _gelu,
    "Softmax": _activation("softmax", axis=-1),
    "LogSoftmax": _activation("log_softmax", axis=-1),
    "Add": _binary("add", "+"),
    "Multiply": _binary("multiply", "*"),
    "Subtract": _binary("subtract", "-"),
    "TrueDivide": _binary(None, "/"),
    "Divide": _binary(None, "/"),
    "Maximum": _binary("maximum", None),
    "Transpose": _transpose,
    "GetItem": _get_item,
    "Split": _split,
    "Pad": _pad,
    "Reshape": _reshape,
    "Concatenate": _concatenate,
    "FFT2": _fft2,
}
"""keras.ops operation class -> its spec form (see docs/spec-scaling.md, import)."""


def passes_through(operation: Any, call: Any) -> bool:
    """True for a keras.ops call that returns its one input as it is, which is no node: a cast to the
    dtype the tensor already has (keras-hub's decoders cast to float32 around an activation, for mixed
    precision)."""
    if type(operation).__name__ != "Cast" or len(call.input_tensors) != 1 or len(call.output_tensors) != 1:
        return False
    return str(call.input_tensors[0].dtype) == str(call.output_tensors[0].dtype)


def unmappable(call: OpCall) -> str:
    """The message for a keras.ops call the importer has no spec form for."""
    operation = call.operation
    shown = ", ".join(_show(item) for item in call.args)
    return (f"operation '{operation.name}' (keras.ops {type(operation).__name__}({shown})) has no archspec op "
            "to import it as\n  hint: replace it by a layer, or write a plugin op with a Keras layer "
            "for it (docs/plugins.md)")


def unmappable_output(operation: Any, index: int) -> str:
    """The message for an output of a keras.ops call that has no spec form (fft2's imaginary part)."""
    return (f"output {index} of operation '{operation.name}' (keras.ops {type(operation).__name__}) has no "
            "archspec op to import it as\n  hint: use only the outputs that import, or write a plugin op "
            "(docs/plugins.md)")


def _show(value: Any) -> str:
    if isinstance(value, str) and hasattr(value, "shape"):
        return str(value)
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."
