"""`repeat` of a block with several outputs (issue 25): a carry output, collected outputs, discarded outputs."""

from __future__ import annotations

import pytest

import archspec
from archspec.errors import SpecError
from archspec.spec.frontend import load_spec

HEAD = """archspec: 1
name: t
inputs: {rows: [28, 8]}
blocks:
  unit:
    outputs: [out, skip]
    edges:
      - x -> z=conv1d(8, 2, padding=causal, dilation=${index}) -> skip=conv1d(8, 1)
      - z -> res=conv1d(8, 1) -> out=add
      - x -> out
"""


def links(spec) -> list[tuple[str, str]]:
    return [(edge.source, edge.target) for edge in spec.edges]


def test_the_carry_feeds_the_next_copy_and_a_collected_output_leaves_every_copy(write_spec):
    spec = load_spec(write_spec(HEAD + """edges:
  - rows -> layer=unit(repeat=3, carry=out)
  - layer.skip -> skips=add
  - layer -> skips
"""))
    found = links(spec)
    assert ("layer1_out", "layer2_z") in found and ("layer2_out", "layer3_z") in found
    assert [source for source, target in found if target == "skips"] == [
        "layer1_skip", "layer2_skip", "layer3_skip", "layer3_out"]


def test_a_discarded_carry_leaves_the_last_copy_without_what_only_fed_it(write_spec):
    spec = load_spec(write_spec(HEAD + """edges:
  - rows -> layer=unit(repeat=3, carry=out, discard=out)
  - layer.skip -> skips=add -> flatten
"""))
    assert "layer3_out" not in spec.nodes and "layer3_res" not in spec.nodes
    assert {"layer2_out", "layer2_res", "layer3_z", "layer3_skip"} <= set(spec.nodes)
    assert not [link for link in links(spec) if "layer3_res" in link or "layer3_out" in link]
    graph = archspec.analyze(write_spec(HEAD + """edges:
  - rows -> layer=unit(repeat=3, carry=out, discard=out)
  - layer.skip -> skips=add -> flatten
""", "again.yaml"))
    assert graph.nodes["skips"]["shape"] == (28, 8)


def test_a_use_without_repeat_may_discard_an_output(write_spec):
    spec = load_spec(write_spec(HEAD + "edges: rows -> unit(start=1, discard=skip) -> flatten\n"))
    assert "unit_1_skip" not in spec.nodes and "unit_1_z" in spec.nodes


@pytest.mark.parametrize(("edges", "message", "line"), [
    ("  - rows -> layer=unit(repeat=3)\n  - layer.skip -> add -> flatten\n",
     "block 'unit' cannot repeat: it needs one input, and one output or a 'carry:' output, to chain", 12),
    ("  - rows -> layer=unit(repeat=3, carry=skp)\n  - layer -> flatten\n",
     "'carry' of block use must name an output of the block", 12),
    ("  - rows -> layer=unit(carry=out)\n  - layer -> flatten\n", "'carry' of block use needs 'repeat'", 12),
    ("  - rows -> layer=unit(repeat=2, carry=out, discard=out)\n  - layer.skip -> s=add -> flatten\n"
     "  - layer -> s\n", "output 'layer.out' is discarded, but an edge reads it ('layer2_out')", 12),
    ("  - rows -> layer=unit(repeat=2, carry=out)\n  - layer -> flatten\n  - layer.skip -> flatten\n"
     "outputs: [layer.skip]\n", "'layer.skip' is an output of every copy of the repeated use 'layer'", 15),
])
def test_mistakes_with_several_outputs_are_located(write_spec, edges, message, line):
    with pytest.raises(SpecError) as caught:
        load_spec(write_spec(HEAD + "edges:\n" + edges))
    assert message in str(caught.value) and caught.value.location.line == line
