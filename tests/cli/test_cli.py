"""The `archspec` command: exit codes, exact output, and no TensorFlow on the fast paths."""

from __future__ import annotations

import subprocess
import sys

import pytest

from archspec.cli import main
from tests.cli_run import run_cli
from tests.conftest import ROOT

UNET = str(ROOT / "specs" / "mnist_denoise_unet.yaml")


def test_validate_ok(capsys):
    code, out, _err = run_cli(["validate", UNET], capsys)
    assert code == 0
    assert out == f"ok  {UNET}  (10 nodes, 813,377 parameters)\n"


def test_validate_bad_spec_exits_1_with_located_message(write_spec, capsys):
    path = write_spec(
        "archspec: 1\nname: bad\ninputs:\n  x: {shape: [4]}\nnodes:\n"
        "  y: {op: dense, unit: 3}\nedges:\n  - x -> y\noutputs: [y]\n"
    )
    code, out, err = run_cli(["validate", str(path)], capsys)
    assert code == 1
    assert out == ""
    assert err.splitlines()[0] == f"{path}:6:18: node 'y': unknown parameter 'unit' for op dense"
    assert "  hint: did you mean 'units'?" in err
    assert "Traceback" not in err


def test_summary_table(capsys):
    code, out, _ = run_cli(["summary", UNET], capsys)
    assert code == 0
    lines = out.splitlines()
    assert lines[0].split() == ["node", "op", "from", "output", "params"]
    dec2 = next(line for line in lines if line.startswith("dec2 "))
    assert "up1, enc2 (concat-skip)" in dec2 and dec2.split()[-2:] == ["14x14x64", "147,520"]
    assert lines[-1] == "mnist_denoise_unet: 813,377 parameters"


def test_help_lists_spec_commands_then_model_commands_then_training(capsys):
    code, out, _ = run_cli(["--help"], capsys)
    listed = [line.split()[0] for line in out.split("Commands:")[1].splitlines() if line.startswith("  ")]
    assert code == 0
    assert listed.index("validate") == 0
    assert listed.index("render") < listed.index("build") < listed.index("import") < listed.index("fit")
    assert listed[-1] == "sweep"


def test_unknown_command_exits_2(capsys):
    code, _, err = run_cli(["bogus"], capsys)
    assert code == 2
    assert "No such command 'bogus'" in err


def test_missing_file_is_a_message_not_a_traceback(capsys):
    code, _, err = run_cli(["summary", "no/such/spec.yaml"], capsys)
    assert code == 1
    assert err == ("spec file not found: no/such/spec.yaml\n"
                   "  hint: check the path (it is relative to the current directory)\n")


def test_validate_summary_and_help_do_not_import_tensorflow():
    code = (
        "import sys\n"
        "from archspec.cli import main\n"
        f"for args in (['--help'], ['validate', {UNET!r}], ['summary', {UNET!r}]):\n"
        "    try:\n"
        "        main(args)\n"
        "    except SystemExit as e:\n"
        "        assert not e.code, (args, e.code)\n"
        "heavy = [m for m in ('tensorflow', 'keras') if m in sys.modules]\n"
        "assert not heavy, heavy\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert result.returncode == 0, result.stderr


def test_unet_skip_into_the_wrong_level_names_both_shapes(write_spec, capsys):
    text = (ROOT / "specs" / "mnist_denoise_unet.yaml").read_text()
    wrong = text.replace("{from: enc2, to: dec2, kind: concat-skip}", "{from: enc2, to: dec1, kind: concat-skip}")
    write_spec((ROOT / "specs" / "mnist_denoise_ae.yaml").read_text(), "mnist_denoise_ae.yaml")
    path = write_spec(wrong)
    line = wrong.splitlines().index(next(line for line in wrong.splitlines() if "to: dec1, kind" in line)) + 1
    code, _, err = run_cli(["validate", str(path)], capsys)
    assert code == 1
    assert err.splitlines()[:4] == [
        f"{path}:{line}:5: concat-skip enc2 -> dec1: enc2 is 14x14x128 but dec1's main input (mid) "
        "is 7x7x256; height and width must match for concatenation on the channels axis",
        "  expected: 7x7x256 from 'mid'",
        "  got:      14x14x128 from 'enc2'",
        "  hint: spatial sizes must match: connect the source from the encoder level of the same size, "
        "or add a max_pool2d on the skip",
    ]


def test_an_internal_error_is_one_line_and_the_traceback_needs_debug(monkeypatch, capsys):
    import archspec.graph.shapes

    def broken(path):
        raise KeyError("boom")

    monkeypatch.setattr(archspec.graph.shapes, "analyze", broken)
    code, out, err = run_cli(["summary", UNET], capsys)
    assert code == 3 and out == ""
    assert err == ("archspec: internal error (KeyError: 'boom'); this is a bug in archspec, not in "
                   "your spec. Rerun with --debug for the traceback and please report it.\n")
    with pytest.raises(KeyError):
        main(["--debug", "summary", UNET])
