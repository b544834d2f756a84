"""Folding: which nodes one box of the diagram stands for.

Two kinds of folding, which combine:

- `--compact`: a shape-keeping op (batch_norm, activation, dropout, ...)
  whose only input is a plain edge from a node with no other consumer joins
  that node's box (conv -> batch_norm -> relu is one box).
- `--fold`: each block use is one box (its name, block, ports, output shape
  and parameter count), a `repeat` is one box marked xN; `--expand NAME`
  opens a use, a repeat (into its copies) or a copy, and the uses around it.
  This reads the provenance expansion keeps (`spec.document.block_uses`,
  archspec.spec.provenance), not the names.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

import networkx as nx

from archspec.errors import RenderError, SpecError, did_you_mean
from archspec.graph.ir import node_of
from archspec.spec.provenance import BlockCopy


@dataclass
class FoldedUse:
    """One folded box: a block use, or a repeat of one (`repeat` copies, `copies` their names)."""

    name: str
    block: str
    repeat: int | None
    copies: list[str]
    ports_in: dict[str, str]  # input port -> the node that feeds it
    ports_out: dict[str, str]  # output port -> the node inside that it comes from

    @property
    def title(self) -> str:
        return f"{self.name} ×{self.repeat}" if self.repeat else self.name

    @property
    def subtitle(self) -> str:
        if self.repeat:
            return f"block {self.block}: {self.copies[0]} … {self.copies[-1]}"
        return f"block {self.block}"

    @property
    def inputs(self) -> list[str]:
        return list(self.ports_in)

    @property
    def outputs(self) -> list[str]:
        return list(self.ports_out)


@dataclass
class Folding:
    """The boxes that `--fold` makes: `box_of` maps each folded node to its box's name."""

    box_of: dict[str, str]
    uses: dict[str, FoldedUse] = field(default_factory=dict)

    def port(self, box: str, source: str, side: str) -> str | None:
        """The port of folded box `box` that an edge from node `source` leaves (side 'out') or enters ('in')."""
        use = self.uses.get(box)
        if use is None:
            return None
        if side == "out":
            names = [port for port, node in use.ports_out.items() if node == source]
            return f"out_{use.outputs.index(names[0])}" if names else None
        names = [port for port, node in use.ports_in.items() if node == source]
        return f"in_{use.inputs.index(names[0])}" if names else None

    def output_node(self, box: str) -> str | None:
        """The node whose shape a folded box shows: the one its first output port comes from."""
        use = self.uses.get(box)
        return next(iter(use.ports_out.values()), None) if use else None


def fold_blocks(graph: nx.MultiDiGraph, expand: Iterable[str] = ()) -> Folding:
    """Fold every block use of `graph` into one box, except the ones `expand` opens (and what holds them)."""
    frames = block_uses_of(graph)
    groups = _groups(frames)
    opened: set[str] = set()
    for name in expand:
        if name not in groups:
            raise RenderError(f"--expand: no block use named '{name}'"
                              + (f"; {hint}" if (hint := did_you_mean(name, groups)) else "")
                              + ("" if groups else " (the spec has no block uses)"))
        opened |= groups[name]
    box_of: dict[str, str] = {}
    uses: dict[str, list[BlockCopy]] = {}
    for node, chain in frames.items():
        for frame in chain:
            keys = [frame.use, frame.name] if frame.repeat is not None else [frame.name]
            key = next((key for key in keys if key not in opened), None)
            if key is not None:
                box_of[node] = key
                if frame not in uses.setdefault(key, []):
                    uses[key].append(frame)
                break
    return Folding(box_of, {key: _folded(key, copies) for key, copies in uses.items()})


def block_uses_of(graph: nx.MultiDiGraph) -> dict[str, tuple[BlockCopy, ...]]:
    """Each node's block uses, outermost first, as expansion recorded them (`Document.block_uses`).

    A node the graph adds for a named output of another (`output_of`) belongs where its owner does.
    """
    recorded = graph.graph["spec"].document.block_uses
    return {name: recorded.get(name) or recorded.get(data.output_of or "", ())
            for name, data in graph.nodes(data=True)}


def _groups(frames: dict[str, tuple[BlockCopy, ...]]) -> dict[str, set[str]]:
    """Every foldable name (a use, a repeat, a copy) -> the names to open so that it shows opened."""
    groups: dict[str, set[str]] = {}
    for chain in frames.values():
        around: set[str] = set()
        for frame in chain:
            if frame.repeat is not None:
                around = around | {frame.use}
                groups.setdefault(frame.use, set()).update(around)
            around = around | {frame.name}
            groups.setdefault(frame.name, set()).update(around)
    return groups


def _folded(key: str, copies: list[BlockCopy]) -> FoldedUse:
    copies = sorted(copies, key=lambda frame: frame.index or 0)
    first, last = copies[0], copies[-1]
    repeat = first.repeat if first.repeat is not None and key == first.use else None
    return FoldedUse(key, first.block, repeat, [frame.name for frame in copies],
                     dict(first.inputs), dict(last.outputs))


def fold_compact(graph: nx.MultiDiGraph, errors: dict[str, list[SpecError]],
                 box_of: dict[str, str] | None = None) -> dict[str, str]:
    """For --compact: each node's group head. A foldable op whose only input is a plain edge from a
    node with no other consumer joins that node's group (conv -> batch_norm -> relu is one box).
    Nodes in different `--fold` boxes never join."""
    box_of = box_of or {}
    head = {name: name for name in graph.nodes}
    for name in nx.topological_sort(graph) if nx.is_directed_acyclic_graph(graph) else ():
        data = node_of(graph, name)
        in_edges = list(graph.in_edges(name, data=True))
        if data.kind != "op" or not data.definition.foldable or len(in_edges) != 1:
            continue
        source, _, edge = in_edges[0]
        if (edge.kind == "plain" and graph.out_degree(source) == 1
                and node_of(graph, source).kind == "op" and name not in errors
                and box_of.get(name) == box_of.get(source)):
            head[name] = head[source]
    return head
