"""The second half of `archspec same --outputs`: two matched specs compute the same outputs on shared weights.

The first spec's model gets, layer by layer, the weights of the second's
node it was matched with (archspec.graph.matching), and both run on the same
random batch (the importer's check, archspec.keras.importer.verify, does the same).
"""

from __future__ import annotations

import networkx as nx

from archspec.keras.compiler import compile_model
from archspec.keras.equivalence import max_difference, sample_inputs
from archspec.keras.importer.verify import copy_weights, model_outputs


def outputs_difference(first: nx.MultiDiGraph, second: nx.MultiDiGraph, mapping: dict[str, str],
                       *, seed: int = 0) -> float:
    """The largest difference of the two models' outputs on shared weights (equivalence's rule and
    inputs, as export and import are checked: compare it with equivalence.TOLERANCE)."""
    first_model, second_model = compile_model(first), compile_model(second)
    copy_weights(first_model, {layer.name: second_model.get_layer(mapping[layer.name])
                               for layer in first_model.layers if layer.weights})
    batch = sample_inputs(second_model, seed=seed, batch=2, floats="normal")
    return max_difference(model_outputs(first_model, batch), model_outputs(second_model, batch))
