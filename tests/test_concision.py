"""benchmarks/concision.py counts what issue 18 says: code lines and characters, not comments, imports or docstrings."""

from __future__ import annotations

import importlib.util
import statistics

from tests.conftest import ROOT

_spec = importlib.util.spec_from_file_location("concision", ROOT / "benchmarks" / "concision.py")
concision = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(concision)


def test_yaml_comments_and_blank_lines_are_not_counted_but_a_quoted_hash_is():
    text = (
        "# header comment\n"
        "archspec: 1   # trailing\n"
        "\n"
        "    # indented comment\n"
        "doc: 'issue #18'\n"
        "name: x#y\n"
    )
    lines = concision.yaml_code(text)
    assert [line.strip() for line in lines if line.strip()] == ["archspec: 1", "doc: 'issue #18'", "name: x#y"]
    assert concision.measure(lines) == (3, len("archspec: 1") + len("doc: 'issue #18'") + len("name: x#y"))


def test_python_imports_docstrings_and_comments_are_not_counted():
    text = (
        '"""Module docstring,\n'
        'two lines."""\n'
        "\n"
        "import keras\n"
        "from keras import (\n"
        "    layers,\n"
        ")\n"
        "\n"
        "\n"
        "class Scale(layers.Layer):\n"
        '    """Class docstring."""\n'
        "\n"
        "    def call(self, x):  # a comment\n"
        '        """Function docstring."""\n'
        "        return x * 2\n"
        "\n"
        "\n"
        "def reference():\n"
        "    # a whole-line comment\n"
        '    name = "not # a comment"\n'
        "    return keras.Sequential([Scale(name=name)])\n"
    )
    kept = [line.strip() for line in concision.python_code(text) if line.strip()]
    assert kept == [
        "class Scale(layers.Layer):",
        "def call(self, x):",
        "return x * 2",
        "def reference():",
        'name = "not # a comment"',
        "return keras.Sequential([Scale(name=name)])",
    ]


def test_every_zoo_spec_is_measured_against_its_reference(capsys):
    assert concision.main([]) == 0
    out = capsys.readouterr().out
    for path in sorted((ROOT / "specs" / "zoo").glob("*.yaml")):
        assert any(line.split()[:1] == [path.stem] for line in out.splitlines()), path.stem
    assert "median spec/Keras ratio, zoo specs" in out


def test_the_zoo_specs_meet_issue_18s_targets():
    """Median spec/Keras ratio <= 0.6 in lines and <= 0.7 in characters, and no spec longer than its reference."""
    sizes = [concision.compare(path) for path in sorted((ROOT / "specs" / "zoo").glob("*.yaml"))]
    ratios = [concision.ratios(pair) for pair in sizes]
    assert statistics.median(lines for lines, _ in ratios) <= concision.TARGET_LINES
    assert statistics.median(chars for _, chars in ratios) <= concision.TARGET_CHARS
    assert max(max(pair) for pair in ratios) <= 1
