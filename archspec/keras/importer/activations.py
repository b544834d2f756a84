"""A layer's activation given as a function, not a Keras name (keras-hub's `gelu_approximate`, a lambda).

A layer whose activation is its last step (Dense, the convolutions) is imported without it, and the
function becomes a node after it: the `activation` whose Keras function it equals, else the `expr` of an
element-wise function (`gelu_tanh(x)`). Equal means equal values on a grid of inputs, each candidate
computed as the compiled spec computes it; the import's check then compares the whole model, so a
function that only agrees on the grid cannot pass. A function equal to none is refused, named.
"""

from __future__ import annotations

import typing
from typing import Any

import numpy as np

from archspec.catalogue.expression import ELEMENTWISE
from archspec.catalogue.ops.base import Activation
from archspec.keras.importer.errors import KerasImportError
from archspec.keras.importer.layout import ImportedNode

LAST_STEP = frozenset({"Dense", "Conv1D", "Conv2D", "Conv3D", "Conv1DTranspose", "Conv2DTranspose",
                       "Conv3DTranspose", "DepthwiseConv1D", "DepthwiseConv2D", "SeparableConv1D",
                       "SeparableConv2D"})
"""Keras layers that apply their activation to their result, last (a recurrent layer's is inside its steps)."""

GRID = np.linspace(-6.0, 6.0, 97, dtype="float32").reshape(1, 97)


def function_activation(layer: Any) -> Any | None:
    """The activation of a LAST_STEP layer whose config writes it as a function, else None."""
    written = layer.get_config().get("activation")
    return layer.activation if type(layer).__name__ in LAST_STEP and isinstance(written, dict) else None


def without_activation(layer: Any, config: dict[str, Any]) -> dict[str, Any]:
    """The config the layer's op reads: a function activation left out (activation_node adds it)."""
    return {**config, "activation": "linear"} if function_activation(layer) is not None else config


def activation_node(layer: Any, node: ImportedNode, name: Any) -> ImportedNode:
    """The node after `node` that computes `layer`'s function activation; `name` reserves a spec name."""
    values = _values(function_activation(layer))
    for op, params in _candidates():
        if np.allclose(values, _values(_compiled(op, params)), rtol=1e-6, atol=1e-6, equal_nan=True):
            return ImportedNode(name(f"{node.name}_activation"), op, params, [node.name], shape=node.shape,
                                names=["x"] if op == "expr" else None)
    written = layer.get_config()["activation"].get("config")
    raise KerasImportError(f"layer '{layer.name}' ({type(layer).__name__}) has the activation function {written!r}, "
                           "which equals no activation and no element-wise expression function\n  hint: "
                           "write its activation by a Keras name, or as a layer after it")


def _candidates() -> list[tuple[str, dict[str, Any]]]:
    names = typing.get_args(Activation)
    return ([("activation", {"activation": name}) for name in names]
            + [("expr", {"expr": f"{function}(x)"}) for function in ELEMENTWISE if function not in names])


def _compiled(op: str, params: dict[str, Any]) -> Any:
    """The function a node of `op` computes once compiled (the same Keras code)."""
    from archspec.keras.backend import import_keras
    from archspec.keras.layers import Expression

    if op == "activation":
        return import_keras().activations.get(params["activation"])
    layer = Expression(params["expr"], ["x"])
    return lambda values: layer([values])


def _values(function: Any) -> np.ndarray:
    with np.errstate(all="ignore"):
        return np.asarray(function(GRID), dtype="float64")
