"""Every spec in specs/ validates, compiles, and agrees with Keras on every shape and parameter."""

from __future__ import annotations

import pytest

import archspec
from archspec.graph.summary import node_params, total_params
from tests.conftest import SPECS

FAST_SPECS = [path for path in SPECS if path.stem != "resnet50"]


@pytest.mark.parametrize("path", SPECS, ids=lambda p: p.stem)
def test_spec_validates(path):
    graph = archspec.analyze(path)
    assert graph.graph["outputs"]
    assert all("shape" in data for _, data in graph.nodes(data=True))


@pytest.mark.parametrize("path", FAST_SPECS, ids=lambda p: p.stem)
def test_inferred_shapes_and_params_agree_with_keras(path, keras):
    graph = archspec.analyze(path)
    model = archspec.compile_model(graph)
    assert model.count_params() == total_params(graph)
    layer_names = {layer.name for layer in model.layers}
    for name, data in graph.nodes(data=True):
        if name not in layer_names:  # a junction (gate op) has no layer of its own
            assert data["op"] == "gate"
            continue
        layer = model.get_layer(name)
        assert tuple(layer.output.shape[1:]) == data["shape"], name
        assert layer.count_params() == node_params(graph, name), name


@pytest.mark.parametrize("path", SPECS, ids=lambda p: p.stem)
def test_spec_has_header_comment(path):
    assert path.read_text().startswith("# "), "each spec starts with a comment saying what it shows"
