"""Messages built from the model that failed: every op's and edge kind's misspelt parameter is named and corrected.

The attention op and the attention edge kind both have a model called
AttentionParams; looking the failed model up by class name once made the
edge kind's empty one answer for the op, so `droput` got no `expected:` and
no did-you-mean. These tests walk the whole registries, so a new op or edge
kind is covered the day it is added.
"""

from __future__ import annotations

import pytest

from archspec.catalogue.connections import CONNECTIONS
from archspec.catalogue.ops import OPS
from archspec.errors import SpecError, flatten_errors
from archspec.spec.frontend import loads_spec

NODE_SPEC = """\
archspec: 1
name: typo
inputs:
  x: {{shape: [8]}}
nodes:
  n:
    op: {op}
    {key}: 1
edges:
  - x -> n
outputs: [n]
"""

EDGE_SPEC = """\
archspec: 1
name: typo
inputs:
  x: {{shape: [8]}}
nodes:
  a: {{op: dense, units: 8}}
  b: {{op: dense, units: 8}}
edges:
  - x -> a
  - {{from: a, to: b, kind: {kind}, {key}: 1}}
outputs: [b]
"""


def misspell(name: str) -> str:
    """A typo a person makes: two letters swapped (or one added to a short name)."""
    if len(name) >= 4 and name[-1] != name[-2]:
        return name[:-2] + name[-1] + name[-2]
    return name + "x"


def spelt(model) -> list[str]:
    return [info.alias or name for name, info in model.model_fields.items()]


def errors_of(text: str) -> list[SpecError]:
    with pytest.raises(Exception) as caught:
        loads_spec(text, "typo.yaml")
    return flatten_errors(caught.value)


def the_error_about(errors: list[SpecError], key: str) -> SpecError:
    found = [error for error in errors if f"'{key}'" in error.message and "unknown" in error.message]
    assert len(found) == 1, [str(error) for error in errors]
    return found[0]


OP_PARAMS = [(op, field) for op, model in sorted(OPS.items()) for field in spelt(model.Params)]


def test_the_registry_has_ops_with_parameters():
    assert len({op for op, _ in OP_PARAMS}) >= 15
    assert ("attention", "dropout") in OP_PARAMS


@pytest.mark.parametrize(("op", "field"), OP_PARAMS, ids=[f"{op}.{field}" for op, field in OP_PARAMS])
def test_every_misspelt_op_parameter_is_named_with_its_correction(op, field):
    key = misspell(field)
    error = the_error_about(errors_of(NODE_SPEC.format(op=op, key=key)), key)
    assert (error.location.file, error.line, error.column) == ("typo.yaml", 8, 5)
    assert error.node == "n"
    assert error.message == f"unknown parameter '{key}' for op {op}"
    assert error.expected == "one of " + ", ".join(spelt(OPS[op].Params))
    assert error.hint is not None and f"'{field}'" in error.hint and error.hint.startswith("did you mean")


EDGE_PARAMS = [(kind, field) for kind, connection in CONNECTIONS.items() for field in spelt(connection.Params)]


@pytest.mark.parametrize(("kind", "field"), EDGE_PARAMS, ids=[f"{kind}.{field}" for kind, field in EDGE_PARAMS])
def test_every_misspelt_edge_parameter_is_named_with_its_correction(kind, field):
    key = misspell(field)
    error = the_error_about(errors_of(EDGE_SPEC.format(kind=kind, key=key)), key)
    assert (error.line, error.column) == (10, 30 + len(kind))
    assert error.expected == "one of " + ", ".join(spelt(CONNECTIONS[kind].Params))
    assert f"'{field}'" in error.hint


def test_attention_op_and_attention_edge_do_not_shadow_each_other():
    """Both models are named AttentionParams; each error names its own model's fields."""
    op_error = the_error_about(errors_of(NODE_SPEC.format(op="attention", key="droput")), "droput")
    assert op_error.expected == ("one of heads, key_dim, value_dim, dropout, use_bias, causal, kv_heads, rotary, "
                                 "output_bias, window, relative")
    assert op_error.hint == "did you mean 'dropout'?"
    edge_error = the_error_about(errors_of(EDGE_SPEC.format(kind="attention", key="droput")), "droput")
    assert edge_error.expected is None  # the attention edge kind takes no parameters
    assert edge_error.message == "unknown parameter 'droput' for an attention edge"
