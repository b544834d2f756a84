"""docs/spec.md's table of positional arguments, written from the op registry so that it cannot go stale.

Ops with the same positional parameters share a row, in registry order; a
test (tests/test_docs.py) checks that the doc holds exactly this table.
"""

from __future__ import annotations

from archspec.catalogue.ops import BUILTIN_OPS, OPS

NOTES = {"expr": " (quote an expression with brackets: `expr(\"abs(x - y)\")`)"}
"""What a row adds for an op whose positional argument needs a word of its own."""

INDENT = "  "
"""The table sits in a list item of docs/spec.md."""


def positional_table() -> str:
    """The markdown table: op(s) | positional parameters, then `others | none`."""
    rows: dict[tuple[str, ...], list[str]] = {}
    for name in BUILTIN_OPS:
        positional = tuple(OPS[name].positional)
        if positional:
            rows.setdefault(positional, []).append(name)
    lines = ["| op | positional |", "|---|---|"]
    for positional, names in rows.items():
        notes = "".join(NOTES.get(name, "") for name in names)
        lines.append(f"| {', '.join(f'`{name}`' for name in names)} | "
                     f"{', '.join(f'`{param}`' for param in positional)}{notes} |")
    lines.append("| others | none |")
    return "\n".join(INDENT + line for line in lines) + "\n"


if __name__ == "__main__":  # python -m archspec.graph.positional_table: the table to paste into docs/spec.md
    print(positional_table(), end="")
