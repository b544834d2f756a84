"""Issue 18's yardstick: is each zoo spec shorter than the hand-written Keras it replaces?

For every specs/zoo/NAME.yaml and its reference tests/data/zoo/NAME.py this prints
the lines and characters of each and the spec/Keras ratios, then the median
ratios (the issue asks for <= 0.6 in lines, <= 0.7 in characters, and no spec
longer than its reference in either). `--pending` adds the drafts in
tests/data/zoo/pending, marked, in a second set of medians.

What is counted, the same way on both sides:
- a line counts if anything but a comment is left on it; blank and
  comment-only lines do not;
- characters are those of the counted lines with comments and the leading
  and trailing whitespace removed (indentation is not charged to either side);
- in the reference, import statements and docstrings (module, class and
  function) are not counted; everything else is, helper functions and custom
  layers included, since a Keras author has to write them.

    python benchmarks/concision.py
    python benchmarks/concision.py --pending
"""

from __future__ import annotations

import argparse
import ast
import io
import statistics
import sys
import tokenize
from pathlib import Path
from typing import NamedTuple

ROOT = Path(__file__).resolve().parent.parent
SPECS = ROOT / "specs" / "zoo"
REFERENCES = ROOT / "tests" / "data" / "zoo"
PENDING = REFERENCES / "pending"
TARGET_LINES, TARGET_CHARS = 0.6, 0.7


class Size(NamedTuple):
    lines: int
    chars: int


def measure(lines: list[str]) -> Size:
    kept = [line.strip() for line in lines if line.strip()]
    return Size(len(kept), sum(len(line) for line in kept))


def yaml_code(text: str) -> list[str]:
    """Each line of a YAML file without its comment (a '#' at the start or after a space, outside quotes)."""
    result = []
    for line in text.splitlines():
        quote = None
        cut = len(line)
        for index, char in enumerate(line):
            if quote:
                if char == quote:
                    quote = None
            elif char in "'\"":
                quote = char
            elif char == "#" and (index == 0 or line[index - 1] in " \t"):
                cut = index
                break
        result.append(line[:cut])
    return result


def python_code(text: str) -> list[str]:
    """Each line of a Python file without comments, docstrings and import statements (blanked, not removed)."""
    lines = text.splitlines()
    dropped: set[int] = set()
    tree = ast.parse(text)
    for node in ast.walk(tree):
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            dropped.update(range(node.lineno, node.end_lineno + 1))
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant) \
                    and isinstance(first.value.value, str):
                dropped.update(range(first.lineno, first.end_lineno + 1))
    for token in tokenize.generate_tokens(io.StringIO(text).readline):
        if token.type == tokenize.COMMENT:
            row, column = token.start
            lines[row - 1] = lines[row - 1][:column]
    return ["" if number in dropped else line for number, line in enumerate(lines, start=1)]


def compare(spec: Path) -> tuple[Size, Size]:
    """(spec, reference) sizes of one zoo model."""
    reference = REFERENCES / f"{spec.stem}.py"
    return measure(yaml_code(spec.read_text())), measure(python_code(reference.read_text()))


def ratios(sizes: tuple[Size, Size]) -> tuple[float, float]:
    spec, keras = sizes
    return spec.lines / keras.lines, spec.chars / keras.chars


def print_table(sizes: dict[Path, tuple[Size, Size]], drafts: set[Path]) -> None:
    print(f"{'model':<24} {'spec lines':>10} {'keras lines':>11} {'ratio':>6}   "
          f"{'spec chars':>10} {'keras chars':>11} {'ratio':>6}")
    for path, (spec, keras) in sizes.items():
        lines, chars = ratios((spec, keras))
        name = path.stem + (" (draft)" if path in drafts else "")
        print(f"{name:<24} {spec.lines:>10} {keras.lines:>11} {lines:>6.2f}   "
              f"{spec.chars:>10} {keras.chars:>11} {chars:>6.2f}")


def print_medians(label: str, sizes: list[tuple[Size, Size]]) -> None:
    lines = statistics.median(ratios(pair)[0] for pair in sizes)
    chars = statistics.median(ratios(pair)[1] for pair in sizes)
    print(f"median spec/Keras ratio, {label} ({len(sizes)}): lines {lines:.2f} (target <= {TARGET_LINES}), "
          f"characters {chars:.2f} (target <= {TARGET_CHARS})")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pending", action="store_true", help="also measure the drafts in tests/data/zoo/pending")
    args = parser.parse_args(argv)
    specs = sorted(SPECS.glob("*.yaml"))
    drafts = sorted(PENDING.glob("*.yaml")) if args.pending else []
    if not specs:
        print(f"no zoo specs in {SPECS}", file=sys.stderr)
        return 1
    sizes = {path: compare(path) for path in sorted(specs + drafts, key=lambda path: path.stem)}
    print_table(sizes, set(drafts))
    print()
    print_medians("zoo specs", [sizes[path] for path in specs])
    if drafts:
        print_medians("zoo specs and drafts", list(sizes.values()))
    longer = [path.stem for path in specs if max(ratios(sizes[path])) > 1]
    print(f"zoo specs longer than their reference in lines or characters: {', '.join(longer) or 'none'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
