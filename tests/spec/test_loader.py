"""The event-based YAML loader: standard YAML still reads as before, with positions, on either parser."""

from __future__ import annotations

import pytest
import yaml

from archspec.errors import YamlError
from archspec.spec import composer, loader
from archspec.spec.loader import parse_yaml


def at(document, path, *, key=False):
    """The exact (line, column) recorded for the value (or key) at `path`."""
    node = document.positions.node(path)
    location = node.key if key else node.value
    return (location.line, location.column)


@pytest.fixture(params=["libyaml", "pure-python"])
def parser(request, monkeypatch):
    """Run each test with libyaml's parser and with PyYAML's own (used where libyaml is missing)."""
    if request.param == "libyaml":
        if not yaml.__with_libyaml__:
            pytest.skip("PyYAML built without libyaml")
        monkeypatch.setattr(loader, "_EVENT_LOADER", yaml.CSafeLoader)
    else:
        monkeypatch.setattr(loader, "_EVENT_LOADER", yaml.SafeLoader)
    return request.param


def test_values_and_positions(parser):
    document = parse_yaml("a: 1\nb:\n  - {c: x, d: [1.5, true, null]}\n  - 0x10\n", "f.yaml")
    assert document.data == {"a": 1, "b": [{"c": "x", "d": [1.5, True, None]}, 16]}
    assert at(document, ("b",), key=True) == (2, 1)
    assert at(document, ("b", 0, "d"), key=True) == (3, 12)
    assert at(document, ("b", 0, "d", 1)) == (3, 21)
    assert at(document, ("b", 1)) == (4, 5)


def test_crlf_bom_and_standard_tags(parser):
    document = parse_yaml("\ufeffa: !!str 3\r\nb: !!int '4'\r\nc: 2024-01-01\r\nd: !!float 1\r\n")
    assert document.data == {"a": "3", "b": 4, "c": "2024-01-01", "d": 1.0}
    assert at(document, ("d",), key=True) == (4, 1)


def test_anchors_aliases_and_merge_keys(parser):
    text = "base: &base {op: dense, units: 8}\nn1: {<<: *base, units: 4}\nn2: *base\n"
    document = parse_yaml(text)
    assert document.data["n1"] == {"op": "dense", "units": 4}
    assert document.data["n2"] == {"op": "dense", "units": 8}
    assert at(document, ("n2",)) == (3, 5)  # errors inside an alias point at the alias


@pytest.mark.parametrize(("text", "message", "position"), [
    ("a: 1\na: 2\n", "duplicate key 'a'", (2, 1)),
    ("a: !!python/object/apply:os.system [ls]\n",
     "YAML tag '!!python/object/apply:os.system' is not allowed in a spec", (1, 4)),
    ("a: *nowhere\n", "alias *nowhere has no anchor &nowhere before it", (1, 4)),
    ("a: 1\n---\nb: 2\n", "the file holds more than one YAML document", (2, 1)),
    # the top-level mapping is level 1, so the 64th '[' (column 3 + 64) is one too many
    ("a: " + "[" * 65 + "]" * 65 + "\n", "the spec is nested too deeply", (1, 67)),
    # anchors of 11, 111, ... 111,111 values: the 4th alias on line 6 passes 500,000
    ("x: &a [q, q, q, q, q, q, q, q, q, q]\n"
     + "".join(f"y{i}: &{chr(98 + i)} [" + ", ".join([f"*{chr(97 + i)}"] * 10) + "]\n"
               for i in range(6)),
     "the spec has too many YAML values (counting each alias as a copy)", (6, 21)),
])
def test_refusals(parser, text, message, position):
    with pytest.raises(YamlError) as caught:
        parse_yaml(text, "f.yaml")
    assert (caught.value.message, (caught.value.line, caught.value.column)) == (message, position)


def test_deep_nesting_is_an_error_not_a_recursion_error(parser):
    with pytest.raises(YamlError) as caught:
        parse_yaml("a: " + "[" * 5000 + "]" * 5000 + "\n", "f.yaml")
    assert "nest" in caught.value.message


def test_entries_limit(parser, monkeypatch):
    monkeypatch.setattr(composer, "MAX_ENTRIES", 3)
    assert parse_yaml("[1, 2, 3]").data == [1, 2, 3]
    with pytest.raises(YamlError) as caught:
        parse_yaml("a:\n  b: [1, 2, 3, 4]\n")
    assert (caught.value.message, caught.value.line, caught.value.column) == (
        "'a.b' has more than 3 entries", 2, 16)


def test_a_file_is_read_with_a_bounded_read(tmp_path, monkeypatch):
    monkeypatch.setattr(loader, "MAX_FILE_BYTES", 10)
    path = tmp_path / "s.yaml"
    path.write_text("a: 1\nb: 2\nc: 3\n")
    with pytest.raises(YamlError) as caught:
        loader.load_yaml(path)
    assert str(caught.value).splitlines()[:2] == [f"{path}: spec file is too large",
                                                  "  expected: at most 10 bytes"]
    with pytest.raises(YamlError) as caught:
        loader.load_yaml(tmp_path)
    assert str(caught.value).splitlines()[0] == f"{tmp_path} is a directory, not a spec file"


@pytest.mark.parametrize(("text", "message", "position"), [
    ("a: 1\rb: !!bool maybe\r", "cannot read 'maybe' (5 characters) as a boolean", (2, 4)),  # lone CR ends a line
    ("a: !!int ''\n", "cannot read '' (0 characters) as an integer", (1, 4)),
    ("a: !!float ''\n", "cannot read '' (0 characters) as a number", (1, 4)),
    ("a: !!null x\n", "cannot read 'x' (1 characters) as null", (1, 4)),
    ("a0: &a0 [1]\n" + "".join(f"a{i}: &a{i} [*a{i - 1}]\n" for i in range(1, 70)),
     "the spec is nested too deeply (counting what aliases stand for)", (64, 12)),
])
def test_values_a_tag_or_an_alias_cannot_hold(parser, text, message, position):
    with pytest.raises(YamlError) as caught:
        parse_yaml(text, "f.yaml")
    assert (caught.value.message, caught.value.line, caught.value.column) == (message, *position)
