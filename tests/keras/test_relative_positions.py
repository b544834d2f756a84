"""`relative_positions`: DeBERTa's learned table of relative-position vectors, against numpy and keras-hub."""

from __future__ import annotations

import numpy as np
import pytest

import archspec

SPEC = """\
archspec: 1
name: relative
inputs:
  tokens: {shape: [null], dtype: int32}
nodes:
  table: {op: relative_positions, buckets: 3, features: 4}
  norm: {op: layer_norm}
edges:
  - tokens -> table -> norm
outputs: [norm]
"""


def test_relative_positions_is_one_table_per_example_whatever_the_input(keras, write_spec):
    model = archspec.compile_model(write_spec(SPEC))
    assert model.count_params() == 2 * 3 * 4 + 2 * 4  # the table, then the layer norm's gamma and beta
    table = np.random.default_rng(0).normal(size=(6, 4)).astype("float32")
    model.get_layer("table").set_weights([table])
    out = np.asarray(model(np.zeros((2, 5), "int32")))
    normed = (table - table.mean(-1, keepdims=True)) / np.sqrt(table.var(-1, keepdims=True) + 1e-3)
    assert out.shape == (2, 6, 4)
    np.testing.assert_allclose(out, np.broadcast_to(normed, (2, 6, 4)), atol=1e-5)


def test_relative_positions_shape_and_weights_are_static(write_spec):
    from archspec.graph.ir import node_of

    graph = archspec.analyze(write_spec(SPEC))
    table = node_of(graph, "table")
    assert table.shape == (6, 4) and table.weight_count() == 24


@pytest.mark.parametrize("line, message", [
    ("buckets: 0, features: 4", "spec.yaml:6:44: node 'table': invalid value for 'buckets'"),
    ("buckets: 3", "spec.yaml:6:"),
])
def test_bad_relative_positions_values_are_located(write_spec, line, message):
    from archspec.errors import SpecError

    with pytest.raises(SpecError) as caught:
        archspec.analyze(write_spec(SPEC.replace("buckets: 3, features: 4", line)))
    assert message in str(caught.value) and ("features" in str(caught.value) or "buckets" in message)


def test_keras_hubs_relative_embedding_imports_as_its_table_and_its_layer_norm(keras):
    keras_hub = pytest.importorskip("keras_hub")
    from keras_hub.src.models.deberta_v3.relative_embedding import RelativeEmbedding

    from archspec.keras.importer import import_and_rebuild

    tokens = keras.Input((None,), dtype="int32", name="tokens")
    embedded = keras.layers.Embedding(20, 8, name="embed")(tokens)
    relative = RelativeEmbedding(hidden_dim=8, bucket_size=3, layer_norm_epsilon=1e-7, name="rel_embedding")
    model = keras.Model(tokens, relative(embedded))
    rng = np.random.default_rng(1)
    model.set_weights([rng.normal(size=weight.shape).astype("float32") for weight in model.get_weights()])
    text, rebuilt = import_and_rebuild(model)
    assert "op: relative_positions" in text and "buckets: 3" in text and "features: 8" in text
    assert "epsilon: 1.0e-07" in text
    assert rebuilt.count_params() == model.count_params() == 20 * 8 + 6 * 8 + 2 * 8
    batch = rng.integers(0, 20, size=(2, 5)).astype("int32")
    np.testing.assert_allclose(np.asarray(rebuilt(batch)), np.asarray(model(batch)), atol=1e-5)
    del keras_hub
