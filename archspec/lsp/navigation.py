"""Go to definition, references, rename and the outline (document symbols) of one spec.

Names are looked up in the scope they are written in (the top level or a
block's body); a name the file uses but does not define is looked up in its
`extends:` base, and the `extends:` value itself leads to the base file.
"""

from __future__ import annotations

from dataclasses import dataclass

from lsprotocol import types

from archspec.errors import ArchspecError
from archspec.lsp.bases import base_path, spec_files
from archspec.lsp.names import ROOT, NameIndex, Occurrence
from archspec.spec.loader import load_yaml


@dataclass(frozen=True)
class Place:
    """A name's place in some file: 1-based line and column, and its length."""

    file: str
    line: int
    column: int
    length: int = 0


def definition(index: NameIndex, file: str, line: int, column: int) -> Place | None:
    """Where the name under the cursor is defined: in this file, or in its base (recursively)."""
    target = base_path(index.lines, file) if _on_extends(index, line) else None
    if target is not None:
        return Place(str(target), 1, 1)
    occurrence = index.at(line, column)
    if occurrence is None or occurrence.role == "op":
        return None
    name = occurrence.name
    scope = ROOT if occurrence.role == "block-use" else occurrence.scope
    for owner, owner_index in _with_bases(index, file):
        found = owner_index.definition(name, scope)
        if found is not None:
            return Place(owner, found.line, found.column, len(name))
    return None


def references(index: NameIndex, line: int, column: int) -> list[Occurrence]:
    """Every place in this file where the name under the cursor means the same node, label, input or block."""
    occurrence = index.at(line, column)
    if occurrence is None or occurrence.role == "op":
        return []
    return index.references(occurrence.name, occurrence.scope, occurrence.role)


def rename_edits(index: NameIndex, line: int, column: int, new_name: str) -> list[types.TextEdit]:
    """Edits that rename the node, label, input or block under the cursor throughout this file."""
    return [types.TextEdit(range=occurrence_range(o), new_text=new_name)
            for o in references(index, line, column)]


def occurrence_range(occurrence: Occurrence) -> types.Range:
    return types.Range(types.Position(occurrence.line - 1, occurrence.column - 1),
                       types.Position(occurrence.line - 1, occurrence.end - 1))


def document_symbols(index: NameIndex) -> list[types.DocumentSymbol]:
    """The outline: inputs, nodes and blocks (with their own nodes), in the order they are written."""
    kinds = {"input": types.SymbolKind.Variable, "node": types.SymbolKind.Function,
             "block": types.SymbolKind.Class, "label": types.SymbolKind.Field}
    symbols: list[types.DocumentSymbol] = []
    blocks: dict[str, types.DocumentSymbol] = {}
    for occurrence in index.occurrences:
        if not occurrence.defines:
            continue
        where = occurrence_range(occurrence)
        symbol = types.DocumentSymbol(name=occurrence.name, detail=occurrence.role, kind=kinds[occurrence.role],
                                      range=where, selection_range=where, children=[])
        if occurrence.role == "block":
            blocks[occurrence.name] = symbol
            symbols.append(symbol)
        elif occurrence.scope == ROOT:
            symbols.append(symbol)
        elif occurrence.scope[-1] in blocks:
            blocks[occurrence.scope[-1]].children.append(symbol)  # type: ignore[union-attr]
    return symbols


def _on_extends(index: NameIndex, line: int) -> bool:
    return 0 < line <= len(index.lines) and index.lines[line - 1].startswith("extends:")


def _with_bases(index: NameIndex, file: str) -> list[tuple[str, NameIndex]]:
    """This file's index (the editor's text), then its bases' (read from disk), nearest first."""
    chain = [(file, index)]
    first = base_path(index.lines, file)
    for base in spec_files(first) if first is not None else []:
        try:
            chain.append((str(base), NameIndex(load_yaml(base))))
        except ArchspecError:
            break
    return chain
