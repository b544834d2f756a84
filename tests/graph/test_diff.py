"""`archspec diff`: the architectural difference of two specs."""

from __future__ import annotations

from typer.testing import CliRunner

from archspec.cli import app
from archspec.graph.diff import diff_specs, format_diff
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


def test_diff_reports_added_removed_and_changed_nodes_but_not_renamed_ones(write_spec):
    changed = write_spec(
        AE.read_text().replace("filters: 256", "filters: 128")
        .replace("  pool2: {op: max_pool2d}", "  pool2: {op: avg_pool2d}")
        .replace("  up2:   {op: upsample2d}", "  up2b:  {op: upsample2d}")
        .replace("dec1 -> up1 -> dec2 -> up2 -> clean", "dec1 -> drop -> up1 -> dec2 -> up2b -> clean")
        .replace("outputs:", "  - {from: drop, to: dec1, kind: add-residual}\noutputs:".replace("dec1", "up1"))
        .replace("nodes:\n", "nodes:\n  drop:  {op: dropout, rate: 0.1}\n"),
        "changed.yaml",
    )
    diff = diff_specs(AE, changed)
    assert (diff.nodes_added, diff.nodes_removed) == (["drop"], [])
    assert diff.nodes_changed == [
        ("pool2", "max_pool2d()", "avg_pool2d()"),
        ("mid", "conv2d(filters=256, activation=relu)", "conv2d(filters=128, activation=relu)"),
    ]
    assert diff.edges_removed == [("dec1", "up1", "plain", "")]
    assert diff.edges_added == [("dec1", "drop", "plain", ""), ("drop", "up1", "plain", ""),
                                ("drop", "up1", "add-residual", "")]
    assert diff_specs(changed, AE).nodes_removed == ["drop"]


def test_diff_sees_no_change_in_generated_names_or_chain_order(write_spec):
    first = write_spec("archspec: 1\nname: t\ninputs: {x: [8]}\nedges:\n  - x -> dense(16) -> h\n"
                       "  - x -> dense(16, activation=relu) -> h\nnodes:\n  h: {op: add}\n", "first.yaml")
    second = write_spec("archspec: 1\nname: t\ninputs: {x: [8]}\nedges:\n  - x -> dense(16, activation=relu) -> h\n"
                        "  - x -> dense(16) -> h\nnodes:\n  h: {op: add}\n", "second.yaml")
    assert diff_specs(first, second).nodes_changed == [  # add's input order is part of the model
        ("h", "inputs dense_1, dense_2", "inputs dense_2, dense_1")]
    third = write_spec(second.read_text().replace("edges:\n", "edges:\n  - x -> dense(16) -> h\n")
                       .replace("  - x -> dense(16) -> h\nnodes", "nodes"), "third.yaml")
    diff = diff_specs(first, third)
    assert diff.empty, format_diff(diff)


def test_a_spec_has_no_difference_from_itself():
    result = CliRunner().invoke(app, ["diff", str(UNET), str(UNET)])
    assert "no architectural difference\nparameters: 813,377 -> 813,377 (+0)\n" in result.output
