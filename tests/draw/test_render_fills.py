"""Box fills in diagrams follow the op's declared `family`, as docs/render.md's table says."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from archspec.catalogue.ops import OPS
from archspec.draw.diagram import FAMILY_FILLS, render, write_diagram
from archspec.graph.shapes import analyze
from tests.conftest import ROOT

SVG = "{http://www.w3.org/2000/svg}"
ZOO = ROOT / "specs" / "zoo"


def documented_fills() -> dict[str, tuple[str, list[str]]]:
    """docs/render.md's fill table: family -> (fill, the ops listed in backticks)."""
    rows = {}
    for line in (ROOT / "docs" / "render.md").read_text().splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if len(cells) == 3 and cells[0] in FAMILY_FILLS:
            fill = re.match(r"`([^`]+)`", cells[1])
            assert fill, line
            rows[cells[0]] = (fill.group(1), re.findall(r"`([a-z0-9_]+)`", cells[2]))
    return rows


def documented_op_fills() -> dict[str, str]:
    return {op: fill for fill, ops in documented_fills().values() for op in ops}


def test_the_table_lists_every_family_and_op_once_as_declared():
    rows = documented_fills()
    assert {family: fill for family, (fill, _) in rows.items()} == FAMILY_FILLS
    listed = [op for _, ops in rows.values() for op in ops]
    assert sorted(listed) == sorted(set(listed))
    assert set(listed) == set(OPS)
    for family, (_, ops) in rows.items():
        assert all(OPS[op].family == family for op in ops), family


def box_fills(svg: Path) -> dict[str, str]:
    """The fill of every node box in an SVG, by node name (graphviz writes our `node-NAME` ids)."""
    fills = {}
    for group in ET.parse(svg).getroot().iter(f"{SVG}g"):
        if group.get("class") == "node" and (group.get("id") or "").startswith("node-"):
            shape = next(element for element in group.iter() if element.tag in (f"{SVG}path", f"{SVG}polygon"))
            fills[group.get("id").removeprefix("node-")] = shape.get("fill")
    return fills


@pytest.mark.parametrize("name", ["tcn", "mobilenet_v2", "gru_rows"])
def test_zoo_boxes_are_filled_as_documented(name, tmp_path):
    spec = ZOO / f"{name}.yaml"
    svg = write_diagram(render(spec), tmp_path / f"{name}.svg")
    graph = analyze(spec)
    expected = documented_op_fills()
    fills = box_fills(svg)
    assert set(fills) == set(graph.nodes)
    for node, fill in fills.items():
        data = graph.nodes[node]
        want = documented_fills()["input"][0] if data["kind"] == "input" else expected[data["op"]]
        assert fill == want, (node, data.get("op"))
    ops = {graph.nodes[node].get("op") for node in graph}
    assert ops & {"conv1d", "depthwise_conv2d", "gru"}  # the ops once drawn white by their module's name
