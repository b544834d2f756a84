"""Custom ops come only from an explicit plugin registry (entry point or --plugin), never from a spec."""

from __future__ import annotations

import importlib.metadata
import sys

import pytest

import archspec.plugin as archspec_plugin
from archspec.catalogue.ops import OPS
from archspec.errors import PluginError
from archspec.graph.shapes import analyze
from archspec.moved import new_name
from archspec.plugin import ENTRY_POINT_GROUP, LayerCall, Op, load_entry_points, load_plugin, register_op
from archspec.spec.frontend import loads_spec
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
     "plugin tests.plugin_ops:FakeDense: op name 'dense' is already taken by archspec.catalogue.ops.core.Dense"),
    ("tests.plugin_ops:NotAnOp",
     "plugin tests.plugin_ops:NotAnOp: <class 'tests.plugin_ops.NotAnOp'> is not an archspec Op subclass"),
    ("tests.plugin_ops:Loose",
     "plugin tests.plugin_ops:Loose: op 'loose' needs a Params model derived from archspec.plugin.OpParams"),
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


TURN_1_PLUGIN = '''"""A plugin written against the turn-1 docs: `archspec.ops.Op`, `archspec.ops.base`."""

from archspec.ops import LayerCall, Op, OpParams, Shape
from archspec.ops.base import format_shape


class HalfParams(OpParams):
    factor: float = 1.0


class Half(Op):
    name = "half"
    Params = HalfParams
    doc = "Multiplies by `factor`."

    def infer_shape(self, params: HalfParams, inputs: list[Shape]) -> Shape:
        assert format_shape(inputs[0]) == "4"
        return inputs[0]

    def layer(self, params: HalfParams, inputs: list[Shape]) -> LayerCall:
        return LayerCall("Rescaling", {"scale": params.factor})
'''


@pytest.fixture
def plugin_folder(tmp_path, monkeypatch):
    """A folder on sys.path for plugin modules, and the moved modules forgotten, so their import warns again."""
    monkeypatch.syspath_prepend(str(tmp_path))
    forget_moved_modules(monkeypatch)
    return tmp_path


def forget_moved_modules(monkeypatch):
    for name in [name for name in sys.modules if new_name(name) is not None]:
        monkeypatch.delitem(sys.modules, name)


def test_a_plugin_written_against_the_turn_1_docs_loads_with_a_deprecation_warning(plugin_folder, write_spec):
    (plugin_folder / "turn1_half.py").write_text(TURN_1_PLUGIN)
    with pytest.warns(DeprecationWarning) as warned:
        op = load_plugin("turn1_half:Half")
    messages = [str(warning.message) for warning in warned]
    assert "archspec.ops moved to archspec.catalogue.ops; import an op plugin's names from archspec.plugin " \
           "(docs/plugins.md)" in messages
    assert any(message.startswith("archspec.ops.base moved to archspec.catalogue.ops.base;") for message in messages)
    assert {warning.filename for warning in warned} == {str(plugin_folder / "turn1_half.py")}  # the import line
    assert OPS["half"] is op and isinstance(op, Op)
    graph = analyze(loads_spec(SPEC.replace("op: scale", "op: half")))
    assert graph.nodes["half"]["shape"] == (4,)
    assert op.layer(graph.nodes["half"]["params"], [(4,)]) == LayerCall("Rescaling", {"scale": 0.5})


def test_an_old_path_is_the_module_it_moved_to(monkeypatch):
    forget_moved_modules(monkeypatch)
    with pytest.warns(DeprecationWarning) as warned:
        import archspec.graph.ops.conv as conv
    assert [str(warning.message).partition(";")[0] for warning in warned] == [
        "archspec.graph.ops moved to archspec.catalogue.ops",
        "archspec.graph.ops.conv moved to archspec.catalogue.ops.conv"]
    from archspec.catalogue.ops import conv as moved_conv

    assert conv is moved_conv and conv.__spec__.name == "archspec.catalogue.ops.conv"  # its own spec, kept
    assert archspec_plugin.Op is Op and archspec_plugin.OPS is OPS


def test_a_plugin_that_fails_on_an_archspec_name_is_told_where_the_api_is(plugin_folder):
    (plugin_folder / "stale_plugin.py").write_text("from archspec.spec import NAME_PATTERN\n")
    with pytest.raises(PluginError) as caught:
        load_plugin("stale_plugin:Op")
    assert str(caught.value) == (
        "plugin stale_plugin:Op: cannot import module 'stale_plugin': cannot import name 'NAME_PATTERN' from "
        "'archspec.spec' (unknown location)\n"
        "  hint: a plugin imports Op, OpParams, LayerCall, Shape and the shape helpers from archspec.plugin, "
        "the stable API (docs/plugins.md)")
