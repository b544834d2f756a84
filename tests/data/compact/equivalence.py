"""Proof that two specs mean the same model: archspec's own matching (the graph up to node names), then
the same outputs on the long form's weights (what `archspec same --outputs` checks)."""

from __future__ import annotations

import networkx as nx

import archspec
from archspec.graph.matching import match_graphs


def node_mapping(compact: nx.MultiDiGraph, long: nx.MultiDiGraph) -> dict[str, str]:
    """Compact node name -> long node name; AssertionError (the first difference) if the graphs differ."""
    matching = match_graphs(compact, long)
    assert matching.same, str(matching.difference)
    return matching.mapping


def assert_same_model(compact_path, long_path, keras) -> None:
    """Same graph, same outputs with the long form's weights copied over."""
    from archspec.keras.same_outputs import outputs_difference

    compact, long = archspec.analyze(compact_path), archspec.analyze(long_path)
    assert outputs_difference(compact, long, node_mapping(compact, long)) <= 1e-5
