"""The short forms of issue 18: default name and outputs, input shapes alone, block signatures; errors located."""

from __future__ import annotations

import pytest

import archspec
from archspec.errors import ArchspecError, SpecError, flatten_errors
from archspec.spec.frontend import load_spec, loads_spec
from tests.conftest import ROOT
from tests.data.compact.equivalence import node_mapping

LONG = """archspec: 1
name: res
inputs: {image: {shape: [8, 8, 3]}}
blocks:
  unit:
    params: {filters: null, strides: 1}
    inputs: [x]
    outputs: [out]
    nodes:
      conv: {op: conv2d, filters: "${filters}", strides: "${strides}"}
      proj: {op: conv2d, filters: "${filters}", kernel: 1, strides: "${strides}"}
      out:  {op: add}
    edges: [x -> conv -> out, x -> proj -> out]
nodes:
  first:  {block: unit, filters: 4}
  second: {block: unit, filters: 8, strides: 2}
  gap:    {op: global_avg_pool2d}
  probs:  {op: dense, units: 10, activation: softmax}
edges:
  - image -> first -> second -> gap -> probs
outputs: [probs]
"""

SHORT = """archspec: 1
inputs: {image: [8, 8, 3]}
blocks:
  unit(filters, strides=1):
    - x -> conv2d(${filters}, strides=${strides}) -> out=add
    - x -> conv2d(${filters}, 1, strides=${strides}) -> out
edges:
  - image -> unit(4) -> unit(8, 2) -> global_avg_pool2d -> dense(10, softmax)
"""


def error(write_spec, text: str, name: str = "spec.yaml") -> SpecError:
    with pytest.raises(SpecError) as caught:
        load_spec(write_spec(text, name))
    return caught.value


def place(text: str, needle: str, line_after: str | None = None) -> tuple[int, int]:
    """1-based (line, column) of `needle` (on the first line holding `line_after` or later, if given)."""
    started = line_after is None
    for number, line in enumerate(text.splitlines(), 1):
        started = started or line_after in line
        if started and needle in line:
            return number, line.index(needle) + 1
    raise AssertionError(needle)


def test_the_short_forms_mean_the_long_spec(write_spec):
    short, long = write_spec(SHORT, "res.yaml"), write_spec(LONG, "long.yaml")
    assert load_spec(short).name == "res"
    assert load_spec(short).inputs == load_spec(long).inputs
    compact, full = archspec.analyze(short), archspec.analyze(long)
    assert len(node_mapping(compact, full)) == full.number_of_nodes()
    assert compact.graph["outputs"] == ["dense_1"]


def test_the_long_forms_stay_valid_beside_the_short_ones(write_spec):
    mixed = SHORT.replace("inputs: {image: [8, 8, 3]}", "name: mixed\ninputs: {image: {shape: [8, 8, 3]}}")
    mixed = mixed.replace("  - image", "  - image -> probe=identity\n  - image")
    assert load_spec(write_spec(mixed + "outputs: [dense_1, probe]\n")).outputs == ["dense_1", "probe"]


def test_a_variant_keeps_its_bases_name_and_text_without_a_file_is_model(write_spec):
    write_spec(LONG, "base.yaml")
    variant = write_spec("archspec: 1\nextends: base.yaml\n", "variant.yaml")
    assert load_spec(variant).name == "res"
    assert loads_spec(SHORT).name == "model"
    assert load_spec(write_spec(SHORT, "my-net.v2.yaml")).name == "my-net.v2"


def test_a_file_name_that_is_no_model_name_needs_name(write_spec):
    caught = error(write_spec, SHORT, "two words.yaml")
    assert "'two words' is not a model name" in str(caught)
    assert (caught.line, caught.column) == (1, 1)
    assert "add 'name: two_words'" in str(caught)


@pytest.mark.parametrize("file, suggested", [
    ("-dash.yaml", "dash"), (".hidden.yaml", "hidden"), ("ünï.yaml", "n"), ("ü.yaml", "my_model")])
def test_the_name_hint_is_the_file_stem_made_a_model_name(write_spec, file, suggested):
    caught = error(write_spec, SHORT, file)
    assert f"add 'name: {suggested}'" in str(caught)
    assert archspec.spec.models.MODEL_NAME_PATTERN.fullmatch(suggested)


def test_a_block_can_be_a_mapping_with_a_signature(write_spec):
    text = SHORT.replace("""  unit(filters, strides=1):
    - x -> conv2d(${filters}, strides=${strides}) -> out=add
    - x -> conv2d(${filters}, 1, strides=${strides}) -> out
""", """  unit(filters, strides=1):
    nodes: {out: {op: add}}
    edges:
      - x -> conv2d(${filters}, strides=${strides}) -> out
      - x -> conv2d(${filters}, 1, strides=${strides}) -> out
""")
    full = archspec.analyze(write_spec(LONG, "long.yaml"))
    assert len(node_mapping(archspec.analyze(write_spec(text)), full)) == full.number_of_nodes()


def test_several_sinks_and_no_outputs_is_an_error_naming_them(write_spec):
    text = SHORT + "  - image -> flatten\n"
    caught = error(write_spec, text)
    assert "the spec has no 'outputs:' and 2 sinks (nodes no edge leaves): dense_1, flatten_1" in str(caught)
    assert (caught.line, caught.column) == place(text, "edges:")
    assert "outputs: [dense_1, flatten_1]" in str(caught)


def test_a_block_with_several_sinks_and_no_outputs_is_an_error_at_the_block(write_spec):
    text = SHORT.replace("    - x -> conv2d(${filters}, 1", "    - x -> relu\n    - x -> conv2d(${filters}, 1")
    caught = error(write_spec, text)
    assert "block 'unit' has no 'outputs:' and 2 sinks (nodes no edge leaves): out, relu_1" in str(caught)
    assert (caught.line, caught.column) == place(text, "unit(filters")


def test_no_sink_because_an_edge_goes_into_an_input_is_that_edge(write_spec):
    text = "archspec: 1\ninputs: {x: [8]}\nedges:\n  - x -> dense(4) -> d=dense(2)\n  - d -> x\n"
    caught = error(write_spec, text)
    assert str(caught).splitlines()[0].endswith(": edge d -> x: 'x' is an input and takes no edges")
    assert (caught.line, caught.column) == place(text, "d -> x")


def test_no_sink_because_of_a_cycle_names_the_cycle_at_its_closing_edge(write_spec):
    text = "archspec: 1\ninputs: {x: [8]}\nedges:\n  - x -> a=dense(4) -> b=dense(4) -> c=dense(2)\n  - c -> a\n"
    caught = error(write_spec, text)
    assert "no sink (a node no edge leaves): the edges form a cycle: " in str(caught)
    assert "a -> b -> c -> a" in str(caught) or "c -> a -> b -> c" in str(caught)
    assert (caught.line, caught.column) == place(text, "c -> a")


def test_a_block_with_no_sink_names_its_cycle(write_spec):
    text = SHORT.replace("    - x -> conv2d(${filters}, 1, strides=${strides}) -> out\n",
                         "    - x -> conv2d(${filters}, 1, strides=${strides}) -> out\n    - out -> x\n")
    caught = error(write_spec, text)
    assert "edge out -> x: 'x' is an input and takes no edges" in str(caught)
    assert (caught.line, caught.column) == place(text, "out -> x")


@pytest.mark.parametrize("edges", ["x", "[x]", "x -> -> dense(2)", "x -> dense(2) ->"])
def test_a_chain_without_two_steps_is_an_error_at_the_chain_even_without_nodes(write_spec, edges):
    text = f"archspec: 1\ninputs: {{x: [8]}}\nedges: {edges}\n"
    caught = error(write_spec, text)
    assert "missing required key" not in str(caught)
    assert "is not of the form 'a -> b -> c'" in str(caught) or "a chain step is empty" in str(caught)
    assert caught.line == 3


def test_a_block_without_inputs_has_x_and_another_name_is_an_unknown_source(write_spec):
    text = SHORT.replace("- x -> conv2d(${filters}, 1", "- y -> conv2d(${filters}, 1")
    with pytest.raises(ArchspecError) as caught:
        archspec.analyze(write_spec(text))
    first = flatten_errors(caught.value)[0]
    assert "unknown source 'unit_1_y'" in str(first)
    assert (first.line, first.column) == place(text, "y ->")


@pytest.mark.parametrize("signature, message, needle", [
    ("unit(64, strides=1)", "a block param is a name, got 64", "64"),
    ("unit(filters, filters)", "param 'filters' is declared twice", "filters)"),
    ("unit(filters, strides=)", "cannot read block signature 'unit(filters, strides=)': missing a value", ")"),
    ("unit(filters", "cannot read block signature 'unit(filters'", "unit("),
])
def test_a_bad_signature_is_an_error_at_its_column(write_spec, signature, message, needle):
    text = SHORT.replace("unit(filters, strides=1):", f"{signature}:")
    caught = error(write_spec, text)
    assert message in str(caught)
    line, column = place(text, signature)
    assert (caught.line, caught.column) == (line, column + signature.rindex(needle))


def test_params_in_the_signature_and_in_params_is_an_error(write_spec):
    text = SHORT.replace("""  unit(filters, strides=1):
    - x -> conv2d(${filters}, strides=${strides}) -> out=add
    - x -> conv2d(${filters}, 1, strides=${strides}) -> out
""", """  unit(filters, strides=1):
    params: [filters, strides]
    edges: [x -> out=relu]
""")
    caught = error(write_spec, text)
    assert "block 'unit' declares its params twice" in str(caught)
    assert (caught.line, caught.column) == place(text, "params:")


def test_a_block_defined_twice_by_signature_and_name_is_an_error(write_spec):
    text = SHORT.replace("edges:\n  - image", "  unit: [x -> relu]\nedges:\n  - image")
    caught = error(write_spec, text)
    assert "block 'unit' is defined twice" in str(caught)
    assert (caught.line, caught.column) == place(text, "unit: [x")


def test_a_bad_default_in_a_signature_is_reported_at_the_default(write_spec):
    text = SHORT.replace("strides=1):", "strides=x2):")
    caught = error(write_spec, text)
    assert "strides" in str(caught)
    assert caught.line == place(text, "strides=x2")[0]


def test_a_bad_shape_in_the_short_input_form_points_at_it(write_spec):
    text = SHORT.replace("[8, 8, 3]", "[8, eight, 3]")
    caught = error(write_spec, text)
    assert "shape" in str(caught)
    assert caught.line == place(text, "eight")[0]


def test_a_variant_replaces_a_signature_block_whichever_form_each_file_writes(write_spec):
    write_spec(SHORT, "base.yaml")
    variant = write_spec("archspec: 1\nextends: base.yaml\nblocks:\n  unit:\n    params: {filters: null, strides: 1}\n"
                         "    edges:\n      - x -> conv2d(${filters}, strides=${strides})\n", "variant.yaml")
    graph = archspec.analyze(variant)
    assert [data["op"] for _, data in graph.nodes(data=True)].count("conv2d") == 2  # one per use, no projection
    write_spec(LONG, "long_base.yaml")
    short_variant = write_spec("archspec: 1\nextends: long_base.yaml\nblocks:\n"
                               "  unit(filters, strides=1):\n    - x -> conv2d(${filters}, strides=${strides})\n",
                               "v2.yaml")
    assert archspec.analyze(short_variant).number_of_nodes() == graph.number_of_nodes()


def test_set_reaches_a_block_written_with_a_signature(write_spec):
    path = write_spec(SHORT, "res.yaml")
    spec = load_spec(path, ["blocks.unit.params.strides=2"])
    graph = archspec.analyze(spec)
    assert graph.nodes["dense_1"]["shape"] == (10,)
    assert graph.nodes["unit_1_out"]["shape"] == (4, 4, 4)  # the first use now strides too


def test_a_variant_adds_to_an_input_its_base_gives_as_a_shape_alone(write_spec):
    write_spec("archspec: 1\ninputs: {tokens: [12]}\nedges:\n  - tokens -> embedding(50, 8) -> flatten -> dense(2)\n",
               "base.yaml")
    variant = write_spec("archspec: 1\nextends: base.yaml\ninputs: {tokens: {shape: [12], dtype: int32}}\n",
                         "variant.yaml")
    assert load_spec(variant).inputs["tokens"].dtype == "int32"


def test_a_variant_of_a_spec_with_inline_steps_is_the_same_graph(write_spec):
    """extends: cuts the base's chains into links only at declared nodes, never at an inline step."""
    base = write_spec((ROOT / "specs" / "mnist_cnn.yaml").read_text(), "mnist_cnn.yaml")
    variant = write_spec("archspec: 1\nextends: mnist_cnn.yaml\ntrain: {epochs: 1}\n", "variant.yaml")
    ours, theirs = archspec.analyze(variant), archspec.analyze(base)
    assert sorted(ours.edges) == sorted(theirs.edges)
    assert dict(ours.nodes(data="op")) == dict(theirs.nodes(data="op"))


def test_a_variant_removes_a_link_between_declared_nodes_of_a_chain_with_inline_steps(write_spec):
    write_spec("archspec: 1\ninputs: {x: [8]}\nnodes:\n  a: {op: dense, units: 4}\n  b: {op: dense, units: 4}\n"
               "edges:\n  - x -> a -> b -> relu -> dense(2)\n", "base.yaml")
    variant = write_spec("archspec: 1\nextends: base.yaml\nremove: {edges: [a -> b]}\nedges: [x -> b]\n"
                         "outputs: [dense_1, a]\n", "variant.yaml")
    graph = archspec.analyze(variant)
    assert sorted(graph.predecessors("b")) == ["x"] and list(graph.predecessors("relu_1")) == ["b"]


HEAD = "archspec: 1\ninputs: {x: [8]}\nblocks:\n"
ONE_CHAIN = HEAD + "  unit(n): x -> dense(${n}) -> relu\nedges: x -> unit(4)\n  -> dense(2)\n"


def test_one_chain_as_a_string_is_edges_with_that_chain(write_spec):
    listed = HEAD + "  unit(n):\n    - x -> dense(${n}) -> relu\nedges:\n  - x -> unit(4) -> dense(2)\n"
    short = ONE_CHAIN
    ours, theirs = archspec.analyze(write_spec(short, "short.yaml")), archspec.analyze(write_spec(listed, "long.yaml"))
    assert sorted(ours.edges) == sorted(theirs.edges) and ours.graph["outputs"] == ["dense_1"]


@pytest.mark.parametrize("where, needle", [("edges", "dense(2, softmx)"), ("block", "dense(${m})")])
def test_an_error_in_a_one_chain_string_points_at_the_step(write_spec, where, needle):
    old, new = ("dense(2)", "dense(2, softmx)") if where == "edges" else ("${n})", "${m})")
    text = ONE_CHAIN.replace(old, new)
    caught = error(write_spec, text)
    line, column = place(text, needle)
    assert caught.line == line and caught.column >= column, str(caught)


NUMBERED = """archspec: 1
inputs: {image: [16, 16, 3]}
blocks:
  dw(filters): x -> conv_dw_{index}=depthwise_conv2d -> conv_dw_{index}_bn=batch_norm
    -> conv_pw_{index}=conv2d(${filters}, 1) -> relu
edges: image -> dw(8, start=1) -> dw(16, repeat=2, start=2) -> global_avg_pool2d -> dense(2)
"""


def test_a_block_node_name_holding_index_takes_the_uses_number(write_spec):
    graph = archspec.analyze(write_spec(NUMBERED))
    assert {"conv_dw_1", "conv_dw_1_bn", "conv_pw_1", "conv_dw_2", "conv_pw_3"} <= set(graph.nodes)
    assert graph.nodes["conv_pw_3"]["shape"] == (16, 16, 16) and graph.nodes["conv_pw_1"]["shape"] == (16, 16, 8)
    assert {"dw_1_relu_1", "dw_22_relu_1", "dw_23_relu_1"} <= set(graph.nodes)  # other names as before


@pytest.mark.parametrize("old, new", [("dw(8, start=1)", "dw(8)"), ("dw(16, repeat=2, start=2)", "dw(16, start=1)")])
def test_a_name_holding_index_without_a_number_or_twice_the_same_is_an_error(write_spec, old, new):
    caught = error(write_spec, NUMBERED.replace(old, new))
    assert "holds {index}, but nothing gives it a number" in str(caught) or "both named 'conv_dw_1'" in str(caught)
    assert caught.line is not None
