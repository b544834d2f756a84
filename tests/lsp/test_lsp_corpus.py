"""Every editor feature over every spec the project keeps (valid, compact and long forms, and the bad-spec
corpus): no feature raises, whatever the text. A spec that crashes nothing on the command line crashes
nothing in the editor; the features are called in-process, as the server calls them."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import ROOT

pytest.importorskip("pygls")

# (after the skip: lsprotocol comes with pygls)
from archspec.lsp.analysis import analyze_text
from archspec.lsp.completion import complete
from archspec.lsp.diagnostics import diagnostics_by_file
from archspec.lsp.hints import inlay_hints
from archspec.lsp.hover import hover_text
from archspec.lsp.names import NameIndex
from archspec.lsp.navigation import definition, document_symbols, references
from tests.spec.test_bad_specs import read_expected

CORPUS = sorted([*(ROOT / "specs").rglob("*.yaml"), *(ROOT / "tests" / "data" / "bad_specs").glob("*.yaml"),
                 *(ROOT / "tests" / "data" / "compact").rglob("*.yaml")])


def test_the_corpus_is_there():
    assert len(CORPUS) > 250


@pytest.mark.parametrize("path", CORPUS, ids=lambda path: str(path.relative_to(ROOT)))
def test_every_feature_answers_on_every_spec(path: Path):
    text = path.read_bytes().decode("utf-8", errors="replace")
    analysis = analyze_text(text, path)
    diagnostics = diagnostics_by_file(analysis)
    assert str(path) in diagnostics
    if path.parent.name == "bad_specs" and "\ufffd" not in text:  # (the editor decodes the bytes, not archspec)
        assert analysis.errors, "a bad spec must give diagnostics"
    index = NameIndex(analysis.document)
    lines = text.split("\n")
    inlay_hints(analysis, index, 0, len(lines))
    document_symbols(index)
    for occurrence in index.occurrences:
        hover_text(analysis, index, occurrence.line, occurrence.column)
        definition(index, str(path), occurrence.line, occurrence.column)
        references(index, occurrence.line, occurrence.column)
    for number, line in enumerate(lines[:200]):
        for character in {0, len(line) // 2, len(line)}:
            complete(lines, number, character, index, index.data)


BAD = [path for path in sorted((ROOT / "tests" / "data" / "bad_specs").glob("*.yaml"))
       if path.with_suffix(".expected").is_file()]


@pytest.mark.parametrize("path", BAD, ids=lambda path: path.stem)
def test_the_editor_shows_the_error_validate_prints_first(path: Path, monkeypatch):
    """Same place, same message (the editor shows the file:line:col itself) as the corpus expects of validate."""
    expected = read_expected(path.with_suffix(".expected"))
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        pytest.skip("the editor decodes a file's bytes; archspec never sees them")
    if expected.exit_code != 1 or expected.line is None:
        pytest.skip("no located error to compare")
    monkeypatch.chdir(path.parent)  # validate runs in the corpus folder (bases, the current-directory rule)
    analysis = analyze_text(text, path.name)
    first = diagnostics_by_file(analysis)[path.name][0]
    assert (first.range.start.line + 1, first.range.start.character + 1) == (expected.line, expected.column or 1)
    assert first.message.splitlines()[0] == expected.message
