"""The adversarial corpus: every broken spec in tests/data/bad_specs/ ends in one clear error, never a traceback.

Each NAME.yaml has a sidecar NAME.expected with the exit code, line, column and
first line of the message `archspec validate NAME.yaml` must print (format:
tests/data/bad_specs/README.md). The two cases too big to commit (a 50 MB file and
a 100,000-node spec) are generated here into tmp_path.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import yaml

import archspec
from archspec.cli import main
from archspec.errors import ArchspecError, flatten_errors
from archspec.spec.composer import MAX_ENTRIES
from archspec.spec.loader import MAX_FILE_BYTES

CORPUS = Path(__file__).resolve().parents[1] / "data" / "bad_specs"
CASES = sorted(CORPUS.glob("*.yaml"))
ROOT = CORPUS.parents[2]
LOCATION = re.compile(r"^(?P<file>[^:\n]+?)(?::(?P<line>\d+))?(?::(?P<column>\d+))?: (?P<message>.*)$")


@dataclass
class Outcome:
    """What `archspec validate FILE` did: exit code, all it printed, and where its first error points."""

    exit_code: int
    output: str
    line: int | None = None
    column: int | None = None
    message: str = ""


@dataclass
class Expected:
    """A sidecar NAME.expected."""

    exit_code: int
    line: int | None
    column: int | None
    message: str
    contains: list[str] = field(default_factory=list)
    error_class: str = ""


def run_validate(name: str, capsys: pytest.CaptureFixture[str]) -> Outcome:
    """`archspec validate NAME` in the current directory, through the console script's main()."""
    capsys.readouterr()
    try:
        main(["validate", name])
        code = 0
    except SystemExit as stop:
        code = stop.code if isinstance(stop.code, int) else 1
    captured = capsys.readouterr()
    return parse_outcome(name, code, captured.out, captured.err)


def parse_outcome(name: str, code: int, out: str, err: str) -> Outcome:
    outcome = Outcome(code, out + err)
    first = err.splitlines()[0] if err else ""
    match = LOCATION.match(first)
    if match and match["file"] == name:
        outcome.line = int(match["line"]) if match["line"] else None
        outcome.column = int(match["column"]) if match["column"] else None
        outcome.message = match["message"]
    else:
        outcome.message = first
    return outcome


def read_expected(path: Path) -> Expected:
    """`key: value` lines; `contains:` may repeat; `-` stands for no line or column."""
    values: dict[str, str] = {}
    contains: list[str] = []
    for raw in path.read_text(encoding="utf-8").splitlines():
        if not raw.strip() or raw.startswith("#"):
            continue
        key, _, value = raw.partition(": ")
        if key == "contains":
            contains.append(value)
        else:
            values[key] = value

    def number(text: str) -> int | None:
        return None if text == "-" else int(text)

    return Expected(int(values["exit"]), number(values["line"]), number(values["column"]),
                    values["message"], contains, values["class"])


def check(outcome: Outcome, expected: Expected) -> None:
    assert "Traceback" not in outcome.output, outcome.output
    got = (outcome.exit_code, outcome.line, outcome.column, outcome.message)
    assert got == (expected.exit_code, expected.line, expected.column, expected.message), outcome.output
    for text in expected.contains:
        assert text in outcome.output


def test_corpus_is_complete():
    sidecars = sorted(CORPUS.glob("*.expected"))
    assert len(CASES) >= 60
    assert [path.stem for path in sidecars] == [path.stem for path in CASES]
    classes = {read_expected(path).error_class for path in sidecars}
    assert classes == {"YamlError", "SchemaError", "GraphError", "ShapeError"}


@pytest.mark.parametrize("case", CASES, ids=lambda path: path.stem)
def test_bad_spec(case, tmp_path, monkeypatch, capsys):
    shutil.copyfile(case, tmp_path / case.name)
    monkeypatch.chdir(tmp_path)
    outcome = run_validate(case.name, capsys)
    expected = read_expected(case.with_suffix(".expected"))
    if expected.message.startswith("invalid YAML:") and not yaml.__with_libyaml__:
        pytest.skip("YAML syntax messages are libyaml's; PyYAML's own parser words them differently")
    check(outcome, expected)
    with pytest.raises(ArchspecError) as caught:  # the same error through the Python API
        archspec.analyze(case.name)
    assert type(flatten_errors(caught.value)[0]).__name__ == expected.error_class
    # nothing in a spec runs: no file appears (the !!python cases try to write pwned.txt)
    assert os.listdir(tmp_path) == [case.name]


def test_file_of_50_megabytes_is_refused_before_parsing(tmp_path, monkeypatch, capsys):
    valid = (CORPUS.parents[2] / "specs" / "mlp_sequential.yaml").read_bytes()
    path = tmp_path / "huge.yaml"
    with path.open("wb") as stream:
        stream.write(valid)
        line = b"# " + b"x" * 1021 + b"\n"
        for _ in range(50 * 1024):
            stream.write(line)
    assert path.stat().st_size > 50 * 1024 * 1024
    monkeypatch.chdir(tmp_path)
    outcome = run_validate("huge.yaml", capsys)
    check(outcome, Expected(1, None, None, "spec file is too large",
                            [f"expected: at most {MAX_FILE_BYTES:,} bytes"]))


def chain_spec(count: int, node: str) -> str:
    """A spec of `count` nodes in one chain; node i is on line 5 + i + 1."""
    lines = ["archspec: 1", "name: chain", "inputs:", "  x: {shape: [8]}", "nodes:"]
    lines += [f"  n{index}: {node}" for index in range(count)]
    lines += ["edges:", "  - x -> " + " -> ".join(f"n{index}" for index in range(count)),
              f"outputs: [n{count - 1}]"]
    return "\n".join(lines) + "\n"


def test_spec_of_100000_nodes_is_refused_at_the_limit(tmp_path, monkeypatch, capsys):
    (tmp_path / "nodes.yaml").write_text(chain_spec(100_000, "{op: dense, units: 8}"))
    monkeypatch.chdir(tmp_path)
    outcome = run_validate("nodes.yaml", capsys)
    # the 10,001st node is on line 5 + 10,001; parsing stops there, so time and memory stay bounded
    check(outcome, Expected(1, 5 + MAX_ENTRIES + 1, 3, "'nodes' has more than 10,000 entries", []))


@pytest.mark.slow  # a 10,000-node spec: tens of seconds, outside the fast lane
def test_spec_at_the_node_limit_validates(tmp_path, monkeypatch, capsys):
    (tmp_path / "big.yaml").write_text(chain_spec(MAX_ENTRIES, "{op: identity}"))
    monkeypatch.chdir(tmp_path)
    outcome = run_validate("big.yaml", capsys)
    assert outcome.exit_code == 0, outcome.output
    assert outcome.output == "ok  big.yaml  (10000 nodes, 0 parameters)\n"


@pytest.mark.parametrize("name", ["yaml_python_apply_tag", "yaml_billion_laughs", "yaml_not_utf8",
                                  "yaml_deep_nesting"])
def test_console_script_in_a_real_process(name, tmp_path):
    """The same files through a real `python -m archspec.cli` process: exit 1, no traceback, no side effect."""
    case = CORPUS / f"{name}.yaml"
    shutil.copyfile(case, tmp_path / case.name)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    result = subprocess.run([sys.executable, "-m", "archspec.cli", "validate", case.name],
                            cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60,
                            check=False)
    check(parse_outcome(case.name, result.returncode, result.stdout, result.stderr),
          read_expected(case.with_suffix(".expected")))
    assert os.listdir(tmp_path) == [case.name]
