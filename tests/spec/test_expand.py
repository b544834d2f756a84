"""Blocks, repeat, vars, --set and extends: expanded before validation, errors at both lines."""

from __future__ import annotations

import pytest

import archspec
from archspec.errors import ArchspecError, SpecError, flatten_errors
from archspec.graph.summary import total_params
from archspec.spec.frontend import load_spec
from tests.conftest import ROOT

STACK = """\
archspec: 1
name: stack
vars: {width: 8}
inputs:
  image: {shape: [8, 8, 3]}
blocks:
  unit:
    params: {filters: null, kernel: 3}
    inputs: [x]
    outputs: [relu]
    nodes:
      conv: {op: conv2d, filters: "${filters}", kernel: "${kernel}"}
      relu: {op: activation, activation: relu}
    edges: [x -> conv -> relu]
nodes:
  stack: {block: unit, filters: "${width * 2}", repeat: 3}
  head:  {op: flatten}
edges:
  - image -> stack -> head
outputs: [head]
"""


def test_repeat_stacks_copies_with_numbered_names(write_spec):
    spec = load_spec(write_spec(STACK))
    assert list(spec.nodes) == [
        "head", "stack1_conv", "stack1_relu", "stack2_conv", "stack2_relu", "stack3_conv", "stack3_relu",
    ]
    links = [(edge.source, edge.target) for edge in spec.edges]
    assert links == [
        ("stack3_relu", "head"), ("image", "stack1_conv"),
        ("stack1_conv", "stack1_relu"), ("stack1_relu", "stack2_conv"), ("stack2_conv", "stack2_relu"),
        ("stack2_relu", "stack3_conv"), ("stack3_conv", "stack3_relu"),
    ]
    assert {node.params.filters for name, node in spec.nodes.items() if name.endswith("conv")} == {16}


def test_set_overrides_a_var_and_a_train_key(write_spec):
    path = write_spec(STACK + "train: {epochs: 5}\n")
    spec = load_spec(path, ["vars.width=4", "train.epochs=2"])
    assert spec.nodes["stack2_conv"].params.filters == 8
    assert spec.train.epochs == 2
    # 3x3 convs: 3->8, 8->8, 8->8 channels, then nothing else has weights
    assert total_params(archspec.analyze(spec)) == (27 * 8 + 8) + 2 * (72 * 8 + 8)


def test_expressions_inside_strings_and_vars_using_vars(write_spec):
    text = STACK.replace("vars: {width: 8}", 'vars: {width: 8, wide: "${width * 2}"}') \
        .replace("name: stack", 'name: stack\ndoc: "${wide} wide, ${width // 3} thirds"')
    spec = load_spec(write_spec(text))
    assert spec.doc == "16 wide, 2 thirds"


def test_set_on_the_command_line(write_spec):
    from typer.testing import CliRunner

    from archspec.cli import app

    path = write_spec(STACK)
    result = CliRunner().invoke(
        app, ["validate", str(path), "--set", "vars.width=2", "--set", "nodes.head.op=identity"])
    assert result.output == f"ok  {path}  (7 nodes, 408 parameters)\n"
    assert result.exit_code == 0


def test_set_of_an_unknown_var_is_an_error(write_spec):
    with pytest.raises(SpecError) as caught:
        load_spec(write_spec(STACK), ["vars.widht=4"])
    assert str(caught.value) == (
        "--set vars.widht=4: the spec has no variable 'widht'\n"
        "  expected: one of width\n"
        "  hint: did you mean 'width'?"
    )


def test_error_inside_a_repeated_block_is_one_message_at_the_block_line_naming_the_copies(write_spec):
    path = write_spec(STACK.replace('kernel: "${kernel}"}', 'kernal: 3}'))
    with pytest.raises(ArchspecError) as caught:
        load_spec(path)
    errors = flatten_errors(caught.value)
    assert len(errors) == 1  # one mistake, written once: one message, not one per copy
    assert str(errors[0]) == (
        f"{path}:12:49: node 'stack1_conv': unknown parameter 'kernal' for op conv2d\n"
        "  expected: one of filters, kernel, strides, padding, dilation, activation, use_bias, kernel_init, "
        "bias_init, kernel_reg, bias_reg, groups\n"
        "  hint: did you mean 'kernel' or 'kernel_reg'?\n"
        f"  in:   block 'unit' used as 'stack1' at {path}:16:3\n"
        "  same in: stack2_conv, stack3_conv"
    )


def test_one_message_per_place_names_at_most_ten_copies(write_spec):
    path = write_spec(STACK.replace('kernel: "${kernel}"}', 'kernal: 3}').replace("repeat: 3", "repeat: 40"))
    with pytest.raises(ArchspecError) as caught:
        load_spec(path)
    (error,) = flatten_errors(caught.value)
    assert str(error).endswith("  same in: " + ", ".join(f"stack{n}_conv" for n in range(2, 12)) + " and 29 more")


NESTED = """\
archspec: 1
name: nested
inputs:
  image: {shape: [8, 8, 3]}
blocks:
  unit:
    params: {filters: 4, kernel: 3}
    inputs: x
    outputs: conv
    nodes:
      conv: {op: conv2d, filters: "${filters}", kernel: "${kernel}", padding: valid}
    edges: [x -> conv]
  pair:
    inputs: x
    outputs: b
    nodes:
      a: {block: unit}
      b: {block: unit, kernel: 9}
    edges: [x -> a -> b]
nodes:
  stack: {block: pair}
  head:  {op: flatten}
edges:
  - image -> stack -> head
outputs: [head]
"""


def test_shape_error_inside_a_nested_block_names_every_use(write_spec):
    path = write_spec(NESTED)
    with pytest.raises(SpecError) as caught:
        archspec.analyze(path)
    lines = str(caught.value).splitlines()
    assert lines[0] == f"{path}:11:7: node 'stack_b_conv': conv2d window is larger than its 6x6x4 input"
    assert lines[-1] == (
        f"  in:   block 'unit' used as 'stack_b' at {path}:18:7; block 'pair' used as 'stack' at {path}:21:3"
    )


@pytest.mark.parametrize("old, new, message", [
    ("stack: {block: pair}", "stack: {block: piar}",
     ("21:18: node 'stack': unknown block 'piar'\n  expected: one of unit, pair\n"
     "  hint: did you mean 'pair'?")),
    ("b: {block: unit, kernel: 9}", "b: {block: unit, kernal: 9}",
     ("18:24: block 'unit' has no parameter 'kernal'\n  expected: one of filters, kernel\n"
     "  hint: did you mean 'kernel'?\n  in:   block 'pair' used as 'stack' at {path}:21:3")),
    ("params: {filters: 4, kernel: 3}", "params: {filters: null, kernel: 3}",
     ("18:7: block use needs parameter 'filters' of block 'unit'\n"
      "  hint: add 'filters: ...' to the use (unit(filters=...) in a chain)\n"
     "  in:   block 'pair' used as 'stack' at {path}:21:3")),
    ("edges: [x -> a -> b]", "edges: [x -> b]",
     ("17:7: input 'x' of block use 'a' is not connected\n  hint: add an edge into it, e.g. 'SOURCE -> a'\n"
     "  in:   block 'pair' used as 'stack' at {path}:21:3")),
    ("a: {block: unit}", "a: {block: pair}",
     ("17:10: block 'pair' uses itself\n  got:      pair -> pair\n"
     "  in:   block 'pair' used as 'stack' at {path}:21:3")),
    ("stack: {block: pair}", "stack: {block: pair, repeat: 0}",
     "21:32: 'repeat' must be a whole number from 1 to 1000\n  got:      0"),
    ("  - image -> stack -> head", "  - {from: image, to: stack, kind: concat-skip}\n  - stack -> head",
     ("24:5: input 'x' of block use 'stack' has a concat-skip edge but no plain edge\n"
     "  hint: a concat-skip edge changes a main input; feed the port with a plain edge too, "
     "e.g. 'SOURCE -> stack.x'")),
    ('filters: "${filters}"', 'filters: "${filters * width}"',
     ("11:35: cannot evaluate '${filters * width}': unknown variable 'width' (known: filters, kernel)\n"
     "  hint: write ${name} or arithmetic such as ${width * 2} on numbers and names from 'vars:' "
     "(or the block's params)\n"
     "  in:   block 'unit' used as 'stack_a' at {path}:17:7; block 'pair' used as 'stack' at {path}:21:3")),
], ids=["unknown block", "unknown param", "missing param", "unconnected input", "recursion",
        "bad repeat", "merge into a use", "unknown variable"])
def test_block_errors(write_spec, old, new, message):
    assert old in NESTED
    path = write_spec(NESTED.replace(old, new, 1))
    with pytest.raises(SpecError) as caught:
        load_spec(path)
    assert str(caught.value) == f"{path}:" + message.replace("{path}", str(path))


def test_extends_adds_and_removes(write_spec):
    write_spec(NESTED.replace("name: nested", "name: base"), "base.yaml")
    path = write_spec(
        "archspec: 1\nextends: base.yaml\nname: variant\n"
        "nodes:\n  drop: {op: dropout, rate: 0.5}\n"
        "edges: [stack -> drop -> head]\n"
        "remove: {edges: [stack -> head]}\n"
    )
    spec = load_spec(path)
    assert spec.name == "variant"
    assert [(edge.source, edge.target) for edge in spec.edges] == [
        ("stack_b_conv", "drop"), ("drop", "head"), ("image", "stack_a_conv"), ("stack_a_conv", "stack_b_conv"),
    ]
    assert spec.nodes["drop"].location.file == str(path)
    assert spec.nodes["stack_a_conv"].location.file.endswith("base.yaml")
    assert spec.nodes["stack_a_conv"].location.context == (
        f"block 'unit' used as 'stack_a' at {path.parent / 'base.yaml'}:17:7; "
        f"block 'pair' used as 'stack' at {path.parent / 'base.yaml'}:21:3; extended by {path}:2:10"
    )


def test_removing_what_the_base_lacks_is_an_error(write_spec):
    write_spec(NESTED, "base.yaml")
    path = write_spec("archspec: 1\nextends: base.yaml\nremove:\n  nodes: [haed]\n")
    with pytest.raises(SpecError) as caught:
        load_spec(path)
    assert str(caught.value) == (
        f"{path}:4:11: cannot remove nodes 'haed': the base has no such entry\n"
        "  hint: did you mean 'head'?"
    )


def test_unet_extends_the_autoencoder_with_two_skips():
    unet = load_spec(ROOT / "specs" / "mnist_denoise_unet.yaml")
    ae = load_spec(ROOT / "specs" / "mnist_denoise_ae.yaml")
    assert unet.document.data["nodes"] == ae.document.data["nodes"]
    assert total_params(archspec.analyze(unet)) == 813_377
    skips = [(edge.source, edge.target, edge.location.line) for edge in unet.edges if edge.kind != "plain"]
    assert skips == [("enc2", "dec2", 11), ("enc1", "clean", 12)]
    assert (ROOT / "specs" / "mnist_denoise_unet.yaml").read_text().startswith("# Denoising U-Net for MNIST")


def test_resnet50_spec_is_short_and_has_keras_parameter_count():
    path = ROOT / "specs" / "resnet50.yaml"
    assert len(path.read_text().splitlines()) < 80
    graph = archspec.analyze(path)
    assert total_params(graph) == 25_636_712
    names = set(graph.nodes)
    assert {"conv1_conv", "conv2_block1_0_conv", "conv2_block3_3_bn", "conv4_block6_out",
            "conv5_block3_add", "avg_pool", "predictions"} <= names
    assert "conv2_block4_1_conv" not in names and "conv4_block7_1_conv" not in names


@pytest.mark.slow
def test_resnet50_spec_takes_keras_weights_by_name(keras):
    import numpy as np

    model = archspec.compile_model(ROOT / "specs" / "resnet50.yaml")
    reference = keras.applications.ResNet50(weights=None, input_shape=(224, 224, 3))
    weighted = {layer.name for layer in reference.layers if layer.weights}
    assert weighted == {layer.name for layer in model.layers if layer.weights}
    for layer in reference.layers:
        if layer.weights:
            model.get_layer(layer.name).set_weights(layer.get_weights())
    images = np.random.default_rng(0).normal(size=(1, 224, 224, 3)).astype("float32")
    np.testing.assert_allclose(model(images), reference(images), atol=1e-5, rtol=0)


def test_an_error_naming_its_own_copy_is_still_one_message_per_place(write_spec):
    path = write_spec("archspec: 1\nname: t\ninputs: {x: {shape: [4]}}\nblocks:\n"
                      "  lonely: x -> dense(2) -> join=concat\n"
                      "edges:\n  - x -> lonely(repeat=3) -> dense(2)\n")
    with pytest.raises(ArchspecError) as caught:
        archspec.analyze(path)
    (error,) = flatten_errors(caught.value)
    assert error.message == "a concat node merges two or more inputs, but 'lonely_11_join' has one"
    assert str(error).endswith("  same in: lonely_12_join, lonely_13_join")
