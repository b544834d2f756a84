"""`archspec same`: two specs are one model (graph isomorphism over ops, parameters, input order), or the
first difference, located."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.cli.test_cli import run_cli
from tests.conftest import ROOT
from tests.data.compact import PAIRS

TWO_BRANCHES = ("archspec: 1\nname: t\ninputs: {{x: [8]}}\nedges:\n  - x -> dense({a}) -> h\n"
                "  - x -> dense({b}) -> h\nnodes:\n  h: {{op: {merge}}}\n")


@pytest.mark.parametrize("compact, long", PAIRS, ids=lambda p: p.parent.name + "/" + p.stem)
def test_every_compact_spec_is_the_same_model_as_its_long_form(compact, long, capsys):
    code, out, err = run_cli(["same", str(compact), str(long)], capsys)
    assert (code, err) == (0, "")
    assert out.startswith("same model: ")


def test_one_changed_parameter_is_named_at_its_node(write_spec, capsys):
    long = ROOT / "tests" / "data" / "compact" / "long" / "mnist_cnn.yaml"
    changed = write_spec(long.read_text().replace("filters: 64", "filters: 48"), "changed.yaml")
    code, out, _ = run_cli(["same", str(long), str(changed)], capsys)
    assert code == 1
    assert out == (f"{long}:14:3: node 'conv2': differs from 'conv2' ({changed}:14:3)\n"
                   "  expected: conv2d(filters=64, padding=valid, activation=relu)\n"
                   "  got:      conv2d(filters=48, padding=valid, activation=relu)\n")
    compact = ROOT / "specs" / "mnist_cnn.yaml"
    code, out, _ = run_cli(["same", str(compact), str(changed)], capsys)
    assert code == 1 and out.splitlines()[0].endswith(f": differs from 'conv2' ({changed}:14:3)")


def test_swapped_chain_lines_are_the_same_model_and_swapped_concat_inputs_are_not(write_spec, capsys):
    first = write_spec(TWO_BRANCHES.format(a=16, b=4, merge="concat"), "first.yaml")
    swapped = write_spec(TWO_BRANCHES.format(a=4, b=16, merge="concat"), "swapped.yaml")
    code, out, _ = run_cli(["same", str(first), str(swapped)], capsys)
    assert code == 1
    assert out == (f"{first}:8:3: node 'h': reads other inputs than 'h' ({swapped}:8:3)\n"
                   "  expected: dense_1, dense_2\n  got:      dense_2, dense_1\n")
    reordered = write_spec("archspec: 1\nname: t\ninputs: {x: [8]}\nedges:\n  - x -> dense(4) -> h\n"
                           "  - x -> dense(16) -> h\nnodes:\n  h: {op: concat}\nlayout: {}\n"
                           .replace("  - x -> dense(4) -> h\n  - x -> dense(16) -> h\n",
                                    "  - {from: x, to: big}\n  - {from: x, to: small}\n  - big -> h\n"
                                    "  - small -> h\n")
                           .replace("  h: {op: concat}\nlayout: {}\n",
                                    "  small: {op: dense, units: 4}\n  big: {op: dense, units: 16}\n"
                                    "  h: {op: concat}\n"), "reordered.yaml")
    assert run_cli(["same", str(first), str(reordered)], capsys)[:2] == (0, "same model: 4 nodes, 180 parameters\n")


def test_a_node_missing_from_the_second_spec_is_located_in_the_first(write_spec, capsys):
    first = write_spec("archspec: 1\nname: t\ninputs: {x: [8]}\nedges:\n  - x -> dense(4) -> dense(8) -> relu\n",
                       "first.yaml")
    second = write_spec("archspec: 1\nname: t\ninputs: {x: [8]}\nedges:\n  - x -> dense(4) -> relu\n", "second.yaml")
    code, out, _ = run_cli(["same", str(first), str(second)], capsys)
    assert code == 1
    assert out == (f"{first}:5:22: node 'dense_2': has no counterpart in {second}\n"
                   "  expected: dense(units=8) reading dense_1\n"
                   "  hint: no node there has this op and parameters with these inputs\n")


def test_alike_nodes_paired_wrongly_at_first_are_still_matched(write_spec, capsys):
    """Two dense(4) from one input, subtracted in opposite orders: pairing them by name fails, VF2 swaps them."""
    text = ("archspec: 1\nname: t\ninputs: {{x: [8]}}\nnodes:\n  a: {{op: dense, units: 4}}\n"
            "  b: {{op: dense, units: 4}}\n  s: {{op: subtract}}\nedges:\n  - x -> a\n  - x -> b\n"
            "  - {first} -> s\n  - {second} -> s\n")
    first = write_spec(text.format(first="a", second="b"), "first.yaml")
    second = write_spec(text.format(first="b", second="a"), "second.yaml")
    assert run_cli(["same", str(first), str(second)], capsys)[:2] == (0, "same model: 4 nodes, 72 parameters\n")


def test_same_imports_no_tensorflow_unless_outputs_are_asked():
    pair = [str(path) for path in PAIRS[0]]
    code = ("import sys\nfrom archspec.cli import main\ntry:\n"
            f"    main(['same', {pair[0]!r}, {pair[1]!r}])\nexcept SystemExit as e:\n    assert not e.code\n"
            "assert 'tensorflow' not in sys.modules and 'keras' not in sys.modules\n")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert result.returncode == 0, result.stderr


def test_outputs_on_shared_weights_agree(keras, capsys):
    compact, long = PAIRS[0]
    code, out, _ = run_cli(["same", "--outputs", str(compact), str(long)], capsys)
    assert code == 0
    assert "; outputs on shared weights agree within 0.0e+00\n" in out
