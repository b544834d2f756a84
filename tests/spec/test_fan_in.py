"""Groups in chains and edges (issue 25): `[a, b, c] -> add`, `a, b -> add`, `{from: [a, b], to: t}`."""

from __future__ import annotations

import pytest

import archspec
from archspec.errors import SpecError
from archspec.spec.frontend import load_spec
from archspec.spec.syntax import chain_links, split_group

HEAD = """archspec: 1
name: t
inputs: {x: [8]}
"""
BRANCHES = """edges:
  - x -> a=dense(4)
  - x -> b=dense(3)
  - x -> c=dense(4)
"""


def links(write_spec, body: str) -> list[tuple[str, str]]:
    return [(edge.source, edge.target) for edge in load_spec(write_spec(HEAD + body)).edges]


def error(write_spec, body: str) -> SpecError:
    with pytest.raises(SpecError) as caught:
        archspec.analyze(write_spec(HEAD + body))
    return caught.value


def test_a_group_links_each_name_to_each_of_the_next_in_the_order_written():
    assert chain_links("[c, a, b] -> add -> out") == [("c", "add"), ("a", "add"), ("b", "add"), ("add", "out")]
    assert chain_links("x -> [a, b] -> cat") == [("x", "a"), ("x", "b"), ("a", "cat"), ("b", "cat")]
    assert chain_links("a, b -> add") == [("a", "add"), ("b", "add")]
    assert split_group("conv2d(64, 3)") is None and split_group("[conv2d(8, 1), y]") == [("conv2d(8, 1)", 1), ("y", 15)]


def test_fan_in_orders_the_merge_inputs_as_listed(write_spec):
    found = links(write_spec, BRANCHES + '  - "[c, b, a] -> out=concat -> dense(2)"\n')
    assert found[3:6] == [("c", "out"), ("b", "out"), ("a", "out")]
    assert links(write_spec, BRANCHES + "  - c, b, a -> out=concat -> dense(2)\n") == found


def test_an_edge_mapping_takes_a_list_of_sources_with_its_kind(write_spec):
    found = load_spec(write_spec(HEAD + BRANCHES + """  - x -> out=dense(4)
  - {from: [a, c], to: out, kind: add-residual}
  - {from: b, to: out, kind: concat-skip}
""")).edges
    assert [(edge.source, edge.target, edge.kind) for edge in found[-3:-1]] == [
        ("a", "out", "add-residual"), ("c", "out", "add-residual")]
    assert found[-2].index == found[-3].index + 1


def test_a_group_of_inline_steps_makes_parallel_branches(write_spec):
    spec = load_spec(write_spec("""archspec: 1
name: t
inputs: {x: [8, 8, 3]}
edges: x -> [conv2d(8, 1), conv2d(4, 3), max_pool2d(3, strides=1, padding=same)] -> concat -> flatten
"""))
    assert [(edge.source, edge.target) for edge in spec.edges][:6] == [
        ("x", "conv2d_1"), ("x", "conv2d_2"), ("x", "max_pool2d_1"),
        ("conv2d_1", "concat_1"), ("conv2d_2", "concat_1"), ("max_pool2d_1", "concat_1")]


def test_a_group_inside_a_block_is_expanded_per_copy(write_spec):
    found = links(write_spec, """blocks:
  pair(n):
    - x -> a=dense(${n})
    - x -> b=dense(${n})
    - b, a -> out=concat
edges: x -> p=pair(4, repeat=2) -> dense(2)
""")
    assert ("p1_b", "p1_out") in found and found.index(("p2_b", "p2_out")) < found.index(("p2_a", "p2_out"))


def test_an_empty_name_in_a_group_is_located(write_spec):
    caught = error(write_spec, BRANCHES + '  - "[a, , c] -> add"\n')
    assert "a name in the list '[a, , c]' is empty" in str(caught)
    assert (caught.location.line, caught.location.column) == (8, 10)


def test_an_unknown_name_in_a_source_list_names_it(write_spec):
    caught = error(write_spec, BRANCHES + "  - b -> out=concat\n  - {from: [a, ghost, c], to: out}\n")
    assert "unknown source 'ghost'" in str(caught) and caught.location.line == 9


def test_as_with_several_sources_is_refused(write_spec):
    caught = error(write_spec, BRANCHES + "  - x -> out=expr('x + y')\n  - {from: [a, c], to: out, as: y}\n"
                   "  - b -> out\n")
    assert "'as:' names one input" in str(caught) and caught.location.line == 9


def test_a_bracketed_chain_yaml_cannot_read_gets_a_hint_to_quote_it(write_spec):
    caught = error(write_spec, BRANCHES + "  - [a, c] -> add\n")
    assert 'quote the chain (- "[a, b] -> add") or leave out the brackets (- a, b -> add)' in str(caught)


UP = """archspec: 1
name: t
inputs: {x: [16, 16, 1]}
blocks:
  up(f):
    inputs: [x, skip]
    edges:
      - x -> u=upsample2d
      - u, skip -> concat -> conv2d(${f})
"""


def test_a_block_call_feeds_an_input_by_name_and_the_chain_feeds_the_other(write_spec):
    inline = load_spec(write_spec(UP + "edges: x -> e1=conv2d(8) -> max_pool2d -> up(8, skip=e1) -> conv2d(1)\n"))
    long = load_spec(write_spec(UP + """nodes:
  up_1: {block: up, f: 8}
edges:
  - x -> e1=conv2d(8) -> max_pool2d -> up_1.x
  - e1 -> up_1.skip
  - up_1 -> conv2d(1)
""", "long.yaml"))
    assert [(edge.source, edge.target) for edge in inline.edges] == [
        (edge.source, edge.target) for edge in long.edges]
    assert ("e1", "up_1_concat_1") in [(edge.source, edge.target) for edge in inline.edges]


def test_an_edge_naming_no_port_goes_to_the_one_input_no_edge_names(write_spec):
    spec = load_spec(write_spec(UP + """nodes:
  d: {block: up, f: 8}
edges:
  - x -> e1=conv2d(8) -> max_pool2d -> d -> conv2d(1)
  - e1 -> d.skip
"""))
    assert [edge.source for edge in spec.edges if edge.target == "d_concat_1"] == ["d_u", "e1"]


def test_a_list_feeds_an_input_several_edges_in_order(write_spec):
    spec = load_spec(write_spec(UP + "edges: x -> e1=conv2d(8) -> e2=conv2d(4) -> up(8, skip=[e2, e1]) -> conv2d(1)\n"))
    assert [edge.source for edge in spec.edges if edge.target == "up_1_concat_1"] == ["up_1_u", "e2", "e1"]


def test_the_hints_for_a_use_with_several_inputs_lead_to_forms_that_work(write_spec):
    with pytest.raises(SpecError) as caught:
        load_spec(write_spec(UP + "edges: x -> e1=conv2d(8) -> d=up(8) -> conv2d(1)\n"))
    assert "d=up(..., skip=SOURCE)" in str(caught.value)
    with pytest.raises(SpecError) as caught:
        load_spec(write_spec(UP + "edges: x -> e1=conv2d(8) -> d=up.x -> conv2d(1)\n"))
    message = str(caught.value)
    assert "connect it without a name: '... -> up.x'" in message and "d=up(ARGS, INPUT=SOURCE)" in message


def test_plus_name_is_the_sum_of_the_step_before_and_that_name(write_spec):
    inline = load_spec(write_spec("""archspec: 1
name: t
inputs: {x: [28, 28, 1]}
blocks:
  unit(f): x -> conv2d(${f}) -> batch_norm -> +x -> relu
edges: x -> stem=conv2d(4) -> unit(4) -> out=+stem -> flatten
"""))
    long = load_spec(write_spec("""archspec: 1
name: t
inputs: {x: [28, 28, 1]}
blocks:
  unit(f):
    - x -> conv2d(${f}) -> batch_norm -> add_1=add -> relu
    - x -> add_1
edges:
  - x -> stem=conv2d(4) -> unit(4) -> out=add -> flatten
  - stem -> out
""", "long.yaml"))
    assert sorted((edge.source, edge.target) for edge in inline.edges) == sorted(
        (edge.source, edge.target) for edge in long.edges)
    assert [edge.source for edge in inline.edges if edge.target == "unit_1_add_1"] == [
        "unit_1_batch_norm_1", "stem"]
    assert inline.nodes["out"].op == "add"


def test_a_sum_cannot_start_a_chain(write_spec):
    caught = error(write_spec, "edges: +x -> dense(4)\n")
    assert "'+x' adds its tensor to the step before it, but it starts the chain" in str(caught)
    assert (caught.location.line, caught.location.column) == (4, 8)
