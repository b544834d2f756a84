"""`archspec diff`: the architectural difference of two specs."""

from __future__ import annotations

from typer.testing import CliRunner

from archspec.cli import app
from archspec.graph.diff import diff_specs
from tests.conftest import ROOT

AE = ROOT / "specs" / "mnist_denoise_ae.yaml"
UNET = ROOT / "specs" / "mnist_denoise_unet.yaml"


def test_unet_differs_from_the_autoencoder_by_exactly_its_two_skips():
    diff = diff_specs(AE, UNET)
    assert diff.edges_added == [("enc2", "dec2", "concat-skip", ""), ("enc1", "clean", "concat-skip", "")]
    assert (diff.edges_removed, diff.nodes_added, diff.nodes_removed, diff.nodes_changed) == ([], [], [], [])
    assert diff.params_after - diff.params_before == 74_304


def test_diff_command_prints_edges_and_parameter_change():
    result = CliRunner().invoke(app, ["diff", str(AE), str(UNET)])
    assert result.exit_code == 0
    assert result.output == (
        f"--- {AE}\n+++ {UNET}\n"
        "edges:\n"
        "  + enc2 -> dec2 (concat-skip)\n"
        "  + enc1 -> clean (concat-skip)\n"
        "parameters: 739,073 -> 813,377 (+74,304)\n"
        "  dec2   73,792 -> 147,520 (+73,728)\n"
        "  clean  577 -> 1,153 (+576)\n"
    )


def test_diff_reports_removed_and_changed_nodes(write_spec):
    changed = write_spec(
        AE.read_text().replace("filters: 256", "filters: 128")
        .replace("  pool2: {op: max_pool2d}", "  pool2: {op: avg_pool2d}")
        .replace("  up2:   {op: upsample2d}                                            # 28x28x64\n", "")
        .replace("dec2 -> up2 -> clean", "dec2 -> up2b -> clean")
        .replace("filters: 64, kernel: 3, activation: relu}     # 14x14x64",
                 "filters: 64, kernel: 3, activation: relu}\n  up2b: {op: upsample2d}"),
        "changed.yaml",
    )
    text = diff_specs(AE, changed)
    assert text.nodes_removed == ["up2"]
    assert text.nodes_added == ["up2b"]
    assert text.nodes_changed == [
        ("pool2", "max_pool2d()", "avg_pool2d()"),
        ("mid", "conv2d(filters=256, activation=relu)", "conv2d(filters=128, activation=relu)"),
    ]


def test_a_spec_has_no_difference_from_itself():
    result = CliRunner().invoke(app, ["diff", str(UNET), str(UNET)])
    assert "no architectural difference\nparameters: 813,377 -> 813,377 (+0)\n" in result.output
