"""ONNX graph -> spec YAML and its weights (`archspec import model.onnx`), verified against onnxruntime.

The graph is first built as a channels-last Keras Functional model (importer.onnx.convert, one
rule per operator in importer.onnx.operators and .resizing), which the Keras importer then turns
into a spec, with its blocks, and checks by compiling it back. The compiled model, holding the
ONNX weights, is compared with onnxruntime on random inputs (importer.onnx.check) before anything
is written: an import never yields a spec or weights that compute something else.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from archspec.keras.importer.onnx import operators as ops
from archspec.keras.importer.onnx.arithmetic import MERGES, SYMBOLS, merge
from archspec.keras.importer.onnx.check import check_against_onnxruntime
from archspec.keras.importer.onnx.convert import Converter
from archspec.keras.importer.onnx.reader import OnnxImportError, load_onnx
from archspec.keras.importer.onnx.recurrent import recurrent
from archspec.keras.importer.onnx.resizing import identity, pad, resize
from archspec.keras.importer.onnx.sequences import concat, gather, slice_axes, split, squeeze, unsqueeze

__all__ = ["OPERATORS", "OnnxImport", "OnnxImportError", "import_onnx", "weights_path"]

OPERATORS: dict[str, Any] = {
    "Conv": ops.conv, "ConvTranspose": ops.conv_transpose, "BatchNormalization": ops.batch_norm,
    "LayerNormalization": ops.layer_norm,
    **{name: ops.activation for name in ops.ACTIVATIONS}, "LeakyRelu": ops.leaky_relu, "Clip": ops.clip,
    "Gelu": ops.gelu,    "Softmax": ops.softmax, "MaxPool": ops.pool, "AveragePool": ops.pool,
    "GlobalAveragePool": ops.global_pool, "GlobalMaxPool": ops.global_pool,
    "Gemm": ops.dense, "MatMul": ops.dense, **{name: merge for name in {*MERGES, *SYMBOLS}}, "Concat": concat,
    "Flatten": ops.flatten, "Reshape": ops.reshape, "Transpose": ops.transpose,
    "Resize": resize, "Pad": pad, "Identity": identity, "Dropout": identity,
    "LSTM": recurrent, "GRU": recurrent, "Squeeze": squeeze, "Unsqueeze": unsqueeze, "Gather": gather,
    "Slice": slice_axes, "Split": split,
}
"""Each ONNX operator read, and its rule (a function of the converter, the node and its attributes)."""
FOLDED: dict[str, Any] = {"MultiHeadAttention": ops.attention}
"""The rules of the nodes the reader writes for a subgraph it recognises (importer.onnx.attention)."""


@dataclass
class OnnxImport:
    """A checked import: the spec text, the model compiled from it (with the ONNX weights), the error."""

    text: str
    model: Any
    max_difference: float


def import_onnx(path: Path) -> OnnxImport:
    """The spec of the ONNX model at `path`, its compiled model, and how far it is from onnxruntime."""
    from archspec.keras.importer import import_and_rebuild
    from archspec.keras.importer.naming import model_name

    graph = load_onnx(path, set(OPERATORS))
    keras_model = Converter(graph, {**OPERATORS, **FOLDED}).build(model_name(path.stem))
    text, rebuilt = import_and_rebuild(keras_model, path.name, doc="ONNX")
    difference = check_against_onnxruntime(path, graph, rebuilt)
    return OnnxImport(text, rebuilt, difference)


def weights_path(spec_path: Path) -> Path:
    """Where the weights of `-o net.yaml` go: net.weights.h5 beside it (Keras requires the suffix)."""
    return spec_path.with_name(f"{spec_path.stem}.weights.h5")
