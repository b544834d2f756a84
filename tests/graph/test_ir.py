"""archspec.graph.ir: the typed node and edge records every stage reads, and how passes revise them."""

from __future__ import annotations

import pytest

from archspec.catalogue.connections import CONNECTIONS
from archspec.catalogue.ops import OPS, Op
from archspec.graph.build import build_graph
from archspec.graph.ir import Edge, Node, SpecGraph, edges_into, node_of, nodes_of, replace_node
from archspec.graph.shapes import analyze, infer_shapes
from archspec.spec.frontend import loads_spec

SPEC = """archspec: 1
name: case
inputs:
  x: {shape: [8, 8, 4]}
nodes:
  a: {op: conv2d, filters: '${in.channels * 2}', kernel: 3, padding: same}
  b: {op: conv2d, filters: 8, kernel: 1}
edges:
  - x -> a -> b
  - {from: a, to: b, kind: add-residual}
outputs: [b]
"""


def graph_of(text: str = SPEC) -> SpecGraph:
    graph = build_graph(loads_spec(text, "case.yaml"))
    assert isinstance(graph, SpecGraph)
    return graph


def test_every_node_and_edge_is_a_typed_record_with_the_stages_findings():
    graph = analyze(loads_spec(SPEC, "case.yaml"))
    assert all(isinstance(record, Node) for _, record in nodes_of(graph))
    assert all(isinstance(data, Edge) for _, _, data in graph.edges(data=True))
    x, a, b = (node_of(graph, name) for name in "xab")
    assert (x.kind, x.is_input, x.shape, x.dtype, x.noun) == ("input", True, (8, 8, 4), "float32", "input")
    assert [record.name for _, record in nodes_of(graph)] == ["x", "a", "b"]
    assert (a.kind, a.op, a.shape, a.input_shape, a.noun) == ("op", "conv2d", (8, 8, 8), (8, 8, 4), "node")
    assert a.definition is OPS["conv2d"] and a.params.filters == 8 and a.resolved == {"filters": 8}
    assert b.plan is not None and [edge.source for edge in b.plan.mains] == ["a"]
    assert (b.location.line, b.location.column) == (7, 3)
    residual = next(edge for edge in edges_into(graph, "b") if edge.kind == "add-residual")
    assert residual.connection is CONNECTIONS["add-residual"] and residual.shape == (8, 8, 8)
    assert residual.index == 2 and residual.spec.source == "a"


def test_records_answer_the_dict_protocol_networkx_and_dict_readers_use():
    record = node_of(analyze(loads_spec(SPEC, "case.yaml")), "b")
    assert record["shape"] == record.shape == (8, 8, 8) and "plan" in record
    assert "resolved" not in record and record.get("resolved") is None  # a field never set is absent
    with pytest.raises(KeyError):
        record["shares"]
    record["note"] = "mine"  # a key that is no field lives in meta
    assert record.meta == {"note": "mine"} and record["note"] == "mine" and "note" in dict(record)
    del record["note"]
    assert "note" not in record and not record.meta
    record["shape"] = (1, 2)  # a field's key sets the field
    assert record.shape == (1, 2)


def test_networkx_copies_keep_records_and_give_each_its_own_meta():
    graph = analyze(loads_spec(SPEC, "case.yaml"))
    node_of(graph, "a").meta["tag"] = 1
    copy = graph.copy()
    assert isinstance(node_of(copy, "a"), Node) and node_of(copy, "a").shape == (8, 8, 8)
    assert isinstance(next(iter(copy.edges(data=True)))[2], Edge)
    node_of(copy, "a").meta["tag"] = 2
    assert node_of(graph, "a").meta["tag"] == 1


def test_deferred_params_resolve_into_a_new_record_and_the_old_one_is_untouched():
    graph = graph_of()
    before = node_of(graph, "a")
    assert before.deferred and "filters" in before.deferred and before.resolved is None
    infer_shapes(graph)
    after = node_of(graph, "a")
    assert after is not before
    assert (after.params.filters, after.deferred, after.resolved) == (8, {}, {"filters": 8})
    assert before.deferred and before.shape is None  # the building pass's record is as it was made
    assert after.plan is not before.plan and after.location == before.location


def test_replace_node_keeps_the_node_s_edges():
    graph = graph_of()
    old = node_of(graph, "b")
    replace_node(graph, "b", Node(name="b", kind="op", op="identity", location=old.location))
    assert node_of(graph, "b").op == "identity"
    assert sorted(source for source, _ in graph.in_edges("b")) == ["a", "a"]


def test_the_optional_op_hooks_are_declared_on_op_so_no_stage_guesses_with_getattr():
    assert Op.text_param is None and Op().outputs(None) == []
    assert {name for name, op in OPS.items() if op.text_param is not None} >= {"expr"}
    assert all(op.text_param is None or op.text_param in op.Params.model_fields for op in OPS.values())
    graph = analyze(loads_spec(
        "archspec: 1\nname: halves\ninputs:\n  x: {shape: [6]}\n"
        "nodes:\n  s: {op: split, into: [a, b]}\n  m: {op: add}\n"
        "edges:\n  - x -> s\n  - s.a, s.b -> m\noutputs: [m]\n", "halves.yaml"))
    assert node_of(graph, "s.a").output_of == "s" and node_of(graph, "s.b").shape == (3,)
