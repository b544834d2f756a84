"""How an imported graph is written: merges folded into edges, plain edges as `a -> b -> c` chains.

An `Add` or `Concatenate` of two tensors whose result feeds exactly one
single-input node becomes an `add-residual` or `concat-skip` edge into it; a
`Multiply` of a map by a broadcast vector (squeeze-excite) feeding one such
node becomes a `gate` edge (with the sigmoid folded in when a lone sigmoid
activation produced the vector). Other merges stay explicit nodes.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from archspec.catalogue.ops import OPS
from archspec.spec.scalars import reads_as_string

FOLDS = {"add": "add-residual", "concat": "concat-skip", "multiply": "gate"}
"""Explicit two-input merge ops, and the edge kind a single use of each becomes."""
GATE_ACTIVATIONS = {"sigmoid", "hard_sigmoid", "tanh"}
"""Activations a gate edge applies itself (connections.GateActivation)."""


@dataclass
class ImportedNode:
    name: str
    op: str
    params: dict[str, Any]
    sources: list[str]
    merges: list[tuple[str, str, dict[str, Any]]] = field(default_factory=list)
    """(source, kind, params) of the merge edges into this node (folded merges, attention)."""
    shape: tuple = ()
    """The node's output shape without the batch axis (the gate's main input is the larger one)."""
    names: list[str] | None = None
    """The name of each source, for an expr node (its in-edges' `as:`; `x` is written plain)."""


def fold_merges(nodes: dict[str, ImportedNode], outputs: list[str], shapes: dict[str, tuple],
                unit: dict[str, str] | None = None) -> None:
    """Turn two-input add/concat/multiply nodes feeding one single-input node into merge edges into it.

    With `unit` (node -> the repeated unit it belongs to, importer.units), a merge folds only into
    a node of its own unit, so a block ends with its own add rather than the next one starting with it."""
    consumers = _consumers(nodes)
    for node in list(nodes.values()):
        users = consumers.get(node.name, [])
        if node.op not in FOLDS or len(node.sources) != 2 or len(users) != 1 or node.name in outputs:
            continue
        user = users[0]
        if OPS[user.op].arity != "one" or user.sources != [node.name] or user.merges:
            continue
        if unit is not None and unit.get(node.name) != unit.get(user.name):
            continue
        first, second = node.sources
        if node.op == "multiply":
            main, skip = (second, first) if _size(shapes[second]) > _size(shapes[first]) else (first, second)
            params = _gate_params(nodes, consumers, skip, outputs)
            if params is None:
                continue
            if params["activation"] != "none":  # the activation node becomes the gate's f
                activation = nodes.pop(skip)
                skip = activation.sources[0]
                consumers[skip] = [item for item in consumers[skip] if item is not activation]
                consumers[skip].append(node)
        else:
            main, skip = (second, first) if node.op == "add" else (first, second)
            params = dict(node.params)
        user.sources = [main]
        user.merges.append((skip, FOLDS[node.op], params))
        for source in (main, skip):
            consumers[source] = [user if item is node else item for item in consumers.get(source, [])]
        del nodes[node.name]


def _gate_params(nodes: dict[str, ImportedNode], consumers: dict[str, list[ImportedNode]], gate: str,
                 outputs: list[str]) -> dict[str, Any] | None:
    """The gate edge's params: its activation folded in when only this gate uses it; else none."""
    producer = nodes.get(gate)
    if producer is not None and producer.op == "activation" and len(consumers.get(gate, [])) == 1 \
            and gate not in outputs and producer.params.get("activation") in GATE_ACTIVATIONS \
            and not producer.merges:
        return {"activation": producer.params["activation"]}
    return {"activation": "none"}


def _size(shape: tuple) -> int:
    total = 1
    for size in shape:
        total *= size or 1
    return total


def _consumers(nodes: dict[str, ImportedNode]) -> dict[str, list[ImportedNode]]:
    consumers: dict[str, list[ImportedNode]] = {}
    for node in nodes.values():
        for source in node.sources:
            consumers.setdefault(source, []).append(node)
    return consumers


def edge_entries(inputs: dict[str, dict], nodes: dict[str, ImportedNode]) -> list[Any]:
    """Plain edges as `a -> b -> c` chains (keeping each node's input order), then merge edges."""
    order = list(inputs) + list(nodes)
    pending: dict[str, list[str]] = {node.name: [] if node.names else list(node.sources)
                                     for node in nodes.values()}
    outgoing: dict[str, list[str]] = {name: [] for name in order}
    named: list[Any] = []
    for node in nodes.values():
        for index, source in enumerate(node.sources):
            if node.names:  # an expr node's inputs: edges named with as:
                name = node.names[index]
                named.append(f"{source} -> {node.name}" if name == "x" else
                             {"from": source, "to": node.name, "as": name})
            else:
                outgoing[source].append(node.name)
    height = _heights(order, outgoing, nodes)
    fan_out = {name: len(targets) for name, targets in outgoing.items()}
    for node in nodes.values():
        for source, _, _ in node.merges:
            fan_out[source] += 1
        if node.names:
            for source in node.sources:
                fan_out[source] += 1
    for name in outgoing:
        outgoing[name].sort(key=lambda target: -height[target])
    entries: list[Any] = []
    for chain in chain_cover(order, outgoing, pending, fan_out):
        entries.append(" -> ".join(chain))
        for target in chain[1:]:
            for source, kind, params in nodes[target].merges:
                entries.append({"from": source, "to": target, "kind": kind, **params})
    return entries + named


def chain_cover(order: list[str], outgoing: dict[str, list[str]], pending: dict[str, list[str]],
                fan_out: Mapping[str, int]) -> list[list[str]]:
    """The plain edges as `a -> b -> c` chains, each node's inputs kept in order.

    From each node in `order`, a chain follows the first target whose next
    expected input (`pending`) it is, and ends after a branch point (a node
    read more than once, `fan_out`), so each block of a network is one chain;
    sort `outgoing` longest path first for chains that follow the main path.
    `outgoing` and `pending` are used up.
    """
    chains = []
    progress = True
    while progress:
        progress = False
        for start in order:
            while True:
                chain = [start]
                while (target := _next(chain[-1], outgoing, pending)) is not None:
                    chain.append(target)
                    if fan_out.get(target, 0) > 1:
                        break
                if len(chain) == 1:
                    break
                progress = True
                chains.append(chain)
    return chains


def _next(source: str, outgoing: dict[str, list[str]], pending: dict[str, list[str]]) -> str | None:
    """The next chain link from `source`: the first target whose next expected input it is."""
    for target in outgoing.get(source, []):
        if pending[target] and pending[target][0] == source:
            pending[target].pop(0)
            outgoing[source].remove(target)
            return target
    return None


def _heights(order: list[str], outgoing: dict[str, list[str]], nodes: dict[str, ImportedNode]) -> dict[str, int]:
    """Longest path to an output from each node: chains follow the main path, not the shortcut."""
    height: dict[str, int] = {}
    extra: dict[str, list[str]] = {}
    for node in nodes.values():
        for source, _, _ in node.merges:
            extra.setdefault(source, []).append(node.name)
    for name in reversed(order):
        after = outgoing[name] + extra.get(name, [])
        height[name] = 1 + max((height[target] for target in after), default=0)
    return height


def flow(value: Any) -> str:
    """`value` as one line of flow-style YAML that reads back to the same value."""
    if isinstance(value, dict):
        return "{" + ", ".join(f"{key}: {flow(item)}" for key, item in value.items()) + "}"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(flow(item) for item in value) + "]"
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        text = repr(value)
        return text.replace("e", ".0e") if "e" in text and "." not in text else text
    if isinstance(value, int):
        return str(value)
    text = str(value)
    return text if (re.fullmatch(r"[A-Za-z_][A-Za-z0-9_ .>-]*", text) and "->" in text) or \
        (re.fullmatch(r"[A-Za-z_][A-Za-z0-9_-]*", text) and reads_as_string(text)) else json.dumps(text)
