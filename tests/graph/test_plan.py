"""archspec.graph.plan: each node's in-edges as one ordered list of applications, and both folds over it."""

from __future__ import annotations

import numpy as np

import archspec
from archspec.graph.build import build_graph
from archspec.keras.lowering import lower_graph
from archspec.spec.frontend import loads_spec

SPEC = """\
archspec: 1
name: plan
inputs:
  x: {shape: [6]}
nodes:
  e1: {op: dense, units: 4}
  e2: {op: dense, units: 4}
  r: {op: dense, units: 2}
  s: {op: dense, units: 4}
  g: {op: dense, units: 4}
  out: {op: dense, units: 3}
  both: {op: concat}
edges:
  - x -> e1 -> out -> both
  - x -> e2 -> out
  - x -> r
  - x -> s
  - x -> g
  - {from: s, to: out, kind: add-residual}
  - {from: r, to: out, kind: gate}
  - {from: g, to: out, kind: gate, activation: sigmoid}
  - {from: x, to: out, kind: concat-skip}
  - x -> both
outputs: [both]
"""


def test_mixing_gate_first_then_merges_in_edge_order_then_the_op():
    plan = build_graph(loads_spec(SPEC)).nodes["out"]["plan"]
    assert [(app.sources, app.mixes, app.is_op) for app in plan.applications] == [
        (("e1", "e2", "r"), True, False),  # softmax(r) mixes the two plain inputs
        ((None, "s"), False, False),  # then add-residual, gate and concat-skip as written
        ((None, "g"), False, False),
        ((None, "x"), False, False),
        ((None,), False, True),  # then the dense layer
    ]
    assert [edge.source for edge in plan.mains] == ["e1", "e2"]


def test_merge_op_reads_its_plain_inputs_in_edge_order():
    plan = build_graph(loads_spec(SPEC)).nodes["both"]["plan"]
    [only] = plan.applications
    assert only.sources == ("out", "x") and only.is_op


def test_shapes_and_lowering_fold_the_same_plan():
    graph = archspec.analyze(loads_spec(SPEC))
    assert graph.nodes["out"]["input_shape"] == (10,)  # 4 mixed, + s, * sigmoid(g), ++ x (6)
    steps, output_of = lower_graph(graph)
    made = [(step.var, step.call.cls if step.call else None, step.args) for step in steps
            if step.var.startswith("out")]
    assert made == [
        ("out.gate_softmax", "GateMix", ("e1", "e2", "r")),
        ("out.add_residual", "Add", ("out.gate_softmax", "s")),
        ("out.gate_sigmoid", "Activation", ("g",)),
        ("out.gate", "Multiply", ("out.add_residual", "out.gate_sigmoid")),
        ("out.concat_skip", "Concatenate", ("out.gate", "x")),
        ("out", "Dense", ("out.concat_skip",)),
    ]
    assert output_of["both"] == "both"


TWO_GATES = """\
archspec: 1
name: two_gates
inputs:
  x: {shape: [6]}
nodes:
  v: {op: dense, units: 4}
  g1: {op: dense, units: 4}
  g2: {op: dense, units: 1}
  out: {op: identity}
edges:
  - x -> v -> out
  - x -> g1
  - x -> g2
  - {from: g1, to: out, kind: gate}
  - {from: g2, to: out, kind: gate}
outputs: [out]
"""


def test_two_gates_in_a_row_each_scale_the_last_result(keras):
    """Two merges of one kind into a node used to feed the second its own output (a KeyError)."""
    model = archspec.compile_model(loads_spec(TWO_GATES))
    x = np.random.default_rng(0).normal(size=(3, 6)).astype("float32")
    v, g1, g2 = (model.get_layer(name)(x) for name in ("v", "g1", "g2"))
    expected = np.asarray(v) / (1 + np.exp(-np.asarray(g1))) / (1 + np.exp(-np.asarray(g2)))
    np.testing.assert_allclose(np.asarray(model(x)), expected, rtol=1e-5, atol=1e-6)
    assert model.get_layer("out.gate_2").input[0].name == model.get_layer("out.gate").output.name
