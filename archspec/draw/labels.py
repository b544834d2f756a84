"""How things look: edge styles per kind, fills per op family, and the text of HTML-like labels.

graphviz reads labels in two languages (HTML-like tables, quoted DOT strings),
each with its own escapes; every piece of user text goes through `escape`
or `dot_text` here, so a node name holding `<`, `&` or `\\` draws as written.
"""

from __future__ import annotations

import html
import textwrap

import graphviz
import networkx as nx

from archspec.catalogue.connections import CONNECTIONS, EdgeStyle
from archspec.catalogue.ops import Op, Shape, format_shape
from archspec.graph.ir import node_of
from archspec.spec.models import EdgeSpec

ERROR_COLOR = "#d32f2f"
FONT = "Helvetica"


EDGE_STYLES: dict[str, EdgeStyle] = {kind: connection.style for kind, connection in CONNECTIONS.items()}
"""Each edge kind's look, as its `Connection` declares it (a new kind brings its own)."""

FAMILY_FILLS: dict[str, str] = {
    "input": "#e8f5e9",
    "conv": "#e3f2fd",
    "dense": "#fff8e1",
    "merge": "#f3e5f5",
    "attention": "#ede7f6",
    "keep": "#f5f5f5",
    "other": "white",
    "block": "#fffde7",
}
"""Node fill by the `family` an op declares (`input`: an input node, `block`: a folded block use);
docs/render.md shows the same table."""


def family_fill(op: Op) -> str:
    """The fill of a box drawing `op`."""
    return FAMILY_FILLS[op.family]


POINTS_PER_CHAR = 6.6
"""Average width of a character of the label fonts, in points, for estimating a box before dot runs."""
POINTS_PER_LINE = 15.0


def table(rows: list[str], *, ports: tuple[list[str], list[str]] | None = None, climbing: bool = False) -> str:
    """An HTML-like label, one row a line (rows of a table keep their spacing; <br/> lines overlap).

    `ports` (inputs, outputs) adds a row of named cells above and below, which
    edges attach to (`node:in_0`, `node:out_0`); `climbing` (a box the flow
    goes up through, in a decoder) puts the outputs above and the inputs below.
    """
    cells = "".join(f"<tr><td>{row}</td></tr>" for row in rows)
    if ports is None:
        return f'<<table border="0" cellborder="0" cellspacing="0" cellpadding="1">{cells}</table>>'
    inputs, outputs = ports
    body = f'<table border="0" cellborder="0" cellspacing="0" cellpadding="1">{cells}</table>'
    top, bottom = _port_row("in", inputs), _port_row("out", outputs)
    if climbing:
        top, bottom = bottom, top
    return (f'<<table border="0" cellborder="0" cellspacing="0" cellpadding="0">'
            f'<tr><td>{top}</td></tr><tr><td>{body}</td></tr><tr><td>{bottom}</td></tr></table>>')


def legend(kinds: list[str]) -> str:
    """The legend's label: a sample line, the merge glyph and the name of each edge kind drawn."""
    rows = []
    for kind in kinds:
        style = EDGE_STYLES[kind]
        glyph = CONNECTIONS[kind].glyph or " "
        rows.append(
            f'<tr><td align="left"><font color="{style.color}" point-size="14"><b>{style.sample}</b></font></td>'
            f'<td><font color="{style.color}" point-size="14">{glyph}</font></td>'
            f'<td align="left">{kind}</td></tr>'
        )
    return ('<<table border="0" cellborder="0" cellspacing="0" cellpadding="3">'
            '<tr><td colspan="3" align="left"><b>edges</b></td></tr>' + "".join(rows) + "</table>>")


def _port_row(side: str, names: list[str]) -> str:
    cells = "".join(
        f'<td port="{side}_{index}" border="1" color="#b0bec5" bgcolor="white">'
        f'<font point-size="9" color="#607d8b">{escape(name)}</font></td>'
        for index, name in enumerate(names))
    return f'<table border="0" cellborder="0" cellspacing="2" cellpadding="2"><tr>{cells}</tr></table>'


def wrap(text: str, width: int) -> list[str]:
    """Lines of at most `width` characters, escaped for an HTML-like label; 'concat-skip' stays whole."""
    return [escape(line) for line in textwrap.wrap(text, width, break_on_hyphens=False)]


def escape(text: str) -> str:
    """Text for an HTML-like label (node tables, the title): markup characters become entities."""
    return html.escape(text, quote=False)


def dot_text(text: str) -> str:
    """Text for a quoted DOT id or plain label, taken literally: a name may hold any character.

    graphviz reads `\\` in a quoted string as an escape (a name ending in one ends the string
    early, and `dot` fails), `<...>` as HTML and `&amp;` as an entity, even in a plain label;
    `graphviz.escape` doubles the backslashes and marks the text as not HTML, and quoting then
    escapes every double quote.
    """
    return graphviz.escape(text.replace("&", "&amp;"))


def shape_text(shape: Shape) -> str:
    return format_shape(shape).replace("x", "×")


def connection_label(graph: nx.MultiDiGraph, edge: EdgeSpec) -> str:
    """What the edge's kind writes on it (a gate's activation), given its target's plain inputs."""
    plan = node_of(graph, edge.target).plan
    mains = len(plan.mains) if plan else 1
    return CONNECTIONS[edge.kind].label(edge, mains)


def estimate(texts: list[str]) -> tuple[float, float]:
    """(width, height) in points of a box whose label has these lines (markup counted out)."""
    plain = [html.unescape(_strip_tags(text)) for text in texts]
    width = max((len(line) for line in plain), default=4) * POINTS_PER_CHAR + 20
    return width, len(plain) * POINTS_PER_LINE + 10


def _strip_tags(text: str) -> str:
    out, inside = [], False
    for char in text:
        if char == "<":
            inside = True
        elif char == ">":
            inside = False
        elif not inside:
            out.append(char)
    return "".join(out)
