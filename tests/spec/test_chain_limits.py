"""The compact syntax at its limits (issue 26): every chain, however long or deep, ends in a located
error or a valid spec, in linear time, never a RecursionError."""

from __future__ import annotations

import time

import pytest

from archspec.errors import SpecError
from archspec.spec.expand import MAX_NODES
from archspec.spec.frontend import load_spec, loads_spec

HEAD = "archspec: 1\nname: t\ninputs: {x: {shape: [8]}}\nedges:\n  - "


def refused(text: str) -> SpecError:
    with pytest.raises(SpecError) as caught:
        loads_spec(text, "t.yaml")
    return caught.value


def test_a_step_names_its_node_once():
    found = refused(HEAD + "x -> a=b=dense(8)\n")
    assert str(found) == ("t.yaml:5:12: a step names its node twice: 'a=' and then 'b='\n"
                          "  hint: a step declares one node, with one name: keep one 'name='")


def test_three_thousand_labels_on_one_step_are_refused_at_the_second():
    labels = "=".join(f"l{index}" for index in range(3000))
    found = refused(HEAD + f"x -> {labels}=dense(8)\n")
    assert "a step names its node twice: 'l0=' and then 'l1='" in str(found)
    assert (found.location.line, found.location.column) == (5, 13)


def test_lists_nested_3000_deep_in_an_argument_are_refused_at_the_limit():
    text = HEAD + "x -> dense(units=" + "[" * 3000 + "1" + "]" * 3000 + ")\n"
    found = refused(text)
    assert "lists nested more than 64 deep in a step's argument" in str(found)
    assert (found.location.line, found.location.column) == (5, len("  - x -> dense(units=") + 64 + 1)


def test_lists_nested_to_the_limit_are_read():
    text = HEAD + "x -> reshape(" + "[" * 63 + "8" + "]" * 63 + ")\n"
    found = refused(text)  # read, then refused by reshape's own parameter model, not by the reader
    assert "nested" not in str(found)


def chain(count: int) -> str:
    return HEAD + "x -> " + " -> ".join(["dense(8)"] * count) + "\n"


def test_chain_steps_count_against_the_node_limit():
    start = time.process_time()
    half = MAX_NODES // 2
    found = refused(chain(half) + "  - x -> " + " -> ".join(["dense(8)"] * (half + 1)) + "\n")
    assert "the chains make more than 10,000 nodes" in str(found)
    # the 10,001st node: the last step of the second chain
    assert (found.location.line, found.location.column) == (6, len("  - x -> ") + half * 12 + 1)
    assert time.process_time() - start < 10  # linear: it took 41 s at 20,000 steps when quadratic


def test_a_chain_far_past_the_node_limit_is_refused_before_its_steps_are_read():
    start = time.process_time()
    found = refused(chain(100_000))
    assert "a chain of 100,001 steps: more than the 10,000 nodes a spec may have" in str(found)
    assert (found.location.line, found.location.column) == (5, len("  - x -> ") + MAX_NODES * 12 + 1)
    assert time.process_time() - start < 10


def test_a_chain_at_the_node_limit_validates(write_spec):
    result = load_spec(write_spec(chain(MAX_NODES)))
    assert len(result.nodes) == MAX_NODES


def test_many_short_chains_count_together():
    lines = [HEAD.rstrip("- ").rstrip()]
    previous = "x"
    for number in range(1001):
        lines.append(f"  - {previous} -> " + " -> ".join(f"s{number}_{step}=dense(8)" for step in range(10)))
        previous = f"s{number}_9"
    found = refused("\n".join(lines) + "\n")
    assert "the chains make more than 10,000 nodes" in str(found)
    assert found.location.line == 5 + 1000


def test_a_var_holding_steps_spliced_into_a_chain_says_so():
    text = ("archspec: 1\nname: t\nvars: {head: dense(4) -> relu}\ninputs: {x: {shape: [8]}}\nedges:\n"
            "  - x -> ${head} -> dense(2)\n")
    found = refused(text)
    assert str(found).startswith("t.yaml:6:5: `${...}` in the chain 'x -> ${head} -> dense_1' gives steps "
                                 "('x -> dense(4) -> relu -> dense_1'), but a var in a chain can only name a node\n")
    assert "did you mean" not in str(found)


def test_a_var_naming_a_node_in_a_chain_still_works(write_spec):
    result = load_spec(write_spec("archspec: 1\nname: t\nvars: {last: d2}\ninputs: {x: {shape: [8]}}\n"
                                  "nodes:\n  d1: {op: dense, units: 4}\n  d2: {op: dense, units: 2}\n"
                                  "edges:\n  - x -> d1 -> ${last}\n"))
    assert [(edge.source, edge.target) for edge in result.edges] == [("x", "d1"), ("d1", "d2")]


def test_an_index_with_no_number_points_at_the_name_not_the_edge():
    text = ("archspec: 1\nname: t\ninputs: {x: {shape: [8]}}\nblocks:\n"
            "  dw: x -> conv_{index}=dense(4) -> conv_{index}_bn=batch_norm\nedges:\n  - x -> dw -> dense(2)\n")
    found = refused(text)
    assert "node name 'conv_{index}_bn' holds {index}, but nothing gives it a number here" in str(found)
    assert (found.location.line, found.location.column) == (5, text.splitlines()[4].index("conv_{index}_bn") + 1)
