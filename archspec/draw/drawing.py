"""One drawing of one graph: which box each node is drawn in, their labels and styles, then the Digraph.

`archspec.draw.diagram` is the public face (options, building, writing);
this module turns an analysed graph into a `graphviz.Digraph`. A box is
one node, or several nodes folded together (`--compact` chains, `--fold`
block uses: `archspec.draw.fold`); edges between members of one box are not
drawn, and an edge into or out of a folded block attaches at its port.
Rows and columns come from `archspec.draw.layout`.
"""

from __future__ import annotations

import itertools
import textwrap
from collections.abc import Iterable
from dataclasses import dataclass

import graphviz
import networkx as nx

from archspec.catalogue.connections import CONNECTIONS
from archspec.catalogue.ops import Shape
from archspec.draw import labels
from archspec.draw.fold import Folding, fold_compact
from archspec.draw.labels import EDGE_STYLES, ERROR_COLOR, FAMILY_FILLS, FONT
from archspec.draw.layout import Box, Layout, choose_layout, main_path
from archspec.draw.problems import edge_errors, node_errors
from archspec.errors import SpecError
from archspec.graph.ir import node_of
from archspec.graph.summary import node_details, node_params
from archspec.spec.models import EdgeSpec, Spec


@dataclass(frozen=True)
class RenderOptions:
    """What `archspec render` draws; the defaults are the command's."""

    rankdir: str = "TB"
    shapes: bool = True
    params: bool = False
    highlight: tuple[str, ...] = ()
    compact: bool = False
    fold: bool = False
    expand: tuple[str, ...] = ()


class Drawing:
    """Decides grouping, styles and layout of one graph, then emits the Digraph."""

    def __init__(self, graph: nx.MultiDiGraph, spec: Spec, errors: list[SpecError],
                 options: RenderOptions, folding: Folding | None = None) -> None:
        self.graph = graph
        self.spec = spec
        self.options = options
        self.node_errors = node_errors(graph, errors)
        self.edges = {edge.index: edge for edge in spec.edges}
        self.edges.update((data.index, data.spec) for _, _, data in graph.edges(data=True))
        self.edge_errors = edge_errors(list(self.edges.values()), errors)
        self.folding = folding or Folding({})
        box_of = self.folding.box_of
        head = fold_compact(graph, self.node_errors, box_of) if options.compact else {n: n for n in graph}
        self.head = {name: box_of.get(name, head[name]) for name in graph}
        self.members: dict[str, list[str]] = {}
        for name in graph.nodes:
            self.members.setdefault(self.head[name], []).append(name)
        self.labels = {box: self._label_rows(box) for box in self.members}
        self.layout = self._layout()
        self.climbing = {self.head[t] for s, t in graph.edges() if self.layout.goes_up(self.head[s], self.head[t])}
        spine = set() if self.layout.kind == "levels" else {self.head[n] for n in main_path(graph)}
        self.spine = spine

    def _layout(self) -> Layout:
        boxes = nx.DiGraph()
        boxes.add_nodes_from(self.members)
        boxes.add_edges_from((self.head[s], self.head[t]) for s, t in self.graph.edges()
                             if self.head[s] != self.head[t])
        sizes = {box: Box(*labels.estimate(rows)) for box, rows in self.labels.items()}
        if self.options.rankdir == "LR":  # the flow runs across: a box's width is its extent along it
            sizes = {box: Box(size.height, size.width) for box, size in sizes.items()}
        shapes = {box: node_of(self.graph, self._shown(box)).shape for box in self.members}
        return choose_layout(boxes, sizes, shapes)

    def digraph(self) -> graphviz.Digraph:
        dot = graphviz.Digraph(labels.dot_text(self.spec.name), graph_attr={
            "rankdir": self.options.rankdir, "label": self._title(), "labelloc": "t",
            "fontname": FONT, "nodesep": "0.35", "ranksep": "0.45", "bgcolor": "white",
            "id": "graph", "newrank": "true",
        }, node_attr={"fontname": FONT, "shape": "box", "style": "rounded,filled",
                      "color": "#90a4ae", "penwidth": "1.2", "margin": "0.12,0.06"},
            edge_attr={"fontname": FONT, "fontsize": "9", "fontcolor": "#78909c",
                       "arrowsize": "0.7"})
        columns = sorted(set(self.layout.columns.values()))
        for column in columns:  # a column is an invisible cluster: its boxes stay together
            with dot.subgraph(name=f"cluster_column{column}") as cluster:
                cluster.attr(style="invis", margin="4")
                for box in self.members:
                    if self.layout.columns.get(box) == column:
                        self._add_node(cluster, box)
        for box in self.members:
            if box not in self.layout.columns:
                self._add_node(dot, box)
        by_row: dict[int, list[str]] = {}
        for box, row in self.layout.rows.items():
            by_row.setdefault(row, []).append(box)
        for row in sorted(by_row):  # an invisible ruler, one point a row, holds every row in its place
            with dot.subgraph() as same:
                same.attr(rank="same")
                same.node(f"row-{row}", id=f"row-{row}", shape="point", width="0", style="invis", label="")
                for box in by_row[row]:
                    same.node(box)
        for row in sorted(by_row)[1:]:
            dot.edge(f"row-{row - 1}", f"row-{row}", style="invis")
        kinds = self._add_edges(dot)
        self._order_columns(dot, by_row.get(0, []))
        self._add_missing(dot)
        self._add_legend(dot, kinds)
        return dot

    # nodes

    def _title(self) -> str:
        lines = [f'<font point-size="16"><b>{labels.escape(self.spec.name)}</b></font>']
        if self.spec.doc:
            lines += [labels.escape(line) for line in textwrap.wrap(self.spec.doc, 90)]
        if self.options.params:
            total = sum(self.params(name) or 0 for name in self.graph.nodes)
            lines.append(f"{total:,} parameters")
        return "<" + "<br/>".join(lines) + "<br/> >"

    def _label_rows(self, box: str) -> list[str]:
        members = self.members[box]
        use = self.folding.uses.get(box)
        if use is not None:
            rows = [f'<font point-size="13"><b>{labels.escape(use.title)}</b></font>',
                    f'<font color="#455a64" point-size="11">{labels.escape(use.subtitle)}</font>']
            owners = {self.head.get(node_of(self.graph, member).shares) for member in members}
            if len(owners) == 1 and None not in owners:  # every layer is another box's: say whose
                rows.append(f'<font color="#455a64" point-size="11">shares {labels.escape(owners.pop())}</font>')
        else:
            rows = [f'<font point-size="13"><b>{labels.escape(box)}</b></font>']
            rows += [f'<font color="#455a64" point-size="11">{line}</font>' for line in self._op_lines(box)]
            for member in members[1:]:  # folded by --compact; their names are in the tooltip
                rows += [f'<font color="#78909c" point-size="10">{line}</font>'
                         for line in self._op_lines(member, prefix="+ ")]
        last = node_of(self.graph, self._shown(box))
        if self.options.shapes and last.shape is not None:
            rows.append(f'<font point-size="11">{labels.shape_text(last.shape)}</font>')
        if (self.options.params or use is not None) and not node_of(self.graph, members[0]).is_input:
            count = sum(self.params(member) or 0 for member in members)
            rows.append(f'<font color="#6d4c41" point-size="10">{count:,} params</font>')
        problems = [error for member in members for error in self.node_errors.get(member, [])]
        for error in problems[:2]:
            rows += [f'<font color="{ERROR_COLOR}" point-size="10">{line}</font>'
                     for line in labels.wrap("✗ " + textwrap.shorten(error.message, 98), 38)]
        return rows

    def _shown(self, box: str) -> str:
        """The node whose output shape a box shows: a folded use's output, else the box's last node."""
        shown = self.folding.output_node(box)
        return shown if shown in self.graph else self.members[box][-1]

    def _add_node(self, dot: graphviz.Digraph, box: str) -> None:
        members = self.members[box]
        use = self.folding.uses.get(box)
        ports = (use.inputs, use.outputs) if use is not None else None
        attrs = {"id": f"node-{box}", "fillcolor": self._fill(box), "tooltip": self._tooltip(box),
                 "label": labels.table(self.labels[box], ports=ports, climbing=box in self.climbing)}
        if box in self.spine:
            attrs["group"] = f"spine{self.layout.columns.get(box, 0)}"  # dot keeps a group's edges straight
        outputs = self.graph.graph["outputs"]
        if box in outputs or members[-1] in outputs or (use is not None and set(members) & set(outputs)):
            attrs.update(peripheries="2")
        if any(member in self.options.highlight for member in members):
            attrs.update(color="#f9a825", penwidth="4", fillcolor="#fff59d")
        if use is not None:  # a folded block use: a heavier, brown border
            attrs.update(penwidth="2", color="#8d6e63")
        if any(member in self.node_errors for member in members):
            attrs.update(color=ERROR_COLOR, penwidth="3", fillcolor="#ffebee", fontcolor=ERROR_COLOR)
        dot.node(box, **attrs)

    def _tooltip(self, box: str) -> str:
        members = self.members[box]
        if box in self.folding.uses:
            return f"{box}: {len(members)} nodes"
        return " + ".join(members)

    def _op_lines(self, name: str, *, prefix: str = "") -> list[str]:
        data = node_of(self.graph, name)
        if data.is_input:
            return [f"{prefix}input"]
        details = node_details(data).removeprefix(f"{data.op}=")  # a sharing node names its owner
        text = f"{prefix}{data.op}" + (f" {details}" if details else "")
        return labels.wrap(text, 30)

    def _fill(self, box: str) -> str:
        if box in self.folding.uses:
            return FAMILY_FILLS["block"]
        data = node_of(self.graph, box)
        if data.is_input:
            return FAMILY_FILLS["input"]
        return labels.family_fill(data.definition)

    def params(self, name: str) -> int | None:
        data = node_of(self.graph, name)
        if not data.is_input and data.shape is None:
            return None
        return node_params(self.graph, name)

    # edges

    def _add_edges(self, dot: graphviz.Digraph) -> list[str]:
        kinds = []
        drawn: set[object] = set()
        for source, target, data in self.graph.edges(data=True):
            tail, head = self.head[source], self.head[target]
            if tail == head:
                continue  # folded into one box
            edge: EdgeSpec = data.spec
            tail_port = self._port(tail, source, "out")
            head_port = self._port(head, source, "in")
            # one tensor into one port of a folded block, used by several nodes inside, is one line; every
            # edge between two drawn nodes is its own (a concat that reads x three times has three)
            seen = edge.index if (tail, head) == (source, target) else (tail, tail_port, head, head_port, edge.kind)
            if seen in drawn:
                continue
            drawn.add(seen)
            kinds.append(edge.kind)
            up = self.layout.goes_up(tail, head)
            # in a level layout, skips across a band and decoder edges up a level would run
            # through labels of their own, and a label makes its band taller: labels step aside (xlabel)
            aside = self.layout.kind == "levels"
            attrs = self._edge_attrs(edge, data.shape, aside=aside)
            if self.layout.crosses_columns(tail, head):
                attrs.update(constraint="false", weight="0")
            if up:  # laid out reversed (drawn forward): the decoder stays on its level, above its source
                attrs["dir"] = "back"
                if "headlabel" in attrs:
                    attrs["taillabel"] = attrs.pop("headlabel")
                tail, head, tail_port, head_port = head, tail, head_port, tail_port
            dot.edge(_end(tail, tail_port), _end(head, head_port), **attrs)
        return kinds

    def _port(self, box: str, source: str, side: str) -> str | None:
        """Where an edge meets a folded box: its port cell, on the side the flow comes from or goes to."""
        port = self.folding.port(box, source, side)
        if port is None:
            return None
        downstream = (side == "out") != (box in self.climbing)
        after, before = ("e", "w") if self.options.rankdir == "LR" else ("s", "n")
        return f"{port}:{after if downstream else before}"

    def _order_columns(self, dot: graphviz.Digraph, first_row: list[str]) -> None:
        """Invisible edges along the first row put the columns left to right in reading order."""
        tops = sorted((self.layout.columns[box], box) for box in first_row if box in self.layout.columns)
        tops = list(dict((column, box) for column, box in reversed(tops)).items())
        tops.sort()
        for (_, left), (_, right) in itertools.pairwise(tops):
            dot.edge(left, right, style="invis", weight="0")

    def _edge_attrs(self, edge: EdgeSpec, shape: Shape | None, *, aside: bool = False) -> dict[str, str]:
        style = EDGE_STYLES[edge.kind]
        glyph = CONNECTIONS[edge.kind].glyph
        label = labels.shape_text(shape) if self.options.shapes and shape is not None else ""
        if edge.target in self.graph:
            label = " ".join(filter(None, [label, labels.connection_label(self.graph, edge)]))
        attrs = {
            "id": f"edge-{edge.index}", "color": style.color, "style": style.style,
            "penwidth": str(style.penwidth), "tooltip": f"{edge.kind} {edge.source} -> {edge.target}",
            ("xlabel" if aside else "label"): f" {label} " if label else "",
            "fontcolor": "#78909c" if edge.kind == "plain" else style.color,
            "weight": "4" if edge.kind == "plain" else "1",
        }
        if glyph:
            attrs.update(headlabel=glyph, labelfontcolor=style.color, labelfontsize="18",
                         labeldistance="1.4", labelangle="-40")
        if edge.index in self.edge_errors:
            attrs.update(color=ERROR_COLOR, fontcolor=ERROR_COLOR, labelfontcolor=ERROR_COLOR,
                         penwidth="3", tooltip=str(self.edge_errors[edge.index][0]))
        return attrs

    def _add_missing(self, dot: graphviz.Digraph) -> None:
        """Edges the graph could not take (an unknown endpoint): drawn in red to a dashed stand-in."""
        drawn = {data.index for _, _, data in self.graph.edges(data=True)}
        for edge in self.edges.values():
            if edge.index in drawn:
                continue
            ends = []
            for name in (edge.source, edge.target):
                if name in self.graph:
                    ends.append(self.head[name])
                else:
                    ends.append(labels.dot_text(f"missing-{name}"))
                    dot.node(ends[-1], id=ends[-1], label=labels.dot_text(f"{name}?\nnot defined"),
                             style="dashed", color=ERROR_COLOR, fontcolor=ERROR_COLOR, penwidth="2")
            attrs = self._edge_attrs(edge, None)
            attrs.update(color=ERROR_COLOR, fontcolor=ERROR_COLOR, penwidth="3")
            dot.edge(*ends, **attrs)

    def _add_legend(self, dot: graphviz.Digraph, kinds: Iterable[str]) -> None:
        present = [kind for kind in EDGE_STYLES if kind in set(kinds)]
        if present in ([], ["plain"]):
            return  # a plain chain needs no key
        label = labels.legend(present)
        with dot.subgraph(name="legend_rank") as sink:
            sink.attr(rank="sink")
            sink.node("legend", id="legend", label=label, shape="box", style="rounded",
                      color="#cfd8dc", fontsize="11")


def _end(box: str, port: str | None) -> str:
    """An edge end in DOT: the box, or `box:port` (graphviz quotes each part)."""
    return f"{box}:{port}" if port else box
