"""An ONNX file read for import: its opset checked, every operator checked before any is converted.

An operator the importer has no rule for is refused here, all of them in one message naming each
operator and node, so a user sees the whole list at once and nothing is written.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from archspec.keras.importer.errors import KerasImportError
from archspec.keras.importer.onnx.attention import DOMAIN, fold_attention
from archspec.keras.importer.onnx.folding import dims, fold_graph
from archspec.keras.importer.onnx.patterns import fold_gelu

MIN_OPSET = 13
"""The oldest default-domain opset read: from 13 on, Split, Squeeze, Pad and Resize take tensors, not attributes."""


class OnnxImportError(KerasImportError):
    """An ONNX graph archspec cannot express as a spec (or cannot load, or not reproduce)."""


@dataclass
class OnnxGraph:
    """The parts of an ONNX model the conversion reads."""

    model: Any
    nodes: list[Any]
    constants: dict[str, np.ndarray]
    inputs: dict[str, tuple[int | None, ...]]
    outputs: list[str]
    shapes: dict[str, tuple[int | None, ...]] = field(default_factory=dict)

    def consumers(self, tensor: str) -> list[Any]:
        return [node for node in self.nodes if tensor in node.input]


def load_onnx(path: Path, supported: set[str]) -> OnnxGraph:
    """The graph of `path`, shape-inferred; refused if its opset is too old or an operator has no rule."""
    try:
        import onnx
        import onnxruntime  # noqa: F401  (the check at the end needs it: refuse before any work)
        from onnx import shape_inference
    except ImportError as error:
        raise OnnxImportError(f"importing ONNX needs the onnx and onnxruntime packages ({error.name} is missing): "
                              "pip install 'archspec[export]'") from None
    if path.suffix != ".onnx" or not path.is_file():
        raise OnnxImportError(f"cannot import {str(path)!r}: no such .onnx file")
    try:
        model = onnx.load(str(path))
        onnx.checker.check_model(model)
        model = shape_inference.infer_shapes(model)
    except Exception as error:  # onnx raises its own and protobuf's errors for a broken file
        raise OnnxImportError(f"{path}: not a valid ONNX model ({str(error).splitlines()[0]})") from None
    opset = max((item.version for item in model.opset_import if item.domain in ("", "ai.onnx")), default=0)
    if opset < MIN_OPSET:
        raise OnnxImportError(f"{path}: opset {opset} is too old; export with opset_version={MIN_OPSET} or later")
    nodes, constants, shapes = fold_graph(model, opset)
    nodes = fold_attention(fold_gelu(nodes, constants), constants, shapes)
    graph = model.graph
    refused = [f"{node.op_type} (node '{node.name or node.output[0]}')" for node in nodes
               if node.domain != DOMAIN and (node.op_type not in supported or node.domain not in ("", "ai.onnx"))]
    if refused:
        raise OnnxImportError(f"{path}: {len(refused)} operator(s) cannot be imported: {', '.join(refused)}; "
                              f"supported: {', '.join(sorted(supported))}{_shape_hint(nodes)}")
    products = [f"'{node.name or node.output[0]}'" for node in nodes
                if node.op_type == "MatMul" and not any(name in constants for name in node.input)]
    if products:
        raise OnnxImportError(
            f"{path}: MatMul of two computed tensors (node {', '.join(products)}) is read only as part of attention "
            "(MatMul(q, kᵀ), Softmax, MatMul by v, between projections); these are in none that the importer "
            "recognises (attention with a mask other than a causal one, or whose inner tensors are read "
            "elsewhere, is not read)")
    inputs = {info.name: dims(info) for info in graph.input if info.name not in constants}
    return OnnxGraph(model, nodes, constants, inputs, [info.name for info in graph.output], shapes)


def _shape_hint(nodes: list[Any]) -> str:
    if not any(node.op_type == "Shape" for node in nodes):
        return ""
    return ("; Shape nodes read the batch size at run time: export with a fixed batch size (no dynamic_axes) "
            "and they become constants")


def attributes(node: Any) -> dict[str, Any]:
    """A node's attributes as Python values."""
    from onnx import helper

    values = {item.name: helper.get_attribute_value(item) for item in node.attribute}
    return {name: value.decode() if isinstance(value, bytes) else value for name, value in values.items()}


def layer_name(node: Any, taken: set[str], suffix: str = "") -> str:
    """A spec node name from an exporter's node name: `/layer1/layer1.0/conv1/Conv` -> `layer1_0_conv1`.

    The module path names the layer, so repeated modules keep the numbered prefixes the block folding
    groups by; a functional call inside a module keeps its operator (`layer1_0_relu_1`)."""
    parts = [part for part in (node.name or node.output[0]).split("/") if part]
    scopes: list[str] = []
    for part in parts[:-1]:  # torch writes a Sequential's child with the Sequential's name: layer1 / layer1.0
        if scopes and part.startswith(f"{scopes[-1]}."):
            scopes[-1] = part
        else:
            scopes.append(part)
    module = ".".join(scopes)
    last = parts[-1] if parts else node.op_type
    base = module if last == node.op_type and module else f"{module}_{last}" if module else last
    base = spec_name(base, node.op_type.lower()) + suffix
    name, count = base, 1
    while name in taken:
        name, count = f"{base}_{count}", count + 1
    taken.add(name)
    return name


def spec_name(text: str, fallback: str) -> str:
    """`text` as a spec name: lower case letters, digits and underscores, starting with a letter."""
    name = re.sub(r"[^a-z0-9_]+", "_", text.lower()).strip("_") or fallback
    return name if name[0].isalpha() else f"{fallback}_{name}"
