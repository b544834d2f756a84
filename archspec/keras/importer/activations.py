"""Layers whose activation is a Python function Keras has no name for, imported as the layer without
activation followed by the function traced into nodes.

Keras writes a named activation into a layer's config as its name (`relu`, `gelu`: also a function of
another module that has that name), which the layer's op reads as before where the function computes
that activation (keras.ops.relu does; keras.ops.gelu approximates, so it is traced). Any other callable
(keras-hub's `gelu_approximate`, a lambda, a user's def, a functools.partial) is an object no op
parameter can hold. Such a function is called on a fresh keras.Input shaped like the layer's output: its
keras.ops calls record themselves, as a subclassed layer's call does (importer.trace), and the reader
flattens the resulting Functional model after the layer's node, nodes `LAYER_OP` (`dense_sigmoid`,
`dense_multiply`). The layer's node keeps the layer's weights. An `Activation` layer holding such a
function is the traced function alone. Only layers whose call ends by applying `activation` to their
output are split; a recurrent layer's activation acts inside its steps, so it stays refused.
"""

from __future__ import annotations

import contextlib
import warnings
from collections.abc import Callable, Iterator
from typing import Any

from archspec.keras.importer.errors import KerasImportError, first_line
from archspec.keras.importer.keras_ops import KERAS_OPS, OpCall, TensorRef
from archspec.keras.importer.trace import fresh_auto_names, located, user_frame

OUTPUT_ACTIVATION_CLASSES = ("Dense", "EinsumDense", "BaseConv", "BaseConvTranspose", "BaseDepthwiseConv",
                             "BaseSeparableConv", "Activation")
"""Keras layer classes (and bases) whose call returns `activation(...)` of everything else it computes."""

_HINT = ("write it with keras.ops only (no Python branch on a tensor's values), or give the layer an activation "
         "Keras names (keras.activations)")


def function_activation(layer: Any) -> Callable[..., Any] | None:
    """The layer's activation when it is a callable Keras has no name for and the layer applies it last."""
    if not any(cls.__name__ in OUTPUT_ACTIVATION_CLASSES and cls.__module__.startswith("keras.")
               for cls in type(layer).__mro__):
        return None
    function = getattr(layer, "activation", None)
    if not callable(function):
        return None
    from archspec.keras.backend import import_keras

    try:
        with warnings.catch_warnings():  # Keras warns that a lambda is unsafe to serialise: it is not saved
            warnings.simplefilter("ignore")
            name = import_keras().activations.serialize(function)
    except (TypeError, ValueError):  # a partial or a callable object: no config at all
        return function
    return None if isinstance(name, str) and _computes(function, name) else function


def _computes(function: Callable[..., Any], name: str) -> bool:
    """Whether `function`, which Keras writes as the activation `name`, computes it: it is that activation,
    or it is one keras.ops call that imports as it (keras.ops.relu; not keras.ops.gelu, which approximates
    where the activation `gelu` does not, so Keras would reload another function)."""
    from archspec.keras.backend import import_keras

    keras = import_keras()
    named = keras.activations.get(name)
    if named is function:
        return True
    fresh = keras.Input((4,))
    try:
        with fresh_auto_names():
            operation, index, _ = function(fresh)._keras_history
    except Exception:  # untraceable, or not one operation: read_activation says why
        return False
    call = operation._inbound_nodes[index]
    args = [TensorRef("x", (4,)) if item is fresh else item for item in call.arguments.args]
    convert = KERAS_OPS.get(type(operation).__name__)
    mapped = convert(OpCall(operation, call, args, dict(call.arguments.kwargs), (4,))) if convert else None
    return (mapped is not None and mapped[0] == "activation"
            and keras.activations.get(mapped[1]["activation"]) is named)  # swish is silu, as Keras reloads it


def read_activation(reader: Any, call: Any, prefix: str, function: Callable[..., Any]) -> None:
    """Read `call` of a layer whose activation is `function` (its `function_activation`): the layer's node
    without it (none for an Activation layer), then the function's trace on that node's output."""
    layer = call.operation
    output = call.output_tensors[0]
    if type(layer).__name__ == "Activation":
        source = call.input_tensors[0]
        uses = reader.calls.setdefault(id(layer), [])
        uses.append(f"{prefix}{layer.name}" + (f"_{len(uses) + 1}" if uses else ""))
    else:
        source = output
        with _without_activation(layer):
            reader.add_call(call, prefix)
        reader.outputs.pop(reader.calls[id(layer)][-1], None)  # its node's output is before the activation
    model = _traced(layer, function, source)
    try:
        inner = reader.read(model, f"{reader.calls[id(layer)][-1]}_", [source])
    except KerasImportError as error:
        raise KerasImportError(f"{_described(layer, function)}, and a part of its trace has no spec form: "
                               f"{error}") from None
    reader.tensors[id(output)] = inner[0]


def _traced(layer: Any, function: Callable[..., Any], tensor: Any) -> Any:
    """A Functional model computing `function` from one symbolic input shaped like `tensor`."""
    from archspec.keras.backend import import_keras

    keras = import_keras()
    fresh = keras.Input(batch_shape=tuple(tensor.shape), dtype=tensor.dtype)
    try:
        with fresh_auto_names():
            model = keras.Model(fresh, function(fresh))
    except Exception as error:  # any failure of the user's function is reported, located
        frame = user_frame(error, function if hasattr(function, "__code__") else type(function))
        where = f" at {located(frame)}" if frame is not None else ""
        raise KerasImportError(f"{_described(layer, function)}, and tracing it stopped{where}: {first_line(error)}"
                               f"\n  hint: {_HINT}") from None
    if model.weights:
        raise KerasImportError(f"{_described(layer, function)}, and its trace creates weights of its own, which "
                               f"no node of the layer would hold\n  hint: {_HINT}")
    return model


@contextlib.contextmanager
def _without_activation(layer: Any) -> Iterator[None]:
    """The layer reads as linear while its node is made (its config cannot hold the function; Keras cannot
    even serialise a partial or a callable object); the function is back afterwards."""
    from archspec.keras.backend import import_keras

    saved = layer.activation
    layer.activation = import_keras().activations.linear
    try:
        yield
    finally:
        layer.activation = saved


def _described(layer: Any, function: Callable[..., Any]) -> str:
    return (f"layer '{layer.name}' ({type(layer).__name__}) has activation {_qualified(function)}, "
            "a Python function Keras has no name for")


def _qualified(function: Any) -> str:
    """module.qualname of a function, or of a callable object's class (a partial: of the function it wraps)."""
    target = getattr(function, "func", function)
    owner = target if hasattr(target, "__qualname__") else type(target)
    return f"{owner.__module__}.{owner.__qualname__}"
