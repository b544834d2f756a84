"""`archspec fmt` and `archspec expand` (issue 18): canonical layout keeping comments and meaning."""

from __future__ import annotations

import pytest

from archspec.cli import main
from archspec.spec.fmt import format_spec
from archspec.spec.loader import parse_yaml
from tests.conftest import ROOT, SPECS

MESSY = """# header comment
nodes:
    b: {units: 10, op: dense}   # the classifier
    a_long_name: {op: flatten}
name: t   # the name
edges: [x -> a_long_name -> b]
archspec: 1
inputs: {x: {shape: [4]}}
outputs: [b]
"""


def test_canonical_order_alignment_and_comments():
    result = format_spec(MESSY)
    assert result == """# header comment
archspec: 1
name: t   # the name
inputs: {x: {shape: [4]}}
nodes:
  b:           {op: dense, units: 10}  # the classifier
  a_long_name: {op: flatten}
edges:
  - x -> a_long_name -> b
outputs: [b]
"""
    assert format_spec(result) == result


@pytest.mark.parametrize("path", SPECS, ids=lambda p: p.stem)
def test_every_spec_keeps_its_data_and_comments(path):
    text = path.read_text()
    result = format_spec(text, str(path))
    assert parse_yaml(result).data == parse_yaml(text).data
    comments = [line.split("#", 1)[1].strip() for line in text.splitlines() if "#" in line]
    assert all(comment in result for comment in comments)
    assert format_spec(result) == result


def test_fmt_check_and_write(tmp_path, capsys):
    path = tmp_path / "s.yaml"
    path.write_text(MESSY)
    with pytest.raises(SystemExit) as exit_:
        main(["fmt", "--check", str(path)])
    assert exit_.value.code == 1 and "would reformat" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exit_:
        main(["fmt", "--write", str(path)])
    assert exit_.value.code == 0 and path.read_text() == format_spec(MESSY)
    with pytest.raises(SystemExit) as exit_:
        main(["fmt", "--check", str(path)])
    assert exit_.value.code == 0


def test_fmt_of_invalid_yaml_is_a_located_error(tmp_path, capsys):
    path = tmp_path / "s.yaml"
    path.write_text("a: [1,\n")
    with pytest.raises(SystemExit) as exit_:
        main(["fmt", str(path)])
    assert exit_.value.code == 1 and f"{path}:" in capsys.readouterr().err


def test_expand_prints_every_node_and_edge(tmp_path, capsys):
    path = tmp_path / "s.yaml"
    path.write_text("""archspec: 1
name: t
defaults: {dense: {use_bias: false}}
inputs: {x: {shape: [4]}}
nodes: {out: {op: dense, units: 2}}
edges:
  - x -> dense(8, relu) -> out
outputs: [out]
""")
    with pytest.raises(SystemExit) as exit_:
        main(["expand", str(path)])
    printed = capsys.readouterr().out
    assert exit_.value.code == 0
    data = parse_yaml(printed).data
    assert data["nodes"] == {"out": {"op": "dense", "units": 2, "use_bias": False},
                             "dense_1": {"op": "dense", "units": 8, "activation": "relu", "use_bias": False}}
    assert data["edges"] == ["x -> dense_1 -> out"]
    assert "defaults" not in data


def test_long_chains_are_broken_before_an_arrow_and_read_back_the_same():
    chain = " -> ".join(["x"] + [f"dense({n}, activation=relu)" for n in range(10, 20)] + ["out"])
    text = f"archspec: 1\nname: t\nedges:\n  - {chain}\n"
    result = format_spec(text)
    lines = result.splitlines()
    assert all(len(line) <= 120 for line in lines)
    assert lines[3].startswith("  - x -> dense(10, activation=relu)") and lines[4].startswith("      -> dense(")
    assert parse_yaml(result).data["edges"] == [chain]
    assert format_spec(result) == result


def test_a_key_with_one_long_chain_and_a_long_flow_list_are_wrapped_within_the_width():
    chain = " -> ".join(["x"] + [f"dense({n}, activation=relu)" for n in range(10, 20)])
    items = ", ".join(f'"x -> dense({n}, activation=relu) -> out{n}=add"' for n in range(4))
    text = f"archspec: 1\nblocks:\n  unit(n):   # a comment\n    [{items}]\n  other(n): {chain}\nedges: {chain}\n"
    result = format_spec(text)
    assert all(len(line) <= 120 for line in result.splitlines()), result
    assert "  unit(n):  # a comment" in result.splitlines()
    data = parse_yaml(result).data
    assert data["edges"] == chain and data["blocks"]["other(n)"] == chain
    assert data["blocks"]["unit(n)"] == parse_yaml(text).data["blocks"]["unit(n)"]
    assert format_spec(result) == result


@pytest.mark.parametrize("path", sorted((ROOT / "specs").glob("**/*.yaml")),
                         ids=lambda path: str(path.relative_to(ROOT / "specs")))
def test_every_shipped_spec_and_sweep_is_as_fmt_writes_it(path):
    """`archspec fmt --check specs/*.yaml` is clean: a newcomer's first fmt changes nothing of ours."""
    assert format_spec(path.read_text(), str(path)) == path.read_text()


def test_fmt_check_help_says_what_it_prints(capsys):
    with pytest.raises(SystemExit):
        main(["fmt", "--help"])
    assert "'would reformat FILE', on stderr" in " ".join(capsys.readouterr().out.split())


def test_a_long_flow_mapping_is_wrapped_at_its_commas():
    value = ", ".join(f"key{n}: {{inner: [{n}, {n + 1}]}}" for n in range(12))
    text = f"archspec: 1\ntrain: {{{value}}}\n"
    result = format_spec(text)
    assert all(len(line) <= 120 for line in result.splitlines()), result
    assert result.splitlines()[1] == "train:" and result.splitlines()[2].startswith("  {key0: {inner: [0, 1]}, ")
    assert parse_yaml(result).data == parse_yaml(text).data
    assert format_spec(result) == result
