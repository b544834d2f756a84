"""A layer's activation given as a function, not a Keras name (keras-hub's FNet: `gelu_approximate`): the
layer imports without it and a node after it computes the function, found by its values; a function equal
to no activation is refused, named; a model of dicts of inputs and outputs is checked by name."""

from __future__ import annotations

import numpy as np
import pytest
import yaml

from archspec.keras.importer import KerasImportError, import_and_rebuild


def _dense_model(keras, activation):
    vector = keras.Input((6,), name="v")
    return keras.Model(vector, keras.layers.Dense(4, activation=activation, name="hidden")(vector))


@pytest.mark.parametrize(("function", "node"), [
    (lambda keras: lambda x: keras.activations.gelu(x, approximate=True), {"op": "expr", "expr": "gelu_tanh(x)"}),
    (lambda keras: lambda x: keras.ops.maximum(x, 0.0), {"op": "activation", "activation": "relu"}),
])
def test_a_function_activation_is_a_node_after_its_layer(keras, function, node):
    model = _dense_model(keras, function(keras))
    text, rebuilt = import_and_rebuild(model)
    assert yaml.safe_load(text)["nodes"] == {"hidden": {"op": "dense", "units": 4}, "hidden_activation": node}
    assert text.split("edges:\n", 1)[1] in ("  - v -> hidden -> hidden_activation\n\noutputs: [hidden_activation]\n",
                                            "  - v -> hidden\n  - hidden -> hidden_activation\n\n"
                                            "outputs: [hidden_activation]\n")  # an expr's edges come last
    batch = np.random.default_rng(0).normal(size=(2, 6)).astype("float32")
    assert np.abs(np.asarray(rebuilt(batch)) - np.asarray(model(batch))).max() < 1e-6


def test_a_function_activation_equal_to_no_activation_is_refused_named(keras):
    def half_leaky(x):
        return keras.ops.where(x > 0, x, 0.5 * x)

    with pytest.raises(KerasImportError) as raised:
        import_and_rebuild(_dense_model(keras, half_leaky))
    message = str(raised.value)
    assert message.startswith("layer 'hidden' (Dense) has the activation function ")
    assert "half_leaky" in message.splitlines()[0]
    assert message.splitlines()[0].endswith("which equals no activation and no element-wise expression function")


def test_a_recurrent_layers_function_activation_is_still_refused(keras):
    """Its activation is inside its steps: no node after it could compute it."""
    def scaled_tanh(x):
        return keras.ops.tanh(x) * 0.5

    sequence = keras.Input((5, 3), name="seq")
    model = keras.Model(sequence, keras.layers.SimpleRNN(4, activation=scaled_tanh, name="rnn")(sequence))
    with pytest.raises(KerasImportError) as raised:
        import_and_rebuild(model)
    assert "activation='function' is not supported" in str(raised.value)


def test_a_model_of_dicts_of_inputs_and_outputs_is_checked_by_name(keras):
    """Keras lists a dict's entries by sorted key (model.inputs, model.outputs): the check feeds the inputs by
    name and reads the outputs in that order (FNet's sequence_output and pooled_output)."""
    tokens = keras.Input((None,), dtype="int32", name="token_ids")
    segments = keras.Input((None,), dtype="int32", name="segment_ids")
    summed = keras.layers.Add(name="sum")([keras.layers.Embedding(9, 4, name="tok")(tokens),
                                           keras.layers.Embedding(2, 4, name="seg")(segments)])
    pooled = keras.layers.GlobalAveragePooling1D(name="pool")(summed)
    model = keras.Model({"token_ids": tokens, "segment_ids": segments}, {"sequence": summed, "pooled": pooled})
    text, rebuilt = import_and_rebuild(model)
    assert yaml.safe_load(text)["outputs"] == ["pool", "sum"]  # pooled < sequence
    batch = {"token_ids": np.array([[1, 5, 8]], "int32"), "segment_ids": np.array([[0, 1, 1]], "int32")}
    want, got = model(batch), rebuilt(batch)
    assert np.abs(np.asarray(got[1]) - np.asarray(want["sequence"])).max() < 1e-6
    assert np.abs(np.asarray(got[0]) - np.asarray(want["pooled"])).max() < 1e-6
