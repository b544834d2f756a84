"""Facts the docs state that the code decides: they are derived or checked here, so they cannot drift."""

from __future__ import annotations

import re

from tests.conftest import ROOT

NUMBERS = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven",
           "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen", "nineteen", "twenty",
           "twenty-one", "twenty-two", "twenty-three", "twenty-four"]


def test_the_zoo_page_counts_and_lists_every_zoo_spec_and_the_readme_states_no_count():
    zoo = sorted(path.stem for path in (ROOT / "specs" / "zoo").glob("*.yaml"))
    page = (ROOT / "docs" / "zoo.md").read_text()
    stated = re.match(r"# The zoo\n\n(\S+) published architectures", page).group(1)
    assert NUMBERS.index(stated.lower()) == len(zoo)
    assert sorted(re.findall(r"^\| \[`(\w+)`\]\(\.\./specs/zoo/\1\.yaml\)", page, re.M)) == zoo
    readme = (ROOT / "README.md").read_text()
    assert not re.search(rf"\b({'|'.join(NUMBERS[2:])}) published architectures", readme, re.I)


def test_the_positional_argument_table_of_docs_spec_is_the_registrys():
    from archspec.graph.positional_table import positional_table

    table = positional_table()
    assert "`conv1d`" in table and "`permute` | `axes`" in table and "`lstm`" in table
    assert table in (ROOT / "docs" / "spec.md").read_text(), (
        "docs/spec.md's positional table is stale: paste `python -m archspec.graph.positional_table`")
