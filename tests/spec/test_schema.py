"""`archspec schema`: the JSON Schema of the format agrees with the registry and the specs."""

from __future__ import annotations

import json

import jsonschema
import pytest
import yaml
from typer.testing import CliRunner

from archspec.catalogue.ops import OPS
from archspec.cli import app
from archspec.spec.schema import spec_schema
from tests.conftest import ROOT, SPECS


@pytest.fixture(scope="module")
def validator():
    schema = spec_schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


def test_schema_op_tags_are_the_registry():
    definitions = spec_schema()["$defs"]
    union = next(d for d in definitions["Block"]["properties"]["nodes"]["additionalProperties"]["anyOf"]
                 if "discriminator" in d)
    assert set(union["discriminator"]["mapping"]) == set(OPS)


ZOO = sorted((ROOT / "specs" / "zoo").glob("*.yaml")) + \
    sorted((ROOT / "tests" / "data" / "compact" / "long" / "zoo").glob("*.yaml"))


@pytest.mark.parametrize("path", SPECS + ZOO, ids=lambda p: getattr(p, "stem", ""))
def test_every_example_spec_fits_the_schema(validator, path):
    assert list(validator.iter_errors(yaml.safe_load(path.read_text()))) == []


MINIMAL = {
    "archspec": 1, "name": "m", "inputs": {"x": {"shape": [4]}},
    "nodes": {"out": {"op": "dense", "units": 2}}, "edges": ["x -> out"], "outputs": ["out"],
}


@pytest.mark.parametrize("node, accepted", [
    ({"op": "dense", "units": 2}, True),
    ({"op": "dense", "units": "${width * 2}"}, True),
    ({"op": "dense", "units": 2, "unit": 3}, False),
    ({"op": "dense"}, False),
    ({"op": "dense", "units": "two"}, False),
    ({"op": "denes", "units": 2}, False),
    ({"block": "stage", "filters": 64, "repeat": 3}, True),
    ({"shares": "hidden"}, True),
    ({"op": "dense", "shares": "hidden"}, True),
    ({"shares": "hidden", "units": 3}, False),
    ({"block": "stage", "shares": "first"}, True),
])
def test_schema_checks_each_node_against_its_op(validator, node, accepted):
    spec = {**MINIMAL, "nodes": {"out": node}}
    assert validator.is_valid(spec) is accepted


def test_the_short_forms_fit_the_schema(validator):
    spec = {"archspec": 1, "inputs": {"x": [4]}, "blocks": {"unit(width, act=relu)": ["x -> dense(${width})"]},
            "edges": ["x -> unit(8) -> dense(2)"]}
    assert validator.is_valid(spec)
    assert not validator.is_valid({**spec, "inputs": {"x": [0]}})
    assert validator.is_valid({**spec, "blocks": {"unit": "x -> dense(2)"}, "edges": "x -> unit -> dense(2)"})
    assert not validator.is_valid({**spec, "blocks": {"unit": 3}})
    assert not validator.is_valid({**spec, "edges": 3})


def test_a_variant_needs_only_extends(validator):
    assert validator.is_valid({"archspec": 1, "extends": "base.yaml", "edges": ["a -> b"]})
    assert not validator.is_valid({"archspec": 1, "edges": ["a -> b"]})


def test_schema_command_prints_the_schema():
    result = CliRunner().invoke(app, ["schema"])
    assert result.exit_code == 0
    assert json.loads(result.output) == spec_schema()


def test_an_item_of_a_list_parameter_may_be_an_expression(validator):
    node = {"op": "expr", "expr": "x * gamma", "learnable": {"gamma": {"shape": [1, 1, "${dim}"]}}}
    assert validator.is_valid({**MINIMAL, "nodes": {"out": node}})
    assert validator.is_valid({**MINIMAL, "nodes": {"out": {"op": "reshape", "shape": [2, "${half}"]}}})
    assert not validator.is_valid({**MINIMAL, "nodes": {"out": {"op": "reshape", "shape": [2, "half"]}}})
    bad = {**node, "learnable": {"gamma": {"shape": [1, "dim"]}}}
    assert not validator.is_valid({**MINIMAL, "nodes": {"out": bad}})
