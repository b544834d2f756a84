"""Custom ops come only from an explicit plugin registry (entry point or --plugin), never from a spec."""

from __future__ import annotations

import importlib.metadata

import pytest

from archspec.errors import PluginError
from archspec.graph.ops import OPS
from archspec.plugins import ENTRY_POINT_GROUP, load_entry_points, load_plugin, register_op
from tests.plugin_ops import Scale

SPEC = """archspec: 1
name: scaled
inputs:
  x: {shape: [4]}
nodes:
  half: {op: scale, factor: 0.5}
  out: {op: dense, units: 2}
edges:
  - x -> half -> out
outputs: [out]
"""


@pytest.fixture(autouse=True)
def clean_registry():
    before = dict(OPS)
    yield
    OPS.clear()
    OPS.update(before)


def run(capsys, *args: str) -> tuple[int, str]:
    from archspec.cli import main

    try:
        main(list(args))
        code = 0
    except SystemExit as stop:
        code = stop.code
    captured = capsys.readouterr()
    return code, captured.out + captured.err


def test_a_spec_cannot_name_an_unregistered_op_or_a_module(write_spec, capsys):
    path = write_spec(SPEC)
    code, output = run(capsys, "validate", str(path))
    assert code == 1
    assert output.splitlines()[0] == f"{path}:6:14: node 'half': unknown op 'scale'"
    module_path = write_spec(SPEC.replace("op: scale", "op: tests.plugin_ops:Scale"), "module.yaml")
    code, output = run(capsys, "validate", str(module_path))
    assert output.splitlines()[0] == f"{module_path}:6:14: node 'half': unknown op 'tests.plugin_ops:Scale'"
    assert "scale" not in OPS


def test_plugin_option_registers_the_op(write_spec, capsys):
    path = write_spec(SPEC)
    code, output = run(capsys, "--plugin", "tests.plugin_ops:Scale", "validate", str(path))
    assert (code, output) == (0, f"ok  {path}  (2 nodes, 10 parameters)\n")
    assert isinstance(OPS["scale"], Scale)


def test_plugin_params_are_validated_like_built_in_ones(write_spec, capsys):
    path = write_spec(SPEC.replace("factor: 0.5", "factr: 0.5"))
    code, output = run(capsys, "--plugin", "tests.plugin_ops:Scale", "validate", str(path))
    assert code == 1
    assert output.splitlines()[0] == f"{path}:6:21: node 'half': unknown parameter 'factr' for op scale"
    assert "hint: did you mean 'factor'?" in output


def test_entry_points_register_ops(monkeypatch):
    entry = importlib.metadata.EntryPoint("scale", "tests.plugin_ops:Scale", ENTRY_POINT_GROUP)

    def entry_points(group):
        return [entry] if group == ENTRY_POINT_GROUP else []

    monkeypatch.setattr(importlib.metadata, "entry_points", entry_points)
    assert [op.name for op in load_entry_points()] == ["scale"]
    assert isinstance(OPS["scale"], Scale)


def test_a_broken_entry_point_names_itself(monkeypatch):
    entry = importlib.metadata.EntryPoint("gone", "tests.no_such_module:Op", ENTRY_POINT_GROUP)
    monkeypatch.setattr(importlib.metadata, "entry_points", lambda group: [entry])
    with pytest.raises(PluginError) as caught:
        load_entry_points()
    assert str(caught.value) == ("plugin entry point 'gone = tests.no_such_module:Op' failed to load: "
                                 "ModuleNotFoundError: No module named 'tests.no_such_module'")


@pytest.mark.parametrize(("reference", "message"), [
    ("tests.plugin_ops:FakeDense",
     "plugin tests.plugin_ops:FakeDense: op name 'dense' is already taken by archspec.graph.ops.core.Dense"),
    ("tests.plugin_ops:NotAnOp",
     "plugin tests.plugin_ops:NotAnOp: <class 'tests.plugin_ops.NotAnOp'> is not an archspec Op subclass"),
    ("tests.plugin_ops:Loose",
     "plugin tests.plugin_ops:Loose: op 'loose' needs a Params model derived from archspec.graph.ops.OpParams"),
    ("tests.plugin_ops:Tinted", "plugin tests.plugin_ops:Tinted: op 'tinted' has family 'purple'; "
     "expected one of conv, dense, merge, attention, keep, other"),
    ("tests.plugin_ops:Missing", "plugin tests.plugin_ops:Missing: module 'tests.plugin_ops' has no 'Missing'"),
    ("tests.plugin_ops", "plugin 'tests.plugin_ops': expected the form module:OpClass, e.g. mypkg.ops:Scale"),
])
def test_bad_plugins_are_refused(reference, message):
    with pytest.raises(PluginError) as caught:
        load_plugin(reference)
    assert str(caught.value).splitlines()[0] == message
    assert "loose" not in OPS and "not_an_op" not in OPS and "tinted" not in OPS


def test_bad_plugin_on_the_command_line_exits_1(capsys):
    code, output = run(capsys, "--plugin", "tests.plugin_ops:FakeDense", "validate", "x.yaml")
    assert code == 1
    assert output.startswith("plugin tests.plugin_ops:FakeDense: op name 'dense' is already taken")
    assert "Traceback" not in output


def test_registering_the_same_op_twice_is_harmless():
    first = register_op(Scale, source="test")
    assert register_op(Scale(), source="test") is first
