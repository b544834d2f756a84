"""`archspec render` layouts: encoder-decoder level bands, long nets wrapped into columns, at most 3:1.

Positions are read back from the SVG that `dot` writes (y grows downwards).
"""

from __future__ import annotations

import itertools
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

import archspec
from tests.conftest import ROOT
from tests.draw.test_render import SVG, UNET, run_cli, svg_groups

ALL_SPECS = sorted((ROOT / "specs").glob("*.yaml")) + sorted((ROOT / "specs" / "zoo").glob("*.yaml"))
MAX_ASPECT = 3.0


@pytest.mark.parametrize("path", ALL_SPECS, ids=lambda path: path.stem)
def test_every_spec_renders_at_most_3_to_1(path):
    svg = archspec.render(path).pipe(format="svg").decode()
    width, height = (float(re.search(rf'<svg[^>]*\b{key}="([\d.]+)pt"', svg).group(1))
                     for key in ("width", "height"))
    assert max(width / height, height / width) <= MAX_ASPECT, f"{width:.0f} x {height:.0f} pt"


def test_the_zoo_is_there_to_measure():
    assert {path.stem for path in ALL_SPECS} >= {"resnet50", "resnet18", "densenet_bc", "mobilenet_v2",
                                                   "unet_residual", "mnist_denoise_unet"}


def node_y(path: Path) -> dict[str, float]:
    """Each node's vertical position in an SVG (its name's baseline; y grows downwards)."""
    return {key.removeprefix("node-"): float(next(group.iter(f"{SVG}text")).get("y"))
            for key, group in svg_groups(path, "node").items() if key != "legend"}


def test_unet_levels_are_bands_so_each_skip_runs_across_its_level(tmp_path, capsys):
    target = tmp_path / "u.svg"
    assert run_cli(capsys, UNET, "-o", target)[0] == 0
    y = node_y(target)
    levels = [{"noisy", "enc1", "up2", "clean"}, {"pool1", "enc2", "up1", "dec2"}, {"pool2", "mid", "dec1"}]
    for upper, lower in itertools.pairwise(levels):  # 28x28 above 14x14 above 7x7
        assert max(y[name] for name in upper) < min(y[name] for name in lower)
    # both ends of a skip share a level: the encoder goes down its left, the decoder comes back up
    assert {"enc2", "dec2"} <= levels[1] and {"enc1", "clean"} <= levels[0]
    assert y["up2"] > y["clean"] and y["up1"] > y["dec2"]  # the decoder climbs within its band
    source = archspec.render(UNET).source
    # decoder edges up a level are laid out reversed and drawn forward: up1 sits above dec1
    assert "up1 -> dec1 [" in source and "dir=back" in source.split("up1 -> dec1 [")[1].split("]")[0]
    assert "\tdec1 -> up1 [" not in source
    plain = archspec.render(ROOT / "specs" / "mnist_cnn.yaml").source
    assert "rank=same" not in plain  # no upsampling, a short chain: dot's own ranks


def test_long_nets_wrap_into_columns_read_left_to_right(tmp_path, capsys):
    target = tmp_path / "r.svg"
    assert run_cli(capsys, ROOT / "specs" / "resnet50.yaml", "-o", target)[0] == 0
    root = ET.parse(target).getroot()
    width, height = (float(root.get(key).removesuffix("pt")) for key in ("width", "height"))
    assert max(width / height, height / width) <= 3  # one column was 502 x 17298 pt
    x = {key.removeprefix("node-"): float(next(group.iter(f"{SVG}text")).get("x"))
         for key, group in svg_groups(target, "node").items() if key != "legend"}
    # the stem starts the first column, the classifier ends the last one, in the right half
    assert x["predictions"] > x["conv1_conv"] + width / 2
    source = archspec.render(ROOT / "specs" / "resnet50.yaml").source
    columns = source.count("subgraph cluster_column")
    assert columns >= 3
    # an edge from the bottom of one column to the top of the next does not pull the columns' rows together
    assert source.count("constraint=false") >= columns - 1


def test_a_broadcast_tile_or_a_padding_is_not_a_decoder(write_spec):
    tiled = write_spec(
        "# squeeze-excitation with the 1x1 map tiled back to 28x28: a broadcast, not a decoder\n"
        "archspec: 1\nname: tiled\ninputs:\n  x: {shape: [28, 28, 3]}\nnodes:\n"
        "  conv: {op: conv2d, filters: 8}\n  squeeze: {op: global_avg_pool2d}\n"
        "  shaped: {op: reshape, shape: [1, 1, 8]}\n  tile: {op: upsample2d, size: 28}\n"
        "  scaled: {op: multiply}\nedges:\n  - x -> conv -> squeeze -> shaped -> tile -> scaled\n"
        "  - conv -> scaled\noutputs: [scaled]\n")
    assert "rank=same" not in archspec.render(tiled).source
