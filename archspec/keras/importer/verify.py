"""The check every import passes before it reports success: the spec compiles to the same model.

Same parameter count, then the same outputs on a random input with the original's weights
copied node by node. A mismatch names the first node (in graph order) whose output differs,
so a wrong mapping is an error at the layer it concerns, never a spec written quietly wrong.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from archspec.errors import ArchspecError
from archspec.keras.equivalence import TOLERANCE, max_difference, outputs_agree, sample_inputs
from archspec.keras.importer.errors import KerasImportError, first_line


def verify_import(model: Any, text: str, layers: dict[str, Any], tensors: dict[str, Any], *,
                  seed: int = 0) -> Any:
    """Compile `text` and compare it with `model`; return the compiled model."""
    from archspec.keras.compiler import compile_model
    from archspec.spec.frontend import loads_spec

    try:
        rebuilt = compile_model(loads_spec(text, "imported.yaml"))
    except ArchspecError as error:
        raise KerasImportError(f"the imported spec does not compile (a mapping is wrong): "
                               f"{first_line(error)}") from None
    if rebuilt.count_params() != model.count_params():
        raise KerasImportError(
            f"the imported spec has {rebuilt.count_params():,} parameters, the model {model.count_params():,}"
            f"{_weights_differ(rebuilt, layers)}")
    copy_weights(rebuilt, layers)
    batch = sample_inputs(model, seed=seed, batch=2, floats="normal")
    if not outputs_agree(model_outputs(model, batch), model_outputs(rebuilt, batch)):
        raise KerasImportError(f"the imported spec computes other outputs than the model: "
                               f"{_first_difference(model, rebuilt, layers, tensors, batch)}")
    return rebuilt


def copy_weights(rebuilt: Any, layers: dict[str, Any]) -> None:
    """Each imported node's weights from the Keras layer it came from."""
    for name, layer in layers.items():
        if layer.weights:
            target = rebuilt.get_layer(name)
            target.set_weights(layer.get_weights())
            if hasattr(target, "finalize_state"):  # Normalization derives its statistics from its weights
                target.finalize_state()


def model_outputs(model: Any, batch: list[np.ndarray]) -> list[np.ndarray]:
    """`model` on `batch` (one array per input, in model.inputs order), its outputs flat in model.outputs
    order: a model built on a dict of inputs (keras-hub's backbones) is called with that dict; the imported
    spec lists its inputs in model.inputs order (importer.read_spec), so it takes the list."""
    from archspec.keras.backend import import_keras

    structure = getattr(model, "input", None) if hasattr(model, "_nodes_by_depth") else None
    inputs: Any = batch if len(batch) > 1 else batch[0]
    if isinstance(structure, dict):
        values = {id(tensor): value for tensor, value in zip(model.inputs, batch, strict=True)}
        inputs = {key: values[id(tensor)] for key, tensor in structure.items()}
    return [np.asarray(item) for item in import_keras().tree.flatten(model(inputs, training=False))]


def _weights_differ(rebuilt: Any, layers: dict[str, Any]) -> str:
    for name, layer in layers.items():
        mine = sum(int(np.prod(w.shape)) for w in rebuilt.get_layer(name).weights)
        theirs = sum(int(np.prod(w.shape)) for w in layer.weights)
        if mine != theirs:
            return f"; node '{name}' ({type(layer).__name__}) has {mine:,}, the layer {theirs:,}"
    return ""


def _first_difference(model: Any, rebuilt: Any, layers: dict[str, Any], tensors: dict[str, Any],
                      batch: list[np.ndarray]) -> str:
    """The first imported node whose output differs from its layer's on the same input."""
    from archspec.keras.backend import import_keras

    keras = import_keras()
    names = [name for name in layers if name in tensors]  # a layer whose node is split (its activation
    # traced after it) has no Keras tensor of its own
    try:
        original = keras.Model(model.inputs, [tensors[name] for name in names])
        compiled = keras.Model(rebuilt.inputs, [rebuilt.get_layer(name).output for name in names])
    except (ValueError, AttributeError):  # a layer whose output is not in the model's graph
        return "outputs differ (the node could not be isolated)"
    for name, expected, got in zip(names, model_outputs(original, batch), model_outputs(compiled, batch)):
        difference = max_difference([expected], [got])
        if not difference <= TOLERANCE:
            return (f"node '{name}' ({type(layers[name]).__name__}) differs by "
                    f"{'shape' if expected.shape != got.shape else difference}"
                    f" (shape {expected.shape[1:]} vs {got.shape[1:]})")
    return "the model outputs differ, though every node agrees (an edge is wired differently)"

