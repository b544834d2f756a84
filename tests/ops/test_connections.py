"""archspec.catalogue.connections directly: each edge kind's filing, application, shape rule and label."""

from __future__ import annotations

import pytest

from archspec.catalogue.connections import CONNECTIONS, NodeInputs
from archspec.catalogue.ops import OPS
from archspec.catalogue.primitives import Operand, ShapeProblem
from archspec.errors import GraphError
from archspec.spec.models import EdgeSpec

GATE = CONNECTIONS["gate"]


def edge(source: str, target: str, kind: str, index: int = 0, **params) -> EdgeSpec:
    return EdgeSpec(source, target, kind, CONNECTIONS[kind].Params(**params), None, index)


def test_every_kind_files_its_edges_itself():
    inputs = NodeInputs("t", OPS["attention"])
    for index, kind in enumerate(CONNECTIONS):
        CONNECTIONS[kind].collect(edge("s", "t", kind, index), inputs)
    assert [e.kind for e in inputs.mains] == ["plain"]
    assert [e.kind for e in inputs.merges] == ["concat-skip", "add-residual", "gate"]
    assert inputs.attention.kind == "attention"


def test_second_attention_edge_is_refused():
    inputs = NodeInputs("t", OPS["attention"])
    CONNECTIONS["attention"].collect(edge("a", "t", "attention"), inputs)
    with pytest.raises(GraphError, match=r"'t' has two attention edges \(a and b\)"):
        CONNECTIONS["attention"].collect(edge("b", "t", "attention", 1), inputs)


def test_gate_activation_defaults_by_the_number_of_main_inputs():
    assert GATE.activation(edge("g", "t", "gate"), 1) == "sigmoid"
    assert GATE.activation(edge("g", "t", "gate"), 2) == "softmax"
    assert GATE.activation(edge("g", "t", "gate", activation="sigmoid"), 2) == "sigmoid"
    assert GATE.label(edge("g", "t", "gate"), 1) == "σ" and GATE.label(edge("g", "t", "gate"), 3) == "softmax"


def test_softmax_gate_becomes_the_mixing_application():
    mains = [edge("a", "t", "plain"), edge("b", "t", "plain", 1)]
    mix = GATE.application(edge("g", "t", "gate", 2), mains)
    assert mix.mixes and mix.sources == ("a", "b", "g")
    shape = mix.shape([Operand("a", (5, 4)), Operand("b", (5, 4)), Operand("g", (5, 2))])
    assert shape == (5, 4)
    with pytest.raises(ShapeProblem) as problem:
        mix.shape([Operand("a", (5, 4)), Operand("b", (5, 4)), Operand("g", (5, 3))])
    assert problem.value.expected == "5x2 (one weight for each of 'a', 'b')"
    assert problem.value.hint == "make 'g' a dense layer with units: 2"


def test_merge_applications_read_the_current_tensor_then_the_source():
    concat = CONNECTIONS["concat-skip"].application(edge("s", "t", "concat-skip"), [])
    assert concat.sources == (None, "s") and concat.names_main and not concat.mixes
    assert concat.shape([Operand("m", (4, 4, 3)), Operand("s", (4, 4, 5))]) == (4, 4, 8)
    assert concat.intended([Operand("m", (4, 4, 3)), Operand("s", (8, 8, 5))]) == (4, 4, 8)
    steps = concat.lower(["m", "s"], "t", [])
    assert [(step.var, step.call.cls, step.args) for step in steps] == [("t.concat_skip", "Concatenate", ("m", "s"))]


def test_plain_and_attention_do_not_merge_and_have_no_label():
    for kind in ("plain", "attention"):
        assert not CONNECTIONS[kind].merges
        assert CONNECTIONS[kind].label(edge("s", "t", kind), 1) == ""


def test_each_gate_activation_has_its_label_and_layers():
    labels = {}
    for activation in ("sigmoid", "hard_sigmoid", "tanh", "none"):
        gate = edge("g", "t", "gate", activation=activation)
        labels[activation] = GATE.label(gate, 1)
        steps = GATE.application(gate, [edge("x", "t", "plain")]).lower(["x", "g"], "t", [])
        assert steps[-1].call.cls == "Multiply" and steps[-1].args[0] == "x"
        assert [step.var for step in steps[:-1]] == ([] if activation == "none" else [f"t.gate_{activation}"])
    assert labels == {"sigmoid": "σ", "hard_sigmoid": "hard σ", "tanh": "tanh", "none": ""}
