"""Shape-aware parameters (issue 18): `${in.channels // 2}` resolved at shape inference, errors at the expression."""

from __future__ import annotations

import pytest

import archspec
from archspec.errors import SpecError
from archspec.graph.summary import total_params
from archspec.spec.arith import ArithError
from archspec.spec.shape_expr import bind_known, evaluate_with_input, is_deferred

SPEC = """archspec: 1
name: se
inputs: {{x: {{shape: [8, 8, 32]}}}}
vars: {{r: 4}}
nodes:
  proj: {{op: conv2d, filters: "{proj}", kernel: 1}}
edges:
  - x -> global_avg_pool2d -> dense({first}, relu) -> dense(${{in.channels * r}}, sigmoid)
    -> reshape([1, 1, -1]) -> proj
outputs: [proj]
"""


def analyze(write_spec, proj="${in.channels // 2}", first="${in.channels // r}"):
    return archspec.analyze(write_spec(SPEC.format(proj=proj, first=first)))


def test_expression_helpers():
    assert is_deferred("in.channels // 2") and is_deferred("in .shape[0]") and not is_deferred("width // 2")
    assert not is_deferred("min.x") and not is_deferred("inner")
    assert bind_known("in.channels // r + in.shape[-1]", {"r": 4}) == "in.channels // 4 + in.shape[-1]"
    assert evaluate_with_input("in.channels // 2 + in.shape[0] * in.rank", (7, 5, 12)) == 6 + 21
    assert evaluate_with_input("in.height * in.width", (7, 5, 12)) == 35
    with pytest.raises(ArithError, match="not an axis"):
        evaluate_with_input("in.shape[3]", (7, 5, 12))
    with pytest.raises(ArithError, match="not known when the model is built"):
        evaluate_with_input("in.shape[0]", (None, 16))
    with pytest.raises(ArithError, match="unknown variable 'q'"):
        bind_known("in.channels // q", {"r": 4})


@pytest.mark.parametrize("expression, var, value", [
    ("r ** 2 + in.channels", -3, 9 + 32),        # spliced as text it read -3 ** 2 + 32 = 23
    ("r ** 2 + in.channels", -0.5, 0.25 + 32),
    ("in.channels - r", -4, 36),                 # not in.channels - -4 by luck: a unary minus
    ("-r ** 2 + in.channels", -2, -4 + 32),
])
def test_a_negative_var_keeps_its_precedence_in_a_shape_aware_expression(expression, var, value):
    bound = bind_known(expression, {"r": var})
    assert evaluate_with_input(bound, (8, 8, 32)) == value


def test_a_negative_var_is_spliced_as_a_value_in_a_spec(write_spec):
    graph = archspec.analyze(write_spec("archspec: 1\nname: p\nvars: {a: -3}\ninputs: {x: [8]}\n"
                                        "edges:\n  - x -> d=dense(${a ** 2 + in.channels})\n"))
    assert graph.nodes["d"]["params"].units == 17  # (-3) ** 2 + 8


def test_params_are_resolved_from_the_shape_that_arrives(write_spec):
    graph = analyze(write_spec)
    assert graph.nodes["dense_1"]["params"].units == 8       # 32 // 4
    assert graph.nodes["dense_2"]["params"].units == 32      # 8 * 4
    assert graph.nodes["proj"]["params"].filters == 16       # 32 // 2
    assert graph.nodes["proj"]["shape"] == (1, 1, 16)
    assert total_params(graph) == (32 * 8 + 8) + (8 * 32 + 32) + (32 * 16 + 16)


def test_compiled_layers_get_the_resolved_values(write_spec, keras):
    graph = analyze(write_spec)
    model = archspec.compile_model(graph)
    assert model.get_layer("proj").filters == 16 and model.get_layer("dense_1").units == 8
    assert model.count_params() == total_params(graph)


def locate(write_spec, **given) -> SpecError:
    with pytest.raises(SpecError) as caught:
        analyze(write_spec, **given)
    return caught.value


def test_a_bad_attribute_is_an_error_at_the_step(write_spec):
    found = locate(write_spec, first="${in.chanels // r}")
    assert "'in' has no 'chanels'" in str(found) and found.node == "dense_1"
    line = SPEC.splitlines().index(next(x for x in SPEC.splitlines() if "global_avg" in x)) + 1
    expression = len("  - x -> global_avg_pool2d -> dense(") + 1
    assert (found.location.line, found.location.column) == (line, expression)


def test_a_value_the_op_refuses_is_an_error_at_the_node_parameter(write_spec):
    found = locate(write_spec, proj="${in.channels - 100}")
    assert "gives filters = -68 for an input of 1x1x32" in str(found)
    assert (found.location.line, found.location.column) == (6, 31)


def test_in_inside_a_longer_string_is_refused(write_spec):
    with pytest.raises(SpecError, match="must be the whole value"):
        analyze(write_spec, proj="x${in.channels}")


DENSENET = """archspec: 1
name: densenet_part
vars: {growth: 12, layers: 4}
inputs: {image: {shape: [28, 28, 1]}}
defaults: {conv2d: {use_bias: false}}
blocks:
  layer:
    inputs: [x]
    outputs: [cat]
    nodes: {cat: {op: concat}}
    edges:
      - x -> cat
      - x -> batch_norm -> relu -> conv2d(${4 * growth}, 1) -> batch_norm -> relu -> conv2d(${growth}) -> cat
  transition:
    inputs: [x]
    outputs: [pool]
    nodes: {pool: {op: avg_pool2d}}
    edges:
      - x -> batch_norm -> relu -> conv2d(${in.channels // 2}, 1) -> pool
nodes:
  dense1: {block: layer, repeat: "${layers}"}
  trans1: {block: transition}
  dense2: {block: layer, repeat: "${layers}"}
  trans2: {block: transition}
edges:
  - image -> conv2d(${2 * growth}) -> dense1 -> trans1 -> dense2 -> trans2
outputs: [trans2]
"""


def test_densenet_compression_is_worked_out_from_the_channels_that_arrive(write_spec):
    graph = archspec.analyze(write_spec(DENSENET))
    trans1 = (2 * 12 + 4 * 12) // 2        # what the zoo's DenseNet-BC works out by hand in vars: 36
    trans2 = (trans1 + 4 * 12) // 2        # 42
    assert graph.nodes["trans1_conv2d_1"]["params"].filters == trans1
    assert graph.nodes["trans2_conv2d_1"]["params"].filters == trans2
    assert graph.nodes["trans2_pool"]["shape"] == (7, 7, trans2)
    assert graph.nodes["trans1_conv2d_1"]["params"].use_bias is False
