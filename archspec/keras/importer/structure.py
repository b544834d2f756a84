"""The imported graph as the folding passes see it: items (a node of an op, or a use of a block) and edges.

An `Item` is what one line of a spec declares at some scope: an op node, or a
use of a block found by importer.units and built by importer.blocks. Its
edges name their sources by reference: a node or use (`conv2_block1`), a
block input (`x`), or one output of a use with several (`block1.out`).
"""

from __future__ import annotations

import heapq
import json
from dataclasses import dataclass, field
from typing import Any

from archspec.catalogue.ops import OPS
from archspec.keras.importer.layout import ImportedNode


@dataclass
class Edge:
    """One input of an item: its source reference, edge kind (None: plain), the kind's params (or
    `{"as": name}` for an expr's named input), and the block input it feeds for a multi-input use."""

    source: str
    kind: str | None = None
    params: dict[str, Any] = field(default_factory=dict)
    port: str | None = None

    @property
    def plain(self) -> bool:
        return self.kind is None and "as" not in self.params


@dataclass
class Item:
    name: str
    op: str | None
    """The op of a node; None for a block use."""
    params: dict[str, Any]
    """A node's parameters (its op's defaults left out), or a use's arguments (with repeat/start)."""
    inputs: list[Edge]
    block: str | None = None

    @property
    def kind(self) -> str:
        return self.op if self.op is not None else f"block:{self.block}"


@dataclass
class Block:
    """A block definition: its params, input and output ports, and its items named relative to a use."""

    name: str
    params: list[str]
    inputs: list[str]
    outputs: list[str]
    items: dict[str, Item]


def items_of(nodes: dict[str, ImportedNode]) -> dict[str, Item]:
    """The reader's nodes (merges folded) as items."""
    items: dict[str, Item] = {}
    for node in nodes.values():
        inputs = []
        for index, source in enumerate(node.sources):
            name = node.names[index] if node.names else "x"
            inputs.append(Edge(source, params={} if name == "x" else {"as": name}))
        inputs += [Edge(source, kind, dict(params)) for source, kind, params in node.merges]
        items[node.name] = Item(node.name, node.op, dict(node.params), inputs)
    return items


def producer(reference: str) -> str:
    """The item a reference names: `use.port` -> `use`."""
    return reference.partition(".")[0]


def consumers(items: dict[str, Item]) -> dict[str, list[str]]:
    """Item name -> the names of the items that read it (once per item, in order)."""
    found: dict[str, list[str]] = {}
    for item in items.values():
        for edge in item.inputs:
            users = found.setdefault(producer(edge.source), [])
            if item.name not in users:
                users.append(item.name)
    return found


def topological(items: dict[str, Item]) -> dict[str, Item]:
    """`items` in an order where every item follows its sources, keeping the given order where it can."""
    index = {name: position for position, name in enumerate(items)}
    waiting = {name: {producer(edge.source) for edge in item.inputs} & index.keys() for name, item in items.items()}
    users = consumers(items)
    ready = [index[name] for name, sources in waiting.items() if not sources]
    heapq.heapify(ready)
    names = list(items)
    ordered: dict[str, Item] = {}
    while ready:
        name = names[heapq.heappop(ready)]
        ordered[name] = items[name]
        for user in users.get(name, []):
            waiting[user].discard(name)
            if not waiting[user] and user not in ordered:
                heapq.heappush(ready, index[user])
    if len(ordered) != len(items):
        raise ValueError("the folded graph has a cycle")
    return ordered


def op_default(op: str, key: str) -> Any:
    """The value an op's parameter has when a node leaves it out (a marker if it is required)."""
    field_info = OPS[op].Params.model_fields.get(key)
    if field_info is None or field_info.is_required():
        return REQUIRED
    default = field_info.get_default(call_default_factory=True)
    return json.loads(json.dumps(default)) if isinstance(default, (list, tuple, dict)) else default


def full_value(item: Item, key: str) -> Any:
    """A parameter of an item as it takes effect: its own value, else its op's default."""
    if key in item.params:
        return item.params[key]
    if item.op is None:
        return {"repeat": 1, "start": 1}.get(key, REQUIRED)
    return op_default(item.op, key)


class _Required:
    def __repr__(self) -> str:
        return "REQUIRED"


REQUIRED = _Required()
"""The 'default' of a parameter that has none."""


def frozen(value: Any) -> str:
    """A value as a hashable, comparable key."""
    return json.dumps(value, sort_keys=True, default=repr)
