"""Checks every op test uses: a one-op spec against the hand-written Keras layer, its import, its errors."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml

import archspec
from archspec.catalogue.ops import OPS
from archspec.errors import ArchspecError
from archspec.graph.summary import node_params
from archspec.keras.importer import import_model


def one_op_spec(node: str, shape: list[int | None], dtype: str = "float32") -> str:
    """A spec of one input `x` and one node `y: NODE` (on line 7, column 3) as its output."""
    return (f"archspec: 1\nname: one_op\ninputs:\n  x: {{shape: {json.dumps(shape)}, dtype: {dtype}}}\n"
            f"nodes:\n  # the op under test\n  y: {node}\nedges:\n  - x -> y\noutputs: [y]\n")


def compile_one(node: str, shape: list[int | None], dtype: str = "float32") -> tuple[Any, Any]:
    """The analysed graph and the compiled model of a one-op spec."""
    graph = archspec.analyze(archspec.loads_spec(one_op_spec(node, shape, dtype)))
    return graph, archspec.compile_model(graph)


def assert_matches_keras(keras: Any, node: str, shape: list[int | None], reference: Any,
                         dtype: str = "float32", inputs: np.ndarray | None = None) -> Any:
    """The node compiles to `reference` (a Keras layer): same parameter count, static shape and outputs
    with the same weights (1e-5); returns the compiled model."""
    graph, model = compile_one(node, shape, dtype)
    layer = model.get_layer("y")
    source = keras.Input(shape=tuple(shape), dtype=dtype)
    expected = keras.Model(source, reference(source))
    assert layer.count_params() == reference.count_params() == node_params(graph, "y")
    assert graph.nodes["y"]["shape"] == tuple(layer.output.shape[1:]) == tuple(expected.output.shape[1:])
    reference.set_weights(_varied(layer.get_weights()))
    layer.set_weights(reference.get_weights())
    if inputs is None:
        sizes = [size or 5 for size in shape]
        inputs = np.random.default_rng(0).normal(size=(2, *sizes)).astype(dtype)
    got, want = np.asarray(model(inputs)), np.asarray(expected(inputs))
    assert got.shape == want.shape
    assert np.abs(got - want).max() < 1e-5
    return model


def _varied(weights: list[np.ndarray]) -> list[np.ndarray]:
    """Random weights, so a wrongly wired layer cannot agree by its initial zeros and ones."""
    rng = np.random.default_rng(1)
    return [rng.normal(scale=0.5, size=w.shape).astype(w.dtype) for w in weights]


def assert_round_trips(keras: Any, node: str, shape: list[int | None], tmp_path: Path,
                       dtype: str = "float32", expected: dict | None = None) -> None:
    """compile -> save .keras -> reload -> import writes the same node (or `expected`) back."""
    _, model = compile_one(node, shape, dtype)
    path = tmp_path / "one_op.keras"
    model.save(path)
    reloaded = keras.saving.load_model(path)
    text = import_model(reloaded)
    written = yaml.safe_load(text)["nodes"]["y"]
    wanted = expected if expected is not None else yaml.safe_load(node)
    assert written["op"] == wanted["op"], text
    params = OPS[wanted["op"]].Params
    assert params.model_validate(_without_op(written)) == params.model_validate(_without_op(wanted)), text
    rebuilt = archspec.compile_model(archspec.loads_spec(text))
    assert rebuilt.count_params() == model.count_params()


def _without_op(node: dict) -> dict:
    return {key: value for key, value in node.items() if key != "op"}


def located_error(tmp_path: Path, node: str, shape: list[int | None], dtype: str = "float32") -> str:
    """The one error `validate` reports for the one-op spec, which must point at node y's line."""
    path = tmp_path / "spec.yaml"
    path.write_text(one_op_spec(node, shape, dtype))
    with pytest.raises(ArchspecError) as caught:
        archspec.analyze(path)
    message = str(caught.value)
    assert message.startswith(f"{path}:7:"), message
    assert "node 'y'" in message.splitlines()[0]
    return message
