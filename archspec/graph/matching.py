"""Which node of one analysed graph is which node of another: the matching `same` and `diff` share.

Two specs mean the same model when their graphs are isomorphic with the
same op and resolved parameters at each node, the same edge kinds, and each
node reading its inputs in the same order: inputs are matched by position,
then every node, in topological order, to the unmatched node of the other
graph that has its op, parameters and (matched) inputs. Names never count,
so a compact spec's generated `dense_1` or two swapped chain lines are no
difference. Where two candidates are alike (two `dense(2)` from one node)
the first is taken and, if that leads nowhere, networkx's VF2 decides.

The first node without a counterpart is the located first difference; a
node that has one with other parameters, or other inputs, is paired with it
(`changed`), so that `diff` lists only what really changed.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

import networkx as nx
from networkx.algorithms.isomorphism import MultiDiGraphMatcher

from archspec.errors import SpecError
from archspec.graph.build import topological_nodes
from archspec.graph.ir import Node, node_of
from archspec.graph.summary import node_details

Key = tuple
"""What a node must agree on: op, parameters, sharing, its place among the inputs and outputs."""


@dataclass
class Matching:
    """`mapping` pairs nodes of the first graph with the second's; `changed` are pairs that differ."""

    mapping: dict[str, str] = field(default_factory=dict)
    changed: list[tuple[str, str]] = field(default_factory=list)
    difference: SpecError | None = None

    @property
    def same(self) -> bool:
        return self.difference is None


def match_graphs(first: nx.MultiDiGraph, second: nx.MultiDiGraph) -> Matching:
    """Match the nodes of two analysed graphs; `difference` says where they first differ (None: same model)."""
    walk = _Walk(first, second)
    walk.run()
    if walk.difference is not None and walk.ambiguous:
        mapping = _isomorphism(first, second, walk)
        if mapping is not None:
            return Matching(mapping)
    return Matching(walk.mapping, walk.changed, walk.difference)


def describe_node(data: Node) -> str:
    """A node as `op(key params)` (an input as `input(28x28x1, float32)`), the way summaries write it."""
    if data.is_input:
        params = data.params
        return f"input({'x'.join(str(size) for size in params.shape)}, {params.dtype})"
    return f"{data.op}({node_details(data)})"


class _Walk:
    """The greedy matching in topological order, recording the first difference and partial pairs."""

    def __init__(self, first: nx.MultiDiGraph, second: nx.MultiDiGraph) -> None:
        self.first, self.second = first, second
        self.mapping: dict[str, str] = {}
        self.changed: list[tuple[str, str]] = []
        self.difference: SpecError | None = None
        self.ambiguous = False
        self.keys = (_keys(first), _keys(second))
        self.taken: set[str] = set()
        self.order = topological_nodes(second)
        self.reads = {name: _inputs(second, name) for name in self.order}
        self.index: dict[tuple, list[str]] = defaultdict(list)
        for name in self.order:
            self.index[(self.keys[1][name], self.reads[name])].append(name)

    def run(self) -> None:
        for name in topological_nodes(self.first):
            wanted = _inputs(self.first, name, self.mapping)
            candidates = [other for other in self.index.get((self.keys[0][name], wanted), ())
                          if other not in self.taken]
            self.ambiguous |= len(candidates) > 1
            if candidates:
                self._pair(name, name if name in candidates else candidates[0])
            else:
                partner = self._partner(name, wanted)
                self._note(name, partner)
                if partner is not None:
                    self._pair(name, partner, changed=True)
        self._check_rest()

    def _pair(self, name: str, other: str, changed: bool = False) -> None:
        self.mapping[name] = other
        self.taken.add(other)
        if changed:
            self.changed.append((name, other))

    def _partner(self, name: str, wanted: tuple) -> str | None:
        """The unmatched node of the second graph this one became, if any: one with the same op and inputs,
        else the same name and op, else the same name and inputs, else the same name."""
        data = node_of(self.first, name)
        free = [other for other in self.order if other not in self.taken
                and node_of(self.second, other).kind == data.kind]
        for rule in (lambda other: self.reads[other] == wanted and node_of(self.second, other).op == data.op,
                     lambda other: other == name and node_of(self.second, other).op == data.op,
                     lambda other: other == name and self.reads[other] == wanted,
                     lambda other: other == name):
            found = [other for other in free if rule(other)]
            if found:
                return name if name in found else found[0]
        return None

    def _note(self, name: str, partner: str | None) -> None:
        """Keep the first difference: this node, against its partner's op or inputs."""
        if self.difference is not None:
            return
        data = node_of(self.first, name)
        if partner is None:
            self.difference = SpecError(
                f"has no counterpart in {self.second.graph['file']}", location=data.location, node=name,
                expected=f"{describe_node(data)} reading {self._sources(self.first, name) or 'nothing'}",
                hint="no node there has this op and parameters with these inputs")
            return
        other = node_of(self.second, partner)
        where = f"'{partner}' ({_where(other)})"
        if self.keys[0][name] != self.keys[1][partner]:
            self.difference = SpecError(
                f"differs from {where}", location=data.location, node=name,
                expected=describe_node(data) + _role(self.keys[0][name]),
                got=_changed_params(data, other) + _role(self.keys[1][partner]))
        else:
            self.difference = SpecError(
                f"reads other inputs than {where}", location=data.location, node=name,
                expected=self._sources(self.first, name), got=self._sources(self.second, partner, back=True))

    def _check_rest(self) -> None:
        """Nodes of the second graph left over, and sharing that names other owners."""
        if self.difference is not None:
            return
        for other in self.order:
            if other not in self.taken:
                data = node_of(self.second, other)
                self.difference = SpecError(
                    f"has no counterpart in {self.first.graph['file']}", location=data.location, node=other,
                    expected=f"{describe_node(data)} reading {self._sources(self.second, other, back=True)}")
                return
        for name, other in self.mapping.items():
            owner, twin = node_of(self.first, name).shares, node_of(self.second, other).shares
            if owner is not None and self.mapping.get(owner) != twin:
                self.difference = SpecError(
                    f"shares the layer of '{owner}', but its counterpart '{other}' shares '{twin}'",
                    location=node_of(self.first, name).location, node=name)
                return

    def _sources(self, graph: nx.MultiDiGraph, name: str, back: bool = False) -> str:
        """A node's inputs, named as in the first graph where they are matched."""
        return describe_inputs(graph, name, {other: mine for mine, other in self.mapping.items()} if back else {})


def describe_inputs(graph: nx.MultiDiGraph, name: str, names: dict[str, str]) -> str:
    """A node's inputs in the order it reads them, `a, b (concat-skip)`, sources renamed by `names`."""
    return ", ".join(names.get(source, source) + ("" if kind == "plain" else f" ({kind})")
                     for _, kind, _, source in _inputs(graph, name))


def _keys(graph: nx.MultiDiGraph) -> dict[str, Key]:
    """Each node's key; an input's is its position among the inputs, an output's includes its position."""
    outputs = {name: position for position, name in enumerate(graph.graph["outputs"])}
    inputs = [name for name, data in graph.nodes(data=True) if data.is_input]
    keys = {}
    for name, data in graph.nodes(data=True):
        if data.is_input:
            key: Key = ("input", inputs.index(name), tuple(data.params.shape), data.params.dtype)
        else:
            key = (data.op, repr(data.params.model_dump()), data.shares is not None)
        keys[name] = (*key, outputs.get(name))
    return keys


def _inputs(graph: nx.MultiDiGraph, name: str, mapping: dict[str, str] | None = None) -> tuple:
    """A node's in-edges as (role and position, kind, parameters, source), sources renamed by `mapping`.

    The role is how the node reads the edge: its plain inputs in order, its attention, mask and relative edges,
    its merge edges in order (archspec.graph.plan); where a plain edge stands among merge edges in the file does
    not change the model, so it does not count.
    """
    edges = sorted(graph.in_edges(name, data=True), key=lambda edge: edge[2].index)
    plan = node_of(graph, name).plan
    mains = [id(edge) for edge in plan.mains] if plan is not None else []
    attention = id(plan.attention) if plan is not None and plan.attention is not None else None
    mask = id(plan.mask) if plan is not None and plan.mask is not None else None
    relative = id(plan.relative) if plan is not None and plan.relative is not None else None
    merges = 0
    result = []
    for source, _, data in edges:
        spec = id(data.spec)
        if spec in mains:
            slot = ("main", mains.index(spec))
        elif spec == attention:
            slot = ("attention", 0)
        elif spec == mask:
            slot = ("mask", 0)
        elif spec == relative:
            slot = ("relative", 0)
        else:
            slot, merges = ("merge", merges), merges + 1
        renamed = source if mapping is None else mapping.get(source, f"\0unmatched {source}")
        result.append((slot, data.kind, repr(data.params), renamed))
    return tuple(sorted(result))


def _isomorphism(first: nx.MultiDiGraph, second: nx.MultiDiGraph, walk: _Walk) -> dict[str, str] | None:
    """VF2 with the walk's keys and edge slots, for graphs whose alike nodes the greedy walk paired wrongly."""
    slots = [{}, {}]
    for graph, table in zip((first, second), slots, strict=True):
        for name in graph.nodes:
            for slot, kind, params, source in _inputs(graph, name):
                table.setdefault((source, name), []).append((slot, kind, params))
    for graph, table in zip((first, second), slots, strict=True):
        for source, target, data in graph.edges(data=True):
            data.meta["_match"] = sorted(table[(source, target)])
    for graph, keys in zip((first, second), walk.keys, strict=True):
        for name, key in keys.items():
            node_of(graph, name).meta["_key"] = key
    try:
        matcher = MultiDiGraphMatcher(  # parallel edges carry one list for the pair, so the first one tells
            first, second, node_match=lambda a, b: a.meta["_key"] == b.meta["_key"],
            edge_match=lambda a, b: next(iter(a.values())).meta["_match"] == next(iter(b.values())).meta["_match"])
        if not matcher.is_isomorphic():
            return None
        mapping = dict(matcher.mapping)
    finally:
        for graph in (first, second):
            for _, data in graph.nodes(data=True):
                data.meta.pop("_key", None)
            for _, _, data in graph.edges(data=True):
                data.meta.pop("_match", None)
    for name, other in mapping.items():
        owner = node_of(first, name).shares
        if owner is not None and mapping.get(owner) != node_of(second, other).shares:
            return None
    return mapping


def _where(data: Node) -> str:
    location = data.location
    return str(location) if location is not None else "?"


def _role(key: Key) -> str:
    return "" if key[-1] is None else f", output {key[-1] + 1}"


def _changed_params(before: Node, after: Node) -> str:
    """The other node as the summary writes it, or the parameters that differ where the summary hides them."""
    shown = describe_node(after)
    if shown != describe_node(before) or before.kind != after.kind:
        return shown
    old, new = before.params.model_dump(), after.params.model_dump()
    changed = [f"{key}={new.get(key)!r}" for key in sorted(set(old) | set(new)) if old.get(key) != new.get(key)]
    return ", ".join(changed) or shown
