"""DAG -> graphviz diagram: the picture of a spec, drawn without TensorFlow.

Two steps, as keras does it (`model_to_dot` builds, `plot_model` writes):
`build_diagram` turns a spec into a `graphviz.Digraph` (and the spec's
problems, drawn in red), `write_diagram` runs graphviz's `dot` to make the
file. Each node shows its name, op, key parameters and output shape; each
edge kind has its own colour, line style and merge glyph at the target
(`EDGE_STYLES`, glyphs from `archspec.graph.connections`), and a legend lists the
kinds that appear. Encoder-decoder nets (U-Nets) are drawn with one row per
spatial size, so that a long skip runs straight across to its decoder level.

SVG ids are stable so that tools (and tests) can find things: `node-NAME`,
`edge-INDEX` (the edge's position in the file), `legend`.
"""

from __future__ import annotations

import html
import textwrap
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import graphviz
import networkx as nx

from archspec.errors import RenderError, SpecError, did_you_mean, raise_collected
from archspec.graph.connections import CONNECTIONS
from archspec.graph.ops import OPS, Shape, format_shape
from archspec.graph.shapes import analyze_partial
from archspec.graph.summary import node_params
from archspec.spec.models import EdgeSpec, Spec

FORMATS = ("svg", "png", "pdf", "dot")
INSTALL_HINT = "install graphviz: `apt-get install graphviz` (Debian/Ubuntu) or `brew install graphviz` (macOS)"
ERROR_COLOR = "#d32f2f"
FONT = "Helvetica"


@dataclass(frozen=True)
class EdgeStyle:
    """How one edge kind is drawn; `sample` draws its line in the legend."""

    color: str
    style: str
    penwidth: float
    sample: str


EDGE_STYLES: dict[str, EdgeStyle] = {
    "plain": EdgeStyle("#546e7a", "solid", 1.3, "────"),
    "concat-skip": EdgeStyle("#1e88e5", "dashed", 2.0, "╌╌╌╌"),
    "add-residual": EdgeStyle("#2e7d32", "bold", 2.6, "━━━━"),
    "gate": EdgeStyle("#ef6c00", "dotted", 2.4, "┈┈┈┈"),
    "attention": EdgeStyle("#8e24aa", "dashed", 2.6, "╍╍╍╍"),
}
"""One style per edge kind in `archspec.graph.connections.CONNECTIONS`."""

FAMILY_FILLS: dict[str, str] = {
    "input": "#e8f5e9",
    "conv": "#e3f2fd",
    "core": "#fff8e1",
    "merge": "#f3e5f5",
    "attention": "#ede7f6",
    "foldable": "#f5f5f5",
}
"""Node fill by op family: the `archspec.graph.ops` module an op lives in."""


@dataclass(frozen=True)
class RenderOptions:
    """What `archspec render` draws; the defaults are the command's."""

    rankdir: str = "TB"
    shapes: bool = True
    params: bool = False
    highlight: tuple[str, ...] = ()
    compact: bool = False


@dataclass
class Diagram:
    """A built diagram and the spec's problems (drawn in red); `errors` is empty for a valid spec."""

    digraph: graphviz.Digraph
    errors: list[SpecError] = field(default_factory=list)


def render(source: str | Path | Spec | nx.MultiDiGraph, *, rankdir: str = "TB", shapes: bool = True,
           params: bool = False, highlight: Iterable[str] = (), compact: bool = False,
           partial: bool = False) -> graphviz.Digraph:
    """The diagram of a spec as a graphviz.Digraph (then `write_diagram`, `.pipe()` or `.source`).

    The options are those of `archspec render`. An invalid spec raises its
    errors, unless `partial` is true: then the digraph shows them in red.
    """
    options = RenderOptions(rankdir=rankdir, shapes=shapes, params=params,
                            highlight=tuple(highlight), compact=compact)
    diagram = build_diagram(source, options)
    if not partial:
        raise_collected(diagram.errors)
    return diagram.digraph


def build_diagram(source: str | Path | Spec | nx.MultiDiGraph,
                  options: RenderOptions = RenderOptions()) -> Diagram:
    """Draw as much of the spec as is valid; YAML and schema errors raise (nothing to draw)."""
    if options.rankdir not in ("TB", "LR"):
        raise RenderError(f"rankdir must be TB or LR, got {options.rankdir!r}")
    graph, errors = analyze_partial(source)
    spec: Spec = graph.graph["spec"]
    unknown = [name for name in options.highlight if name not in graph]
    if unknown:
        raise RenderError(f"--highlight: no node named '{unknown[0]}' in {spec.file}"
                          + _hint(did_you_mean(unknown[0], graph.nodes)))
    return Diagram(_Drawing(graph, spec, errors, options).digraph(), errors)


def write_diagram(digraph: graphviz.Digraph, path: str | Path, format: str = "svg") -> Path:
    """Write the diagram with graphviz's `dot`; without it, write the .dot source and raise RenderError."""
    path = Path(path)
    if format not in FORMATS:
        raise RenderError(f"unknown format {format!r}; use one of {', '.join(FORMATS)}")
    if format == "dot":
        path.write_text(digraph.source)
        return path
    if format == "png":
        digraph = digraph.copy()
        digraph.attr(dpi="120")
    try:
        data = digraph.pipe(format=format, quiet=True)  # dot's layout warnings are not the user's
    except graphviz.CalledProcessError as error:
        raise RenderError(f"graphviz's `dot` failed on {path.name}: "
                          f"{(error.stderr or b'').decode(errors='replace').strip()}") from None
    except graphviz.ExecutableNotFound:
        source = path.with_suffix(".dot")
        source.write_text(digraph.source)
        raise RenderError(
            f"graphviz's `dot` program was not found, so {path} was not made; wrote {source} "
            f"instead ({INSTALL_HINT}, then run the command again)"
        ) from None
    path.write_bytes(data)
    return path


def _hint(text: str | None) -> str:
    return f"; {text}" if text else ""


class _Drawing:
    """One drawing of one graph: decides grouping, styles and layout, then emits the Digraph."""

    def __init__(self, graph: nx.MultiDiGraph, spec: Spec, errors: list[SpecError],
                 options: RenderOptions) -> None:
        self.graph = graph
        self.spec = spec
        self.options = options
        self.node_errors = _node_errors(graph, errors)
        self.edges = {edge.index: edge for edge in spec.edges}
        self.edges.update((data["index"], data["spec"]) for _, _, data in graph.edges(data=True))
        self.edge_errors = _edge_errors(list(self.edges.values()), errors)
        self.head = _fold(graph, self.node_errors) if options.compact else {n: n for n in graph}
        self.levels = _spatial_levels(graph)
        self.spine = set() if self.levels else {self.head[name] for name in _main_path(graph)}

    def digraph(self) -> graphviz.Digraph:
        dot = graphviz.Digraph(_dot_text(self.spec.name), graph_attr={
            "rankdir": self.options.rankdir, "label": self._title(), "labelloc": "t",
            "fontname": FONT, "nodesep": "0.35", "ranksep": "0.45", "bgcolor": "white",
            "id": "graph", "newrank": "true",
        }, node_attr={"fontname": FONT, "shape": "box", "style": "rounded,filled",
                      "color": "#90a4ae", "penwidth": "1.2", "margin": "0.12,0.06"},
            edge_attr={"fontname": FONT, "fontsize": "9", "fontcolor": "#78909c",
                       "arrowsize": "0.7"})
        for name in self.graph.nodes:
            if self.head[name] == name:
                self._add_node(dot, name)
        for level in self.levels.values():
            with dot.subgraph() as row:
                row.attr(rank="same")
                for name in dict.fromkeys(self.head[n] for n in level):
                    row.node(name)
        kinds = self._add_edges(dot)
        self._add_missing(dot)
        self._add_legend(dot, kinds)
        return dot

    # nodes

    def _title(self) -> str:
        lines = [f'<font point-size="16"><b>{_escape(self.spec.name)}</b></font>']
        if self.spec.doc:
            lines += [_escape(line) for line in textwrap.wrap(self.spec.doc, 90)]
        if self.options.params:
            total = sum(self._params(name) or 0 for name in self.graph.nodes)
            lines.append(f"{total:,} parameters")
        return "<" + "<br/>".join(lines) + "<br/> >"

    def _add_node(self, dot: graphviz.Digraph, name: str) -> None:
        members = [member for member in self.graph.nodes if self.head[member] == name]
        data = self.graph.nodes[name]
        rows = [f'<font point-size="13"><b>{_escape(name)}</b></font>']
        rows += [f'<font color="#455a64" point-size="11">{line}</font>' for line in self._op_lines(name)]
        for member in members[1:]:  # folded by --compact; their names are in the tooltip
            rows += [f'<font color="#78909c" point-size="10">{line}</font>'
                     for line in self._op_lines(member, prefix="+ ")]
        last = self.graph.nodes[members[-1]]
        if self.options.shapes and last.get("shape") is not None:
            rows.append(f'<font point-size="11">{_shape(last["shape"])}</font>')
        if self.options.params and data["kind"] != "input":
            count = sum(self._params(member) or 0 for member in members)
            rows.append(f'<font color="#6d4c41" point-size="10">{count:,} params</font>')
        problems = [error for member in members for error in self.node_errors.get(member, [])]
        for error in problems[:2]:
            rows += [f'<font color="{ERROR_COLOR}" point-size="10">{line}</font>'
                     for line in _wrap("✗ " + textwrap.shorten(error.message, 98), 38)]
        attrs = {"id": f"node-{name}", "fillcolor": self._fill(name), "tooltip": " + ".join(members),
                 "label": _table(rows)}
        if name in self.spine:
            attrs["group"] = "spine"  # dot keeps a group's edges straight
        if name in self.graph.graph["outputs"] or members[-1] in self.graph.graph["outputs"]:
            attrs.update(peripheries="2")
        if any(member in self.options.highlight for member in members):
            attrs.update(color="#f9a825", penwidth="4", fillcolor="#fff59d")
        if problems:
            attrs.update(color=ERROR_COLOR, penwidth="3", fillcolor="#ffebee", fontcolor=ERROR_COLOR)
        dot.node(name, **attrs)

    def _op_lines(self, name: str, *, prefix: str = "") -> list[str]:
        data = self.graph.nodes[name]
        if data["kind"] == "input":
            return [f"{prefix}input"]
        details = OPS[data["op"]].summary(data["params"]).removeprefix(f"{data['op']}=")
        text = f"{prefix}{data['op']}" + (f" {details}" if details else "")
        return _wrap(text, 30)

    def _fill(self, name: str) -> str:
        data = self.graph.nodes[name]
        if data["kind"] == "input":
            return FAMILY_FILLS["input"]
        op = OPS[data["op"]]
        family = "foldable" if op.foldable else type(op).__module__.rsplit(".", 1)[-1]
        return FAMILY_FILLS.get(family, "white")

    def _params(self, name: str) -> int | None:
        data = self.graph.nodes[name]
        if data["kind"] != "input" and data.get("shape") is None:
            return None
        return node_params(self.graph, name)

    # edges

    def _add_edges(self, dot: graphviz.Digraph) -> list[str]:
        kinds = []
        for source, target, data in self.graph.edges(data=True):
            tail, head = self.head[source], self.head[target]
            if tail == head:
                continue  # folded into one node by --compact
            edge: EdgeSpec = data["spec"]
            kinds.append(edge.kind)
            up = self._goes_up(source, target)
            # in a level layout, skips across a row and decoder edges up a level would run
            # through labels of their own: their labels step aside (xlabel)
            aside = bool(self.levels) and (edge.kind != "plain" or up)
            attrs = self._edge_attrs(edge, data.get("shape"), aside=aside)
            if up:  # laid out reversed (drawn forward): the decoder stays on its level, above its source
                attrs["dir"] = "back"
                if "headlabel" in attrs:
                    attrs["taillabel"] = attrs.pop("headlabel")
                tail, head = head, tail
            dot.edge(tail, head, **attrs)
        return kinds

    def _edge_attrs(self, edge: EdgeSpec, shape: Shape | None, *, aside: bool = False) -> dict[str, str]:
        style = EDGE_STYLES[edge.kind]
        glyph = CONNECTIONS[edge.kind].glyph
        label = _shape(shape) if self.options.shapes and shape is not None else ""
        if edge.target in self.graph:
            label = " ".join(filter(None, [label, _connection_label(self.graph, edge)]))
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

    def _goes_up(self, source: str, target: str) -> bool:
        """An edge into a larger spatial size (a decoder's upsampling) in a level layout."""
        if not self.levels:
            return False
        before = _spatial(self.graph.nodes[source].get("shape"))
        after = _spatial(self.graph.nodes[target].get("shape"))
        return before is not None and after is not None and after > before

    def _add_missing(self, dot: graphviz.Digraph) -> None:
        """Edges the graph could not take (an unknown endpoint): drawn in red to a dashed stand-in."""
        drawn = {data["index"] for _, _, data in self.graph.edges(data=True)}
        for edge in self.edges.values():
            if edge.index in drawn:
                continue
            ends = []
            for name in (edge.source, edge.target):
                if name in self.graph:
                    ends.append(self.head[name])
                else:
                    ends.append(_dot_text(f"missing-{name}"))
                    dot.node(ends[-1], id=ends[-1], label=_dot_text(f"{name}?\nnot defined"), style="dashed",
                             color=ERROR_COLOR, fontcolor=ERROR_COLOR, penwidth="2")
            attrs = self._edge_attrs(edge, None)
            attrs.update(color=ERROR_COLOR, fontcolor=ERROR_COLOR, penwidth="3")
            dot.edge(*ends, **attrs)

    def _add_legend(self, dot: graphviz.Digraph, kinds: Iterable[str]) -> None:
        present = [kind for kind in EDGE_STYLES if kind in set(kinds)]
        if present in ([], ["plain"]):
            return  # a plain chain needs no key
        rows = []
        for kind in present:
            style = EDGE_STYLES[kind]
            glyph = CONNECTIONS[kind].glyph or " "
            rows.append(
                f'<tr><td align="left"><font color="{style.color}" point-size="14"><b>{style.sample}</b></font></td>'
                f'<td><font color="{style.color}" point-size="14">{glyph}</font></td>'
                f'<td align="left">{kind}</td></tr>'
            )
        label = ('<<table border="0" cellborder="0" cellspacing="0" cellpadding="3">'
                 '<tr><td colspan="3" align="left"><b>edges</b></td></tr>' + "".join(rows) + "</table>>")
        with dot.subgraph(name="legend_rank") as sink:
            sink.attr(rank="sink")
            sink.node("legend", id="legend", label=label, shape="box", style="rounded",
                      color="#cfd8dc", fontsize="11")


def _table(rows: list[str]) -> str:
    """An HTML-like label, one row a line (rows of a table keep their spacing; <br/> lines overlap)."""
    cells = "".join(f"<tr><td>{row}</td></tr>" for row in rows)
    return f'<<table border="0" cellborder="0" cellspacing="0" cellpadding="1">{cells}</table>>'


def _wrap(text: str, width: int) -> list[str]:
    """Lines of at most `width` characters, escaped for an HTML-like label; 'concat-skip' stays whole."""
    return [_escape(line) for line in textwrap.wrap(text, width, break_on_hyphens=False)]


def _escape(text: str) -> str:
    """Text for an HTML-like label (node tables, the title): markup characters become entities."""
    return html.escape(text, quote=False)


def _dot_text(text: str) -> str:
    """Text for a quoted DOT id or plain label, taken literally: a name may hold any character.

    graphviz reads `\\` in a quoted string as an escape (a name ending in one ends the string
    early, and `dot` fails), `<...>` as HTML and `&amp;` as an entity, even in a plain label;
    `graphviz.escape` doubles the backslashes and marks the text as not HTML, and quoting then
    escapes every double quote.
    """
    return graphviz.escape(text.replace("&", "&amp;"))


def _shape(shape: Shape) -> str:
    return format_shape(shape).replace("x", "×")


def _connection_label(graph: nx.MultiDiGraph, edge: EdgeSpec) -> str:
    """What the edge's kind writes on it (a gate's activation), given its target's plain inputs."""
    plan = graph.nodes[edge.target].get("plan")
    mains = len(plan.mains) if plan else 1
    return CONNECTIONS[edge.kind].label(edge, mains)


def _spatial(shape: Shape | None) -> int | None:
    """The height of an image shape (h, w, c), the size a U-Net level is known by; else None."""
    if shape is None or len(shape) != 3:
        return None
    return shape[0]


def _spatial_levels(graph: nx.MultiDiGraph) -> dict[int, list[str]]:
    """Nodes by spatial size, when the net climbs back to a size it had (an encoder-decoder).

    Putting every node of one size on one rank lines the decoder up with the
    encoder level it mirrors, so long skips run straight across. Growing to a
    new size (zero padding before a ResNet stem) is not a decoder.
    """
    sizes = {name: _spatial(data.get("shape")) for name, data in graph.nodes(data=True)}
    if not nx.is_directed_acyclic_graph(graph):
        return {}
    decodes = any(
        sizes[source] is not None and sizes[target] is not None and sizes[target] > sizes[source]
        and sizes[target] in {sizes[before] for before in nx.ancestors(graph, source)}
        for source, target in graph.edges()
    )
    if not decodes:
        return {}
    levels: dict[int, list[str]] = {}
    for name, size in sizes.items():
        if size is not None:
            levels.setdefault(size, []).append(name)
    return levels


def _main_path(graph: nx.MultiDiGraph) -> list[str]:
    """The longest chain of plain edges, the spine that the drawing keeps straight."""
    if not nx.is_directed_acyclic_graph(graph):
        return []
    plain = nx.DiGraph()
    plain.add_edges_from((source, target) for source, target, kind in graph.edges(data="kind")
                         if kind == "plain")
    return nx.dag_longest_path(plain)


def _fold(graph: nx.MultiDiGraph, errors: dict[str, list[SpecError]]) -> dict[str, str]:
    """For --compact: each node's group head. A foldable op whose only input is a plain edge from a
    node with no other consumer joins that node's group (conv -> batch_norm -> relu is one box)."""
    head = {name: name for name in graph.nodes}
    for name in nx.topological_sort(graph) if nx.is_directed_acyclic_graph(graph) else ():
        data = graph.nodes[name]
        in_edges = list(graph.in_edges(name, data=True))
        if data["kind"] != "op" or not OPS[data["op"]].foldable or len(in_edges) != 1:
            continue
        source, _, edge = in_edges[0]
        if (edge["kind"] == "plain" and graph.out_degree(source) == 1
                and graph.nodes[source]["kind"] == "op" and name not in errors):
            head[name] = head[source]
    return head


def _node_errors(graph: nx.MultiDiGraph, errors: list[SpecError]) -> dict[str, list[SpecError]]:
    """Errors by the node they are about: the one they name, or the one written where they point."""
    by_location = {data["location"]: name for name, data in graph.nodes(data=True)}
    found: dict[str, list[SpecError]] = {}
    for error in errors:
        name = error.node if error.node in graph else by_location.get(error.location)
        if name is not None:
            found.setdefault(name, []).append(error)
    return found


def _edge_errors(edges: list[EdgeSpec], errors: list[SpecError]) -> dict[int, list[SpecError]]:
    """Errors by the index of the edge written where they point (an edge error's `edge` names it)."""
    found: dict[int, list[SpecError]] = {}
    for error in errors:
        candidates = [edge for edge in edges if edge.location == error.location]
        if error.edge:
            candidates = [e for e in candidates if error.edge == f"{e.kind} {e.source} -> {e.target}"]
        for edge in candidates:
            found.setdefault(edge.index, []).append(error)
    return found


__all__ = ["EDGE_STYLES", "FORMATS", "Diagram", "RenderOptions", "build_diagram", "render",
           "write_diagram"]
