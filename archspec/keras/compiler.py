"""DAG -> keras.Model (Functional API). The only core module that imports Keras, and lazily."""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import TYPE_CHECKING, Any

import networkx as nx

from archspec.catalogue.primitives import LayerCall, Step
from archspec.graph.memory import check_activations_fit, check_weights_fit
from archspec.graph.shapes import analyze
from archspec.keras.backend import import_keras
from archspec.keras.lowering import lower_graph
from archspec.spec.models import Spec

if TYPE_CHECKING:
    import keras


def compile_model(source: str | Path | Spec | nx.MultiDiGraph) -> keras.Model:
    """Compile a spec into a Functional keras.Model whose layers are named after the spec's nodes."""
    graph = analyze(source)
    check_weights_fit(graph)
    check_activations_fit(graph, batch_size=1)  # `fit` checks again at its batch size
    keras = import_keras()  # after the checks: a refused model costs no TensorFlow start-up
    steps, output_of = lower_graph(graph)
    tensors: dict[str, Any] = {}
    layers: dict[str, Any] = {}
    for step in steps:
        tensors[step.var] = run_step(keras, step, tensors, layers)
    inputs = [tensors[step.var] for step in steps if step.call is None]
    outputs = [tensors[output_of[name]] for name in graph.graph["outputs"]]
    return keras.Model(
        inputs=inputs[0] if len(inputs) == 1 else inputs,
        outputs=outputs[0] if len(outputs) == 1 else outputs,
        name=graph.graph["name"],
    )


def run_step(keras: Any, step: Step, tensors: dict[str, Any], layers: dict[str, Any]) -> Any:
    """Create one step's layer (or take the one it shares, from `layers`) and call it on its input tensors."""
    if step.call is None:
        return keras.Input(shape=step.input_shape, dtype=step.input_dtype, name=step.layer_name)
    layer = layers[step.shares] if step.shares else build_layer(keras, step.call, name=step.layer_name)
    layers[step.layer_name] = layer
    args = [tensors[arg] for arg in step.args]
    kwargs = {**step.call_kwargs, **{key: tensors[var] for key, var in step.tensor_kwargs}}
    if step.as_list:
        return layer(args, **kwargs)
    return layer(*args, **kwargs)


def build_layer(keras: Any, call: LayerCall, **extra: Any) -> Any:
    """The layer a LayerCall describes; an argument that is itself a LayerCall (the layer a
    Bidirectional wraps) is built first."""
    kwargs = {key: build_layer(keras, value) if isinstance(value, LayerCall) else value
              for key, value in call.kwargs.items()}
    return layer_class(keras, call)(**kwargs, **extra)


def layer_class(keras: Any, call: LayerCall) -> type:
    """The class a LayerCall names: a keras.layers class, or one of archspec.keras.layers."""
    module = keras.layers if call.module == "keras.layers" else importlib.import_module(call.module)
    return getattr(module, call.cls)
