"""The second half of `archspec same --outputs`: two matched specs compute the same outputs on shared weights.

The first spec's model gets, layer by layer, the weights of the second's
node it was matched with (archspec.graph.matching), and both run on the same
random batch (the importer's check, archspec.keras.importer.verify, does the same).
"""

from __future__ import annotations

import networkx as nx
import numpy as np

from archspec.keras.compiler import compile_model
from archspec.keras.importer.verify import copy_weights, model_outputs, random_inputs

TOLERANCE = 1e-5
"""Largest output difference called the same, relative to the output's scale (max(1, max |y|))."""


def outputs_difference(first: nx.MultiDiGraph, second: nx.MultiDiGraph, mapping: dict[str, str],
                       *, seed: int = 0) -> float:
    """The largest difference of the two models' outputs, relative to their scale, on shared weights."""
    first_model, second_model = compile_model(first), compile_model(second)
    copy_weights(first_model, {layer.name: second_model.get_layer(mapping[layer.name])
                               for layer in first_model.layers if layer.weights})
    batch = random_inputs(second_model, seed)
    difference = 0.0
    for got, want in zip(model_outputs(first_model, batch), model_outputs(second_model, batch), strict=True):
        scale = max(1.0, float(np.abs(want).max(initial=0.0)))
        difference = max(difference, float(np.abs(got - want).max(initial=0.0)) / scale)
    return difference

