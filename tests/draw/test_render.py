"""`archspec render`: every spec drawn as SVG and PNG, checked element by element in the SVG."""

from __future__ import annotations

import struct
import subprocess
import sys
import xml.etree.ElementTree as ET
from collections import Counter
from pathlib import Path

import graphviz
import pytest

import archspec
from archspec.catalogue.connections import CONNECTIONS
from archspec.cli import main
from archspec.draw.diagram import EDGE_STYLES, RenderOptions, build_diagram, write_diagram
from archspec.errors import RenderError, SpecError
from tests.conftest import ROOT, SPECS

SVG = "{http://www.w3.org/2000/svg}"
XLINK_TITLE = "{http://www.w3.org/1999/xlink}title"
UNET = ROOT / "specs" / "mnist_denoise_unet.yaml"
CHAIN = "  - noisy -> enc1 -> pool1 -> enc2 -> pool2 -> mid -> dec1 -> up1 -> dec2 -> up2 -> clean\n"
# The U-Net written flat (the spec file extends the autoencoder), for tests that break one line of it.
UNET_TEXT = (ROOT / "specs" / "mnist_denoise_ae.yaml").read_text().replace(
    "name: mnist_denoise_ae", "name: mnist_denoise_unet").replace(
    CHAIN, CHAIN + "  - {from: enc2, to: dec2, kind: concat-skip}\n"
    "  - {from: enc1, to: clean, kind: concat-skip}\n")
assert UNET_TEXT.count("concat-skip}") == 2
RESNET = ROOT / "specs" / "mnist_resnet.yaml"
RED = "#d32f2f"
DASHES = {"solid": None, "bold": None, "dashed": "5,2", "dotted": "1,5"}
"""The stroke-dasharray graphviz writes for each line style."""


def run_cli(capsys, *args: object) -> tuple[int, str, str]:
    """Run `archspec render ARGS` in-process as the console script does; (exit code, stdout, stderr)."""
    with pytest.raises(SystemExit) as exited:
        main(["render", *map(str, args)])
    captured = capsys.readouterr()
    return exited.value.code or 0, captured.out, captured.err


def svg_groups(path: Path, kind: str) -> dict[str, ET.Element]:
    """The <g class=KIND> elements of an SVG by id (graphviz writes our ids there)."""
    root = ET.parse(path).getroot()
    return {g.get("id"): g for g in root.iter(f"{SVG}g") if g.get("class") == kind}


def texts(element: ET.Element) -> list[str]:
    return [(text.text or "").strip() for text in element.iter(f"{SVG}text")]


def first_path(element: ET.Element) -> ET.Element:
    return next(element.iter(f"{SVG}path"))


def test_edge_kinds_look_different():
    looks = {(style.color, DASHES[style.style], style.penwidth) for style in EDGE_STYLES.values()}
    assert len(looks) == len(EDGE_STYLES) == len(CONNECTIONS)
    assert set(EDGE_STYLES) == set(CONNECTIONS)


@pytest.mark.parametrize("path", SPECS, ids=lambda p: p.stem)
def test_svg_has_every_node_and_edge_styled_by_kind(path, tmp_path, capsys):
    assert_svg_draws_the_graph(path, tmp_path, capsys)


CROSS_ATTENTION = """\
# every edge kind the specs/ folder lacks: attention, mask, and a gate into an identity junction
archspec: 1
name: cross_attention
inputs:
  query: {shape: [10, 32]}
  memory: {shape: [20, 32]}
  memory_padding: {shape: [20], dtype: int32}
nodes:
  q: {op: dense, units: 32}
  attn: {op: attention, heads: 2, key_dim: 16}
  g: {op: dense, units: 32}
  gated: {op: identity}
  both: {op: concat}
  out: {op: dense, units: 4}
edges:
  - query -> q -> attn -> gated -> both -> out
  - {from: memory, to: attn, kind: attention}
  - {from: memory_padding, to: attn, kind: mask}
  - q -> g
  - {from: g, to: gated, kind: gate}
  - q -> both
outputs: [out]
"""


def test_attention_mask_and_gate_edges_are_drawn_by_kind(tmp_path, capsys, write_spec):
    edges = assert_svg_draws_the_graph(write_spec(CROSS_ATTENTION), tmp_path, capsys)
    assert edges == {"plain": 7, "attention": 1, "gate": 1, "mask": 1}


def assert_svg_draws_the_graph(path: Path, tmp_path: Path, capsys) -> dict[str, int]:
    """Render `path` to SVG through the CLI and check every node and edge in it; edges by kind."""
    target = tmp_path / f"{path.stem}.svg"
    code, out, err = run_cli(capsys, path, "--format", "svg", "-o", target)
    assert (code, out, err) == (0, f"wrote {target}\n", "")
    graph = archspec.analyze(path)
    kinds = {data["kind"] for _, _, data in graph.edges(data=True)}
    nodes = svg_groups(target, "node")
    legend = {"legend"} if kinds != {"plain"} else set()  # a plain chain needs no key
    assert set(nodes) == {f"node-{name}" for name in graph.nodes} | legend
    for name in graph.nodes:
        assert texts(nodes[f"node-{name}"])[0] == name
    edges = svg_groups(target, "edge")
    assert set(edges) == {f"edge-{data['index']}" for _, _, data in graph.edges(data=True)}
    for source, target_name, data in graph.edges(data=True):
        group = edges[f"edge-{data['index']}"]
        # decoder edges up a U-Net level are laid out reversed (dir=back); the tooltip says what flows
        assert set(group.findtext(f"{SVG}title").split("->")) == {source, target_name}
        link = next(group.iter(f"{SVG}a"))
        assert link.get(XLINK_TITLE) == f"{data['kind']} {source} -> {target_name}"
        style = EDGE_STYLES[data["kind"]]
        line = first_path(group)
        assert line.get("stroke") == style.color
        assert line.get("stroke-dasharray") == DASHES[style.style]
        assert float(line.get("stroke-width")) == style.penwidth
        glyph = CONNECTIONS[data["kind"]].glyph
        assert (glyph in texts(group)) == bool(glyph)
    if legend:
        listed = texts(nodes["legend"])
        assert [kind for kind in EDGE_STYLES if kind in listed] == [k for k in EDGE_STYLES if k in kinds]
    return dict(Counter(kind for _, _, kind in graph.edges(data="kind")))


@pytest.mark.parametrize("path", SPECS, ids=lambda p: p.stem)
def test_png_is_a_real_image(path, tmp_path, capsys):
    target = tmp_path / "diagram.png"
    code, out, _ = run_cli(capsys, path, "--format", "png", "-o", target)
    assert code == 0 and out == f"wrote {target}\n"
    data = target.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", data[16:24])
    assert width > 200 and height > 200
    assert len(data) > 10_000


def test_default_output_is_in_the_working_directory_and_format_follows_the_output_suffix(
        tmp_path, capsys, monkeypatch):
    (tmp_path / "specs").mkdir()
    spec = tmp_path / "specs" / "unet.yaml"
    spec.write_text(UNET_TEXT)
    monkeypatch.chdir(tmp_path)
    assert run_cli(capsys, spec)[:2] == (0, "wrote unet.svg\n")
    assert (tmp_path / "unet.svg").read_text().lstrip().startswith("<?xml")
    assert not (tmp_path / "specs" / "unet.svg").exists()
    assert run_cli(capsys, spec, "-o", tmp_path / "u.pdf")[0] == 0
    assert (tmp_path / "u.pdf").read_bytes()[:5] == b"%PDF-"
    assert run_cli(capsys, spec, "--format", "dot", "--rankdir", "LR")[0] == 0
    source = (tmp_path / "unet.dot").read_text()
    assert "rankdir=LR" in source and source.startswith("digraph mnist_denoise_unet {")


def test_a_format_that_contradicts_the_output_suffix_is_a_usage_error(tmp_path, capsys):
    code, out, err = run_cli(capsys, UNET, "-o", tmp_path / "u.png", "--format", "svg")
    assert code == 2 and out == ""
    assert f"Invalid value for --format: {tmp_path / 'u.png'} would hold svg, not png" in err
    assert not (tmp_path / "u.png").exists()


def test_the_longest_plain_chain_is_the_straight_spine():
    source = archspec.render(RESNET).source
    grouped = {line.split()[0] for line in source.splitlines() if "group=spine" in line}
    assert {"image", "stem", "b1_conv1", "b1_out", "b2_conv1", "b2_out", "probs"} <= grouped
    assert not {"proj2", "proj2_bn"} & grouped  # the projection shortcut bends, not the blocks


def test_growing_to_a_new_size_is_not_a_decoder(write_spec):
    spec = write_spec(
        "# zero padding grows the map, but the net never returns to a size it had\n"
        "archspec: 1\nname: padded\ninputs:\n  image: {shape: [28, 28, 1]}\nnodes:\n"
        "  pad: {op: zero_padding2d, padding: 2}\n  conv: {op: conv2d, filters: 8, strides: 2}\n"
        "edges:\n  - image -> pad -> conv\noutputs: [conv]\n")
    assert "rank=same" not in archspec.render(spec).source


def test_no_shapes_leaves_every_shape_out(tmp_path, capsys):
    with_shapes, without = tmp_path / "a.svg", tmp_path / "b.svg"
    run_cli(capsys, UNET, "-o", with_shapes)
    run_cli(capsys, UNET, "-o", without, "--no-shapes")
    assert "14×14×128" in texts(svg_groups(with_shapes, "edge")["edge-10"])
    assert "14×14×128" in texts(svg_groups(with_shapes, "node")["node-enc2"])
    assert not any("×" in text for text in texts(ET.parse(without).getroot()))
    assert texts(svg_groups(without, "node")["node-enc2"]) == [
        "enc2", "conv2d filters=128,", "activation=relu"]


def test_params_per_node_and_total(tmp_path, capsys):
    target = tmp_path / "r.svg"
    assert run_cli(capsys, RESNET, "-o", target, "--params")[0] == 0
    nodes = svg_groups(target, "node")
    assert texts(nodes["node-stem"])[-1] == "320 params"  # 3*3*1*32 + 32
    assert texts(nodes["node-b2_conv2"])[-1] == "36,864 params"  # 3*3*64*64, no bias
    assert "77,898 parameters" in texts(ET.parse(target).getroot())


def test_highlight_marks_only_the_named_nodes(tmp_path, capsys):
    target = tmp_path / "u.svg"
    assert run_cli(capsys, UNET, "-o", target, "--highlight", "enc2,dec2", "--highlight", "mid")[0] == 0
    strokes = {key: first_path(group).get("stroke") for key, group in svg_groups(target, "node").items()}
    assert {key for key, stroke in strokes.items() if stroke == "#f9a825"} == {
        "node-enc2", "node-dec2", "node-mid"}


def test_highlight_of_an_unknown_node_is_an_error(tmp_path, capsys):
    code, _, err = run_cli(capsys, UNET, "-o", tmp_path / "u.svg", "--highlight", "dec3")
    assert code == 1
    assert err == f"--highlight: no node named 'dec3' in {UNET}; did you mean 'dec2' or 'dec1'?\n"


def test_compact_folds_batch_norm_and_activation_chains(tmp_path, capsys):
    target = tmp_path / "r.svg"
    assert run_cli(capsys, RESNET, "-o", target, "--compact")[0] == 0
    nodes = svg_groups(target, "node")
    assert set(nodes) == {f"node-{name}" for name in (
        "image", "stem", "b1_conv1", "b1_conv2", "b1_out", "b2_conv1", "b2_conv2", "proj2", "b2_out",
        "gap", "probs")} | {"legend"}
    assert texts(nodes["node-stem"]) == [
        "stem", "conv2d filters=32", "+ batch_norm", "+ activation relu", "28×28×32"]
    assert next(nodes["node-stem"].iter(f"{SVG}a")).get(XLINK_TITLE) == "stem + stem_bn + stem_relu"
    edges = svg_groups(target, "edge")
    residual = edges["edge-9"]  # stem_relu -> b1_out, now drawn from the folded group
    assert residual.findtext(f"{SVG}title") == "stem->b1_out"
    assert first_path(residual).get("stroke") == EDGE_STYLES["add-residual"].color
    assert len(edges) == 12




def test_invalid_spec_is_drawn_with_the_problem_in_red(tmp_path, capsys, write_spec):
    spec = write_spec(UNET_TEXT.replace(  # an edge to an undefined node
        "  - {from: enc1, to: clean", "  - mid -> dex1\n  - {from: enc1, to: clean"))
    target = tmp_path / "bad.svg"
    code, out, err = run_cli(capsys, spec, "-o", target)
    assert code == 1 and out == ""
    line = spec.read_text().splitlines().index("  - mid -> dex1") + 1
    assert err.startswith(f"{spec}:{line}:5: edge mid -> dex1: unknown target 'dex1'\n")
    assert err.endswith(f"wrote {target}, with the 1 problem(s) above marked in red\n")
    edges = svg_groups(target, "edge")
    assert first_path(edges["edge-11"]).get("stroke") == RED  # mid -> dex1
    assert first_path(edges["edge-10"]).get("stroke") == EDGE_STYLES["concat-skip"].color
    assert svg_groups(target, "node")["missing-dex1"] is not None


def test_shape_error_marks_the_edge_and_its_target(tmp_path, capsys, write_spec):
    spec = write_spec(UNET_TEXT.replace("{from: enc2, to: dec2", "{from: enc1, to: dec2"))
    target = tmp_path / "bad.svg"
    code, _, err = run_cli(capsys, spec, "-o", target)
    assert code == 1
    nodes, edges = svg_groups(target, "node"), svg_groups(target, "edge")
    assert first_path(edges["edge-10"]).get("stroke") == RED
    assert first_path(nodes["node-dec2"]).get("stroke") == RED
    problem = texts(nodes["node-dec2"])[4:]  # after name, op, params, shape: the message, shortened
    assert problem[0].startswith("✗ ") and problem[-1].endswith(" [...]") and len(problem) == 3
    line = next(number for number, text in enumerate(spec.read_text().splitlines(), 1)
                if "{from: enc1, to: dec2" in text)
    assert err.startswith(f"{spec}:{line}:5: concat-skip enc1 -> dec2: " + " ".join(problem)[2:-6])
    red = {key for key, group in {**nodes, **edges}.items() if first_path(group).get("stroke") == RED}
    assert red == {"node-dec2", "edge-10"}
    # checking goes on past the failed skip with the shape it was meant to give (concatenated channels)
    assert texts(nodes["node-dec2"])[3] == "14×14×64"
    assert texts(nodes["node-up2"])[-1] == "28×28×64"
    assert texts(nodes["node-up1"])[-1] == "14×14×128"


def test_cycle_is_drawn_without_shapes(tmp_path, capsys, write_spec):
    spec = write_spec(UNET_TEXT.replace(
        "  - {from: enc1, to: clean", "  - up1 -> pool2\n  - {from: enc1, to: clean"))
    code, _, err = run_cli(capsys, spec, "-o", tmp_path / "c.svg")
    assert code == 1 and "the edges form a cycle" in err
    assert first_path(svg_groups(tmp_path / "c.svg", "edge")["edge-11"]).get("stroke") == RED


def test_schema_errors_cannot_be_drawn(tmp_path, capsys, write_spec):
    spec = write_spec(UNET_TEXT.replace("filters: 256", "filters: -256"))
    code, out, err = run_cli(capsys, spec, "-o", tmp_path / "s.svg")
    assert code == 1 and out == "" and "mid" in err and "Traceback" not in err
    assert not (tmp_path / "s.svg").exists()


def test_without_dot_writes_the_source_and_says_how_to_install(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    target = tmp_path / "u.svg"
    code, out, err = run_cli(capsys, UNET, "-o", target)
    assert code == 1 and out == ""
    assert err == (
        f"graphviz's `dot` program was not found, so {target} was not made; wrote {tmp_path / 'u.dot'} "
        "instead (install graphviz: `apt-get install graphviz` (Debian/Ubuntu) or `brew install "
        "graphviz` (macOS), then run the command again)\n")
    assert not target.exists()
    assert (tmp_path / "u.dot").read_text() == archspec.render(UNET).source


def test_python_api_returns_the_digraph():
    dot = archspec.render(UNET, rankdir="LR", compact=True)
    assert isinstance(dot, graphviz.Digraph)
    assert "rankdir=LR" in dot.source
    assert archspec.render(archspec.analyze(RESNET), highlight=["gap"]).source == archspec.render(
        RESNET, highlight=("gap",)).source
    assert archspec.render(UNET) is not archspec.render(UNET)  # still callable after the import


def test_python_api_raises_for_an_invalid_spec_unless_partial(write_spec):
    spec = write_spec(UNET_TEXT.replace("{from: enc2, to: dec2", "{from: enc1, to: dec2"))
    with pytest.raises(SpecError, match="concat-skip enc1 -> dec2"):
        archspec.render(spec)
    assert "#d32f2f" in archspec.render(spec, partial=True).source
    diagram = build_diagram(spec, RenderOptions())
    assert [error.edge for error in diagram.errors] == ["concat-skip enc1 -> dec2"]


def test_rendering_imports_no_tensorflow(tmp_path):
    code = (
        "import sys, archspec\n"
        "from archspec.cli import main\n"
        f"archspec.render({str(UNET)!r}, params=True, compact=True)\n"
        f"try: main(['render', {str(UNET)!r}, '-o', {str(tmp_path / 'u.svg')!r}])\n"
        "except SystemExit as exit: assert exit.code in (0, None), exit.code\n"
        "print(sorted(m for m in ('tensorflow', 'keras') if m in sys.modules))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT,
                            check=True)
    assert result.stdout.splitlines()[-1] == "[]"
    assert (tmp_path / "u.svg").exists()


def test_a_dot_failure_is_an_error_not_a_traceback(tmp_path):
    broken = graphviz.Digraph()
    broken.node("a", label="<<b>unclosed>")
    with pytest.raises(RenderError, match=r"graphviz's `dot` failed on x.svg: Error: mismatched tag in line 1"):
        write_diagram(broken, tmp_path / "x.svg")


def test_a_node_that_reads_one_input_three_times_is_drawn_with_three_edges(write_spec):
    spec = write_spec("archspec: 1\nname: t\ninputs: {x: [8]}\nnodes:\n  c: {op: concat}\n"
                      "edges:\n  - x -> c\n  - x -> c\n  - x -> c\n")
    source = archspec.render(spec).source
    assert source.count("\tx -> c ") == 3
