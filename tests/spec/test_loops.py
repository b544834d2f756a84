"""Index loops in edges (issue 25): `{for: i in range(n), do: [...]}` unrolled before inline steps are read."""

from __future__ import annotations

import pytest

from archspec.errors import SpecError
from archspec.spec.frontend import load_spec
from archspec.spec.loops import MAX_LOOP_ENTRIES

HEAD = """archspec: 1
name: t
inputs: {x: [16, 4]}
vars: {depth: 3}
"""


def spec(write_spec, body: str):
    return load_spec(write_spec(HEAD + body))


def error(write_spec, body: str) -> SpecError:
    with pytest.raises(SpecError) as caught:
        spec(write_spec, body)
    return caught.value


def test_a_loop_makes_named_nodes_whose_parameters_follow_the_index(write_spec):
    result = spec(write_spec, """edges:
  - x -> h0=conv1d(8, 2, padding=causal)
  - for: i in range(1, depth)
    do:
      - h${i - 1} -> h${i}=conv1d(8, 2, dilation=${2 ** i}, padding=causal)
""")
    assert {name: node.params.dilation for name, node in result.nodes.items()} == {"h0": 1, "h1": 2, "h2": 4}
    assert [(edge.source, edge.target) for edge in result.edges] == [("x", "h0"), ("h0", "h1"), ("h1", "h2")]


def test_nested_loops_make_a_grid_and_an_inner_range_may_read_the_outer_index(write_spec):
    result = spec(write_spec, """edges:
  - x -> flatten -> g0=dense(4)
  - for: i in range(1, depth)
    do:
      - g${i - 1} -> g${i}=dense(4)
  - for: i in range(depth)
    do:
      - for: j in range(i)
        do:
          - g${i}, g${j} -> p${i}_${j}=concat
outputs: [p1_0, p2_0, p2_1]
""")
    assert [(edge.source, edge.target) for edge in result.edges if edge.target.startswith("p")] == [
        ("g1", "p1_0"), ("g0", "p1_0"), ("g2", "p2_0"), ("g0", "p2_0"), ("g2", "p2_1"), ("g1", "p2_1")]


def test_a_loop_in_a_block_leaves_the_block_params_to_the_expander(write_spec):
    result = spec(write_spec, """blocks:
  stack(f):
    - x -> c0=conv1d(${f}, 2)
    - for: i in range(1, depth)
      do:
        - c${i - 1} -> c${i}=conv1d(${f * 2 ** i}, 2)
edges: x -> s=stack(4) -> flatten
""")
    assert [result.nodes[f"s_c{i}"].params.filters for i in range(3)] == [4, 8, 16]


def test_an_error_in_a_loop_body_names_the_iteration(write_spec):
    caught = error(write_spec, """edges:
  - x -> h0=dense(4)
  - for: i in range(1, 3)
    do:
      - h${i - 1} -> h${i}=dense(${4 - 2 * i})
""")
    assert "node 'h2'" in str(caught) and caught.location.line == 9
    assert "for i = 2, the loop at" in caught.location.context and ":7:5" in caught.location.context


@pytest.mark.parametrize(("header", "message"), [
    ("i in range(f)", "cannot evaluate the range of loop 'i': unknown variable 'f'"),
    ("i in range(1.5)", "the range of loop 'i' takes one to three whole numbers"),
    ("i in ranges(3)", "cannot read the loop 'i in ranges(3)'"),
    ("depth in range(3)", "loop index 'depth' hides a var of that name"),
    ("i in range(0, 9, 0)", "the range of loop 'i' takes one to three whole numbers (the step not 0)"),
])
def test_a_bad_loop_header_is_an_error_at_the_header(write_spec, header, message):
    caught = error(write_spec, f"""edges:
  - x -> h0=dense(4)
  - for: {header}
    do: [h0 -> dense(4)]
""")
    assert message in str(caught) and (caught.location.line, caught.location.column) == (7, 10)


def test_a_loop_without_a_body_or_with_an_unknown_key_is_refused(write_spec):
    caught = error(write_spec, "edges:\n  - x -> dense(4)\n  - for: i in range(2)\n")
    assert "a loop needs 'do:', a chain or a list" in str(caught)
    caught = error(write_spec, "edges:\n  - x -> dense(4)\n  - {for: i in range(2), doo: [x -> dense(2)]}\n")
    assert "unknown key 'doo' in a loop" in str(caught) and "did you mean 'do'" in str(caught)


def test_loops_are_limited_in_what_they_make(write_spec):
    caught = error(write_spec, f"""edges:
  - x -> h0=dense(4)
  - for: i in range({MAX_LOOP_ENTRIES})
    do:
      - for: j in range(2)
        do: [h0 -> dense(4)]
""")
    assert f"the loops of this spec make more than {MAX_LOOP_ENTRIES:,} edge entries" in str(caught)
    assert caught.location.line == 9
