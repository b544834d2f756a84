"""Edges into and out of block uses by port (issue 18): several edges into one port, skips into ports."""

from __future__ import annotations

import pytest

from archspec.errors import SpecError
from archspec.spec.frontend import load_spec

BLOCKS = """archspec: 1
name: ports
inputs: {x: {shape: [8, 8, 4]}}
blocks:
  up:
    inputs: [low, skip]
    outputs: [conv]
    nodes: {conv: {op: conv2d, filters: 4}, cat: {op: concat}}
    edges:
      - low -> upsample2d -> cat -> conv
      - skip -> cat
  merge:
    inputs: [parts]
    outputs: [out]
    nodes: {out: {op: concat}}
    edges: [parts -> out]
  res:
    inputs: [i]
    outputs: [o]
    nodes: {o: {op: conv2d, filters: 4}, p: {op: conv2d, filters: 4}}
    edges: [i -> o]
nodes:
  enc: {op: conv2d, filters: 4}
  dec: {block: up}
  m: {block: merge}
  r: {block: res}
edges:
  - x -> enc -> max_pool2d -> dec.low
  - enc -> dec.skip
  - dec -> m.parts
  - enc -> m.parts
  - m -> r
  - {from: enc, to: r, kind: concat-skip}
outputs: [r]
"""


def edges(spec) -> list[tuple[str, str, str]]:
    return [(edge.source, edge.target, edge.kind) for edge in spec.edges]


def test_ports_take_several_edges_in_order_and_skips_reach_the_node_they_feed(write_spec):
    spec = load_spec(write_spec(BLOCKS.replace(", p: {op: conv2d, filters: 4}", "")))
    found = edges(spec)
    assert ("enc", "dec_cat", "plain") in found
    into_merge = [edge for edge in found if edge[1] == "m_out"]
    assert into_merge == [("dec_conv", "m_out", "plain"), ("enc", "m_out", "plain")]  # the order written
    assert ("m_out", "r_o", "plain") in found and ("enc", "r_o", "concat-skip") in found


def test_a_skip_into_a_port_read_by_two_nodes_is_an_error_at_the_edge(write_spec):
    text = BLOCKS.replace("edges: [i -> o]", "edges: [i -> o, i -> p -> o]")
    with pytest.raises(SpecError) as caught:
        load_spec(write_spec(text))
    assert "needs the port to feed one node of the block; it feeds 2" in str(caught.value)
    line = text.splitlines().index("  - {from: enc, to: r, kind: concat-skip}") + 1
    assert (caught.value.location.line, caught.value.location.column) == (line, 5)


def test_a_port_fed_twice_cannot_be_a_block_output(write_spec):
    text = BLOCKS.replace("    outputs: [out]\n    nodes: {out: {op: concat}}\n    edges: [parts -> out]",
                          "    outputs: [parts]\n    nodes: {out: {op: concat}}\n    edges: [parts -> out]")
    with pytest.raises(SpecError, match="block input 'parts' is fed by 2 edges, so it is no one tensor"):
        load_spec(write_spec(text))
