"""Fold the units importer.units finds into block definitions, uses and repeats, level by level.

Each group of same-signature units becomes one block: its items named relative
to a use, the parameter values that differ between the units lifted to block
params (one param per distinct column of values; a column that is a whole
multiple of another is written `${filters * 4}`), and each unit a use named
by its prefix, so the generated names are the Keras names. Consecutive uses
of one block that feed each other and are numbered `stem1, stem2, ...`
become one use `stem` with `repeat` (and `start`). Then the same again on the
folded graph, so the uses of a stage (`conv3_block1`, `conv3_block`) make a
stage block.
"""

from __future__ import annotations

import re
from typing import Any

from archspec.catalogue.ops import OPS
from archspec.keras.importer.structure import (
    Block,
    Edge,
    Item,
    consumers,
    frozen,
    full_value,
    producer,
    topological,
)
from archspec.keras.importer.units import Unit, choose
from archspec.spec.syntax import INDEX_FIELD

LEVELS = 3
"""Blocks inside blocks inside blocks at most (ResNet: bottleneck, stage)."""
PARAM_NAMES = {"repeat": "depth", "start": "first"}
"""Use keys that are no good as block param names."""


class Folded:
    """The result: top-level items and outputs, the blocks (inner first), and the renamed items."""

    def __init__(self, items: dict[str, Item], outputs: list[str]) -> None:
        self.items, self.outputs = items, list(outputs)
        self.blocks: list[Block] = []
        self.renamed: dict[str, str] = {}


def fold_units(items: dict[str, Item], outputs: list[str], auto: set[str], weighted: set[str],
               taken: set[str], traced: frozenset[str] = frozenset()) -> Folded:
    """Blocks for the repeated units of `items` (names in `taken` are in use; `auto` may be renamed;
    `traced` are the names of traced layers, units.choose's preferred prefixes)."""
    folded = Folded(items, outputs)
    taken = set(taken)
    for level in range(LEVELS):
        groups = choose(folded.items, folded.outputs, auto if level == 0 else set(), weighted, taken,
                        traced if level == 0 else frozenset())
        if not groups:
            break
        _replace(folded, groups, taken)
        folded.items = topological(folded.items)
        _repeat(folded, taken)
    return folded


def _replace(folded: Folded, groups: list[list[Unit]], taken: set[str]) -> None:
    references: dict[str, str] = {}
    for group in groups:
        for unit in group:
            outputs = sorted(unit.outputs, key=lambda name: unit.rel[name])
            for name in outputs:
                references[name] = unit.prefix if len(outputs) == 1 else f"{unit.prefix}.{unit.rel[name]}"
            for name in unit.members:
                new = unit.rel[name].replace(INDEX_FIELD, str(unit.number)) if INDEX_FIELD in unit.rel[name] \
                    else f"{unit.prefix}_{unit.rel[name]}"
                if new != name:
                    folded.renamed[name] = new
                    taken.add(new)
    uses: dict[str, Item] = {}
    members: dict[str, str] = {}
    for group in groups:
        block, arguments = _block(group, [block.name for block in folded.blocks] + sorted(taken), folded.items)
        folded.blocks.append(block)
        taken.add(block.name)
        for unit, args in zip(group, arguments, strict=True):
            ports = [_mapped(source, references) for source in unit.ports]
            inputs = [Edge(source, port=None if len(ports) == 1 else block.inputs[index])
                      for index, source in enumerate(ports)]
            if unit.number is not None:  # the use's number fills {index} in its nodes' names
                args = {**args, "start": unit.number}
            uses[unit.prefix] = Item(unit.prefix, None, args, inputs, block=block.name)
            members.update({name: unit.prefix for name in unit.members})
            taken.add(unit.prefix)
    result: dict[str, Item] = {}
    for name, item in folded.items.items():
        if name in members:
            use = members[name]
            if use not in result:
                result[use] = uses[use]
            continue
        item.inputs = [Edge(_mapped(edge.source, references), edge.kind, edge.params, edge.port)
                       for edge in item.inputs]
        result[name] = item
    folded.items = result
    folded.outputs = [_mapped(name, references) for name in folded.outputs]


def _mapped(reference: str, references: dict[str, str]) -> str:
    return references.get(reference, reference)


def _block(group: list[Unit], names: list[str], all_items: dict[str, Item]) -> tuple[Block, list[dict[str, Any]]]:
    """The block of a group of units, and each unit's arguments."""
    template = group[0]
    ports = ["x"] if len(template.ports) == 1 else [f"x{index + 1}" for index in range(len(template.ports))]
    lifted = _Lifter(len(group))
    items: dict[str, Item] = {}
    by_rel = [{unit.rel[name]: name for name in unit.members} for unit in group]
    for name in template.members:
        rel = template.rel[name]
        peers = [all_items[names_of[rel]] for names_of in by_rel]
        item = peers[0]
        keys = list(dict.fromkeys(key for peer in peers for key in peer.params))
        params: dict[str, Any] = {}
        for key in keys:
            column = [full_value(peer, key) for peer in peers]
            if all(frozen(value) == frozen(column[0]) for value in column):
                if key in item.params:
                    params[key] = item.params[key]
            else:
                params[key] = lifted.value(key, rel, column)
        inputs = []
        for edge in item.inputs:
            source = producer(edge.source)
            if source in template.rel:
                reference = template.rel[source] + edge.source[len(source):]
            else:
                reference = ports[template.ports.index(edge.source)]
            inputs.append(Edge(reference, edge.kind, edge.params, edge.port))
        items[rel] = Item(rel, item.op, params, inputs, block=item.block)
    outputs = sorted(template.rel[name] for name in template.outputs)
    named_by = template.prefix if template.number is None else \
        template.rel[template.members[0]].split(INDEX_FIELD)[0].strip("_")  # conv_dw_{index} -> conv_dw
    block = Block(_block_name(named_by, names + ["unit"]), lifted.names(), ports, outputs, items)
    return block, lifted.arguments()


def _block_name(prefix: str, taken: list[str]) -> str:
    """A readable block name from a use's prefix: conv2_block1 -> block, block2b -> block, mixed0 -> mixed."""
    words = [re.sub(r"\d.*$", "", token) for token in prefix.split("_")]
    words = [word for word in words if word]
    base = words[-1] if words else "block"
    name, number = base, 1
    while name in taken or name in OPS:
        number += 1
        name = f"{base}{number}"
    return name


class _Lifter:
    """The block params of a group: one per distinct column of values, and each use's arguments."""

    def __init__(self, uses: int) -> None:
        self.uses = uses
        self.params: dict[str, list[Any]] = {}

    def value(self, key: str, rel: str, column: list[Any]) -> Any:
        """What a block item writes for a parameter whose values differ between the uses."""
        found = self._expression(column)
        if found is not None:
            return found
        parts = self._parts(column)
        if parts is not None:
            return parts
        name = PARAM_NAMES.get(key, key)
        if name in self.params:
            name = re.sub(r"\W", "_", f"{name}_{rel}")
        while name in self.params:
            name += "_"
        self.params[name] = column
        return f"${{{name}}}"

    def _parts(self, column: list[Any]) -> Any:
        """Lists of one length or mappings of the same keys, written part by part: `[1, 1, ${filters}]`."""
        if all(isinstance(value, list) for value in column) and len({len(value) for value in column}) == 1:
            keys: list[Any] = list(range(len(column[0])))
        elif all(isinstance(value, dict) for value in column) and len({frozen(sorted(value)) for value in column}) == 1:
            keys = list(column[0])
        else:
            return None
        parts = []
        for key in keys:
            part = [value[key] for value in column]
            if all(frozen(value) == frozen(part[0]) for value in part):
                parts.append(part[0])
            else:
                parts.append(self._expression(part))
                if parts[-1] is None:
                    parts[-1] = self._parts(part)
                if parts[-1] is None:
                    return None
        return parts if isinstance(column[0], list) else dict(zip(keys, parts, strict=True))

    def _expression(self, column: list[Any]) -> str | None:
        for name, values in self.params.items():
            if frozen(values) == frozen(column):
                return f"${{{name}}}"
        if not all(_whole(value) for value in column):
            return None
        for name, values in self.params.items():
            if not all(_whole(value) and value for value in values):
                continue
            if all(value % base == 0 for value, base in zip(column, values, strict=True)):
                ratios = {value // base for value, base in zip(column, values, strict=True)}
                if len(ratios) == 1 and (ratio := ratios.pop()) > 1:
                    return f"${{{name} * {ratio}}}"
            ratios = {base // value if value else 0 for value, base in zip(column, values, strict=True)}
            if len(ratios) == 1 and (ratio := ratios.pop()) > 1 and \
                    all(base // ratio == value for value, base in zip(column, values, strict=True)):
                return f"${{{name} // {ratio}}}"
        return None

    def names(self) -> list[str]:
        return list(self.params)

    def arguments(self) -> list[dict[str, Any]]:
        return [{name: values[index] for name, values in self.params.items()} for index in range(self.uses)]


def _whole(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _unnumbered(params: dict[str, Any]) -> dict[str, Any]:
    """A use's arguments without its number (`start`), which differs between uses that repeat."""
    return {key: value for key, value in params.items() if key != "start"}


def _repeat(folded: Folded, taken: set[str]) -> None:
    """Uses `stemN, stemN+1, ...` of one block with the same arguments, each feeding only the next: one repeat."""
    blocks = {block.name: block for block in folded.blocks}
    items, users = folded.items, consumers(folded.items)
    absorbed: set[str] = set()
    references: dict[str, str] = {}
    result: dict[str, Item] = {}
    for name, item in items.items():
        if name in absorbed:
            continue
        result[name] = item
        match = re.fullmatch(r"(.*\D)([1-9]\d*)", name)
        block = blocks.get(item.block or "")
        if match is None or block is None or "repeat" in item.params or \
                len(block.inputs) != 1 or len(block.outputs) != 1:
            continue
        stem, first = match.group(1), int(match.group(2))
        run = [item]
        while True:
            current = run[-1]
            following = users.get(current.name, [])
            if len(following) != 1 or current.name in folded.outputs:
                break
            after = items[following[0]]
            if after.block != item.block or frozen(_unnumbered(after.params)) != frozen(_unnumbered(item.params)) or \
                    after.name != f"{stem}{first + len(run)}" or len(after.inputs) != 1 or \
                    not after.inputs[0].plain or after.inputs[0].source != current.name:
                break
            run.append(after)
        if len(run) < 2 or stem in taken or stem in OPS:
            continue
        if "start" in item.params and any(use.params.get("start") != first + index for index, use in enumerate(run)):
            continue  # numbered uses repeat only when their numbers are their names' (unit3, unit4, ...)
        del result[name]
        params = {**_unnumbered(item.params), "repeat": len(run)}
        if first != 1:
            params["start"] = first
        result[stem] = Item(stem, None, params, item.inputs, block=item.block)
        taken.add(stem)
        absorbed.update(use.name for use in run[1:])
        references[run[-1].name] = stem
    for item in result.values():
        item.inputs = [Edge(references.get(edge.source, edge.source), edge.kind, edge.params, edge.port)
                       for edge in item.inputs]
    folded.items = result
    folded.outputs = [references.get(name, name) for name in folded.outputs]

