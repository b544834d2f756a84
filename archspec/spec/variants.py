"""Variants of a spec: `extends: base.yaml` with additions and removals, and `--set key=value`.

A variant is merged into one document before anything else happens, so the
rest of archspec never knows a spec had a base. Rules (docs/spec-scaling.md):
`nodes`, `inputs`, `blocks`, `vars` and `train` merge key by key (the variant
wins), `edges` are appended, other keys replace the base's, and `remove:`
takes nodes, edges (`a -> b` links), inputs or outputs out of the base.
"""

from __future__ import annotations

import copy
import itertools
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import yaml

from archspec.errors import Location, SchemaError, SpecError, did_you_mean, raise_collected
from archspec.spec.document import Document, Path_, load_yaml
from archspec.spec.positions import ExpandedDocument, Positions

MERGED_KEYS = ("nodes", "inputs", "blocks", "vars", "train")
REMOVABLE = ("nodes", "edges", "inputs", "outputs")
MAX_EXTENDS_DEPTH = 10


def merge_base(document: Document, chain: tuple[str, ...] = ()) -> Document:
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
    _check_base_path(reference, base_path, where)
    if str(base_path.resolve()) in chain or len(chain) >= MAX_EXTENDS_DEPTH:
        raise SchemaError(f"'extends' goes round in a circle (or deeper than {MAX_EXTENDS_DEPTH})",
                          location=where, got=" -> ".join([*chain, str(base_path.resolve())]))
    try:
        base = load_yaml(base_path)
    except SpecError as error:
        if error.location is None or error.location.line is None:
            raise SchemaError(f"cannot load the base spec: {error.message}", location=where,
                              hint="the base's path is relative to the folder of the spec that "
                              "names it") from None
        raise
    base = merge_base(base, chain + (str(Path(document.file).resolve()),))
    if not isinstance(base.data, dict):
        raise SchemaError("the base spec is not a mapping", location=where)
    return _merge(base, document)


def _check_base_path(reference: str, base_path: Path, where: Location) -> None:
    """A spec may extend spec files of its own project, never read any file it names.

    A spec from someone else, validated in CI, could otherwise name a secrets
    file and have its values echoed in error messages. So the base must be a
    relative .yaml/.yml path that stays inside the extending file's folder or
    the current directory (docs/security.md).
    """
    if Path(reference).is_absolute() or base_path.suffix not in (".yaml", ".yml"):
        raise SchemaError("'extends' must be a relative path to a .yaml spec file", location=where,
                          got=repr(reference), hint="extends: base.yaml (relative to this file)")
    resolved = base_path.resolve()
    roots = (Path(where.file).resolve().parent, Path.cwd().resolve())
    if not any(resolved.is_relative_to(root) for root in roots):
        raise SchemaError("'extends' leads outside this spec's folder and the current directory",
                          location=where, got=repr(reference),
                          hint="keep base specs beside the spec, or run archspec from the project folder")


def _merge(base: Document, variant: Document) -> ExpandedDocument:
    base_positions, own = Positions.of(base), Positions.of(variant)
    data: dict[str, Any] = {}
    positions = Positions()
    context = f"extended by {variant.locate(('extends',))}"

    def take(source: Positions, path: Path_, value: Any, ctx: str | None = None) -> None:
        _set(data, path, copy.deepcopy(value))
        positions.copy(source, path, path, ctx)

    for key, value in base.data.items():
        if key == "edges" and isinstance(value, list):
            for index, entry in enumerate(value):
                for link in _links(entry):
                    _append_edge(data, positions, link, base_positions, ("edges", index), context)
            continue
        take(base_positions, (key,), value, context)
    for key, value in variant.data.items():
        if key in ("extends", "remove"):
            continue
        if key == "edges" and isinstance(value, list):
            for index, entry in enumerate(value):
                _append_edge(data, positions, entry, own, ("edges", index), None)
        elif key in MERGED_KEYS and isinstance(value, dict) and isinstance(data.get(key), dict):
            if (key,) in own.keys:
                positions.keys[(key,)] = own.keys[(key,)]
            for name, item in value.items():
                positions.drop((key, name))
                take(own, (key, name), item)
        else:
            positions.drop((key,))
            take(own, (key,), value)
    if "remove" in variant.data:
        _remove(data, positions, variant.data["remove"], own)
    return ExpandedDocument(data=data, file=variant.file, text=variant.text, positions=positions)


def _links(entry: Any) -> list[Any]:
    """A chain `a -> b -> c` as its links `a -> b`, `b -> c` (so one link can be removed)."""
    if isinstance(entry, str) and entry.count("->") > 1:
        parts = [part.strip() for part in entry.split("->")]
        return [f"{source} -> {target}" for source, target in itertools.pairwise(parts)]
    return [entry]


def _append_edge(data: dict, positions: Positions, entry: Any, source: Positions,
                 path: Path_, context: str | None) -> None:
    edges = data.setdefault("edges", [])
    positions.copy(source, path, ("edges", len(edges)), context)
    edges.append(copy.deepcopy(entry))


def _link_key(entry: Any) -> tuple[str, str] | None:
    if isinstance(entry, str) and entry.count("->") == 1:
        source, target = (part.strip() for part in entry.split("->"))
        return (source, target)
    if isinstance(entry, dict) and isinstance(entry.get("from"), str) and isinstance(entry.get("to"), str):
        return (entry["from"], entry["to"])
    return None


def _remove(data: dict, positions: Positions, remove: Any, own: Positions) -> None:
    where = own.at(("remove",))
    if not isinstance(remove, dict) or set(remove) - set(REMOVABLE):
        unknown = sorted(set(remove) - set(REMOVABLE)) if isinstance(remove, dict) else []
        raise SchemaError(
            "'remove' must be a mapping of " + ", ".join(REMOVABLE) + " to lists",
            location=own.at(("remove", unknown[0]), key=True) if unknown else where,
            got=repr(unknown[0]) if unknown else repr(remove),
            hint=did_you_mean(unknown[0], REMOVABLE) if unknown else None,
        )
    errors: list[SpecError] = []
    for section, names in remove.items():
        if not isinstance(names, list):
            names = [names]
        for index, name in enumerate(names):
            location = own.at(("remove", section, index))
            if not _remove_one(data, positions, section, name):
                errors.append(SchemaError(f"cannot remove {section} {name!r}: the base has no such entry",
                                          location=location, hint=_remove_hint(data, section, name)))
    raise_collected(errors)


def _remove_one(data: dict, positions: Positions, section: str, name: Any) -> bool:
    container = data.get(section)
    if section in ("nodes", "inputs"):
        if not isinstance(container, dict) or name not in container:
            return False
        del container[name]
        positions.drop((section, name))
        return True
    if not isinstance(container, list):
        return False
    wanted = _link_key(name) if section == "edges" else None
    for index, entry in enumerate(container):
        if entry == name or (wanted is not None and _link_key(entry) == wanted):
            del container[index]
            _shift(positions, section, index)
            return True
    return False


def _shift(positions: Positions, section: str, removed: int) -> None:
    """Renumber the positions of a list after its item `removed` was deleted."""
    for table in (positions.keys, positions.values):
        moved = {}
        for path in [p for p in table if len(p) > 1 and p[0] == section and isinstance(p[1], int)]:
            location = table.pop(path)
            if path[1] != removed:
                moved[(section, path[1] - (path[1] > removed)) + path[2:]] = location
        table.update(moved)


def _remove_hint(data: dict, section: str, name: Any) -> str | None:
    container = data.get(section)
    if section in ("nodes", "inputs") and isinstance(container, dict):
        return did_you_mean(str(name), container)
    if section == "edges":
        return "name one link as 'a -> b' (chains in the base are split into links)"
    return None


def apply_overrides(document: Document, overrides: Sequence[str]) -> Document:
    """Set `key.sub=value` paths (from `--set`) in the document; values are read as YAML scalars."""
    if not overrides:
        return document
    data = copy.deepcopy(document.data)
    positions = copy.deepcopy(Positions.of(document))
    for text in overrides:
        path, value = _parse_override(text)
        where = Location(f"--set {text}")
        if not isinstance(data, dict):
            raise SchemaError("cannot apply --set to a spec that is not a mapping", location=where)
        if path[0] == "vars" and (len(path) != 2 or path[1] not in (data.get("vars") or {})):
            known = data.get("vars") or {}
            raise SchemaError(f"the spec has no variable '{'.'.join(map(str, path[1:]))}'",
                              location=where, expected="one of " + (", ".join(known) or "(no vars)"),
                              hint=did_you_mean(str(path[-1]), known) or "declare it under 'vars:'")
        _set(data, path, value, where)
        positions.drop(path)
        positions.values[path] = where
        positions.keys[path] = where
    return ExpandedDocument(data=data, file=document.file, text=document.text, positions=positions)


def _parse_override(text: str) -> tuple[Path_, Any]:
    key, equals, raw = text.partition("=")
    if not equals or not key.strip():
        raise SchemaError(f"--set {text!r} is not of the form key=value", location=Location("--set"),
                          hint="e.g. --set vars.width=32 or --set train.epochs=3")
    try:
        value = yaml.safe_load(raw) if raw.strip() else ""
    except yaml.YAMLError:
        value = raw
    path = tuple(int(part) if part.isdigit() else part for part in key.strip().split("."))
    return path, value


def _set(data: Any, path: Path_, value: Any, where: Location | None = None) -> None:
    """Put `value` at `path`, creating mappings on the way."""
    container = data
    for depth, part in enumerate(path[:-1]):
        if isinstance(container, dict):
            container = container.setdefault(part, {})
        elif isinstance(container, list) and isinstance(part, int) and part < len(container):
            container = container[part]
        else:
            raise SchemaError(f"cannot set '{'.'.join(map(str, path))}': "
                              f"'{'.'.join(map(str, path[:depth + 1]))}' is not a mapping",
                              location=where)
    last = path[-1]
    if (isinstance(container, list) and isinstance(last, int) and last < len(container)) or isinstance(container, dict):
        container[last] = value
    else:
        raise SchemaError(f"cannot set '{'.'.join(map(str, path))}'", location=where)
