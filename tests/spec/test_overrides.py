"""`--set` on compact specs (issue 26): its values take the file's short forms, and an error it causes names
the `--set` argument, never the file's first line."""

from __future__ import annotations

import pytest

from archspec.errors import ArchspecError, SpecError, flatten_errors
from archspec.spec.frontend import loads_spec

COMPACT = "archspec: 1\nname: s\ninputs: {x: [8]}\nedges: x -> hidden=dense(16) -> dense(2)\n"


def first_error(*overrides: str) -> SpecError:
    with pytest.raises(ArchspecError) as caught:
        loads_spec(COMPACT, "s.yaml", overrides)
    return flatten_errors(caught.value)[0]


@pytest.mark.parametrize("override, check", [
    ("inputs.x=[4]", lambda spec: spec.inputs["x"].shape == [4]),
    ("inputs={x: [4, 2]}", lambda spec: spec.inputs["x"].shape == [4, 2]),
    ("edges=x -> dense(4) -> out=dense(3)", lambda spec: spec.outputs == ["out"]
     and spec.nodes["dense_1"].params.units == 4),
])
def test_set_values_take_the_short_forms_of_the_file(override, check):
    assert check(loads_spec(COMPACT, "s.yaml", [override]))


@pytest.mark.parametrize("override, message", [
    ("nodes.hiden.units=3", "node 'hiden': has no 'op'"),
    ("nodes.hiden.units=3", "hint: did you mean 'hidden'?"),
    ("edges=x -> dense(4) -> relx", "edge dense_1 -> relx: unknown target 'relx'"),
    ("edges=x -> dense(0)", "node 'dense_1': invalid value for 'units'"),
    ("inputs.x=[0]", "invalid value for 'inputs.x.shape.0'"),
])
def test_an_error_a_set_causes_names_the_set(override, message):
    error = first_error(override)
    assert str(error).startswith(f"--set {override}: ") and message in str(error), str(error)


def test_a_misspelt_node_in_an_edge_is_named_before_the_sinks_it_leaves():
    with pytest.raises(SpecError) as caught:
        loads_spec("archspec: 1\nname: s\ninputs: {x: [8]}\nnodes:\n  a: {op: dense, units: 4}\n"
                   "  b: {op: dense, units: 2}\n  c: {op: dense, units: 2}\nedges:\n  - x -> c\n  - x -> a -> bb\n",
                   "s.yaml")  # b and c are sinks: the message listed them, not the typo
    assert str(caught.value) == ("s.yaml:10:5: edge a -> bb: unknown target 'bb'\n"
                                 "  expected: a name defined under 'inputs:' or 'nodes:'\n"
                                 "  got:      'bb'\n"
                                 "  hint: did you mean 'b'?")
