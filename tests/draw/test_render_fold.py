"""`archspec render --fold`: each block use one box with its ports, a repeat one box marked xN, `--expand`.

Boxes and their parameter counts are read back from the SVG that `dot` writes;
the counts are checked against the per-node counts of the unfolded graph.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import archspec
from archspec.draw.fold import block_uses_of
from archspec.errors import RenderError
from archspec.graph.summary import node_params, total_params
from tests.conftest import ROOT
from tests.draw.test_render import UNET, run_cli, svg_groups, texts

RESNET50 = ROOT / "specs" / "resnet50.yaml"
TOTAL = 25_636_712  # keras.applications.ResNet50's count (specs/resnet50.yaml's header)


def boxes(path: Path) -> dict[str, list[str]]:
    """Each drawn box's texts by name (`node-NAME` ids), the legend left out."""
    return {key.removeprefix("node-"): texts(group) for key, group in svg_groups(path, "node").items()
            if key != "legend"}


def params_of(lines: list[str]) -> int:
    """The count a box shows ('1,230,336 params')."""
    counts = [int(line.removesuffix(" params").replace(",", "")) for line in lines if line.endswith(" params")]
    assert len(counts) == 1, lines
    return counts[0]


def folded(path: Path, tmp_path: Path, capsys, *args: str) -> tuple[dict[str, list[str]], str]:
    target = tmp_path / "f.svg"
    code, out, err = run_cli(capsys, path, "-o", target, "--params", *args)
    assert (code, out, err) == (0, f"wrote {target}\n", "")
    total = re.search(r"([\d,]+) parameters", target.read_text()).group(1)
    return boxes(target), total


def test_resnet50_folded_fits_on_one_screen_and_its_boxes_sum_to_the_total(tmp_path, capsys):
    drawn, total = folded(RESNET50, tmp_path, capsys, "--fold")
    assert set(drawn) == {"input_layer", "conv1_pad", "conv1_conv", "conv1_bn", "conv1_relu", "pool1_pad",
                          "pool1_pool", "conv2", "conv3", "conv4", "conv5", "avg_pool", "predictions"}
    assert len(drawn) <= 25
    assert int(total.replace(",", "")) == TOTAL
    assert sum(params_of(lines) for name, lines in drawn.items() if name != "input_layer") == TOTAL
    # a folded use shows its name, its block, its ports, its output shape and the count of its nodes
    graph = archspec.analyze(RESNET50)
    inside = [name for name in graph if name.startswith("conv3_")]
    assert texts_without_ports(drawn["conv3"]) == ["conv3", "block stage", "28×28×512", "1,230,336 params"]
    assert sum(node_params(graph, name) for name in inside) == 1_230_336
    assert drawn["conv3"][0] == "x" and drawn["conv3"][-1] == "block"  # input port on top, output below


def texts_without_ports(lines: list[str]) -> list[str]:
    return lines[1:-1]


def test_edges_into_and_out_of_a_folded_use_attach_at_its_ports():
    source = archspec.render(RESNET50, fold=True).source
    assert "pool1_pool -> conv2:in_0:n [" in source
    assert "conv2:out_0:s -> conv3:in_0:n [" in source
    assert "conv5:out_0:s -> avg_pool [" in source
    # the input feeds two nodes inside the use (the shortcut and the first conv): drawn once
    assert source.count("\tpool1_pool -> conv2") == 1


def test_expand_opens_a_use_into_its_block_uses_and_a_repeat_is_one_box(tmp_path, capsys):
    drawn, _ = folded(RESNET50, tmp_path, capsys, "--expand", "conv3")
    assert {"conv3_block1", "conv3_block"} <= set(drawn) and "conv3" not in drawn
    assert texts_without_ports(drawn["conv3_block"])[:2] == [
        "conv3_block ×3", "block identity: conv3_block2 … conv3_block4"]
    assert texts_without_ports(drawn["conv3_block1"])[1] == "block projection"
    assert sum(params_of(lines) for name, lines in drawn.items() if name != "input_layer") == TOTAL
    graph = archspec.analyze(RESNET50)
    repeated = [name for name in graph if re.match(r"conv3_block[234]_", name)]
    assert params_of(drawn["conv3_block"]) == sum(node_params(graph, name) for name in repeated)


def test_expanding_a_copy_opens_what_holds_it(tmp_path, capsys):
    drawn, _ = folded(RESNET50, tmp_path, capsys, "--fold", "--expand", "conv3_block3")
    assert {"conv3_block1", "conv3_block2", "conv3_block4", "conv3_block3_1_conv", "conv3_block3_out",
            "conv2", "conv4"} <= set(drawn)
    assert not {"conv3", "conv3_block", "conv3_block3"} & set(drawn)
    counted = [lines for name, lines in drawn.items() if any(line.endswith(" params") for line in lines)]
    assert sum(params_of(lines) for lines in counted) == TOTAL  # opened nodes show theirs with --params


def test_expand_of_an_unknown_use_says_which_exist(tmp_path, capsys):
    code, out, err = run_cli(capsys, RESNET50, "-o", tmp_path / "x.svg", "--expand", "conv33")
    assert (code, out) == (1, "")
    assert err == "--expand: no block use named 'conv33'; did you mean 'conv3' or 'conv5' or 'conv4'?\n"
    with pytest.raises(RenderError, match=r"no block use named 'enc1' \(the spec has no block uses\)"):
        archspec.render(UNET, expand=["enc1"])


def test_expansion_records_which_use_each_node_came_from():
    uses = block_uses_of(archspec.analyze(RESNET50))
    outer, inner = uses["conv3_block2_1_conv"]
    assert (outer.name, outer.use, outer.block, outer.index, outer.repeat) == ("conv3", "conv3", "stage", None, None)
    assert (inner.name, inner.use, inner.block, inner.index, inner.repeat) == (
        "conv3_block2", "conv3_block", "identity", 2, 3)
    assert outer.inputs == {"x": "conv2_block3_out"} and outer.outputs == {"block": "conv3_block4_out"}
    assert inner.inputs == {"x": "conv3_block1_out"} and inner.outputs == {"out": "conv3_block2_out"}
    assert uses["conv1_conv"] == ()


def test_a_spec_without_blocks_folds_to_itself():
    assert archspec.render(UNET, fold=True).source == archspec.render(UNET).source


def test_folded_boxes_sum_to_the_total_for_every_spec_with_blocks(tmp_path, capsys):
    for path in [RESNET50, *sorted((ROOT / "specs" / "zoo").glob("*.yaml"))]:
        drawn, total = folded(path, tmp_path, capsys, "--fold")
        graph = archspec.analyze(path)
        assert int(total.replace(",", "")) == total_params(graph)
        inputs = {name for name in graph if graph.nodes[name]["kind"] == "input"}
        assert sum(params_of(lines) for name, lines in drawn.items() if name not in inputs) == total_params(graph)
        if any(block_uses_of(graph).values()):  # a spec written with blocks draws fewer boxes than nodes
            assert len(drawn) < len(graph), path.stem
        else:
            assert len(drawn) == len(graph), path.stem
