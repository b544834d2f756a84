"""`shares:`: a node (or a block use) that calls another's layers again, as a Siamese network does.

Compiled models against hand-written Keras models that call one layer object
twice (parameter counts, layer counts, outputs on the same weights); the
generated code against the compiled model; and each user error at its place.
"""

from __future__ import annotations

import numpy as np
import pytest

import archspec
from archspec.errors import SpecError, flatten_errors
from archspec.graph.summary import total_params
from archspec.keras.codegen import generate_code
from tests.conftest import ROOT
from tests.keras.test_compiler import assert_same_model, random_images

SIAMESE = """archspec: 1
inputs: {a: [12, 12, 1], b: [12, 12, 1]}
nodes:
  enc_a: {op: conv2d, filters: 4, kernel: 3, activation: relu}
  enc_b: {shares: enc_a}
  flat_a: {op: flatten}
  flat_b: {op: flatten}
  diff: {op: subtract}
  out: {op: dense, units: 1, activation: sigmoid}
edges:
  - a -> enc_a -> flat_a -> diff
  - b -> enc_b -> flat_b -> diff -> out
"""

TWIN_BLOCKS = """archspec: 1
inputs: {a: [12, 12, 1], b: [12, 12, 1]}
blocks:
  enc(width): x -> c1=conv2d(${width}) -> max_pool2d -> c2=conv2d(${width * 2}) -> global_avg_pool2d -> d=dense(8)
edges:
  - a -> left=enc(4) -> diff=subtract
  - b -> right=enc(shares=left) -> diff -> out=dense(1, sigmoid)
"""


def hand_siamese(keras):
    layers = keras.layers
    a, b = keras.Input((12, 12, 1)), keras.Input((12, 12, 1))
    enc = layers.Conv2D(4, 3, padding="same", activation="relu", name="enc_a")
    diff = layers.Subtract()([layers.Flatten()(enc(a)), layers.Flatten()(enc(b))])
    return keras.Model([a, b], layers.Dense(1, activation="sigmoid", name="out")(diff))


def hand_twin_encoders(keras):
    layers = keras.layers
    a, b = keras.Input((12, 12, 1)), keras.Input((12, 12, 1))
    c1 = layers.Conv2D(4, 3, padding="same", name="left_c1")
    pool = layers.MaxPooling2D()
    c2 = layers.Conv2D(8, 3, padding="same", name="left_c2")
    gap = layers.GlobalAveragePooling2D()
    d = layers.Dense(8, name="left_d")

    def encoder(x):
        return d(gap(c2(pool(c1(x)))))

    diff = layers.Subtract()([encoder(a), encoder(b)])
    return keras.Model([a, b], layers.Dense(1, activation="sigmoid", name="out")(diff))


def pair(seed=0):
    return [random_images((12, 12, 1), seed=seed), random_images((12, 12, 1), seed=seed + 1)]


def test_a_sharing_node_calls_the_same_layer_as_the_hand_written_siamese(keras, write_spec):
    path = write_spec(SIAMESE)
    model = archspec.compile_model(path)
    hand = hand_siamese(keras)
    assert total_params(archspec.analyze(path)) == hand.count_params() == 4 * 9 + 4 + 12 * 12 * 4 + 1
    assert [layer.name for layer in model.layers if layer.weights] == ["enc_a", "out"]
    assert_same_model(model, hand, pair())


def test_a_block_use_shares_every_layer_of_another_use(keras, write_spec):
    path = write_spec(TWIN_BLOCKS)
    model = archspec.compile_model(path)
    hand = hand_twin_encoders(keras)
    assert [layer.name for layer in model.layers if layer.weights] == ["left_c1", "left_c2", "left_d", "out"]
    assert_same_model(model, hand, pair())


def test_the_long_form_of_a_shared_use_is_the_same_graph(write_spec):
    long = TWIN_BLOCKS.replace("  - b -> right=enc(shares=left)", "  - b -> right").replace(
        "edges:\n  - a", "nodes:\n  right: {shares: left}\nedges:\n  - a")
    short, written = archspec.analyze(write_spec(TWIN_BLOCKS)), archspec.analyze(write_spec(long, "long.yaml"))
    assert sorted(short.nodes(data="shares")) == sorted(written.nodes(data="shares"))
    assert ("right_c2", "left_c2") in set(short.nodes(data="shares"))


def test_training_moves_the_one_set_of_weights_both_branches_use(keras, write_spec):
    model = archspec.compile_model(write_spec(SIAMESE))
    model.compile(optimizer="sgd", loss="binary_crossentropy")
    before = model.get_layer("enc_a").get_weights()[0].copy()
    model.train_on_batch(pair(), np.ones((4, 1), "float32"))
    assert not np.allclose(before, model.get_layer("enc_a").get_weights()[0])
    assert len(model.trainable_weights) == 4


@pytest.mark.parametrize("text", [SIAMESE, TWIN_BLOCKS])
def test_generated_code_builds_the_same_model(keras, write_spec, text):
    path = write_spec(text)
    code = generate_code(path)
    assert "_layer = layers." in code
    scope: dict = {}
    exec(compile(code, "generated.py", "exec"), scope)  # the code archspec printed
    assert_same_model(scope["model"], archspec.compile_model(path), pair(3))


def test_defaults_do_not_give_a_sharing_step_parameters(write_spec):
    text = """archspec: 1
defaults: {dense: {use_bias: false}}
inputs: {a: [6], b: [6]}
edges:
  - a -> d=dense(3) -> s=add
  - b -> dense(shares=d) -> s
"""
    graph = archspec.analyze(write_spec(text))
    assert graph.nodes["dense_1"]["shares"] == "d"
    assert total_params(graph) == 18


def error(write_spec, text: str) -> SpecError:
    with pytest.raises(SpecError) as caught:
        archspec.analyze(write_spec(text))
    return flatten_errors(caught.value)[0]


def place(text: str, needle: str) -> tuple[int, int]:
    for number, line in enumerate(text.splitlines(), 1):
        if needle in line:
            return number, line.index(needle) + 1
    raise AssertionError(needle)


@pytest.mark.parametrize("node, needle, message", [
    ("{shares: enc_c}", "enc_c", "'shares' must name another node of this spec, got 'enc_c'"),
    ("{shares: enc_b}", "enc_b}", "a node cannot share its own layer"),
    ("{shares: enc_a, filters: 8}", "filters: 8}", "shares the layer of 'enc_a', so it takes its op and parameters "
     "from it, but it sets 'filters'"),
    ("{shares: enc_a, op: dense}", "dense}", "shares the layer of 'enc_a', a conv2d node, but says op: dense"),
])
def test_sharing_errors_point_at_the_key(write_spec, node, needle, message):
    text = SIAMESE.replace("{shares: enc_a}", node)
    caught = error(write_spec, text)
    assert message in caught.message
    assert (caught.line, caught.column) == place(text, needle)


def test_nodes_sharing_each_other_in_a_circle(write_spec):
    text = SIAMESE.replace("enc_a: {op: conv2d, filters: 4, kernel: 3, activation: relu}", "enc_a: {shares: enc_b}")
    caught = error(write_spec, text)
    assert "nodes share each other in a circle: enc_a -> enc_b -> enc_a" in caught.message


def test_weights_that_do_not_fit_the_sharing_node_input_are_a_shape_error(write_spec):
    text = SIAMESE.replace("b: [12, 12, 1]", "b: [12, 12, 3]")
    caught = error(write_spec, text)
    assert caught.message == ("shares the layer of 'enc_a', whose weights do not fit this node's input: 'enc_a' "
                              "gets 12x12x1 (40 weights), 'enc_b' gets 12x12x3 (112 weights)")
    assert (caught.line, caught.column) == place(text, "enc_b:")
    assert caught.node == "enc_b"


def test_a_sequence_of_another_length_can_share_a_dense_layer(write_spec):
    text = """archspec: 1
inputs: {a: [5, 6], b: [9, 6]}
nodes:
  d: {op: dense, units: 3}
  e: {shares: d}
edges: [a -> d -> global_avg_pool1d, b -> e -> pool=global_avg_pool1d -> s=add, global_avg_pool1d_1 -> s]
"""
    graph = archspec.analyze(write_spec(text))
    assert graph.nodes["e"]["shape"] == (9, 3) and total_params(graph) == 21


@pytest.mark.parametrize("op", ["prelu", "positional_embedding"])
def test_weights_sized_by_a_transposed_axis_are_a_shape_error_though_their_count_fits(write_spec, op):
    text = f"""archspec: 1
inputs: {{x: [4, 6]}}
nodes:
  b: {{shares: a}}
edges:
  - x -> a={op} -> flatten -> out=concat
  - x -> permute([2, 1]) -> b -> flatten -> out
"""
    caught = error(write_spec, text)
    assert caught.message == ("shares the layer of 'a', whose weights do not fit this node's input: its weights "
                              "are sized by axis 1 of the input, and 'a' gets 4x6, 'b' gets 6x4")
    assert caught.node == "b" and (caught.line, caught.column) == place(text, "b:")


def test_a_dense_layer_shared_across_a_transposed_input_of_equal_features_still_fits(write_spec):
    text = """archspec: 1
inputs: {x: [6, 6]}
nodes:
  b: {shares: a}
edges:
  - x -> a=dense(3) -> flatten -> out=concat
  - x -> permute([2, 1]) -> b -> flatten -> out
"""
    assert archspec.analyze(write_spec(text)).nodes["b"]["shape"] == (6, 3)


@pytest.mark.parametrize("use, needle, message", [
    ("right=enc(shares=lft)", "lft", "block use 'right' shares 'lft', which is not another block use here"),
    ("right=enc(shares=[left])", "[left]", "block use 'right' shares ['left'], which is not another block use here"),
    ("right=enc(shares=right)", "right)", "block use 'right' shares 'right', which is not another block use"),
    ("right=enc(shares=left, repeat=2)", "repeat", "so it takes its block, params and repeat from it, but it "
     "sets 'repeat'"),
    ("right=enc(8, shares=left)", "right=enc", "shares the layers of 'left', so it takes its block, params and "
     "repeat from it, but it sets 'width'"),
])
def test_block_use_sharing_errors(write_spec, use, needle, message):
    text = TWIN_BLOCKS.replace("right=enc(shares=left)", use)
    caught = error(write_spec, text)
    assert message in caught.message
    assert caught.line == place(text, needle)[0]


def test_a_block_cannot_declare_a_param_named_shares(write_spec):
    text = TWIN_BLOCKS.replace("enc(width):", "enc(width, shares=1):")
    assert "declares a param 'shares'" in error(write_spec, text).message


def test_diagrams_say_which_node_or_use_a_node_shares(tmp_path, capsys, write_spec):
    from tests.draw.test_render_fold import folded

    shown, total = folded(ROOT / "specs" / "zoo" / "siamese_cnn.yaml", tmp_path, capsys, "--fold")
    assert "shares a" in shown["b"] and "0 params" in shown["b"]
    assert "shares a" not in shown["a"] and total == "220,161"
    flat, _ = folded(write_spec(SIAMESE), tmp_path, capsys)
    assert "conv2d shares enc_a" in flat["enc_b"]


def test_diff_tells_a_shared_layer_from_an_own_one(write_spec):
    from archspec.graph.diff import diff_specs, format_diff

    own = write_spec(SIAMESE.replace("enc_b: {shares: enc_a}",
                                     "enc_b: {op: conv2d, filters: 4, kernel: 3, activation: relu}"), "own.yaml")
    text = format_diff(diff_specs(write_spec(SIAMESE), own))
    assert "~ enc_b: conv2d(shares enc_a) -> conv2d(filters=4, activation=relu)" in text
    assert "parameters: 617 -> 657 (+40)" in text


NESTED = """archspec: 1
inputs: {a: [8], b: [8]}
blocks:
  layer(w): x -> d=dense(${w}, relu)
  tower:
    - x -> l=layer(8, repeat=3) -> out=dense(4)
edges:
  - a -> t1=tower -> s=add
  - b -> t2=tower(shares=t1) -> s
"""


def test_uses_nested_in_a_shared_use_share_their_twins_copies(keras, write_spec):
    path = write_spec(NESTED)
    shares = {name: owner for name, owner in archspec.analyze(path).nodes(data="shares") if owner}
    assert shares == {"t2_l1_d": "t1_l1_d", "t2_l2_d": "t1_l2_d", "t2_l3_d": "t1_l3_d", "t2_out": "t1_out"}
    layers = keras.layers
    tower = [layers.Dense(8, activation="relu", name=f"t1_l{index}_d") for index in (1, 2, 3)]
    tower.append(layers.Dense(4, name="t1_out"))

    def run(x):
        for layer in tower:
            x = layer(x)
        return x

    a, b = keras.Input((8,)), keras.Input((8,))
    hand = keras.Model([a, b], layers.Add()([run(a), run(b)]))
    assert_same_model(archspec.compile_model(path), hand, [random_images((8,)), random_images((8,), seed=5)])


def test_a_use_sharing_a_repeated_use_shares_each_copy(write_spec):
    text = NESTED.replace("a -> t1=tower", "a -> t1=layer(8, repeat=2)").replace("t2=tower(shares=t1)",
                                                                                  "t2=layer(shares=t1)")
    graph = archspec.analyze(write_spec(text))
    assert {name: owner for name, owner in graph.nodes(data="shares") if owner} == {"t21_d": "t11_d",
                                                                                   "t22_d": "t12_d"}
    assert total_params(graph) == 2 * (8 * 8 + 8)


def test_a_use_may_share_a_use_that_shares_another(write_spec):
    text = TWIN_BLOCKS.replace("inputs: {a: [12, 12, 1], b: [12, 12, 1]}",
                               "inputs: {a: [12, 12, 1], b: [12, 12, 1], c: [12, 12, 1]}").replace(
        "  - b -> right", "  - c -> third=enc(shares=right) -> diff2=subtract\n  - left -> diff2\n  - b -> right") \
        + "outputs: [out, diff2]\n"
    graph = archspec.analyze(write_spec(text))
    assert graph.nodes["third_c2"]["shares"] == "left_c2"


@pytest.mark.slow
@pytest.mark.parametrize("backend", [pytest.param("jax", marks=pytest.mark.jax),
                                     pytest.param("torch", marks=pytest.mark.torch)])
def test_shared_layers_compute_the_same_on_jax_and_torch(backend, backend_outputs):
    """The Siamese zoo spec (and the VAE's sampling layer, whose KL term is a layer loss) on each backend."""
    reference, other = backend_outputs("tensorflow"), backend_outputs(backend)
    assert int(other["siamese_cnn/params"]) == int(reference["siamese_cnn/params"]) == 220_161
    assert int(other["vae_mnist/params"]) == 134_165
    keys = [key for key in reference if key.split("/")[0] in ("siamese_cnn", "vae_mnist")]
    assert len(keys) == 4  # each model's parameter count and its one output
    for key in keys:
        np.testing.assert_allclose(other[key], reference[key], rtol=1e-3, atol=1e-5, err_msg=key)
