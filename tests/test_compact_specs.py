"""The specs rewritten in the compact forms of issue 18 are the models their long forms were."""

from __future__ import annotations

from pathlib import Path

import pytest

import archspec
from tests.compact.equivalence import assert_same_model, node_mapping
from tests.conftest import ROOT

COMPACT = Path(__file__).parent / "compact"
PAIRS = [  # (compact, long)
    (ROOT / "specs" / "mnist_cnn.yaml", COMPACT / "long" / "mnist_cnn.yaml"),
    (COMPACT / "unet_standalone.yaml", ROOT / "specs" / "mnist_denoise_unet.yaml"),
]


def spec_lines(path: Path) -> int:
    """Non-blank lines that are not comments only."""
    return sum(1 for line in path.read_text().splitlines() if line.strip() and not line.strip().startswith("#"))


@pytest.mark.parametrize("compact, long", PAIRS, ids=lambda p: p.stem)
def test_same_graph(compact, long):
    mapping = node_mapping(archspec.analyze(compact), archspec.analyze(long))
    assert len(mapping) == archspec.analyze(long).number_of_nodes()


@pytest.mark.parametrize("compact, long", PAIRS, ids=lambda p: p.stem)
def test_same_outputs_with_the_same_weights(compact, long, keras):
    assert_same_model(compact, long, keras)


def test_the_lectures_unet_stand_alone_fits_in_15_lines():
    assert spec_lines(COMPACT / "unet_standalone.yaml") <= 15


def test_compact_forms_are_shorter():
    cnn = (ROOT / "specs" / "mnist_cnn.yaml", COMPACT / "long" / "mnist_cnn.yaml")
    assert spec_lines(cnn[0]) < spec_lines(cnn[1])


def test_the_stand_alone_unet_trains_as_the_long_one():
    compact = archspec.load_spec(COMPACT / "unet_standalone.yaml")
    assert compact.train == archspec.load_spec(ROOT / "specs" / "mnist_denoise_unet.yaml").train


ZOO_DRAFTS = sorted((COMPACT / "zoo").glob("*.yaml"))


@pytest.mark.parametrize("compact", ZOO_DRAFTS, ids=lambda p: p.stem)
def test_compact_zoo_drafts_are_the_zoo_models(compact, keras):
    """The drafts of the zoo specs in the compact forms; run once the zoo branch's specs/zoo is merged."""
    long = ROOT / "specs" / "zoo" / compact.name
    if not long.exists():
        pytest.skip("specs/zoo is on the zoo branch until it is merged")
    assert_same_model(compact, long, keras)
