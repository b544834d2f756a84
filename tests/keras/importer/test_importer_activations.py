"""A layer whose activation is a Python function Keras has no name for (importer.activations) imports as
the layer without activation, then the function traced into nodes `LAYER_OP`; an activation Keras names
imports as before, and a function that cannot be traced is one message naming the layer and function."""

from __future__ import annotations

import functools
import inspect

import numpy as np
import pytest

from archspec.keras.importer import KerasImportError, import_and_rebuild, import_model


def scaled_tanh(x):
    """A named def: two keras.ops calls."""
    from keras import ops

    return ops.tanh(x) * 1.5


def branchy(x):
    """Python control flow on a tensor's values: no trace can record it."""
    from keras import ops

    if ops.sum(x) > 0:
        return x
    return -x


def erf_gate(x):
    """keras.ops.erf has no spec form."""
    from keras import ops

    return x * ops.erf(x)


def _nodes(text):
    return text.split("nodes:\n", 1)[1].split("\n\n")[0]


def _same_model(model, text, rebuilt, shape):
    """The import's spec holds the model: parameters equal, each weighted layer's weights copied by name,
    the same outputs on one input."""
    assert rebuilt.count_params() == model.count_params()
    for layer in (layer for layer in model.layers if layer.weights):
        for mine, theirs in zip(rebuilt.get_layer(layer.name).get_weights(), layer.get_weights()):
            assert np.array_equal(mine, theirs)
    batch = np.random.default_rng(0).normal(size=(2, *shape)).astype("float32")
    assert np.abs(np.asarray(rebuilt(batch)) - np.asarray(model(batch))).max() < 1e-6


def test_keras_hubs_gelu_approximate_is_the_dense_then_gelu_tanh(keras):
    keras_utils = pytest.importorskip("keras_hub.src.utils.keras_utils")  # the hub extra
    vector = keras.Input((6,), name="v")
    hidden = keras.layers.Dense(5, activation=keras_utils.gelu_approximate, name="ff")(vector)
    model = keras.Model(vector, keras.layers.Dense(3, name="out")(hidden))
    text, rebuilt = import_and_rebuild(model)
    assert _nodes(text) == ('  ff:      {op: dense, units: 5}\n'
                            '  ff_gelu: {op: expr, expr: "gelu_tanh(x)"}\n'
                            '  out:     {op: dense, units: 3}')
    _same_model(model, text, rebuilt, (6,))


def test_a_lambda_is_traced_into_its_ops(keras):
    ops = keras.ops
    vector = keras.Input((6,), name="v")
    hidden = keras.layers.Dense(4, activation=lambda x: x * ops.sigmoid(x), name="swishy")(vector)
    model = keras.Model(vector, keras.layers.Dense(2, name="out")(hidden))
    text, rebuilt = import_and_rebuild(model)
    assert _nodes(text) == ("  swishy: {op: dense, units: 4}\n"
                            "  out:    {op: dense, units: 2}")
    assert "  - {from: swishy, to: out, kind: gate, activation: sigmoid}\n" in text  # x * sigmoid(x), folded
    _same_model(model, text, rebuilt, (6,))


def test_a_conv_with_a_named_function_keeps_its_weights_and_names_the_traced_nodes(keras):
    image = keras.Input((8, 8, 3), name="img")
    hidden = keras.layers.Conv2D(4, 3, activation=scaled_tanh, name="conv")(image)
    model = keras.Model(image, keras.layers.Conv2D(2, 1, name="head")(hidden))
    text, rebuilt = import_and_rebuild(model)
    assert _nodes(text) == ('  conv:          {op: conv2d, filters: 4, padding: valid}\n'
                            '  conv_tanh:     {op: activation, activation: tanh}\n'
                            '  conv_multiply: {op: expr, expr: "x * 1.5"}\n'
                            '  head:          {op: conv2d, filters: 2, kernel: 1, padding: valid}')
    _same_model(model, text, rebuilt, (8, 8, 3))


def test_a_partial_and_an_activation_layer_holding_a_function(keras):
    vector = keras.Input((6,), name="v")
    approximate = functools.partial(keras.activations.gelu, approximate=True)  # Keras cannot even serialise it
    hidden = keras.layers.Dense(4, activation=approximate, name="ff")(vector)
    model = keras.Model(vector, keras.layers.Activation(scaled_tanh, name="act")(hidden))
    text, rebuilt = import_and_rebuild(model)
    assert _nodes(text) == ('  ff:           {op: dense, units: 4}\n'
                            '  ff_gelu:      {op: expr, expr: "gelu_tanh(x)"}\n'
                            '  act_tanh:     {op: activation, activation: tanh}\n'
                            '  act_multiply: {op: expr, expr: "x * 1.5"}')  # the Activation layer: its function
    _same_model(model, text, rebuilt, (6,))


def test_a_function_keras_names_imports_as_that_activation_as_before(keras):
    vector = keras.Input((6,), name="v")
    hidden = keras.layers.Dense(4, activation=keras.ops.relu, name="first")(vector)  # serialised as "relu"
    hidden = keras.layers.Dense(4, activation=keras.activations.gelu, name="second")(hidden)
    model = keras.Model(vector, keras.layers.Dense(2, activation=keras.ops.silu, name="third")(hidden))
    assert _nodes(import_model(model)) == ("  first:  {op: dense, units: 4, activation: relu}\n"
                                           "  second: {op: dense, units: 4, activation: gelu}\n"
                                           "  third:  {op: dense, units: 2, activation: silu}")


def test_keras_ops_gelu_as_an_activation_is_traced_since_it_approximates_where_gelu_does_not(keras):
    vector = keras.Input((6,), name="v")
    model = keras.Model(vector, keras.layers.Dense(64, activation=keras.ops.gelu, name="ff")(vector))
    assert model.get_layer("ff").get_config()["activation"] == "gelu"  # what Keras would reload: exact
    text, rebuilt = import_and_rebuild(model)  # imported as `activation: gelu` it differed by 1e-4
    assert _nodes(text) == ('  ff:      {op: dense, units: 64}\n'
                            '  ff_gelu: {op: expr, expr: "gelu_tanh(x)"}')
    _same_model(model, text, rebuilt, (6,))


def test_keras_ops_gelu_between_layers_is_exact_or_tanh_as_called(keras):
    vector = keras.Input((6,), name="v")
    hidden = keras.ops.gelu(keras.layers.Dense(4, name="first")(vector))  # approximate=True by default
    model = keras.Model(vector, keras.ops.gelu(hidden, approximate=False))
    assert _nodes(import_model(model)) == ('  first:  {op: dense, units: 4}\n'
                                           '  gelu:   {op: expr, expr: "gelu_tanh(x)"}\n'
                                           '  gelu_1: {op: activation, activation: gelu}')


def test_a_function_with_python_control_flow_is_one_message_naming_layer_function_and_line(keras):
    vector = keras.Input((6,), name="v")
    model = keras.Model(vector, keras.layers.Dense(4, activation=branchy, name="ff")(vector))
    with pytest.raises(KerasImportError) as raised:
        import_model(model)
    lines, start = inspect.getsourcelines(branchy)
    line = start + next(index for index, text in enumerate(lines) if "if ops.sum" in text)
    message = str(raised.value)
    assert message.startswith(f"layer 'ff' (Dense) has activation {__name__}.branchy, a Python function Keras "
                              f"has no name for, and tracing it stopped at {__file__}:{line}: `if ops.sum(x) > 0:`: ")
    assert message.endswith("\n  hint: write it with keras.ops only (no Python branch on a tensor's values), "
                            "or give the layer an activation Keras names (keras.activations)")


def test_a_function_using_an_op_with_no_spec_form_names_the_op(keras):
    image = keras.Input((4, 4, 2), name="img")
    model = keras.Model(image, keras.layers.Conv2D(3, 1, activation=erf_gate, name="conv")(image))
    with pytest.raises(KerasImportError) as raised:
        import_model(model)
    assert str(raised.value).startswith(
        f"layer 'conv' (Conv2D) has activation {__name__}.erf_gate, a Python function Keras has no name for, "
        "and a part of its trace has no spec form: operation 'erf' (keras.ops Erf(conv)) has no archspec op")


def test_a_recurrent_layers_function_acts_inside_its_steps_and_stays_refused(keras):
    sequence = keras.Input((5, 3), name="seq")
    model = keras.Model(sequence, keras.layers.SimpleRNN(4, activation=scaled_tanh, name="rnn")(sequence))
    with pytest.raises(KerasImportError) as raised:
        import_model(model)
    assert str(raised.value) == ("layer 'rnn' (SimpleRNN) cannot be written as op simple_rnn: "
                                 "activation='function' is not supported")
