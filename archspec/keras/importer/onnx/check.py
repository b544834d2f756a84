"""The ONNX import's last check: the spec's model computes what onnxruntime computes, within 1e-4."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from archspec.keras.importer.onnx.reader import OnnxGraph, OnnxImportError

TOLERANCE = 1e-4
"""Largest output difference accepted, relative to the output's scale (max(1, max |y|))."""


def check_against_onnxruntime(path: Path, graph: OnnxGraph, rebuilt: Any, *, seed: int = 0) -> float:
    """The largest difference between `rebuilt` and onnxruntime on two random examples; raises above TOLERANCE.

    Images go to onnxruntime as (N, C, H, W) and to the model as (N, H, W, C); an image output
    of the model is compared after the same transposition."""
    import onnxruntime

    rng = np.random.default_rng(seed)
    feeds = {name: rng.normal(size=(dims[0] or 2, *dims[1:])).astype("float32") for name, dims in graph.inputs.items()}
    session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    expected = session.run(graph.outputs, feeds)
    keras_inputs = [_channels_last(array) for array in feeds.values()]
    got = rebuilt(keras_inputs if len(keras_inputs) > 1 else keras_inputs[0], training=False)
    got = [np.asarray(item) for item in (got if isinstance(got, (list, tuple)) else [got])]
    worst = 0.0
    for name, want, have in zip(graph.outputs, expected, got):
        if have.shape != want.shape:
            have = np.moveaxis(have, -1, 1) if have.ndim == 4 else have
        if have.shape != want.shape:
            raise OnnxImportError(
                f"output '{name}': the spec's model gives shape {have.shape}, onnxruntime {want.shape}")
        difference = float(np.abs(have - want).max(initial=0.0))
        scale = max(1.0, float(np.abs(want).max(initial=0.0)))
        if difference > TOLERANCE * scale:
            raise OnnxImportError(f"output '{name}': the spec's model differs from onnxruntime by {difference:.3g} "
                                  f"(allowed {TOLERANCE * scale:.3g}); an operator was mapped wrongly")
        worst = max(worst, difference / scale)
    return worst


def _channels_last(array: np.ndarray) -> np.ndarray:
    return np.moveaxis(array, 1, -1) if array.ndim == 4 else array
