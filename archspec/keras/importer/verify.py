"""The check every import passes before it reports success: the spec compiles to the same model.

Same parameter count, then the same outputs on a random input with the original's weights
copied node by node. A mismatch names the first node (in graph order) whose output differs,
so a wrong mapping is an error at the layer it concerns, never a spec written quietly wrong.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from archspec.errors import ArchspecError
from archspec.keras.importer.errors import KerasImportError, first_line

TOLERANCE = 1e-4
"""Largest output difference accepted, relative to the output's scale (max(1, max |y|))."""


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
    batch = random_inputs(model, seed)
    expected, got = model_outputs(model, batch), model_outputs(rebuilt, batch)
    if any(_differs(a, b) for a, b in zip(expected, got)):
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


IMAGE_SIZE = 224
"""Height and width of an image input whose size the model leaves open (a keras.applications model
without its top): at 8x8 such a network's strided layers get inputs smaller than their kernels,
and TensorFlow then returns uninitialised memory rather than an error, so nothing could be compared."""


def random_inputs(model: Any, seed: int) -> list[np.ndarray]:
    """Two examples per model input: normal floats, or small non-negative integers for integer inputs.
    An axis the model leaves open is 8 long, the height and width of an image IMAGE_SIZE."""
    rng = np.random.default_rng(seed)
    batch = []
    for tensor in model.inputs:
        sizes = list(tensor.shape[1:])
        image = len(sizes) == 3 and sizes[0] is None and sizes[1] is None and sizes[2] is not None
        shape = (2, *(size or (IMAGE_SIZE if image and axis < 2 else 8) for axis, size in enumerate(sizes)))
        if "int" in str(tensor.dtype):
            batch.append(rng.integers(0, 2, size=shape).astype(str(tensor.dtype)))
        else:
            batch.append(rng.normal(size=shape).astype("float32"))
    return batch


def model_outputs(model: Any, batch: list[np.ndarray]) -> list[np.ndarray]:
    result = model(batch if len(batch) > 1 else batch[0], training=False)
    return [np.asarray(item) for item in (result if isinstance(result, (list, tuple)) else [result])]


def _differs(expected: np.ndarray, got: np.ndarray) -> bool:
    if expected.shape != got.shape or not np.array_equal(np.isnan(expected), np.isnan(got)):
        return True
    expected, got = np.nan_to_num(expected), np.nan_to_num(got)
    scale = max(1.0, float(np.abs(expected).max(initial=0.0)))
    return float(np.abs(expected - got).max(initial=0.0)) > TOLERANCE * scale


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
    names = list(layers)
    try:
        original = keras.Model(model.inputs, [tensors[name] for name in names])
        compiled = keras.Model(rebuilt.inputs, [rebuilt.get_layer(name).output for name in names])
    except (ValueError, AttributeError):  # a layer whose output is not in the model's graph
        return "outputs differ (the node could not be isolated)"
    for name, expected, got in zip(names, model_outputs(original, batch), model_outputs(compiled, batch)):
        if _differs(expected, got):
            return (f"node '{name}' ({type(layers[name]).__name__}) differs by "
                    f"{float(np.abs(expected - got).max()) if expected.shape == got.shape else 'shape'}"
                    f" (shape {expected.shape[1:]} vs {got.shape[1:]})")
    return "the model outputs differ, though every node agrees (an edge is wired differently)"

