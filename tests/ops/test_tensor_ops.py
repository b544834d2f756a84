"""`expr`, `take`, `slice`, `permute` and `class_token` against hand-written Keras (keras.ops on symbolic
tensors): the same parameters, the static shape, outputs with the same weights to 1e-5; codegen runs the same
model; a saved model reloads with safe_mode=True."""

from __future__ import annotations

import numpy as np
import pytest

import archspec
from archspec.graph.summary import total_params
from archspec.keras.codegen import generate_code
from tests.op_checks import assert_matches_keras

HIGHWAY = """
archspec: 1
name: highway
inputs:
  inp: {shape: [16]}
nodes:
  gate: {op: dense, units: 16, activation: sigmoid, bias_init: -2.0}
  hid:  {op: dense, units: 16, activation: relu}
  hw:   {op: expr, expr: "x * (1 - t) + h * t"}
edges:
  - inp -> gate
  - inp -> hid
  - inp -> hw
  - {from: gate, to: hw, as: t}
  - {from: hid, to: hw, as: h}
outputs: [hw]
"""

FILM = """
archspec: 1
name: film
inputs:
  image: {shape: [6, 6, 8]}
  cond: {shape: [3]}
nodes:
  gamma: {op: dense, units: 8}
  beta:  {op: dense, units: 8}
  film:  {op: expr, expr: "x * gamma + beta"}
  scale: {op: expr, expr: "0.1 * x + x"}
edges:
  - cond -> gamma
  - cond -> beta
  - image -> film -> scale
  - {from: gamma, to: film, as: gamma}
  - {from: beta, to: film, as: beta}
outputs: [scale]
"""

GLU = """
archspec: 1
name: glu
inputs:
  image: {shape: [6, 6, 2]}
nodes:
  conv: {op: conv2d, filters: 8}
  a:    {op: slice, axis: -1, stop: 4}
  b:    {op: slice, axis: -1, start: -4}
  glu:  {op: expr, expr: a * sigmoid(b)}
  ls:   {op: expr, expr: "x * gamma - mean(x, -1) / sqrt(abs(x) + 1) ** 2",
         learnable: {gamma: {shape: [4], init: 1.0e-6}}}
edges:
  - image -> conv -> a
  - conv -> b
  - {from: a, to: glu, as: a}
  - {from: b, to: glu, as: b}
  - glu -> ls
outputs: [ls]
"""


def _highway(keras):
    layers = keras.layers
    inp = keras.Input((16,), name="inp")
    t = layers.Dense(16, activation="sigmoid", name="gate")(inp)
    h = layers.Dense(16, activation="relu", name="hid")(inp)
    return keras.Model(inp, inp * (1 - t) + h * t)


def _film(keras):
    layers = keras.layers
    image, cond = keras.Input((6, 6, 8), name="image"), keras.Input((3,), name="cond")
    gamma, beta = layers.Dense(8, name="gamma")(cond), layers.Dense(8, name="beta")(cond)
    film = image * keras.ops.reshape(gamma, (-1, 1, 1, 8)) + keras.ops.reshape(beta, (-1, 1, 1, 8))  # (B, 6, 6, 8)
    return keras.Model([image, cond], 0.1 * film + film)


def _glu(keras):
    ops = keras.ops
    image = keras.Input((6, 6, 2), name="image")
    y = keras.layers.Conv2D(8, 3, padding="same", name="conv")(image)
    glu = y[..., :4] * ops.sigmoid(y[..., 4:])

    class LayerScale(keras.layers.Layer):
        def build(self, shape):
            self.gamma = self.add_weight(shape=(4,), initializer="ones")

        def call(self, x):
            return x * self.gamma - ops.mean(x, -1, keepdims=True) / ops.sqrt(ops.abs(x) + 1) ** 2

    return keras.Model(image, LayerScale(name="ls")(glu))


@pytest.mark.parametrize("text, reference", [(HIGHWAY, _highway), (FILM, _film), (GLU, _glu)],
                         ids=["highway", "film", "glu_layerscale"])
def test_expressions_match_hand_written_keras(keras, text, reference, tmp_path):
    graph = archspec.analyze(archspec.loads_spec(text))
    model = archspec.compile_model(graph)
    expected = reference(keras)
    assert model.count_params() == expected.count_params() == total_params(graph)
    rng = np.random.default_rng(0)
    for layer in expected.layers:
        if layer.weights:
            weights = [rng.normal(scale=0.5, size=w.shape).astype("float32") for w in layer.get_weights()]
            layer.set_weights(weights)
            model.get_layer(layer.name).set_weights(weights)
    batch = [rng.normal(size=(2, *tensor.shape[1:])).astype("float32") for tensor in expected.inputs]
    batch = batch if len(batch) > 1 else batch[0]
    want = np.asarray(expected(batch))
    out = graph.graph["outputs"][0]
    assert graph.nodes[out]["shape"] == tuple(want.shape[1:])
    np.testing.assert_allclose(np.asarray(model(batch)), want, atol=1e-5, rtol=1e-5)
    namespace: dict = {}
    exec(generate_code(graph), namespace)  # the printed code is the same model
    namespace["model"].set_weights(model.get_weights())
    np.testing.assert_allclose(np.asarray(namespace["model"](batch)), want, atol=1e-5, rtol=1e-5)
    model.save(tmp_path / "m.keras")
    reloaded = keras.saving.load_model(tmp_path / "m.keras", safe_mode=True)
    np.testing.assert_allclose(np.asarray(reloaded(batch)), want, atol=1e-5, rtol=1e-5)


INDEXING = [
    ("{op: take, axis: 1, index: -1}", [5, 3], lambda x: x[:, -1]),
    ("{op: take, axis: -1, index: 0}", [5, 3], lambda x: x[..., 0]),
    ("{op: take, axis: 2, index: 1}", [4, 4, 3], lambda x: x[:, :, 1]),
    ("{op: slice, axis: 1, start: 1}", [5, 3], lambda x: x[:, 1:]),
    ("{op: slice, axis: -1, start: -2, stop: 3}", [5, 3], lambda x: x[..., -2:3]),
]


@pytest.mark.parametrize("node, shape, index", INDEXING, ids=[case[0] for case in INDEXING])
def test_take_and_slice_match_indexing(keras, node, shape, index):
    assert_matches_keras(keras, node, shape, keras.layers.Lambda(index))


def test_permute_is_keras_permute(keras):
    assert_matches_keras(keras, "{op: permute, axes: [2, 1]}", [5, 3], keras.layers.Permute((2, 1)))


@pytest.mark.parametrize("index", [-1, 0, 2])
def test_take_on_a_variable_length_axis_reads_any_position(keras, index):
    """From the end or the start (BERT's pooled token 0 of a sequence of any length)."""
    x = np.arange(2 * 7 * 3, dtype="float32").reshape(2, 7, 3)
    assert_matches_keras(keras, f"{{op: take, axis: 1, index: {index}}}", [None, 3],
                         keras.layers.Lambda(lambda t: t[:, index]), inputs=x)


def test_class_token_prepends_one_learned_token(keras):
    class Reference(keras.layers.Layer):
        def build(self, shape):
            self.token = self.add_weight(shape=(1, 2, shape[-1]), initializer="zeros")

        def call(self, x):
            token = keras.ops.broadcast_to(self.token, (keras.ops.shape(x)[0], 2, x.shape[-1]))
            return keras.ops.concatenate([token, x], axis=1)

    model = assert_matches_keras(keras, "{op: class_token, tokens: 2, init: truncated_normal}", [5, 3],
                                 Reference())
    token = model.get_layer("y").get_weights()[0]
    out = np.asarray(model(np.zeros((2, 5, 3), "float32")))
    np.testing.assert_allclose(out[:, :2], np.broadcast_to(token, (2, 2, 3)))


SPLIT = """
archspec: 1
name: split
inputs:
  x: {shape: [5, 6]}
nodes:
  qkv: {op: split, axis: -1, into: [q, k, v], sizes: [2, 3, 1]}
  out: {op: expr, expr: "q * sum(k, -1) + v"}
edges:
  - x -> qkv
  - {from: qkv.q, to: out, as: q}
  - {from: qkv.k, to: out, as: k}
  - {from: qkv.v, to: out, as: v}
outputs: [out]
"""


def test_split_outputs_are_addressed_by_name(keras):
    graph = archspec.analyze(archspec.loads_spec(SPLIT))
    assert [graph.nodes[name]["shape"] for name in ("qkv", "qkv.q", "qkv.k", "qkv.v", "out")] == [
        (5, 6), (5, 2), (5, 3), (5, 1), (5, 2)]
    model = archspec.compile_model(graph)
    x = np.random.default_rng(0).normal(size=(2, 5, 6)).astype("float32")
    q, k, v = x[..., :2], x[..., 2:5], x[..., 5:]
    np.testing.assert_allclose(np.asarray(model(x)), q * k.sum(-1, keepdims=True) + v, atol=1e-5)
    namespace: dict = {}
    exec(generate_code(graph), namespace)
    np.testing.assert_allclose(np.asarray(namespace["model"](x)), np.asarray(model(x)), atol=1e-6)


def test_gelu_means_the_exact_gelu_everywhere_and_gelu_tanh_the_approximation(keras):
    text = ("archspec: 1\nname: g\ninputs: {x: [64]}\nnodes:\n  exact: {op: expr, expr: gelu(x)}\n"
            "  approx: {op: expr, expr: gelu_tanh(x)}\n  act: {op: activation, activation: gelu}\n"
            "edges: [x -> exact, x -> approx, x -> act]\noutputs: [exact, approx, act]\n")
    model = archspec.compile_model(archspec.loads_spec(text))
    x = np.linspace(-4, 4, 128, dtype="float32").reshape(2, 64)
    exact, approx, act = (np.asarray(y) for y in model(x))
    np.testing.assert_allclose(exact, act, atol=1e-7)
    np.testing.assert_allclose(exact, np.asarray(keras.activations.gelu(x, approximate=False)), atol=1e-7)
    np.testing.assert_allclose(approx, np.asarray(keras.activations.gelu(x, approximate=True)), atol=1e-7)
    assert np.abs(exact - approx).max() > 1e-4  # the two spellings are two functions


def test_permute_axes_counted_from_0_are_refused_with_the_same_order_counted_from_1(write_spec):
    path = write_spec("archspec: 1\nname: t\ninputs: {x: [3, 4]}\nedges:\n  - x -> permute([1, 0])\n")
    with pytest.raises(archspec.SpecError) as raised:
        archspec.analyze(path)
    assert str(raised.value) == (f"{path}:5:18: node 'permute_1': invalid value for 'axes': permute's axes count "
                                 "from 1 (axis 0 is the batch, which stays first): write [2, 1]\n  got:      [1, 0]")
