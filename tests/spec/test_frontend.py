"""The front end's stages in order, and the bad input the corpus cannot hold: --set arguments, several files.

Each case runs `archspec validate` in-process (as tests/spec/test_bad_specs.py
does) and checks the exit code, the exact first line with its location, and
that no traceback is printed.
"""

from __future__ import annotations

import pytest

from archspec.cli import main
from archspec.errors import ArchspecError, SpecError, flatten_errors
from archspec.graph.shapes import analyze
from archspec.spec import expand, extends, loader, overrides, validate
from archspec.spec.document import Positions
from archspec.spec.frontend import load_spec, loads_spec
from benchmarks.frontend_scaling import write_specs

SPEC = """\
archspec: 1
name: small
vars: {width: 4, act: relu}
inputs:
  x: {shape: [8]}
nodes:
  a: {op: dense, units: "${width}", activation: "${act}"}
  b: {op: dense, units: 2}
edges:
  - x -> a -> b
outputs: [b]
"""


def validate_cli(capsys, *args: str) -> tuple[int, str]:
    """Exit code and stderr of `archspec validate ARGS`."""
    capsys.readouterr()
    try:
        main(["validate", *args])
        code = 0
    except SystemExit as stop:
        code = stop.code
    captured = capsys.readouterr()
    assert "Traceback" not in captured.out + captured.err
    return code, captured.err


def test_front_end_reads_in_the_documented_order(monkeypatch, write_spec):
    """load YAML -> merge base -> --set -> expand -> validate, each stage called once, none calling another."""
    calls = []
    for module, name in ((loader, "load_yaml"), (extends, "merge_base"), (overrides, "apply_overrides"),
                         (expand, "expand"), (validate, "validate_document")):
        original = getattr(module, name)

        def spy(*args, _original=original, _name=name, **kwargs):
            calls.append(_name)
            return _original(*args, **kwargs)

        monkeypatch.setattr(f"archspec.spec.frontend.{name}", spy)
    load_spec(write_spec(SPEC), ["vars.width=3"])
    assert calls == ["load_yaml", "merge_base", "apply_overrides", "expand", "validate_document"]


@pytest.mark.parametrize(("setting", "message"), [
    ("edges.²=x -> b", "--set edges.²=x -> b: cannot set 'edges.²'"),
    ("vars.width=&a [*a]", "--set vars.width=&a [*a]: alias *a refers to a mapping or list that contains it"),
    ("vars.width=!!python/object/apply:os.system [ls]",
     "--set vars.width=!!python/object/apply:os.system [ls]: YAML tag '!!python/object/apply:os.system' "
     "is not allowed in a spec"),
    ("vars.width=" + "[" * 70 + "]" * 70,
     "--set vars.width=" + "[" * 70 + "]" * 70 + ": the spec is nested too deeply"),
    ("vars.width=-3", "--set vars.width=-3: node 'a': invalid value for 'units': Input should be greater than 0"),
    ("nodes.b.units=!!int x", "--set nodes.b.units=!!int x: cannot read 'x' (1 characters) as an integer"),
    ("vars.act=rleu", "--set vars.act=rleu: node 'a': invalid value for 'activation': Input should be 'linear', "
     "'relu', 'sigmoid', 'softmax', 'tanh', 'gelu', 'elu', 'selu', 'swish', 'silu', 'softplus', 'softsign', "
     "'leaky_relu', 'relu6', 'hard_sigmoid', 'exponential', 'log_softmax', 'hard_silu', 'hard_swish', 'mish', "
     "'celu', 'hard_tanh', 'log_sigmoid', 'squareplus', 'sparse_plus', 'sparse_sigmoid', 'sparsemax', "
     "'hard_shrink', 'soft_shrink' or 'tanh_shrink'"),
    ("nodes..units=3", "--set nodes..units=3: --set 'nodes..units=3' has an empty part in its key"),
])
def test_set_arguments_are_read_by_the_spec_loader_and_blamed(write_spec, capsys, setting, message):
    path = write_spec(SPEC)
    code, err = validate_cli(capsys, str(path), "--set", setting)
    assert code == 1
    assert err.splitlines()[0] == message


def test_an_alias_bomb_in_a_set_value_is_refused_by_the_value_limit(write_spec, capsys):
    bomb = "[" + ", ".join(["&a0 [x, x, x, x, x, x, x, x, x, x]"]
                           + [f"&a{i} [" + ", ".join([f"*a{i - 1}"] * 10) + "]" for i in range(1, 7)]) + "]"
    code, err = validate_cli(capsys, str(write_spec(SPEC)), "--set", f"vars.width={bomb}")
    assert code == 1
    assert err.splitlines()[0].endswith("the spec has too many YAML values (counting each alias as a copy)")


def test_validate_argument_the_system_refuses(capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    code, err = validate_cli(capsys, "a\0b.yaml")
    assert (code, err.splitlines()[0]) == (
        1, "archspec: argument 2 ('a\\x00b.yaml') contains a NUL character, which no file name or option can hold")
    code, err = validate_cli(capsys, "n" * 300 + ".yaml")
    assert code == 1
    assert err.splitlines()[0].endswith(": File name too long")


def test_an_extends_cycle_is_printed_once_with_relative_paths(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "a.yaml").write_text("archspec: 1\nextends: b.yaml\n")
    (tmp_path / "b.yaml").write_text("archspec: 1\nextends: a.yaml\n")
    code, err = validate_cli(capsys, "a.yaml")
    assert code == 1
    assert err.splitlines()[:2] == ["b.yaml:2:10: 'extends' goes round in a circle",
                                    "  got:      a.yaml -> b.yaml -> a.yaml"]


def test_extends_too_deep_is_not_called_a_cycle(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    for index in range(extends.MAX_EXTENDS_DEPTH + 2):
        (tmp_path / f"s{index}.yaml").write_text(f"archspec: 1\nextends: s{index + 1}.yaml\n")
    code, err = validate_cli(capsys, "s0.yaml")
    assert code == 1
    first = err.splitlines()[0]
    assert first == f"s{extends.MAX_EXTENDS_DEPTH}.yaml:2:10: 'extends' is nested too deeply (more than 10 bases)"
    assert "circle" not in err


def test_a_bad_value_in_vars_is_reported_once_at_the_var():
    text = SPEC.replace("act: relu", "act: rleu").replace("b: {op: dense, units: 2}",
                                                           'b: {op: dense, units: 2, activation: "${act}"}')
    with pytest.raises(SpecError) as caught:
        loads_spec(text, "v.yaml")
    errors = flatten_errors(caught.value)
    assert len(errors) == 1
    assert (errors[0].line, errors[0].column) == (3, 23)  # 'rleu' in vars:, not either use


def test_expressions_expand_in_edge_chains():
    text = SPEC.replace("vars: {width: 4, act: relu}", "vars: {width: 4, act: relu, first: a}").replace(
        "  - x -> a -> b", "  - x -> ${first} -> b")
    spec = loads_spec(text)
    assert [(edge.source, edge.target) for edge in spec.edges] == [("x", "a"), ("a", "b")]


@pytest.mark.parametrize(("text", "value"), [
    ("1e-6", 1e-6), ("1e-06", 1e-6), ("1.5", 1.5), (".5", 0.5), ("3", 3), ("0x1F", 31), ("0o17", 15),
    ("012", 12), ("3:3", "3:3"), ("yes", "yes"), ("off", "off"), ("'false'", "false"), ('"1e-6"', "1e-6"),
    ("true", True), ("FALSE", False), ("~", None), ("1_000", "1_000"), ("2024-01-01", "2024-01-01"),
])
def test_yaml_1_2_core_scalars(text, value):
    assert loader.parse_yaml(f"v: {text}\n").data["v"] == value


@pytest.mark.slow  # a 10,000-node spec: tens of seconds, outside the fast lane
def test_a_10000_node_spec_with_vars_extends_and_typos_copies_positions_once(tmp_path, monkeypatch):
    """Near-linear front end: each node's positions are copied a few times, not once per node of the file.

    The spec is benchmarks/frontend_scaling.py's largest: vars, a block, a
    one-edge variant of a 10,000-node base and 1% misspelt edge targets.
    """
    variant = write_specs(tmp_path, 10_000)
    typos = (tmp_path / "base.yaml").read_text().count(" -> m")
    copies = []
    original = Positions.copy

    def counting(self, *args, **kwargs):
        copies.append(1)
        return original(self, *args, **kwargs)

    monkeypatch.setattr(Positions, "copy", counting)
    with pytest.raises(ArchspecError) as caught:
        analyze(load_spec(variant))
    errors = flatten_errors(caught.value)
    assert typos >= 90
    assert len(errors) == typos  # every typo found, each once
    assert all(error.message.startswith("edge n") and "unknown target 'm" in error.message for error in errors)
    assert errors[-1].hint.startswith("did you mean 'n")
    assert len(copies) < 6 * 10_000  # a few per node and edge; once per node per position would be ~10^9


@pytest.mark.parametrize("text", ["0o17", "1e-6", "yes", "3:3", "true", "null", "12"])
def test_resolved_yaml_reads_back_the_same_strings(text):
    """A run folder's resolved spec is reloaded by the YAML 1.2 loader: strings that look like numbers stay strings."""
    spec = loads_spec(SPEC.replace("name: small", f'name: small\ndoc: "{text}"'))
    assert loader.parse_yaml(spec.resolved_yaml()).data == spec.document.data
