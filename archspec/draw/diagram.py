"""DAG -> graphviz diagram: the picture of a spec, drawn without TensorFlow.

Two steps, as keras does it (`model_to_dot` builds, `plot_model` writes):
`build_diagram` turns a spec into a `graphviz.Digraph` (and the spec's
problems, drawn in red), `write_diagram` runs graphviz's `dot` to make the
file. Each node shows its name, op, key parameters and output shape; each
edge kind has its own colour, line style and merge glyph at the target
(`EDGE_STYLES`, glyphs from `archspec.catalogue.connections`), and a legend lists the
kinds that appear.

The work is split by job: `labels` (styles and label text), `fold` (which
nodes one box stands for: `--compact`, `--fold`, `--expand`), `layout`
(rows and columns: encoder-decoder level bands, long nets wrapped into
columns), `drawing` (the Digraph).

SVG ids are stable so that tools (and tests) can find things: `node-NAME`
(a folded block use: `node-USE`), `edge-INDEX` (the edge's position in the file), `legend`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import graphviz
import networkx as nx

from archspec.draw.drawing import Drawing, RenderOptions
from archspec.draw.fold import Folding, fold_blocks
from archspec.draw.labels import EDGE_STYLES, ERROR_COLOR, FAMILY_FILLS, FONT, EdgeStyle
from archspec.errors import RenderError, SpecError, did_you_mean, raise_collected
from archspec.graph.shapes import analyze_partial
from archspec.spec.models import Spec

FORMATS = ("svg", "png", "pdf", "dot")
INSTALL_HINT = "install graphviz: `apt-get install graphviz` (Debian/Ubuntu) or `brew install graphviz` (macOS)"


@dataclass
class Diagram:
    """A built diagram and the spec's problems (drawn in red); `errors` is empty for a valid spec."""

    digraph: graphviz.Digraph
    errors: list[SpecError] = field(default_factory=list)


def render(source: str | Path | Spec | nx.MultiDiGraph, *, rankdir: str = "TB", shapes: bool = True,
           params: bool = False, highlight: Iterable[str] = (), compact: bool = False,
           partial: bool = False, fold: bool = False, expand: Iterable[str] = ()) -> graphviz.Digraph:
    """The diagram of a spec as a graphviz.Digraph (then `write_diagram`, `.pipe()` or `.source`).

    The options are those of `archspec render`. An invalid spec raises its
    errors, unless `partial` is true: then the digraph shows them in red.
    """
    options = RenderOptions(rankdir=rankdir, shapes=shapes, params=params, highlight=tuple(highlight),
                            compact=compact, fold=fold, expand=tuple(expand))
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
    fold = options.fold or bool(options.expand)  # opening a use implies folding the others
    folding = fold_blocks(graph, options.expand) if fold else Folding({})
    return Diagram(Drawing(graph, spec, errors, options, folding).digraph(), errors)


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


__all__ = ["EDGE_STYLES", "ERROR_COLOR", "FAMILY_FILLS", "FONT", "FORMATS", "Diagram", "EdgeStyle",
           "RenderOptions", "build_diagram", "render", "write_diagram"]
