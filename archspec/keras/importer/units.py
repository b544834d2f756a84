"""Find the repeated units of an imported graph: groups of items that share a name prefix.

Keras applications name their layers hierarchically (`conv2_block1_1_conv`,
`block2a_expand_conv`, `block35_4_conv`), so a prefix `P` whose items
(`P_rel`) form a sub-graph is a candidate unit, and candidates whose
sub-graphs are the same (same relative names, ops and wiring; parameter
values may differ) are uses of one block. Layers Keras named automatically
(`conv2d_57`, `add_3`, `re_lu_2`: numbered per session) join the unit of
the layers they feed or, for a merge, of its first input, and are named
within it by their kind (`P_add`); a weightless layer named exactly `P`
(InceptionV3's `mixed0` concat, InceptionResNetV2's `block35_1` scale)
joins as `P_<op>`. Layers with weights keep their Keras names exactly.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from archspec.catalogue.ops import OPS
from archspec.keras.importer.structure import Item, consumers, frozen, producer
from archspec.spec.scalars import reads_as_string
from archspec.spec.syntax import INDEX_FIELD

MIN_ITEMS = 3
"""Fewer items than this are not worth a block."""
MIN_SAVING = 1
"""Lines a block must save (roughly: items written once instead of per use, less its header and uses)."""


@dataclass
class Unit:
    prefix: str
    members: list[str]
    """Item names, in graph order."""
    rel: dict[str, str]
    """Item name -> its name inside the block."""
    ports: list[str]
    """The references feeding the unit from outside, in order of first use."""
    outputs: list[str]
    """Members read outside the unit (or model outputs), in graph order."""
    signature: tuple = ()
    number: int | None = None
    """For a unit found by number (`conv_dw_3`, `conv_dw_3_bn`): 3, its members' names holding {index}."""


def owners(items: dict[str, Item], auto: set[str]) -> dict[str, str]:
    """Each automatically named item -> the named item whose unit it joins."""
    users = consumers(items)
    owner: dict[str, str] = {}
    order = list(items)
    for name in reversed(order):
        if name not in auto:
            continue
        item = items[name]
        plain = [producer(edge.source) for edge in item.inputs if edge.plain]
        if len(plain) > 1:  # a merge joins the unit of its main input: the latest named one (x + f(x))
            named = [source for source in plain if source in items and source not in auto]
            if named:
                owner[name] = max(named, key=order.index)
            continue
        mine = {owner.get(user, None if user in auto else user) for user in users.get(name, [])}
        if len(users.get(name, [])) == 1 and None not in mine:  # a layer feeding several starts no unit
            owner[name] = mine.pop()
    for name in order:
        if name in auto and name not in owner and items[name].inputs:
            first = producer(items[name].inputs[0].source)
            found = first if first not in auto else owner.get(first)
            plain = [producer(edge.source) for edge in items[name].inputs if edge.plain]
            if len(plain) > 1 and plain[-1] in auto and owner.get(plain[-1]) is not None:
                found = owner[plain[-1]]  # a traced layer's residual x + f(x): the unit of f(x), as in the layer
            inner = [owner[source] for source in plain if source in auto and owner.get(source) is not None]
            nearest = max(inner, key=lambda other: _shared_words(other, name), default=None)
            if nearest is not None and _shared_words(nearest, name) > _shared_words(found or "", name):
                found = nearest  # f(x) + x written the other way round: the input traced in the same layer
            if found is not None:
                owner[name] = found
    return owner


def _shared_words(name: str, other: str) -> int:
    """How many leading `_`-separated words two names share (block_2_add and block_2_mha: 2)."""
    count = 0
    for mine, theirs in zip(name.split("_"), other.split("_")):
        if mine != theirs:
            break
        count += 1
    return count


def candidates(items: dict[str, Item], auto: set[str], owner: dict[str, str], weighted: set[str],
               taken: set[str]) -> dict[str, list[str]]:
    """Prefix -> its members (graph order) for every prefix of at least MIN_ITEMS items."""
    found: dict[str, set[str]] = {}
    for name in items:
        if name in auto:
            continue
        tokens = name.split("_")
        for count in range(1, len(tokens)):
            prefix = "_".join(tokens[:count])
            if not tokens[count - 1] or not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", prefix):
                continue
            if prefix in taken and (prefix not in items or prefix in weighted or prefix in auto):
                continue
            found.setdefault(prefix, set()).add(name)
    for name in items:  # a weightless named merge heads a unit of the automatic layers it collects
        if name not in auto and name not in weighted:
            found.setdefault(name, set())
    for prefix, members in found.items():
        if prefix in items:
            members.add(prefix)
    result: dict[str, list[str]] = {}
    for prefix, members in found.items():
        named = set(members)
        members.update(name for name, first in owner.items() if first in named)
        if len(members) >= MIN_ITEMS:
            result[prefix] = [name for name in items if name in members]
    return result


def numbered(items: dict[str, Item], auto: set[str], owner: dict[str, str],
             taken: set[str]) -> dict[str, tuple[int, list[str]]]:
    """Use name -> (number, members) for the units whose layers carry the unit's number as their last
    number-only token, not as a prefix (MobileNet's `conv_dw_3_bn`, NASNet's `normal_add_1_5`)."""
    found: dict[int, set[str]] = {}
    for name in items:
        if name in auto:
            continue
        numbers = [token for token in name.split("_")[1:] if token.isdigit() and not token.startswith("0")]
        if numbers:
            found.setdefault(int(numbers[-1]), set()).add(name)
    result: dict[str, tuple[int, list[str]]] = {}
    for number, members in found.items():
        use = f"unit{number}"
        if use in taken or use in items:
            continue
        named = set(members)
        members.update(name for name, first in owner.items() if first in named)
        if len(members) >= MIN_ITEMS:
            result[use] = (number, [name for name in items if name in members])
    return result


def template(name: str, number: int) -> str:
    """`conv_dw_3_bn` in unit 3 -> `conv_dw_{index}_bn` (its last number-only token)."""
    tokens = name.split("_")
    last = max(index for index, token in enumerate(tokens) if index and token == str(number))
    return "_".join([*tokens[:last], INDEX_FIELD, *tokens[last + 1:]])


def analyse(prefix: str, members: list[str], items: dict[str, Item], users: dict[str, list[str]],
            outputs: list[str], auto: set[str], taken: set[str], weighted: set[str],
            number: int | None = None) -> Unit | None:
    """The unit of `members` with its ports, outputs and signature; None if it cannot be a block."""
    inside = set(members)
    rel: dict[str, str] = {}
    for name in members:
        if name == prefix:
            rel[name] = items[name].kind.replace(":", "_")
        elif name in auto:  # a traced layer's inner op is named after the layer: block1_add in block1 is add
            own = name[len(prefix) + 1:] if name.startswith(f"{prefix}_") else name
            rel[name] = re.sub(r"_\d+$", "", own) or "node"
        elif number is not None:
            rel[name] = template(name, number)
        else:
            rel[name] = name[len(prefix) + 1:]
    renamed = set(auto) | {prefix}
    for name in members:
        plain = rel[name].replace(INDEX_FIELD, "0")
        if not (re.fullmatch(r"\w*[A-Za-z_]\w*", plain) and reads_as_string(plain)):
            if name in weighted:
                return None  # a layer with weights keeps its Keras name
            rel[name] = f"{items[name].kind.replace(':', '_')}_{rel[name]}"  # mixed9_0 in mixed9: concat_0
            renamed.add(name)
    seen = {rel[name] for name in members if name not in renamed}
    others = taken - {name for name in members if name in renamed}  # the renamed members' own names are freed
    for name in members:  # automatic names numbered within the unit: add, add_1
        if name in renamed:
            base, count = rel[name], 0
            while (rel[name] in seen or rel[name] in OPS or rel[name] in ("x", "in")
                   or f"{prefix}_{rel[name]}" in others):
                count += 1
                rel[name] = f"{base}_{count}"
            seen.add(rel[name])
    ports: list[str] = []
    wiring = []
    for name in members:
        item = items[name]
        edges = []
        for edge in item.inputs:
            source = producer(edge.source)
            if source in inside:
                reference = ("n", rel[source] + edge.source[len(source):])
            else:
                if edge.source not in ports:
                    ports.append(edge.source)
                reference = ("p", str(ports.index(edge.source)))
            edges.append((reference, edge.kind, frozen(edge.params), edge.port))
        wiring.append((rel[name], item.kind, tuple(edges)))
    wanted = set(outputs)
    unit_outputs = [name for name in members
                    if name in wanted or any(user not in inside for user in users.get(name, []))]
    if not unit_outputs or not ports or (len(ports) > 1 and len(unit_outputs) > 1):
        return None  # several inputs and outputs: parallel layers that share a name, not a unit
    for name in unit_outputs:
        if items[name].op is None and any("." in edge.source and producer(edge.source) == name
                                          for user in users.get(name, []) for edge in items[user].inputs):
            return None  # a use's port read from outside a block that holds it: not expressible
    signature = (tuple(sorted(wiring)), tuple(sorted(rel[name] for name in unit_outputs)), len(ports))
    return Unit(prefix, members, rel, ports, unit_outputs, signature, number)


def acyclic(unit: Unit, items: dict[str, Item], users: dict[str, list[str]]) -> bool:
    """True if no path leaves the unit and comes back into it (a use must sit between its inputs and users)."""
    inside = set(unit.members)
    stack = [user for name in unit.members for user in users.get(name, []) if user not in inside]
    seen: set[str] = set()
    while stack:
        name = stack.pop()
        if name in inside:
            return False
        if name in seen:
            continue
        seen.add(name)
        stack.extend(users.get(name, []))
    return True


def choose(items: dict[str, Item], outputs: list[str], auto: set[str], weighted: set[str],
           taken: set[str], traced: frozenset[str] = frozenset()) -> list[list[Unit]]:
    """Disjoint units grouped by signature, each group used at least twice, largest saving first.

    Uses of one traced class (their prefixes all in `traced`) are a block even when it saves no line:
    the class is a block in the source, and the spec keeps it one."""
    owner = owners(items, auto)
    users = consumers(items)
    units = []
    for prefix, members in candidates(items, auto, owner, weighted, taken).items():
        unit = analyse(prefix, members, items, users, outputs, auto, taken, weighted)
        if unit is not None:
            units.append(unit)
    for use, (number, members) in numbered(items, auto, owner, taken).items():
        unit = analyse(use, members, items, users, outputs, auto, taken, weighted, number)
        if unit is not None:
            units.append(unit)
    groups: list[list[Unit]] = []
    used: set[str] = set()
    while True:
        by_signature: dict[tuple, list[Unit]] = {}
        for unit in units:
            if not used.intersection(unit.members):
                by_signature.setdefault(unit.signature, []).append(unit)
        best, saving = None, MIN_SAVING - 1
        for group in by_signature.values():
            disjoint = _disjoint(group)
            size = len(disjoint[0].members)
            gain = (len(disjoint) - 1) * size - 4 - len(disjoint)
            gain += all(unit.prefix in traced for unit in disjoint)  # as a line saved: ties go to the class
            if len(disjoint) > 1 and gain > saving:
                best, saving = disjoint, gain
        if best is None:
            return groups
        valid = [unit for unit in best if acyclic(unit, items, users)]
        if len(valid) > 1:
            groups.append(valid)
            for unit in valid:
                used.update(unit.members)
        units = [unit for unit in units if unit not in best]


def _disjoint(group: list[Unit]) -> list[Unit]:
    chosen: list[Unit] = []
    members: set[str] = set()
    for unit in group:
        if not members.intersection(unit.members):
            chosen.append(unit)
            members.update(unit.members)
    return chosen
