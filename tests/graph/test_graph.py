"""archspec.graph.build directly: each structural problem against its SpecError fields."""

from __future__ import annotations

import pytest

from archspec.errors import ArchspecError, GraphError, SpecError, flatten_errors
from archspec.graph.build import build_graph, build_partial_graph, topological_nodes
from archspec.spec.frontend import loads_spec

HEAD = "archspec: 1\nname: case\ninputs:\n  x: {shape: [16]}\n"


def errors_of(text: str) -> list[SpecError]:
    with pytest.raises(ArchspecError) as raised:
        build_graph(loads_spec(HEAD + text, "case.yaml"))
    return flatten_errors(raised.value)


def line_of(text: str, needle: str) -> int:
    """The 1-based line of `needle` in the spec HEAD + text."""
    return next(number for number, line in enumerate((HEAD + text).splitlines(), 1) if needle in line)


def test_unknown_target_names_it_with_a_suggestion():
    text = "nodes:\n  dense1: {op: dense, units: 4}\nedges:\n  - x -> dense1\n  - dense1 -> dens2\noutputs: [dense1]\n"
    [error] = errors_of(text)
    assert isinstance(error, GraphError)
    assert (error.location.line, error.location.column) == (line_of(text, "dens2"), 5)
    assert error.got == "'dens2'" and error.expected == "a name defined under 'inputs:' or 'nodes:'"
    assert error.hint == "did you mean 'dense1'?"


def test_two_plain_inputs_without_a_merge_rule_points_at_the_second():
    text = ("nodes:\n  a: {op: dense, units: 4}\n  b: {op: dense, units: 4}\n  out: {op: dense, units: 2}\n"
            "edges:\n  - x -> a -> out\n  - x -> b -> out\noutputs: [out]\n")
    [error] = errors_of(text)
    assert error.node == "out"
    assert error.location.line == line_of(text, "x -> b -> out")
    assert error.expected == "one plain input into a dense node"
    assert "kind: concat-skip" in error.hint and "softmax gate" in error.hint


def test_a_node_with_only_a_residual_has_no_main_input():
    text = ("nodes:\n  a: {op: dense, units: 4}\n  out: {op: dense, units: 4}\n"
            "edges:\n  - x -> a\n  - {from: a, to: out, kind: add-residual}\noutputs: [out]\n")
    [error] = errors_of(text)
    assert error.node == "out" and error.message.startswith("has no main input")
    assert error.location.line == line_of(text, "out: {op: dense")
    assert error.hint == "its add-residual edge from 'a' modifies a main input; add a plain edge such as 'x -> out'"


def test_attention_edge_into_a_dense_node():
    text = ("nodes:\n  a: {op: dense, units: 4}\n  out: {op: dense, units: 4}\n"
            "edges:\n  - x -> a -> out\n  - {from: x, to: out, kind: attention}\noutputs: [out]\n")
    [error] = errors_of(text)
    assert error.node == "out" and error.location.line == line_of(text, "kind: attention")
    assert error.expected == "an attention edge into an 'attention' node"


def test_softmax_gate_on_one_input_names_the_edge():
    text = ("nodes:\n  a: {op: dense, units: 4}\n  g: {op: dense, units: 4}\n"
            "edges:\n  - x -> a\n  - x -> g\n  - {from: g, to: a, kind: gate, activation: softmax}\noutputs: [a]\n")
    [error] = errors_of(text)
    assert (error.node, error.edge) == ("a", "gate g -> a")
    assert error.location.line == line_of(text, "activation: softmax")
    assert error.expected == "two or more plain edges into the target"


def test_every_node_with_a_bad_plan_is_reported():
    text = ("nodes:\n  a: {op: dense, units: 4}\n  b: {op: dense, units: 4}\n  c: {op: add}\n"
            "  d: {op: dense, units: 4}\n"
            "edges:\n  - x -> a -> c -> d\n  - x -> b -> d\n  - {from: b, to: c, kind: gate}\noutputs: [d]\n")
    errors = errors_of(text)
    assert [error.node for error in errors] == ["c", "d"]
    assert errors[0].message == "an add node merges two or more inputs, but 'c' has one"


def test_partial_graph_keeps_what_is_valid():
    text = ("nodes:\n  a: {op: dense, units: 4}\n  b: {op: add}\n"
            "edges:\n  - x -> a -> b\noutputs: [b]\n")
    graph, errors = build_partial_graph(loads_spec(HEAD + text, "case.yaml"))
    assert [error.node for error in errors] == ["b"]
    assert "plan" in graph.nodes["a"] and "plan" not in graph.nodes["b"]
    assert topological_nodes(graph) == ["x", "a", "b"]
