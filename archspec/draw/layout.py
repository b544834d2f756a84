"""Where the boxes go: each drawn box gets a row (a graphviz rank) and a column, before graphviz runs.

graphviz's `dot` draws a DAG one rank per step of its longest path, so a
161-node ResNet is one column 50 times taller than wide. We choose the ranks
ourselves and hand them to `dot` as `rank=same` rows (with `newrank`), in one
of three ways:

- **level bands**, for true encoder-decoders (a U-Net): every spatial size is
  a band of rows; the encoder goes down the left of its band, the decoder
  comes back up the right of the same band, so each long skip runs across.
- **columns**, for long nets: the rows of the longest path are cut into
  columns placed side by side, read like a newspaper (top to bottom, then the
  next column); the cuts go where the fewest edges cross, and the estimated
  picture is kept near 1:1.3 (`TARGET_ASPECT`).
- one plain column for everything else (dot's own ranks).

Sizes are estimated from the labels (`Box`), since the layout has to be
chosen before `dot` runs (and `render` works without `dot`).
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, field

import networkx as nx

from archspec.catalogue.ops import Shape

TARGET_ASPECT = 1.3
"""Estimated height / width that the column count aims at (a page, a little taller than wide)."""
RANK_GAP = 46.0
"""Points between two rows of boxes, edge labels included (ranksep 0.45 in plus a label line)."""
COLUMN_GAP = 40.0
EDGE_LABEL_WIDTH = 120.0
"""Points that the shape labels beside a column's edges add to its width."""
WRAP_ABOVE = 2.5
"""A net is wrapped into columns only when one column would be more than this many times taller than wide."""
MAX_DECODE_FACTOR = 4
"""An increase to a size seen before by at most this factor is a decoder step (2x upsampling, a transposed
conv); a larger one (a 1x1 map tiled to 28x28 for squeeze-excitation) is a broadcast, not a decoder."""


@dataclass(frozen=True)
class Box:
    """The estimated size of one drawn box in points."""

    width: float
    height: float


@dataclass
class Layout:
    """Rows (ranks) and columns of the drawn boxes; empty rows mean: let dot rank them."""

    kind: str = "plain"  # "plain", "levels" or "columns"
    rows: dict[str, int] = field(default_factory=dict)
    columns: dict[str, int] = field(default_factory=dict)

    def goes_up(self, tail: str, head: str) -> bool:
        """An edge drawn against the flow (a decoder climbing a level): laid out reversed."""
        return (self.kind == "levels" and tail in self.rows and head in self.rows
                and self.rows[head] < self.rows[tail])

    def crosses_columns(self, tail: str, head: str) -> bool:
        """An edge from one column into the next: it must not pull the columns' rows together."""
        return self.columns.get(tail, 0) != self.columns.get(head, 0)


def choose_layout(boxes: nx.DiGraph, sizes: dict[str, Box], shapes: dict[str, Shape | None]) -> Layout:
    """The layout of `boxes` (a DAG of drawn boxes, each a node), given their sizes and output shapes."""
    if not boxes or not nx.is_directed_acyclic_graph(boxes):
        return Layout()
    spatial = {name: _spatial(shape) for name, shape in shapes.items()}
    if is_encoder_decoder(boxes, spatial):
        return Layout("levels", level_rows(boxes, spatial))
    return wrap_columns(boxes, sizes)


def _spatial(shape: Shape | None) -> int | None:
    """The height of an image shape (h, w, c), the size a U-Net level is known by; else None."""
    if shape is None or len(shape) != 3 or shape[0] is None:
        return None
    return shape[0]


def is_encoder_decoder(graph: nx.DiGraph, spatial: dict[str, int | None]) -> bool:
    """The net climbs back, step by step, to a spatial size it had: a decoder.

    Growing to a new size (zero padding before a ResNet stem) is not a decoder,
    nor is a jump from a 1x1 map back to full size (a broadcast tile).
    """
    return any(_decodes(graph, spatial, source, target) for source, target in graph.edges())


def _decodes(graph: nx.DiGraph, spatial: dict[str, int | None], source: str, target: str) -> bool:
    before, after = spatial.get(source), spatial.get(target)
    if before is None or after is None or not before < after <= before * MAX_DECODE_FACTOR:
        return False
    return after in {spatial.get(ancestor) for ancestor in nx.ancestors(graph, source)}


def level_rows(graph: nx.DiGraph, spatial: dict[str, int | None]) -> dict[str, int]:
    """Rows for an encoder-decoder: one band of rows per spatial size, largest size on top.

    In its band, the encoder (nodes no decoder step leads to) runs down from
    the band's top and the decoder runs up from its bottom, so both sides of a
    level share the band and its skip runs across. Nodes without an image
    shape (an input vector, a dense head) join the level of a neighbour.
    """
    order = list(nx.topological_sort(graph))
    level = dict(spatial)
    for name in order:  # forwards: a node takes its first input's level
        if level[name] is None:
            level[name] = next((level[p] for p in graph.predecessors(name) if level[p] is not None), None)
    for name in reversed(order):  # then backwards for what still has none (an input vector)
        if level[name] is None:
            level[name] = next((level[s] for s in graph.successors(name) if level[s] is not None), 0)
    ups = [(s, t) for s, t in graph.edges() if _decodes(graph, spatial, s, t)]
    decoder = {t for _, t in ups} | {d for _, t in ups for d in nx.descendants(graph, t)}
    depth: dict[str, int] = {}
    for name in order:  # depth in its level's band, counted on its own side (encoder or decoder)
        same = [p for p in graph.predecessors(name)
                if level[p] == level[name] and (p in decoder) == (name in decoder)]
        depth[name] = max((depth[p] + 1 for p in same), default=0)
    sizes = sorted({level[name] for name in order}, reverse=True)
    rows: dict[str, int] = {}
    top = 0
    for size in sizes:
        members = [name for name in order if level[name] == size]
        enc = [name for name in members if name not in decoder]
        dec = [name for name in members if name in decoder]
        height = max([depth[name] for name in members], default=0) + 1
        rows.update((name, top + depth[name]) for name in enc)
        rows.update((name, top + height - 1 - depth[name]) for name in dec)
        top += height
    return rows


def longest_path_rows(graph: nx.DiGraph) -> dict[str, int]:
    """Each node's row: its longest path from a source; a source sits just above its first consumer."""
    rows: dict[str, int] = {}
    for name in nx.topological_sort(graph):
        rows[name] = max((rows[p] + 1 for p in graph.predecessors(name)), default=0)
    for name in graph.nodes:
        if graph.in_degree(name) == 0 and graph.out_degree(name) > 0:
            rows[name] = max(0, min(rows[s] for s in graph.successors(name)) - 1)
    return rows


def wrap_columns(graph: nx.DiGraph, sizes: dict[str, Box]) -> Layout:
    """Cut a long net's rows into side-by-side columns, so the picture is about TARGET_ASPECT tall per wide."""
    rows = longest_path_rows(graph)
    count = max(rows.values()) + 1
    heights = [0.0] * count
    widths = [0.0] * count
    for name, row in rows.items():
        box = sizes.get(name, Box(100, 40))
        heights[row] = max(heights[row], box.height)
        widths[row] += box.width + COLUMN_GAP
    height = sum(heights) + RANK_GAP * count
    width = max(widths) + EDGE_LABEL_WIDTH
    if height / width <= WRAP_ABOVE:
        return Layout()
    columns = max(1, round(math.sqrt(height / (width * TARGET_ASPECT))))
    columns = min(columns, max(1, count // 4))
    if columns == 1:
        return Layout()
    cuts = _cuts(graph, rows, heights, columns)
    column_of = [sum(row >= cut for cut in cuts) for row in range(count)]
    starts = [0, *cuts]
    return Layout(
        "columns",
        rows={name: row - starts[column_of[row]] for name, row in rows.items()},
        columns={name: column_of[row] for name, row in rows.items()},
    )


def _cuts(graph: nx.DiGraph, rows: dict[str, int], heights: list[float], columns: int) -> list[int]:
    """The rows that start columns 2..N: near equal heights, each where the fewest edges cross the cut."""
    starts = [0] * (len(heights) + 2)  # edges crossing the cut above each row, by a running sum
    for source, target in graph.edges():
        starts[rows[source] + 1] += 1
        starts[rows[target] + 1] -= 1
    crossing = list(itertools.accumulate(starts))
    total = sum(height + RANK_GAP for height in heights)
    running, ideal = [], 0.0
    for height in heights:
        running.append(ideal)
        ideal += height + RANK_GAP
    cuts: list[int] = []
    window = max(1, len(heights) // (columns * 8))
    for column in range(1, columns):
        done = running[cuts[-1]] if cuts else 0.0
        goal = done + (total - done) / (columns - column + 1)  # share out what is left evenly
        near = min(range(1, len(heights)), key=lambda row: abs(running[row] - goal))
        candidates = [row for row in range(near - window, near + window + 1)
                      if 0 < row < len(heights) and (not cuts or row > cuts[-1])]
        if candidates:
            cuts.append(min(candidates, key=lambda row: (crossing[row], abs(row - near))))
    return cuts


def main_path(graph: nx.DiGraph) -> list[str]:
    """The longest chain of plain edges, the spine that the drawing keeps straight."""
    if not nx.is_directed_acyclic_graph(graph):
        return []
    plain = nx.DiGraph()
    plain.add_edges_from((source, target) for source, target, kind in graph.edges(data="kind")
                         if kind == "plain")
    return nx.dag_longest_path(plain)
