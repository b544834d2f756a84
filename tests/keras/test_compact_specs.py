"""The specs rewritten in the compact forms of issue 18 are the models their long forms were."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import archspec
from tests.conftest import ROOT
from tests.data.compact import COMPACT, LONG, PAIRS
from tests.data.compact.equivalence import assert_same_model, node_mapping


def spec_lines(path: Path) -> int:
    """Non-blank lines that are not comments only."""
    return sum(1 for line in path.read_text().splitlines() if line.strip() and not line.strip().startswith("#"))


def test_every_kept_long_form_has_its_compact_spec():
    assert len(PAIRS) == len(list(LONG.glob("*.yaml"))) + len(list((LONG / "zoo").glob("*.yaml"))) + 1
    assert all(compact.exists() for compact, _ in PAIRS)


@pytest.mark.parametrize("compact, long", PAIRS, ids=lambda p: p.parent.name + "/" + p.stem)
def test_same_graph(compact, long):
    mapping = node_mapping(archspec.analyze(compact), archspec.analyze(long))
    assert len(mapping) == archspec.analyze(long).number_of_nodes()


@pytest.mark.parametrize("compact, long", PAIRS, ids=lambda p: p.parent.name + "/" + p.stem)
def test_same_outputs_with_the_same_weights(compact, long, keras):
    assert_same_model(compact, long, keras)


def test_the_lectures_unet_stand_alone_fits_in_15_lines():
    assert spec_lines(COMPACT / "unet_standalone.yaml") <= 15


@pytest.mark.parametrize("compact, long", PAIRS[:-1], ids=lambda p: p.parent.name + "/" + p.stem)
def test_compact_forms_are_shorter(compact, long):
    assert spec_lines(compact) < spec_lines(long)


@pytest.mark.parametrize("compact, long", PAIRS[:-1], ids=lambda p: p.parent.name + "/" + p.stem)
def test_a_compact_spec_keeps_the_name_and_doc_of_its_long_form(compact, long):
    compact_spec, long_spec = archspec.load_spec(compact), archspec.load_spec(long)
    assert (compact_spec.name, compact_spec.doc, compact_spec.train) == (long_spec.name, long_spec.doc, long_spec.train)


def test_the_stand_alone_unet_trains_as_the_long_one():
    compact = archspec.load_spec(COMPACT / "unet_standalone.yaml")
    assert compact.train == archspec.load_spec(ROOT / "specs" / "mnist_denoise_unet.yaml").train



def test_the_readmes_specs_validate_and_its_two_unets_are_one_graph():
    blocks = re.findall(r"```yaml\n(archspec: 1\n.*?)```", (ROOT / "README.md").read_text(), re.S)
    graphs = [archspec.analyze(archspec.loads_spec(text, f"README block {index}")) for index, text in enumerate(blocks)]
    unets = [graph for graph in graphs if graph.graph["name"] == "mnist_denoise_unet"]
    assert len(blocks) >= 2 and len(unets) == 2
    assert len(node_mapping(unets[1], unets[0])) == unets[0].number_of_nodes()
