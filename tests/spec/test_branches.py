"""Conditional edges in blocks (issue 25): `when: ${...}`, chosen per copy, the other branch still checked."""

from __future__ import annotations

import pytest

from archspec.errors import SpecError
from archspec.spec.frontend import load_spec

HEAD = """archspec: 1
name: t
inputs: {image: [28, 28, 1]}
blocks:
  res(filters, strides=1):
    - x -> conv2d(${filters}, strides=${strides}) -> batch_norm -> out=add
    - when: ${strides > 1}
      do: x -> proj=conv2d(${filters}, 1, strides=${strides}) -> out
      else: x -> out
"""
USES = "edges: image -> conv2d(8) -> a=res(8) -> b=res(16, 2) -> flatten\n"


def spec(write_spec, head: str = HEAD, edges: str = USES):
    return load_spec(write_spec(head + edges))


def error(write_spec, head: str, edges: str = USES) -> SpecError:
    with pytest.raises(SpecError) as caught:
        spec(write_spec, head, edges)
    return caught.value


def test_each_copy_takes_the_branch_its_params_pick(write_spec):
    result = spec(write_spec)
    into = {(edge.source, edge.target) for edge in result.edges}
    assert "a_proj" not in result.nodes and ("conv2d_1", "a_out") in into
    assert result.nodes["b_proj"].params.strides == 2 and ("b_proj", "b_out") in into
    assert ("a_out", "b_out") not in into


def test_the_branch_not_taken_is_still_checked_for_names(write_spec):
    caught = error(write_spec, HEAD.replace("      else: x -> out", "      else: x -> outt"),
                   "edges: image -> conv2d(8) -> b=res(16, 2) -> flatten\n")
    assert "'outt', in the branch not taken here, names nothing in this scope" in str(caught)
    assert caught.location.line == 9 and "did you mean 'out'" in str(caught)


@pytest.mark.parametrize(("change", "message"), [
    (("${strides > 1}", "${strides}"), "'when:' needs a condition, true or false"),
    (("      do: x", "      doo: x"), "unknown key 'doo' in a conditional"),
    (("      do: x -> proj=conv2d(${filters}, 1, strides=${strides}) -> out\n", ""), "a conditional needs 'do:'"),
])
def test_a_malformed_conditional_is_located(write_spec, change, message):
    caught = error(write_spec, HEAD.replace(*change))
    assert message in str(caught) and caught.location.line in (7, 8)
    assert "block 'res' used as 'a'" in caught.location.context


def test_a_condition_in_a_loop_may_read_the_index(write_spec):
    result = spec(write_spec, "archspec: 1\nname: t\ninputs: {x: [8]}\n", """edges:
  - x -> h0=dense(4)
  - for: i in range(1, 4)
    do:
      - h${i - 1} -> h${i}=dense(4)
      - when: ${i == 3}
        do: "[h0, h${i}] -> last=concat"
""")
    assert [edge.source for edge in result.edges if edge.target == "last"] == ["h0", "h3"]
