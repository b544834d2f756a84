"""Scaled dot-product attention as exporters write it, read back as one Keras MultiHeadAttention.

torch's nn.MultiheadAttention (and a ViT's hand-written attention) export as a projection to
packed q|k|v, Reshape/Transpose/Gather (or Split) into heads, MatMul(q, kᵀ) scaled by Mul or Div,
Softmax, MatMul by v, Transpose/Reshape back, and an output projection. Those shuffles mix the batch
axis with the heads, which no layer-by-layer rule can follow, so the whole subgraph is found from its
Softmax, its weights are read from the projections it reaches, and it is replaced by one node that
operators.attention turns into MultiHeadAttention (weights (E, heads, head_dim); the graph's scale,
whatever it is, folded into the query projection, since Keras scales by 1/sqrt(head_dim)). A subgraph
whose inner tensors are read elsewhere, or that has a mask other than a causal one, stays as it was and
is refused by operator.
The check against onnxruntime at the end proves the reading.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

DOMAIN = "archspec"
"""The domain of the nodes this module writes: the importer's own, never an operator of a file."""
SHUFFLES = {"Reshape", "Transpose", "Squeeze", "Unsqueeze"}
WEIGHTS = ("query_kernel", "query_bias", "key_kernel", "key_bias", "value_kernel", "value_bias",
           "output_kernel", "output_bias")


@dataclass
class Projection:
    """x @ kernel + bias, of which one chunk (`index` of `parts` equal column blocks) feeds this path."""

    source: str
    kernel: np.ndarray
    bias: np.ndarray | None
    scale: float = 1.0
    index: int = 0
    parts: int = 1
    nodes: list[Any] = field(default_factory=list)

    def chunk(self, heads: int, width: int) -> tuple[np.ndarray, np.ndarray]:
        """Its kernel (E, heads, head_dim) and bias (heads, head_dim) for Keras, the path's scale folded in."""
        size = self.kernel.shape[1] // self.parts
        columns = slice(self.index * size, (self.index + 1) * size)
        if size != heads * width:
            raise ValueError(f"a projection of width {size} is not {heads} heads of {width}")
        bias = np.zeros(size, "float32") if self.bias is None else self.bias[columns]
        kernel = self.kernel[:, columns] * self.scale
        return kernel.reshape(-1, heads, width), (bias * self.scale).reshape(heads, width)


class _Graph:
    def __init__(self, nodes: list[Any], constants: dict[str, np.ndarray], shapes: dict[str, tuple]) -> None:
        self.nodes, self.constants, self.shapes = nodes, constants, shapes
        self.producer = {name: node for node in nodes for name in node.output}
        self.users: dict[str, list[Any]] = {}
        for node in nodes:
            for name in node.input:
                self.users.setdefault(name, []).append(node)

    def scalar(self, node: Any) -> tuple[float, str] | None:
        """(c, the other input) of a Mul or Div by one constant number (1/c for a Div), else None."""
        if node.op_type not in ("Mul", "Div") or len(node.input) != 2:
            return None
        for position, name in enumerate(node.input):
            value = self.constants.get(name)
            if value is not None and value.size == 1 and (node.op_type == "Mul" or position == 1):
                number = float(value.reshape(()))
                return (number if node.op_type == "Mul" else 1.0 / number), node.input[1 - position]
        return None

    def causal_mask(self, node: Any) -> str | None:
        """The other input of an Add of a causal mask (0 on and below the diagonal, -inf above), else None."""
        if node.op_type != "Add" or len(node.input) != 2:
            return None
        for position, name in enumerate(node.input):
            mask = self.constants.get(name)
            if mask is None or mask.ndim < 2 or mask.shape[-1] != mask.shape[-2] or mask.size != mask.shape[-1] ** 2:
                continue
            mask = mask.reshape(mask.shape[-2:])
            above = np.triu(np.ones(mask.shape, bool), 1)
            if np.all(mask[~above] == 0) and np.all(mask[above] < -1e9):
                return node.input[1 - position]
        return None

    def weight(self, name: str) -> np.ndarray | None:
        value = self.constants.get(name)
        return value if value is not None and value.ndim == 2 else None

    def projection(self, tensor: str) -> Projection | None:
        """The projection `tensor` is read from, through scalings, axis shuffles and the choice of a chunk."""
        path: list[Any] = []
        scale, index, parts = 1.0, 0, 1
        while (node := self.producer.get(tensor)) is not None:
            path.append(node)
            scaled = self.scalar(node)
            if scaled:
                scale, tensor = scale * scaled[0], scaled[1]
            elif node.op_type in SHUFFLES:
                tensor = node.input[0]
            elif node.op_type == "Gather" and self.constants.get(node.input[1], np.zeros(2)).size == 1:
                axis = next((a.i for a in node.attribute if a.name == "axis"), 0)
                index, parts = int(self.constants[node.input[1]]), self.shapes[node.input[0]][axis]
                tensor = node.input[0]
            elif node.op_type == "Split" and len({int(size) for size in self.constants.get(
                    node.input[1] if len(node.input) > 1 else "", np.ones(1))}) == 1:  # equal parts
                index, parts, tensor = list(node.output).index(tensor), len(node.output), node.input[0]
            else:
                return self.dense(node, path, scale, index, parts)
        return None

    def dense(self, node: Any, path: list[Any], scale: float, index: int, parts: int) -> Projection | None:
        """The MatMul by a constant (its bias Add after it), or Gemm, that ends a projection path."""
        bias = None
        if node.op_type == "Add":
            bias_name = next((name for name in node.input if name in self.constants), None)
            inner = [self.producer.get(name) for name in node.input if name != bias_name]
            if bias_name is None or len(inner) != 1 or inner[0] is None or inner[0].op_type != "MatMul":
                return None
            bias, node = self.constants[bias_name], inner[0]
            path.append(node)
        if node.op_type == "MatMul" and self.weight(node.input[1]) is not None:
            kernel = self.weight(node.input[1])
        elif node.op_type == "Gemm" and self.weight(node.input[1]) is not None and not _attr(node, "transA"):
            kernel = self.weight(node.input[1])
            kernel = kernel.T if _attr(node, "transB") else kernel
            bias = self.constants.get(node.input[2]) if len(node.input) > 2 else None
        else:
            return None
        if bias is not None and bias.shape != (kernel.shape[1],):
            return None
        return Projection(node.input[0], kernel, bias, scale, index, parts, path)

    def output(self, tensor: str) -> tuple[Projection, str] | None:
        """The output projection after the heads are put back together, and the last tensor of the subgraph."""
        path: list[Any] = []
        while len(users := self.users.get(tensor, [])) == 1 and users[0].op_type in SHUFFLES:
            path.append(users[0])
            tensor = users[0].output[0]
        if len(users) != 1 or users[0].op_type not in ("MatMul", "Gemm"):
            return None
        node = users[0]
        after = self.users.get(node.output[0], [])
        if node.op_type == "MatMul" and len(after) == 1 and after[0].op_type == "Add":
            node = after[0]
        projection = self.dense(node, [node], 1.0, 0, 1)
        if projection is None or projection.source != tensor:
            return None
        projection.nodes += path
        last = node.output[0]
        while len(users := self.users.get(last, [])) == 1 and users[0].op_type == "Reshape":
            projection.nodes.append(users[0])
            last = users[0].output[0]
        return projection, last


def _attr(node: Any, name: str) -> int:
    return next((item.i for item in node.attribute if item.name == name), 0)


def fold_attention(nodes: list[Any], constants: dict[str, np.ndarray], shapes: dict[str, tuple]) -> list[Any]:
    """`nodes` with each attention subgraph (found from its Softmax) replaced by one MultiHeadAttention node."""
    from onnx import helper

    for softmax in [node for node in nodes if node.op_type == "Softmax"]:
        graph = _Graph(nodes, constants, shapes)
        found = _read(graph, softmax)
        if found is None:
            continue
        inner, last, weights, heads, sources, causal = found
        name = softmax.name.rsplit("/", 1)[0] + "/MultiHeadAttention"
        for key, value in zip(WEIGHTS, weights):
            constants[f"{name}/{key}"] = value.astype("float32")
        fused = helper.make_node("MultiHeadAttention", [*sources, *(f"{name}/{key}" for key in WEIGHTS)], [last],
                                 name=name, domain=DOMAIN, heads=heads, causal=int(causal))
        ids = {id(node) for node in inner}
        nodes = [fused if node.output[0] == last else node for node in nodes if id(node) not in ids
                 or node.output[0] == last]
    return nodes


def _read(graph: _Graph, softmax: Any) -> tuple | None:
    """(the subgraph's nodes, its last tensor, the eight Keras weights, heads, sources, causal) of the attention
    around `softmax`, or None when it is not one this module reads."""
    scale, causal, tensor, inner = 1.0, False, softmax.input[0], [softmax]
    while (node := graph.producer.get(tensor)) is not None:
        if scaled := graph.scalar(node):
            scale, tensor = scale * scaled[0], scaled[1]
        elif not causal and (unmasked := graph.causal_mask(node)):
            causal, tensor = True, unmasked
        else:
            break
        inner.append(node)
    scores, mixes = graph.producer.get(tensor), graph.users.get(softmax.output[0], [])
    if _attr(softmax, "axis") not in (-1, len(graph.shapes.get(tensor, ())) - 1) or scores is None or \
            scores.op_type != "MatMul" or len(mixes) != 1 or mixes[0].op_type != "MatMul" or \
            mixes[0].input[0] != softmax.output[0]:
        return None
    query, key, value = (graph.projection(name) for name in (*scores.input, mixes[0].input[1]))
    found = graph.output(mixes[0].output[0])
    if query is None or key is None or value is None or found is None or key.source != value.source:
        return None
    out, last = found
    width = graph.shapes.get(scores.input[0], (None,))[-1]
    value_width = graph.shapes.get(mixes[0].output[0], (None,))[-1]
    if not width or not value_width:
        return None
    heads = query.kernel.shape[1] // query.parts // width
    query.scale *= scale * key.scale * np.sqrt(width)  # the scores' scale, as Keras's 1/sqrt(width) leaves it
    key.scale = 1.0
    try:
        weights = [*query.chunk(heads, width), *key.chunk(heads, width), *value.chunk(heads, value_width)]
    except ValueError:
        return None
    weights += [out.kernel.reshape(heads, value_width, -1),
                np.zeros(out.kernel.shape[1], "float32") if out.bias is None else out.bias]
    inner += [scores, mixes[0], *query.nodes, *key.nodes, *value.nodes, *out.nodes]
    if not _closed(graph, inner, last):
        return None
    sources = [query.source] if query.source == key.source else [query.source, key.source]
    return inner, last, weights, heads, sources, causal


def _closed(graph: _Graph, inner: list[Any], last: str) -> bool:
    """Whether no tensor inside the subgraph but its last one is read outside it (or is a graph output)."""
    ids = {id(node) for node in inner}
    for node in inner:
        for name in node.output:
            if name != last and any(id(user) not in ids for user in graph.users.get(name, [])):
                return False
    return True

