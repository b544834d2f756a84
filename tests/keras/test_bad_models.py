"""Specs that once validated but made a model Keras refuses, a wrong model, or a crash after `validate`.

Each tests/data/bad_models/NAME.yaml has a sidecar NAME.expected in the format of
tests/data/bad_specs/README.md: `archspec validate` must stop it with one located
error (exit 1, no traceback). Other commands that read a spec (summary, render)
must stop with the same first message, never inside shape inference or graphviz.
Values at the edge of each rule must still build in Keras.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

import archspec
from archspec.cli import main
from archspec.errors import ArchspecError, flatten_errors
from archspec.spec.frontend import loads_spec
from tests.spec.test_bad_specs import check, read_expected, run_validate

CORPUS = Path(__file__).resolve().parents[1] / "data" / "bad_models"
CASES = sorted(CORPUS.glob("*.yaml"))


def test_corpus_is_complete():
    assert [path.stem for path in sorted(CORPUS.glob("*.expected"))] == [path.stem for path in CASES]
    assert len(CASES) >= 15


@pytest.mark.parametrize("case", CASES, ids=lambda path: path.stem)
def test_bad_model(case, tmp_path, monkeypatch, capsys):
    shutil.copyfile(case, tmp_path / case.name)
    monkeypatch.chdir(tmp_path)
    expected = read_expected(case.with_suffix(".expected"))
    check(run_validate(case.name, capsys), expected)
    with pytest.raises(ArchspecError) as caught:
        archspec.analyze(case.name)
    assert type(flatten_errors(caught.value)[0]).__name__ == expected.error_class
    assert os.listdir(tmp_path) == [case.name]


@pytest.mark.parametrize("command", [["summary"], ["render", "-o", "out.svg"]])
@pytest.mark.parametrize("name", ["params_depthwise_strides_and_dilation", "name_model_with_slash"])
def test_other_commands_stop_with_the_same_message(name, command, tmp_path, monkeypatch, capsys):
    case = CORPUS / f"{name}.yaml"
    shutil.copyfile(case, tmp_path / case.name)
    monkeypatch.chdir(tmp_path)
    capsys.readouterr()
    with pytest.raises(SystemExit) as stop:
        main([command[0], case.name, *command[1:]])
    output = capsys.readouterr()
    assert stop.value.code == 1
    assert "Traceback" not in output.out + output.err
    assert read_expected(case.with_suffix(".expected")).message in output.err
    # render draws what it can of an invalid spec, its problems in red; summary writes nothing
    assert set(os.listdir(tmp_path)) <= {case.name, "out.svg"}


EDGE_VALUES = """archspec: 1
name: edge-values_1.2
inputs:
  x: {shape: [8, 8, 3]}
nodes:
  dw: {op: depthwise_conv2d, strides: 2}
  dilated: {op: depthwise_conv2d, dilation: 2}
  conv: {op: conv2d, filters: 2, strides: [2, 1], dilation: 1}
  far: {op: conv2d, filters: 2, dilation: [1, 1024]}
  pool: {op: max_pool2d, pool: 1024, strides: [1024, 1], padding: same}
  pad: {op: zero_padding2d, padding: [[0, 1024], [0, 0]]}
  flat: {op: flatten}
  drop: {op: dropout, rate: 0.5, seed: 9223372036854775807}
  out: {op: relu, threshold: 1.5e+300, negative_slope: 1.0e+300}
edges:
  - x -> dw -> dilated -> conv -> far -> pool -> pad -> flat -> drop -> out
outputs: [out]
"""


def test_values_at_the_edge_of_each_rule_build_in_keras(keras):
    """The largest seed, window and padding, strides alone, dilation alone, every character the name rule allows."""
    model = archspec.compile_model(loads_spec(EDGE_VALUES, "edge.yaml"))
    assert model.name == "edge-values_1.2"
    assert model.get_layer("drop").seed == 2**63 - 1


NASTY_TEXTS = ["a\\", "a\\\\", 'say "hi"', "<b>bold</b>", "{braces}", "line\nbreak", "tab\there", "x\\\"y",
               "\\N \\G \\l", "&amp; ;"]
"""Characters that mean something to graphviz: escapes, quotes, HTML, record braces, line breaks."""


@pytest.mark.parametrize("text", NASTY_TEXTS, ids=repr)
def test_render_draws_any_name_and_doc_graphviz_would_misread(text, tmp_path, monkeypatch):
    """The model name (as far as the name rule allows), the doc, and an unknown edge end (drawn in red)."""
    import warnings
    from xml.etree import ElementTree

    from archspec.draw.diagram import build_diagram, write_diagram

    model_name = "m.nasty-end_1"  # the name rule (spec/syntax.py) keeps graphviz's specials out of names
    spec = loads_spec(
        f"archspec: 1\nname: {model_name!r}\ndoc: {_yaml_string(text)}\n"
        "inputs:\n  x: {shape: [8]}\nnodes:\n  out: {op: dense, units: 2}\n"
        f"edges:\n  - x -> out\n  - {{from: x, to: {_yaml_string(text)}}}\noutputs: [out]\n",
        "nasty.yaml")
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # graphviz's DotSyntaxWarning used to precede dot's failure
        diagram = build_diagram(spec)
        path = write_diagram(diagram.digraph, tmp_path / "nasty.svg")
    assert [error.got for error in diagram.errors] == [repr(text)]  # the unknown target, in red
    svg = path.read_text()
    ElementTree.fromstring(svg)  # well-formed
    texts = "\n".join(node.text or "" for node in ElementTree.fromstring(svg).iter()
                      if node.tag.endswith("text"))
    assert f"{text.splitlines()[-1]}?" in texts.replace("\xa0", " ")
    assert model_name in texts


def _yaml_string(text: str) -> str:
    """A YAML double-quoted scalar holding exactly `text`."""
    import json

    return json.dumps(text)


ACTIVATIONS = """\
# no weights at all, but 784,000,000,000,000 activation values per example (a typo in two sizes)
archspec: 1
name: act
inputs:
  x: {shape: [28, 28, 1]}
nodes:
  up: {op: upsample2d, size: 1000}
  up2: {op: upsample2d, size: 1000}
  pool: {op: global_max_pool2d}
edges:
  - x -> up -> up2 -> pool
outputs: [pool]
"""


def test_build_refuses_activations_larger_than_memory_at_the_largest_node(write_spec, capsys):
    from tests.cli.test_cli import run_cli

    path = write_spec(ACTIVATIONS)
    code, out, err = run_cli(["build", str(path), "-o", str(path.with_suffix(".keras"))], capsys)
    assert (code, out) == (1, "")
    lines = err.splitlines()
    assert lines[0] == (f"{path}:8:3: node 'up2': the model's activations for one example do not fit in "
                        "this machine's memory; this node alone outputs 784,000,000,000,000 values per example")
    assert lines[2] == "  got:      0 parameters + 1 x 784,000,784,000,785 activation values = 2,852.2 TiB as float32"
    assert "Traceback" not in err
    assert not path.with_suffix(".keras").exists()


def test_activations_are_counted_at_the_batch_size(write_spec):
    """28*28 + 56*56 + 112*112 + 1 = 16,465 values an example, no weights: the limit is exact."""
    from archspec.errors import SpecError
    from archspec.graph.memory import check_activations_fit

    graph = archspec.analyze(write_spec(ACTIVATIONS.replace("1000", "2")))
    check_activations_fit(graph, batch_size=32, available=32 * 16_465 * 4)
    with pytest.raises(SpecError) as caught:
        check_activations_fit(graph, batch_size=32, available=32 * 16_465 * 4 - 1)
    assert (caught.value.node, caught.value.line) == ("up2", 8)
    assert "a batch of 32 examples" in str(caught.value)
    assert "smaller --batch-size" in caught.value.hint


def test_fit_refuses_activations_at_its_own_batch_size(write_spec, monkeypatch, capsys):
    """One example fits (build would pass), a batch of 128 does not: fit stops before building anything."""
    import archspec.graph.memory
    from tests.cli.test_cli import run_cli

    text = ACTIVATIONS.replace("1000", "2").replace("{op: global_max_pool2d}", "{op: max_pool2d, pool: 4}")
    path = write_spec(text)  # 784 + 3,136 + 12,544 + 784 = 17,248 values an example
    monkeypatch.setattr(archspec.graph.memory, "physical_memory", lambda: 100 * 17_248 * 4)
    code, _out, err = run_cli(["fit", str(path), "--out", str(path.parent / "run"), "--task", "autoencode"],
                              capsys)
    assert code == 1
    assert err.splitlines()[0] == (f"{path}:8:3: node 'up2': the model's activations for a batch of 128 "
                                   "examples do not fit in this machine's memory; this node alone outputs "
                                   "12,544 values per example")
    assert "smaller --batch-size" in err and "Traceback" not in err
    assert not (path.parent / "run").exists()


LONG_NAME = "a" * 300  # longer than the 255 bytes a file name may have (ext4, APFS, NTFS)
PATH_CASES = {
    "validate": ["validate", "{long}.yaml"],
    "render -o": ["render", "spec.yaml", "-o", "{long}.svg"],
    "render -o into no folder": ["render", "spec.yaml", "-o", "no_folder/spec.svg"],
    "build -o": ["build", "spec.yaml", "-o", "{long}.keras"],
    "import": ["import", "{long}.keras"],
}


@pytest.mark.parametrize("case", ["validate", "render -o", "render -o into no folder", "build -o", "import"])
def test_paths_the_os_refuses_are_one_message(case, tmp_path, monkeypatch, capsys):
    from tests.cli.test_cli import run_cli

    shutil.copyfile(CORPUS.parents[2] / "specs" / "mlp_sequential.yaml", tmp_path / "spec.yaml")
    monkeypatch.chdir(tmp_path)
    args = [arg.format(long=LONG_NAME) for arg in PATH_CASES[case]]
    code, _out, err = run_cli(args, capsys)
    assert code == 1
    assert "Traceback" not in err and "internal error" not in err
    lines = err.splitlines()
    if case == "validate":  # the spec loader names the file it could not read (spec/document.py)
        assert lines[0].startswith("cannot read spec file 'aaaa") and lines[0].endswith(": File name too long")
    elif "no folder" in case:
        assert lines[0] == "archspec: cannot use the path 'no_folder/spec.svg': No such file or directory"
    else:
        assert lines[0].startswith(f"archspec: cannot use the path '{'a' * 60}...' (")
        assert lines[0].endswith(" characters): File name too long")
        assert lines[1] == "  hint: most file systems allow at most 255 bytes in one file or folder name"
    assert sorted(os.listdir(tmp_path)) == ["spec.yaml"]


def test_validate_reports_a_refused_path_and_checks_the_other_files(tmp_path, monkeypatch, capsys):
    from tests.cli.test_cli import run_cli

    shutil.copyfile(CORPUS.parents[2] / "specs" / "mlp_sequential.yaml", tmp_path / "spec.yaml")
    monkeypatch.chdir(tmp_path)
    code, out, err = run_cli(["validate", f"{LONG_NAME}.yaml", "spec.yaml"], capsys)
    assert code == 1
    assert out == "ok  spec.yaml  (3 nodes, 25,450 parameters)\n"
    assert err.splitlines()[-1] == "1 of 2 spec(s) invalid"


@pytest.mark.parametrize("args", [["validate", "a\0b.yaml"], ["render", "spec.yaml", "-o", "a\0.svg"],
                                  ["build", "spec.yaml", "-o", "a\0.keras"], ["import", "a\0.keras"]],
                         ids=lambda args: args[0] + (" -o" if "-o" in args else ""))
def test_a_nul_in_a_path_is_one_message(args, capsys):
    from tests.cli.test_cli import run_cli

    code, _out, err = run_cli(args, capsys)
    position = next(index for index, arg in enumerate(args, start=1) if "\0" in arg)
    assert (code, err) == (1, f"archspec: argument {position} ({args[position - 1]!r}) contains a NUL "
                              "character, which no file name or option can hold\n")


TOKENS = """archspec: 1
name: tokens
inputs:
  ids: {shape: [16], dtype: int32}
  counts: {shape: [4], dtype: int32}
nodes:
  grid: {op: reshape, shape: [4, 4]}
  emb: {op: embedding, input_dim: 50, output_dim: 3}
  flat: {op: flatten}
  scaled: {op: dense, units: 4}
  out: {op: concat}
edges:
  - ids -> grid -> emb -> flat -> out
  - counts -> scaled -> out
outputs: [out]
"""


def test_integer_inputs_reach_what_accepts_them(keras):
    """int32 ids through reshape into an embedding, int32 counts into a dense (Keras casts): both build."""
    graph = archspec.analyze(loads_spec(TOKENS, "tokens.yaml"))
    assert {name: graph.nodes[name]["dtype"] for name in ("grid", "emb", "flat", "scaled", "out")} == {
        "grid": "int32", "emb": "float32", "flat": "float32", "scaled": "float32", "out": "float32"}
    model = archspec.compile_model(graph)
    assert model.output.shape[1:] == (4 * 4 * 3 + 4,)


def test_import_cleans_a_keras_model_name_to_the_name_rule(keras):
    """Keras accepts 'my model (v2)' as a name; the imported spec must still validate."""
    from archspec.keras.importer import import_model

    inputs = keras.Input((4,), name="x")
    model = keras.Model(inputs, keras.layers.Dense(2, name="out")(inputs), name="my model (v2)")
    spec = loads_spec(import_model(model), "imported.yaml")
    assert spec.name == "my_model__v2_"
    assert archspec.analyze(spec).graph["name"] == "my_model__v2_"


def test_every_op_params_model_refuses_non_finite_floats_and_huge_integers():
    """The rules live in OpParams, so a plugin's Params (derived from it, as plugins must) has them too."""
    from pydantic import ValidationError

    from archspec.catalogue.ops import OpParams

    class PluginParams(OpParams):
        scale: float = 1.0
        sizes: tuple[int, ...] = (1,)

    assert PluginParams(scale=-1e300, sizes=[2**63 - 1, -(2**63)]).scale == -1e300
    for bad in ({"scale": float("nan")}, {"scale": float("-inf")}, {"sizes": [1, 2**63]}):
        with pytest.raises(ValidationError) as caught:
            PluginParams(**bad)
        assert caught.value.errors()[0]["loc"][0] == next(iter(bad))
