"""Broadcasting in element-wise merges and gate edges, and the gate activations (issue 11).

Compiled specs against hand-written Keras with the weights copied by layer
name; wrong broadcasts against their exact location and fields.
"""

from __future__ import annotations

import numpy as np
import pytest

import archspec
from archspec.errors import ArchspecError, ShapeError, flatten_errors
from archspec.graph.shapes import analyze
from archspec.keras.lowering import lower_graph
from archspec.spec.frontend import loads_spec

SE_BLOCK = """\
archspec: 1
name: se_block
inputs:
  x: {shape: [28, 28, 3]}
nodes:
  conv:    {op: conv2d, filters: 32, kernel: 3, padding: same, activation: relu}
  squeeze: {op: global_avg_pool2d}                 # 32
  shaped:  {op: reshape, shape: [1, 1, 32]}         # 1x1x32
  reduce:  {op: dense, units: 8, activation: relu}  # 1x1x8
  excite:  {op: dense, units: 32}                   # 1x1x32 logits
  scaled:  {op: conv2d, filters: 16, kernel: 1}     # sees conv * sigmoid(excite): 28x28x32
edges:
  - x -> conv -> squeeze -> shaped -> reduce -> excite
  - conv -> scaled
  - {from: excite, to: scaled, kind: gate}
outputs: [scaled]
"""


def se_reference(keras):
    """Squeeze-and-excitation as written by hand in Keras (Hu et al. 2018), then a 1x1 conv."""
    layers = keras.layers
    x = keras.Input((28, 28, 3), name="x")
    conv = layers.Conv2D(32, 3, padding="same", activation="relu", name="conv")(x)
    squeeze = layers.GlobalAveragePooling2D(name="squeeze")(conv)
    shaped = layers.Reshape((1, 1, 32), name="shaped")(squeeze)
    excite = layers.Dense(32, name="excite")(layers.Dense(8, activation="relu", name="reduce")(shaped))
    gated = layers.Multiply()([conv, layers.Activation("sigmoid")(excite)])
    return keras.Model(x, layers.Conv2D(16, 1, name="scaled")(gated))


def assert_same_model(ours, reference, inputs) -> None:
    """Equal parameter counts, then equal outputs once the reference's weights are copied by name."""
    assert ours.count_params() == reference.count_params()
    for layer in reference.layers:
        if layer.weights:
            ours.get_layer(layer.name).set_weights(layer.get_weights())
    np.testing.assert_allclose(np.asarray(ours(inputs)), np.asarray(reference(inputs)), rtol=1e-5, atol=1e-5)


def test_squeeze_excitation_broadcasts_1x1xC_over_the_map(keras):
    graph = analyze(loads_spec(SE_BLOCK))
    assert graph.nodes["scaled"]["input_shape"] == (28, 28, 32)
    x = np.random.default_rng(0).normal(size=(2, 28, 28, 3)).astype("float32")
    assert_same_model(archspec.compile_model(graph), se_reference(keras), x)


def test_squeeze_excitation_without_the_reshape_broadcasts_a_vector(keras):
    """The excitation as a plain C-vector: numpy aligns it with the channels, as Keras's Multiply does."""
    text = SE_BLOCK.replace("squeeze -> shaped -> reduce", "squeeze -> reduce").replace(
        "  shaped:  {op: reshape, shape: [1, 1, 32]}         # 1x1x32\n", "")
    graph = analyze(loads_spec(text))
    assert graph.nodes["excite"]["shape"] == (32,) and graph.nodes["scaled"]["input_shape"] == (28, 28, 32)
    x = np.random.default_rng(1).normal(size=(2, 28, 28, 3)).astype("float32")
    assert_same_model(archspec.compile_model(graph), se_reference(keras), x)


SPATIAL = """\
archspec: 1
name: spatial_gate
inputs:
  x: {shape: [12, 12, 8]}
nodes:
  feat: {op: conv2d, filters: 8, kernel: 3, padding: same}
  attn: {op: conv2d, filters: 1, kernel: 7, padding: same}   # 12x12x1 attention map
  out:  {op: identity}
edges:
  - x -> feat -> out
  - feat -> attn
  - {from: attn, to: out, kind: gate, activation: ACT}
outputs: [out]
"""
ACTIVATIONS = {
    "sigmoid": lambda g: 1 / (1 + np.exp(-g)),
    "hard_sigmoid": lambda g: np.clip(g / 6 + 0.5, 0, 1),
    "tanh": np.tanh,
    "none": lambda g: g,
}


@pytest.mark.parametrize("activation", sorted(ACTIVATIONS))
def test_a_one_channel_map_gates_every_channel_with_its_activation(keras, activation):
    model = archspec.compile_model(loads_spec(SPATIAL.replace("ACT", activation)))
    x = np.random.default_rng(2).normal(size=(2, 12, 12, 8)).astype("float32")
    feat, attn = (np.asarray(model.get_layer(name)(layer_input))
                  for name, layer_input in (("feat", x), ("attn", model.get_layer("feat")(x))))
    np.testing.assert_allclose(np.asarray(model(x)), feat * ACTIVATIONS[activation](attn), rtol=1e-5, atol=1e-5)
    named = {layer.name: type(layer).__name__ for layer in model.layers}
    assert named["out.gate"] == "Multiply"
    assert (f"out.gate_{activation}" in named) == (activation != "none")


def test_gate_without_activation_keeps_todays_layers():
    graph = analyze(loads_spec(SPATIAL.replace(", activation: ACT", "")))
    steps, _ = lower_graph(graph)
    assert [(s.var, s.call.cls, s.call.kwargs) for s in steps if s.var.startswith("out.")] == [
        ("out.gate_sigmoid", "Activation", {"activation": "sigmoid"}), ("out.gate", "Multiply", {})]


def test_multiply_and_add_ops_broadcast(keras):
    text = """\
archspec: 1
name: film
inputs:
  x: {shape: [6, 6, 4]}
  z: {shape: [3]}
nodes:
  gamma: {op: dense, units: 4}
  beta:  {op: dense, units: 4}
  scale: {op: multiply}
  shift: {op: add}
edges:
  - z -> gamma -> scale
  - x -> scale -> shift
  - z -> beta -> shift
outputs: [shift]
"""
    model = archspec.compile_model(loads_spec(text))
    rng = np.random.default_rng(3)
    x, z = rng.normal(size=(2, 6, 6, 4)).astype("float32"), rng.normal(size=(2, 3)).astype("float32")
    gamma, beta = np.asarray(model.get_layer("gamma")(z)), np.asarray(model.get_layer("beta")(z))
    expected = x * gamma[:, None, None, :] + beta[:, None, None, :]
    np.testing.assert_allclose(np.asarray(model([x, z])), expected, rtol=1e-5, atol=1e-5)
    assert model.output.shape[1:] == (6, 6, 4)


BAD = """\
archspec: 1
name: bad
inputs:
  x: {shape: [28, 28, 32]}
nodes:
  pool: {op: global_avg_pool2d}
  exc:  {op: dense, units: 16}
  out:  {op: identity}
edges:
  - x -> out
  - x -> pool -> exc
  - {from: exc, to: out, kind: gate}
outputs: [out]
"""


def error_of(text: str) -> ShapeError:
    with pytest.raises(ArchspecError) as raised:
        analyze(loads_spec(text, "bad.yaml"))
    [error] = flatten_errors(raised.value)
    assert isinstance(error, ShapeError)
    return error


def test_wrong_broadcast_names_both_shapes_the_axis_and_the_fix():
    error = error_of(BAD)
    assert (error.location.line, error.location.column) == (12, 5)
    assert (error.node, error.edge) == ("out", "gate exc -> out")
    assert error.message == (
        "exc is 16 but out's main input (x) is 28x28x32; sigmoid gate inputs do not broadcast: the "
        "channels axis is 32 in 'x' but 16 in 'exc' (sizes must be equal, or one of them 1)")
    assert (error.expected, error.got) == ("28x28x32 from 'x'", "16 from 'exc'")
    assert error.hint == ("make 'exc' produce 32 features (one gate each) or 1 (one for all), "
                          "e.g. a dense layer with units: 32")


def test_a_gate_without_activation_that_fails_before_its_features_gets_a_hint_for_those_axes(write_spec):
    path = write_spec("archspec: 1\nname: t\ninputs: {x: [4, 4, 1], c: [5, 4, 1]}\nnodes:\n  m: {op: dense, units: 3}\n"
                      "edges:\n  - c -> m\n  - x -> y=conv2d(1)\n  - {from: m, to: y, kind: gate, activation: none}\n")
    with pytest.raises(ArchspecError) as raised:
        archspec.analyze(path)
    [error] = flatten_errors(raised.value)
    assert error.message == ("m is 5x4x3 but y's main input (x) is 4x4x1; gate inputs do not broadcast: the height "
                             "axis is 4 in 'x' but 5 in 'm' (sizes must be equal, or one of them 1)")
    assert error.hint == ("make 'm' 4x4 before its features, as 'x' is, or 1 there (one gate for every position, "
                          "e.g. after a global pooling)")


def test_a_broadcast_that_stretches_both_sides_is_refused():
    text = BAD.replace("[28, 28, 32]", "[28, 28, 1]").replace("exc:  {op: dense, units: 16}",
                                                               "exc:  {op: dense, units: 5}")
    text = text.replace("kind: gate}", "kind: add-residual}")
    error = error_of(text)
    assert (error.location.line, error.edge) == (12, "add-residual exc -> out")
    assert error.message.endswith("add-residual inputs would broadcast to 28x28x5, larger than each of them")
    assert error.got == "28x28x1 from 'x', 5 from 'exc'"


def test_merge_op_broadcast_error_is_located_at_the_node():
    text = BAD.replace("out:  {op: identity}", "out:  {op: multiply}").replace(
        "  - {from: exc, to: out, kind: gate}\n", "  - exc -> out\n")
    error = error_of(text)
    assert (error.location.line, error.node, error.edge) == (8, "out", None)
    assert error.message == ("multiply inputs do not broadcast: the channels axis is 32 in 'x' but 16 in "
                             "'exc' (sizes must be equal, or one of them 1)")


def test_softmax_gate_logits_broadcast_over_positions(keras):
    """One mixture per example (1x1xk logits) for two whole feature maps: selective-kernel style."""
    text = """\
archspec: 1
name: mix_maps
inputs:
  x: {shape: [6, 6, 3]}
nodes:
  a:      {op: conv2d, filters: 4, kernel: 3, padding: same}
  b:      {op: conv2d, filters: 4, kernel: 1}
  pool:   {op: global_avg_pool2d}
  logits: {op: dense, units: 2}
  router: {op: reshape, shape: [1, 1, 2]}
  out:    {op: identity}
edges:
  - x -> a -> out
  - x -> b -> out
  - x -> pool -> logits -> router
  - {from: router, to: out, kind: gate}
outputs: [out]
"""
    model = archspec.compile_model(loads_spec(text))
    x = np.random.default_rng(4).normal(size=(2, 6, 6, 3)).astype("float32")
    a, b = (np.asarray(model.get_layer(name)(x)) for name in ("a", "b"))
    logits = np.asarray(model.get_layer("logits")(model.get_layer("pool")(x)))
    weights = np.exp(logits) / np.exp(logits).sum(-1, keepdims=True)
    expected = a * weights[:, None, None, 0:1] + b * weights[:, None, None, 1:2]
    np.testing.assert_allclose(np.asarray(model(x)), expected, rtol=1e-5, atol=1e-5)


def test_softmax_gate_logits_must_end_in_one_per_input():
    text = BAD.replace("exc:  {op: dense, units: 16}", "exc:  {op: dense, units: 3}").replace(
        "  - x -> out\n", "  - x -> out\n  - x -> out2\n").replace(
        "  out:  {op: identity}\n", "  out:  {op: identity}\n  out2: {op: identity}\n")
    text = text.replace("  - x -> out2\n", "  - x -> out2 -> out\n")
    error = error_of(text)
    assert error.edge == "gate exc -> out"
    assert error.message == "a softmax gate over 2 inputs needs one logit per input"
    assert error.expected == "28x28x2 (one weight for each of 'x', 'out2')"
