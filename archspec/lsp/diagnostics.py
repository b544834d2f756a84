"""SpecErrors as LSP diagnostics: each at the token it names, did-you-mean hints as quick fixes.

An error written in a base spec (`extends:`) is shown twice: in the base file,
where it is, and at this file's `extends:` line, where the editor is.
"""

from __future__ import annotations

import re
from pathlib import Path

from lsprotocol import types

from archspec.errors import SpecError
from archspec.lsp.analysis import Analysis
from archspec.spec.syntax import LINE_BREAK

SOURCE = "archspec"
_TOKEN = re.compile(r"[\w.\-]+|\"[^\"\n]*\"|'[^'\n]*'")
_SUGGESTIONS = re.compile(r"did you mean (.+)\?")


def diagnostics_by_file(analysis: Analysis) -> dict[str, list[types.Diagnostic]]:
    """The analysis's errors as diagnostics, keyed by the file each belongs to (this file always present)."""
    found: dict[str, list[types.Diagnostic]] = {analysis.file: []}
    lines: dict[str, list[str]] = {analysis.file: LINE_BREAK.split(analysis.text)}
    extends_line = _extends_line(lines[analysis.file])
    for error in analysis.errors:
        file = error.location.file if error.location is not None else analysis.file
        if file not in lines:
            lines[file] = _read_lines(file)
        found.setdefault(file, []).append(to_diagnostic(error, lines[file]))
        if _same_file(file, analysis.file):
            continue
        line = extends_line if extends_line is not None else 0
        where = types.Range(types.Position(line, 0), types.Position(line, len(lines[analysis.file][line])
                                                                   if line < len(lines[analysis.file]) else 0))
        found[analysis.file].append(types.Diagnostic(
            range=where, severity=types.DiagnosticSeverity.Error, source=SOURCE,
            message=f"in the base spec {file}:\n{_message(error)}"))
    return found


def to_diagnostic(error: SpecError, lines: list[str]) -> types.Diagnostic:
    """One error at the token its location starts (the whole first line of the file when it has no place)."""
    location = error.location
    line = max((location.line or 1) - 1, 0) if location is not None else 0
    column = max((location.column or 1) - 1, 0) if location is not None and location.column else 0
    text = lines[line] if line < len(lines) else ""
    match = _TOKEN.match(text, column) if column < len(text) else None
    end = match.end() if match else (len(text) if location is None or location.column is None else column + 1)
    if location is None or location.column is None:
        column = len(text) - len(text.lstrip())
    hint = error.hint or ""
    suggested = _SUGGESTIONS.search(hint)
    data = {"replace": re.findall(r"'([^']+)'", suggested.group(1))} if suggested and match else None
    return types.Diagnostic(
        range=types.Range(types.Position(line, column), types.Position(line, max(end, column))),
        severity=types.DiagnosticSeverity.Error, source=SOURCE, message=_message(error),
        code=type(error).__name__, data=data)


def quick_fixes(uri: str, diagnostics: list[types.Diagnostic]) -> list[types.CodeAction]:
    """One code action per did-you-mean suggestion of the diagnostics in the editor's request."""
    actions = []
    for diagnostic in diagnostics:
        data = diagnostic.data if isinstance(diagnostic.data, dict) else {}
        for name in data.get("replace", []):
            edit = types.TextEdit(range=diagnostic.range, new_text=name)
            actions.append(types.CodeAction(
                title=f"Change to '{name}'", kind=types.CodeActionKind.QuickFix, diagnostics=[diagnostic],
                edit=types.WorkspaceEdit(changes={uri: [edit]}), is_preferred=len(data["replace"]) == 1))
    return actions


def _message(error: SpecError) -> str:
    """The error as `validate` prints it, without the file:line:col the editor shows by itself."""
    text = str(error)
    prefix = f"{error.location}: " if error.location is not None else ""
    return text.removeprefix(prefix)


def _extends_line(lines: list[str]) -> int | None:
    for number, line in enumerate(lines):
        if line.startswith("extends:"):
            return number
    return None


def _same_file(one: str, other: str) -> bool:
    try:
        return one == other or Path(one).resolve() == Path(other).resolve()
    except (OSError, ValueError):
        return False


def _read_lines(file: str) -> list[str]:
    """A base file's lines, to place its errors; nothing if it cannot be read (the error says why)."""
    try:
        return LINE_BREAK.split(Path(file).read_text(encoding="utf-8", errors="replace")[:10_000_000])
    except (OSError, ValueError):
        return []
