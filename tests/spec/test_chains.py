"""Inline chain steps and per-op defaults (issue 18): what they mean, and errors at the step's column."""

from __future__ import annotations

import pytest

from archspec.catalogue.ops import OPS
from archspec.errors import SpecError
from archspec.spec.frontend import load_spec
from archspec.spec.steps import read_step
from archspec.spec.syntax import split_steps

HEAD = """archspec: 1
name: t
inputs: {x: {shape: [28, 28, 1]}}
"""


def spec(write_spec, body: str):
    return load_spec(write_spec(HEAD + body))


def error(write_spec, body: str) -> SpecError:
    with pytest.raises(SpecError) as caught:
        spec(write_spec, body)
    return caught.value


def column_of(body: str, needle: str) -> tuple[int, int]:
    """1-based (line, column) of `needle` in HEAD + body."""
    for number, line in enumerate((HEAD + body).splitlines(), 1):
        if needle in line:
            return number, line.index(needle) + 1
    raise AssertionError(needle)


def test_split_steps_keeps_arrows_inside_brackets_and_quotes():
    assert split_steps("a -> conv2d(64, kernel=[3, 3]) -> b") == [
        ("a", 0), ("conv2d(64, kernel=[3, 3])", 5), ("b", 34)]
    assert split_steps("a -> dense(units=2, activation='->') -> b")[1][0] == "dense(units=2, activation='->')"
    assert split_steps("a") is None and split_steps("a -> ") is None


def test_read_step_values_follow_yaml_core_rules():
    step = read_step("conv2d(64, 3, strides=[2, 1], use_bias=false, padding=valid, activation=null)", 0)
    assert step.call and step.name == "conv2d"
    assert [(arg.keyword, arg.value) for arg in step.args] == [
        (None, 64), (None, 3), ("strides", [2, 1]), ("use_bias", False), ("padding", "valid"),
        ("activation", None)]
    assert read_step("dropout(1e-1)", 0).args[0].value == 0.1
    assert read_step("conv2d(${w * 2})", 0).args[0].value == "${w * 2}"
    assert read_step("stage.out", 0).name is None and read_step("relu", 0).name == "relu"


def test_inline_steps_become_named_nodes_with_positional_and_named_arguments(write_spec):
    result = spec(write_spec, """nodes:
  out: {op: dense, units: 10}
edges:
  - x -> conv2d(16, 5, strides=2) -> batch_norm -> relu -> flatten -> out
  - x -> conv2d(8) -> flatten -> out
outputs: [out]
""")
    ops = {name: node.op for name, node in result.nodes.items()}
    assert ops == {"out": "dense", "conv2d_1": "conv2d", "batch_norm_1": "batch_norm", "relu_1": "relu",
                   "flatten_1": "flatten", "conv2d_2": "conv2d", "flatten_2": "flatten"}
    first = result.nodes["conv2d_1"].params
    assert (first.filters, first.kernel, first.strides) == (16, 5, 2)
    assert result.nodes["conv2d_2"].params.kernel == 3
    assert [(edge.source, edge.target) for edge in result.edges][:4] == [
        ("x", "conv2d_1"), ("conv2d_1", "batch_norm_1"), ("batch_norm_1", "relu_1"), ("relu_1", "flatten_1")]


def test_declared_names_win_over_ops_and_generated_names_skip_them(write_spec):
    result = spec(write_spec, """nodes:
  relu: {op: relu, max_value: 6}
  conv2d_1: {op: conv2d, filters: 4}
  out: {op: dense, units: 10}
edges:
  - x -> conv2d_1 -> relu -> conv2d(8) -> flatten -> out
outputs: [out]
""")
    assert result.nodes["relu"].params.max_value == 6
    assert "conv2d_2" in result.nodes and result.nodes["conv2d_2"].params.filters == 8


def test_inline_steps_inside_blocks_are_named_per_use(write_spec):
    result = spec(write_spec, """vars: {w: 4}
blocks:
  unit:
    params: {f: 8}
    inputs: [i]
    outputs: [o]
    nodes: {o: {op: relu}}
    edges:
      - i -> conv2d(${f * w}) -> batch_norm -> o
nodes:
  a: {block: unit}
  b: {block: unit, f: 2}
  out: {op: dense, units: 10}
edges:
  - x -> a -> b -> flatten -> out
outputs: [out]
""")
    assert result.nodes["a_conv2d_1"].params.filters == 32
    assert result.nodes["b_conv2d_1"].params.filters == 8
    assert "b_batch_norm_1" in result.nodes


def test_defaults_apply_to_every_node_of_the_op_and_nodes_override_them(write_spec):
    result = spec(write_spec, """defaults: {conv2d: {padding: valid, use_bias: false}}
blocks:
  unit: {inputs: [i], outputs: [c], nodes: {c: {op: conv2d, filters: 2}}, edges: [i -> c]}
nodes:
  a: {op: conv2d, filters: 4, use_bias: true}
  u: {block: unit}
  out: {op: dense, units: 10}
edges:
  - x -> a -> conv2d(8) -> u -> flatten -> out
outputs: [out]
""")
    nodes = result.nodes
    assert (nodes["a"].params.padding, nodes["a"].params.use_bias) == ("valid", True)
    assert (nodes["conv2d_1"].params.padding, nodes["conv2d_1"].params.use_bias) == ("valid", False)
    assert nodes["u_c"].params.use_bias is False


CHAIN = "  - x -> conv2d(8, 3) -> {step} -> flatten -> out\n"
BODY = "nodes:\n  out: {{op: dense, units: 10}}\nedges:\n{chain}outputs: [out]\n"


@pytest.mark.parametrize("step, needle, message", [
    ("convv2d(4)", "convv2d", "unknown op 'convv2d'"),
    ("conv2d(4, 3, 2)", "2)", "takes 2 positional argument(s) (filters, kernel), got 3\n"
     "  hint: name the others, e.g. strides=...; conv2d also takes padding, dilation,"),
    ("conv2d(-4)", "-4", "invalid value for 'filters'"),
    ("conv2d(4, stridez=2)", "stridez", "unknown parameter 'stridez'"),
    ("conv2d(filters=4, 3)", "3) -> flatten", "a positional argument after a named one"),
    ("conv2d(4, filters=5)", "filters=5", "argument 'filters' is given twice"),
    ("relu(op=dense)", "op=dense", "'op' is not an argument: the step's op is its name, 'relu'\n"
     "  hint: write the op as the step: dense(...)"),
    ("out(4)", "out(4)", "'out' is a node, not an op"),
    ("flatten(4)", "4) ->", "flatten takes 0 positional argument(s) (none), got 1\n"
     "  hint: flatten takes no other parameters"),
    ("dense(4, kernel=[3, 3)", "dense(4", "without its closing"),
    ("expr(abs(x))", ")) -> flatten", "expected ',' between arguments, got ')'\n"
     "  hint: quote a value that holds brackets, e.g. expr(\"abs(x - y)\")"),
])
def test_errors_point_at_the_step_or_argument_column(write_spec, step, needle, message):
    chain = CHAIN.format(step=step)
    body = BODY.format(chain=chain)
    found = error(write_spec, body)
    line, column = column_of(body, chain.strip())
    assert message in str(found)
    assert (found.location.line, found.location.column) == (line, column + chain.strip().index(needle))


def test_quoted_chain_errors_point_inside_the_quotes(write_spec):
    body = BODY.format(chain='  - "x -> conv2d(0) -> flatten -> out"\n')
    found = error(write_spec, body)
    line, column = column_of(body, "conv2d(0)")
    assert (found.location.line, found.location.column) == (line, column + len("conv2d("))


@pytest.mark.parametrize("defaults, needle, message", [
    ("{conv2x: {use_bias: false}}", "conv2x", "unknown op 'conv2x' in defaults"),
    ("{conv2d: {use_biass: false}}", "use_biass", "op 'conv2d' has no parameter 'use_biass'"),
    ("{conv2d: {use_bias: 3}}", "3}}", "'use_bias'"),
    ("[conv2d]", "[conv2d]", "'defaults' must be a mapping"),
])
def test_defaults_errors_point_at_the_default(write_spec, defaults, needle, message):
    body = f"defaults: {defaults}\n" + BODY.format(chain="  - x -> conv2d(8) -> flatten -> out\n")
    found = error(write_spec, body)
    assert message in str(found)
    assert (found.location.line, found.location.column) == column_of(body, needle)


def test_positional_declarations_name_real_parameters():
    for op in OPS.values():
        assert set(op.positional) <= set(op.Params.model_fields), op.name


def test_errors_in_a_chain_folded_over_lines_point_at_the_right_line(write_spec):
    body = ("nodes:\n  out: {op: dense, units: 10}\nedges:\n  - x -> conv2d(8)\n"
            "    -> conv2d(0) -> flatten -> out\noutputs: [out]\n")
    found = error(write_spec, body)
    assert (found.location.line, found.location.column) == column_of(body, "0) -> flatten")


def test_a_block_can_be_called_as_a_step_with_its_params_positional(write_spec):
    result = spec(write_spec, """blocks:
  unit:
    params: {f: null, s: 1}
    inputs: [i]
    outputs: [c]
    nodes: {c: {op: conv2d, filters: "${f}", strides: "${s}"}}
    edges: [i -> c]
nodes:
  out: {op: dense, units: 10}
edges:
  - x -> unit(8, 2) -> unit(f=4) -> flatten -> out
outputs: [out]
""")
    assert (result.nodes["unit_1_c"].params.filters, result.nodes["unit_1_c"].params.strides) == (8, 2)
    assert (result.nodes["unit_2_c"].params.filters, result.nodes["unit_2_c"].params.strides) == (4, 1)


def test_a_block_call_with_too_many_arguments_is_an_error_at_the_argument(write_spec):
    body = """blocks:
  unit: {params: [f], inputs: [i], outputs: [c], nodes: {c: {op: conv2d, filters: "${f}"}}, edges: [i -> c]}
nodes:
  out: {op: dense, units: 10}
edges:
  - x -> unit(8, 2) -> flatten -> out
outputs: [out]
"""
    found = error(write_spec, body)
    assert "unit takes 1 positional argument(s) (f), got 2" in str(found)
    assert "hint: block 'unit' has 1 param(s); remove the extra values" in str(found)
    assert (found.location.line, found.location.column) == column_of(body, "2) ->")


def test_a_step_can_name_the_node_it_makes(write_spec):
    result = spec(write_spec, """nodes:
  out: {op: dense, units: 10}
edges:
  - x -> flatten -> a=dense(8) -> sum=add -> out
  - a -> b=dense(8, relu) -> sum
outputs: [out]
""")
    assert result.nodes["a"].params.units == 8 and result.nodes["sum"].op == "add"
    assert ("b", "sum") in [(edge.source, edge.target) for edge in result.edges]


@pytest.mark.parametrize("step, message", [
    ("out=relu", "'out' is already a name in this scope"),
    ("z=relx", "unknown op 'relx'"),
])
def test_naming_step_errors(write_spec, step, message):
    chain = CHAIN.format(step=step)
    body = BODY.format(chain=chain)
    found = error(write_spec, body)
    line, column = column_of(body, chain.strip())
    assert message in str(found)
    assert (found.location.line, found.location.column) == (line, column + chain.strip().index(step))


def test_nodes_may_be_left_out_when_every_node_is_made_in_a_chain(write_spec):
    result = spec(write_spec, """blocks:
  unit:
    inputs: [i]
    outputs: [sum]
    edges: [i -> sum=add, i -> conv2d(1) -> sum]
edges:
  - x -> unit -> flatten -> out=dense(10)
outputs: [out]
""")
    assert set(result.nodes) == {"unit_1_sum", "unit_1_conv2d_1", "flatten_1", "out"}


def test_set_reaches_a_labelled_or_generated_step(write_spec):
    path = write_spec(HEAD + "edges:\n  - x -> flatten -> hidden=dense(32, relu) -> dense(10, softmax)\n")
    result = load_spec(path, ["nodes.hidden.units=8", "nodes.dense_1.activation=sigmoid"])
    assert result.nodes["hidden"].params.units == 8 and result.nodes["hidden"].params.activation == "relu"
    assert result.nodes["dense_1"].params.activation == "sigmoid"
    assert list(result.nodes) == ["flatten_1", "hidden", "dense_1"]


def test_a_bad_set_on_a_step_is_reported_at_the_set(write_spec):
    path = write_spec(HEAD + "edges:\n  - x -> flatten -> hidden=dense(32, relu)\n")
    with pytest.raises(SpecError) as caught:
        load_spec(path, ["nodes.hidden.units=-3"])
    assert str(caught.value).startswith("--set nodes.hidden.units=-3: node 'hidden': invalid value for 'units'")


def test_a_set_naming_no_step_stays_a_node_without_op(write_spec):
    path = write_spec(HEAD + "edges:\n  - x -> flatten -> hidden=dense(32, relu)\n")
    with pytest.raises(SpecError) as caught:
        load_spec(path, ["nodes.hiden.units=8"])
    assert "node 'hiden': has no 'op'" in str(caught.value)  # not 'two sinks': the node is malformed
