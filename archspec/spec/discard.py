"""Discarded block outputs: `discard: out` on a use removes that output and what, in its copy, only fed it.

A block may have an output a use does not need (the residual of WaveNet's
last layer: the skips are what the model reads). Keras leaves layers nothing
reads out of a Functional model; a spec says so explicitly, so that a node
left unconnected by mistake stays an error. Runs at the end of expansion on
the flat nodes and edges: each discarded node, which no edge may read, is
removed with its in-edges, and so is every node of the same copy that is
left feeding nothing.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass

from archspec.errors import Location, SchemaError
from archspec.spec.blocks import DISCARD, links_of
from archspec.spec.document import Document, Positions


@dataclass(frozen=True)
class Discarded:
    """One discarded output: its node, the name prefix of the copy it belongs to, the port, where `discard:` is."""

    node: str
    prefix: str
    port: str
    location: Location


def prune(document: Document, discarded: list[Discarded]) -> None:
    """Remove the discarded outputs and what only fed them from the document's nodes and edges, in place."""
    if not discarded:
        return
    nodes, edges = document.data["nodes"], document.data["edges"]
    into: dict[str, list[int]] = defaultdict(list)
    readers: Counter[str] = Counter()
    sources: dict[int, list[str]] = {}
    for index, entry in enumerate(edges):
        for source, target, _ in links_of(entry) or []:
            into[target].append(index)
            readers[source] += 1
            sources.setdefault(index, []).append(source)
    gone_nodes: set[str] = set()
    gone_edges: set[int] = set()
    for item in discarded:
        if readers[item.node]:
            raise SchemaError(f"output '{item.port}' is discarded, but an edge reads it ('{item.node}')",
                              location=item.location, hint=f"remove it from '{DISCARD}:', or the edge")
        stack = [item.node]
        while stack:
            name = stack.pop()
            if name in gone_nodes or name not in nodes:
                continue
            gone_nodes.add(name)
            for index in into[name]:
                gone_edges.add(index)
                for source in sources[index]:
                    readers[source] -= 1
                    if not readers[source] and source.startswith(item.prefix):
                        stack.append(source)
    _keep(document, gone_nodes, gone_edges)


def _keep(document: Document, gone_nodes: set[str], gone_edges: set[int]) -> None:
    """The nodes and edges not gone, their positions (edges renumbered) and provenance kept with them."""
    data = document.data
    data["nodes"] = {name: raw for name, raw in data["nodes"].items() if name not in gone_nodes}
    old = document.positions.node(("edges",)) or Positions()
    new = Positions(old.key, old.value)
    kept = []
    for index, entry in enumerate(data["edges"]):
        if index not in gone_edges:
            if index in old.children:
                new.children[len(kept)] = old.children[index]
            kept.append(entry)
    data["edges"] = kept
    document.positions.put(("edges",), new)
    for name in gone_nodes:
        document.positions.drop(("nodes", name))
        document.block_uses.pop(name, None)
