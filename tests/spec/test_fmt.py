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


def densely_connected(layers: int, copies: int) -> str:
    """A block whose every layer concatenates all the ones before it (DenseNet), repeated: many more edges than
    nodes once expanded."""
    nodes, edges = ["      l1: {op: dense, units: 2}"], ["      - x -> l1"]
    for layer in range(2, layers + 1):
        nodes += [f"      c{layer}: {{op: concat}}", f"      l{layer}: {{op: dense, units: 2}}"]
        edges += [f"      - {{from: x, to: c{layer}}}"] + [f"      - l{i} -> c{layer}" for i in range(1, layer)]
        edges.append(f"      - c{layer} -> l{layer}")
    return "\n".join(["archspec: 1", "name: dense_net", "inputs: {x: [4]}", "blocks:", "  dense_block:",
                      f"    outputs: [l{layers}]", "    nodes:", *nodes, "    edges:", *edges, "nodes:",
                      f"  stage: {{block: dense_block, repeat: {copies}}}", "edges:",
                      "  - x -> stage -> dense(2)"]) + "\n"


@pytest.mark.slow
def test_expand_prints_a_valid_spec_whose_expansion_has_more_edges_than_a_file_may(tmp_path, capsys):
    path = tmp_path / "dense_net.yaml"
    path.write_text(densely_connected(30, 24))
    with pytest.raises(SystemExit) as exit_:
        main(["validate", str(path)])
    assert exit_.value.code == 0, capsys.readouterr()
    capsys.readouterr()
    with pytest.raises(SystemExit) as exit_:
        main(["expand", str(path)])
    printed = capsys.readouterr().out
    assert exit_.value.code == 0
    edges = [line for line in printed.splitlines() if line.startswith("  - ")]
    assert len(edges) > 10_000  # the loader's limit on entries a person writes; it was refused at its 10,001st


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


LONG_DOC = "a doc that says the model maps a->b, " + "and then goes on " * 8
CHAIN_WITH_SPACES = "x  ->  " + "  ->  ".join(f"dense({n})" for n in range(10, 30))
FMT_CASES = {
    "tab before a comment": "archspec: 1\nname: t\t# the name\ninputs: {x: [8]}\nedges:\n  - x -> dense(2)\n",
    "arrow in a long doc": f"archspec: 1\nname: t\ndoc: {LONG_DOC}\ninputs: {{x: [8]}}\nedges:\n  - x -> dense(2)\n",
    "chain with extra spaces": f"archspec: 1\nname: t\ninputs: {{x: [8]}}\nedges:\n  - {CHAIN_WITH_SPACES}\n",
    "comments in a nested parameter": "archspec: 1\nname: t\ninputs: {x: [8]}\nnodes:\n  d:\n    op: dense\n"
    "    units: 4\n    kernel_reg:   # regularise\n      l2: 0.01    # small\nedges:\n  - x -> d\n",
    "comment after the document end": "archspec: 1\nname: t\ninputs: {x: [8]}\nedges:\n  - x -> dense(2)\n"
    "... # end of the spec\n",
    "comment inside a flow node": "archspec: 1\nname: t\ninputs: {x: [8]}\nblocks:\n  unit:\n    nodes:\n"
    "      d: {op: dense,   # the layer\n          units: 64}\n    edges: [x -> d]\nedges:\n  - x -> unit\n",
}


@pytest.mark.parametrize("text", FMT_CASES.values(), ids=FMT_CASES.keys())
def test_fmt_formats_every_valid_spec_keeping_its_meaning_and_comments(text, tmp_path, capsys):
    from archspec.spec.fmt_proof import comments, meaning

    path = tmp_path / "s.yaml"
    path.write_text(text)
    with pytest.raises(SystemExit) as exit_:
        main(["validate", str(path)])
    assert exit_.value.code == 0
    with pytest.raises(SystemExit) as exit_:
        main(["fmt", "--write", str(path)])
    assert exit_.value.code == 0, capsys.readouterr()
    written = path.read_text()
    assert meaning(parse_yaml(written).data) == meaning(parse_yaml(text).data)
    assert comments(written) == [comment.replace("\t", " ") for comment in comments(text)]
    assert format_spec(written) == written
    assert not any(line.startswith((",", "}")) for line in written.splitlines())  # valid flow style


def test_long_chains_written_with_extra_spaces_are_folded_and_a_doc_is_not():
    chains = format_spec(FMT_CASES["chain with extra spaces"])
    assert all(len(line) <= 120 for line in chains.splitlines()) and "  ->  " not in chains
    doc = format_spec(FMT_CASES["arrow in a long doc"])
    assert f"doc: {LONG_DOC.strip()}" in doc
