"""Conditional edges: `{when: ${strides > 1}, do: [...], else: [...]}`, chosen when a block copy expands.

The condition is a `${...}` over vars, a block's params and `index` (or a
loop index, filled in before), so each copy of a block takes its own branch:
the projection shortcut of a residual unit only where it downsamples. The
branch not taken is dropped with the nodes only it names, but every name in
it must still name something of its scope, so a misspelt name in the other
branch is an error today, not when a later use takes it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from archspec.errors import Location, SchemaError, did_you_mean
from archspec.spec.blocks import links_of
from archspec.spec.document import Path_
from archspec.spec.syntax import type_word

WHEN_KEYS = ("when", "do", "else")
Entries = list[tuple[Any, Path_]]


def is_branch(entry: Any) -> bool:
    """True for an edge entry that is a conditional, a mapping with `when:`."""
    return isinstance(entry, dict) and "when" in entry


def arms(entry: dict[str, Any], path: Path_) -> Iterator[tuple[str, Any, Path_]]:
    """(key, item, path) of each edge entry in the `do:` and `else:` of a conditional (each a chain or a list)."""
    for key in ("do", "else"):
        value = entry.get(key)
        if isinstance(value, list):
            yield from ((key, item, path + (key, index)) for index, item in enumerate(value))
        elif value is not None:
            yield key, value, path + (key,)


def all_links(entries: list[Any]) -> Iterator[tuple[str, str, int]]:
    """(source, target, index of the top entry) of every link, inside both arms of conditionals too."""
    for index, entry in enumerate(entries):
        stack = [entry]
        while stack:
            item = stack.pop()
            if is_branch(item):
                stack.extend(value for _, value, _ in arms(item, ()))
            for source, target, _ in links_of(item) or []:
                yield source, target, index


def consumers_of(port: str, edges: list[Any]) -> int:
    """How many edge links inside a block start at `port` (as written, before expansion; both arms counted)."""
    return sum(1 for source, _, _ in all_links(edges) if source == port)


def choose(entries: list[Any], path: Path_, resolve: Callable[[Any, Path_], Any],
           at: Callable[[Path_], Location]) -> tuple[Entries, Entries]:
    """(taken, not taken): the entries with their paths, each conditional replaced by the arm its condition picks."""
    taken: Entries = []
    skipped: Entries = []
    for index, entry in enumerate(entries):
        _choose(entry, path + (index,), resolve, at, taken, skipped)
    return taken, skipped


def _choose(entry: Any, path: Path_, resolve: Callable[[Any, Path_], Any], at: Callable[[Path_], Location],
            taken: Entries, skipped: Entries) -> None:
    if not is_branch(entry):
        taken.append((entry, path))
        return
    for key in entry:
        if key not in WHEN_KEYS:
            raise SchemaError(f"unknown key '{key}' in a conditional", location=at(path + (key,)),
                              expected="when: ${CONDITION}, do: [edges], else: [edges] (else may be left out)",
                              hint=did_you_mean(str(key), WHEN_KEYS))
    if "do" not in entry:
        raise SchemaError("a conditional needs 'do:', the edges it adds when its condition holds", location=at(path),
                          hint="when: ${strides > 1}\n  do: x -> conv2d(${filters}, 1, strides=${strides}) -> out")
    condition = resolve(entry["when"], path + ("when",))
    if not isinstance(condition, bool):
        raise SchemaError("'when:' needs a condition, true or false", location=at(path + ("when",)),
                          got=f"{type_word(condition)} ({condition!r})",
                          hint="compare: when: ${strides > 1} (also ==, !=, <=, and, or, not)")
    for key, item, item_path in arms(entry, path):
        if (key == "do") == condition:
            _choose(item, item_path, resolve, at, taken, skipped)
        else:
            skipped.append((item, item_path))


def dropped_names(taken: Entries, skipped: Entries, known: set[str], at: Callable[[Path_], Location]) -> set[str]:
    """The names only the arms not taken use (their nodes are dropped), after checking each names something."""
    used = {name.partition(".")[0] for entry, _ in taken for link in links_of(entry) or [] for name in link[:2]}
    only: set[str] = set()
    for entry, path in skipped:
        for source, target, _ in all_links([entry]):
            for name in (source.partition(".")[0], target.partition(".")[0]):
                if name not in known and "${" not in name:
                    raise SchemaError(f"'{name}', in the branch not taken here, names nothing in this scope",
                                      location=at(path), expected="a node, input or block use of this scope",
                                      hint=did_you_mean(name, known) or "every name of both branches is checked")
                if name not in used:
                    only.add(name)
    return only
