"""Variants of a spec: `extends: base.yaml` with additions and removals, merged into one document.

A variant is merged before anything else happens, so the rest of archspec
never knows a spec had a base. Rules (docs/spec-scaling.md): `nodes`,
`inputs`, `blocks`, `vars` and `train` merge key by key (the variant wins),
`edges` are appended, other keys replace the base's, and `remove:` takes
nodes, edges (`a -> b` links), inputs or outputs out of the base.

Each part is copied once with its positions (a subtree of the position tree),
so merging costs time in proportion to the two files, not their product.
"""

from __future__ import annotations

import copy
import os
from pathlib import Path
from typing import Any

from archspec.errors import SchemaError, SpecError, did_you_mean, raise_collected
from archspec.spec.document import Document, Positions
from archspec.spec.loader import load_yaml
from archspec.spec.project_paths import check_project_file, resolved_path
from archspec.spec.shorthand import read_short_forms
from archspec.spec.syntax import chain_links, join_chain, split_steps

MERGED_KEYS = ("nodes", "inputs", "blocks", "vars", "train")
REMOVABLE = ("nodes", "edges", "inputs", "outputs")
MAX_EXTENDS_DEPTH = 10


def merge_base(document: Document, chain: tuple[Path, ...] = ()) -> Document:
    """The document with its `extends:` base (recursively) merged in; unchanged if it has none."""
    data = document.data
    if not isinstance(data, dict) or "extends" not in data:
        if isinstance(data, dict) and "remove" in data:
            raise SchemaError("'remove:' needs 'extends:' (there is nothing to remove from)",
                              location=document.locate(("remove",), key=True),
                              hint="add 'extends: base.yaml', or delete the 'remove:' section")
        return document
    where = document.locate(("extends",))
    reference = data["extends"]
    if not isinstance(reference, str) or not reference:
        raise SchemaError("'extends' must name a base spec file", location=where,
                          got=repr(reference), hint="extends: base.yaml (relative to this file)")
    base_path = Path(document.file).parent / reference
    resolved = check_project_file(reference, Path(document.file).parent, where, key="extends")
    chain = (*chain, resolved_path(Path(document.file), where))
    if resolved in chain:
        cycle = [*chain[chain.index(resolved):], resolved]
        raise SchemaError("'extends' goes round in a circle", location=where,
                          got=join_chain([_shown(path) for path in cycle]),
                          hint="a base spec cannot extend, directly or not, the spec that extends it")
    if len(chain) > MAX_EXTENDS_DEPTH:
        raise SchemaError(f"'extends' is nested too deeply (more than {MAX_EXTENDS_DEPTH} bases)",
                          location=where, got=join_chain([_shown(path) for path in (*chain, resolved)]),
                          expected=f"at most {MAX_EXTENDS_DEPTH} levels of extends")
    try:
        base = read_short_forms(load_yaml(base_path))
    except SpecError as error:
        if error.location is None or error.location.line is None:
            raise SchemaError(f"cannot load the base spec: {error.message}", location=where,
                              hint="the base's path is relative to the folder of the spec that "
                              "names it") from None
        raise
    base = merge_base(base, chain)
    if not isinstance(base.data, dict):
        raise SchemaError("the base spec is not a mapping", location=where)
    return _merge(base, document)


def _shown(path: Path) -> str:
    """A path as a person would write it: relative to the current directory when it is inside it."""
    try:
        return os.path.relpath(path)
    except ValueError:
        return str(path)


def _merge(base: Document, variant: Document) -> Document:
    merged = Document(data={}, file=variant.file, text=variant.text)
    data, positions = merged.data, merged.positions
    context = f"extended by {variant.locate(('extends',))}"
    positions.key, positions.value = variant.positions.key, variant.positions.value
    declared = {name for key in ("nodes", "inputs") if isinstance(base.data.get(key), dict)
                for name in base.data[key] if isinstance(name, str)}
    for key, value in base.data.items():
        if key == "edges" and isinstance(value, list):
            for index, entry in enumerate(value):
                for link in _links(entry, declared):
                    _append_edge(merged, link, base.section(("edges", index), context))
            continue
        data[key] = copy.deepcopy(value)
        positions.put((key,), base.section((key,), context))
    for key, value in variant.data.items():
        if key in ("extends", "remove"):
            continue
        if key == "edges" and isinstance(value, list):
            for index, entry in enumerate(value):
                _append_edge(merged, entry, variant.section(("edges", index)))
        elif key in MERGED_KEYS and isinstance(value, dict) and isinstance(data.get(key), dict):
            own = variant.positions.node((key,))
            if own is not None and own.key is not None:
                positions.child(key).key = own.key
            for name, item in value.items():
                data[key][name] = copy.deepcopy(item)
                positions.put((key, name), variant.section((key, name)))
        else:
            data[key] = copy.deepcopy(value)
            positions.put((key,), variant.section((key,)))
    if "remove" in variant.data:
        _remove(merged, variant.data["remove"], variant)
    return merged


def _links(entry: Any, declared: set[str]) -> list[Any]:
    """A chain `a -> b -> c` of the base as its links `a -> b`, `b -> c` (so one link can be removed).

    It is cut only at declared names (the base's nodes and inputs, or a port of
    a declared block use): an inline step (`relu`, `conv2d(8)`, `out=add`)
    stays with its neighbours, since cutting there would make two nodes of one.
    """
    steps = split_steps(entry) if isinstance(entry, str) else None
    if steps is None or len(steps) <= 2:
        return [entry]
    pieces, piece = [], [steps[0][0].strip()]
    for text, _ in steps[1:]:
        piece.append(text.strip())
        if piece[-1].partition(".")[0] in declared:
            pieces.append(piece)
            piece = [piece[-1]]
    if len(piece) > 1:
        pieces.append(piece)
    return [join_chain(piece) for piece in pieces]


def _append_edge(merged: Document, entry: Any, positions: Positions) -> None:
    edges = merged.data.setdefault("edges", [])
    merged.positions.put(("edges", len(edges)), positions)
    edges.append(copy.deepcopy(entry))


def _link_key(entry: Any) -> tuple[str, str] | None:
    if isinstance(entry, str):
        links = chain_links(entry)
        return links[0] if links is not None and len(links) == 1 else None
    if isinstance(entry, dict) and isinstance(entry.get("from"), str) and isinstance(entry.get("to"), str):
        return (entry["from"], entry["to"])
    return None


def _remove(merged: Document, remove: Any, variant: Document) -> None:
    where = variant.locate(("remove",))
    if not isinstance(remove, dict) or set(remove) - set(REMOVABLE):
        unknown = sorted(set(remove) - set(REMOVABLE)) if isinstance(remove, dict) else []
        raise SchemaError(
            "'remove' must be a mapping of " + ", ".join(REMOVABLE) + " to lists",
            location=variant.locate(("remove", unknown[0]), key=True) if unknown else where,
            got=repr(unknown[0]) if unknown else repr(remove),
            hint=did_you_mean(unknown[0], REMOVABLE) if unknown else None,
        )
    errors: list[SpecError] = []
    for section, names in remove.items():
        if not isinstance(names, list):
            names = [names]
        for index, name in enumerate(names):
            if not _remove_one(merged, section, name):
                errors.append(SchemaError(f"cannot remove {section} {name!r}: the base has no such entry",
                                          location=variant.locate(("remove", section, index)),
                                          hint=_remove_hint(merged.data, section, name)))
    raise_collected(errors)


def _remove_one(merged: Document, section: str, name: Any) -> bool:
    container = merged.data.get(section)
    if section in ("nodes", "inputs"):
        if not isinstance(container, dict) or not isinstance(name, str) or name not in container:
            return False
        del container[name]
        merged.positions.drop((section, name))
        return True
    if not isinstance(container, list):
        return False
    wanted = _link_key(name) if section == "edges" else None
    for index, entry in enumerate(container):
        if entry == name or (wanted is not None and _link_key(entry) == wanted):
            del container[index]
            merged.positions.remove_item((section,), index)
            return True
    return False


def _remove_hint(data: dict, section: str, name: Any) -> str | None:
    container = data.get(section)
    if section in ("nodes", "inputs") and isinstance(container, dict):
        return did_you_mean(str(name), container)
    if section == "edges":
        return "name one link as 'a -> b' (chains in the base are split into links between declared nodes)"
    return None

