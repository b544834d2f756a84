"""Proof that two specs mean the same model: the same graph up to node names, and the same outputs.

A compact spec names its inline steps itself (`conv2d_1`), so its nodes are
matched to the long form's by graph isomorphism (op, parameters and edge kinds
must agree); the compiled models then get the long form's weights through that
matching and must give the same outputs on the same input.
"""

from __future__ import annotations

import networkx as nx
import numpy as np
from networkx.algorithms.isomorphism import MultiDiGraphMatcher

import archspec


def _params(data: dict) -> object:
    return (data["op"], data["params"].model_dump())


def _edges(edges: dict) -> list:
    return sorted((edge["kind"], repr(edge["params"]), edge["slot"]) for edge in edges.values())


def _number_inputs(graph: nx.MultiDiGraph) -> None:
    """Each edge's `slot`: its place among its target's in-edges in file order, the order a node reads
    its inputs in (a subtract's, a gaussian_sample's mean and log-variance), so the matching keeps it."""
    for name in graph.nodes:
        for slot, (_, _, data) in enumerate(sorted(graph.in_edges(name, data=True), key=lambda e: e[2]["index"])):
            data["slot"] = slot


def node_mapping(compact: nx.MultiDiGraph, long: nx.MultiDiGraph) -> dict[str, str]:
    """Compact node name -> long node name; AssertionError if the graphs differ."""
    _number_inputs(compact)
    _number_inputs(long)
    matcher = MultiDiGraphMatcher(compact, long, node_match=lambda a, b: _params(a) == _params(b),
                                  edge_match=lambda a, b: _edges(a) == _edges(b))
    assert matcher.is_isomorphic(), "the compact and long forms are different graphs"
    return dict(matcher.mapping)


def assert_same_model(compact_path, long_path, keras) -> None:
    """Same graph, same parameter count, same outputs with the long form's weights copied over."""
    compact, long = archspec.analyze(compact_path), archspec.analyze(long_path)
    mapping = node_mapping(compact, long)
    compact_model, long_model = archspec.compile_model(compact), archspec.compile_model(long)
    assert compact_model.count_params() == long_model.count_params()
    for layer in compact_model.layers:
        if layer.weights:
            layer.set_weights(long_model.get_layer(mapping[layer.name]).get_weights())
    rng = np.random.default_rng(0)
    inputs = [rng.integers(0, 10, (2, *tensor.shape[1:])).astype("int32") if "int" in str(tensor.dtype)
              else rng.random((2, *tensor.shape[1:])).astype("float32") for tensor in long_model.inputs]
    for got, want in zip(_outputs(compact_model, inputs), _outputs(long_model, inputs), strict=True):
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5)


def _outputs(model, inputs) -> list:
    result = model(inputs if len(inputs) > 1 else inputs[0], training=False)
    return [np.asarray(item) for item in (result if isinstance(result, (list, tuple)) else [result])]
