"""One spec as the preview page shows it: the SVG diagram, the summary, the errors, and each box's YAML and shapes.

The diagram is built by the same code as `archspec render` (an invalid spec
is drawn with its problems in red); graphviz's `dot` runs as a subprocess
with a time limit, so a spec whose layout never ends cannot hang the page.
The last drawing of a valid version is kept, to show beside a broken one.
"""

from __future__ import annotations

import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import networkx as nx

from archspec.draw.diagram import RenderOptions, build_diagram
from archspec.draw.fold import block_uses_of
from archspec.errors import ArchspecError, flatten_errors
from archspec.graph.summary import summary_table
from archspec.lsp.bases import spec_files
from archspec.lsp.describe import describe_block_use, describe_node
from archspec.serve.run_folder import run_files, run_payload
from archspec.spec.syntax import LINE_BREAK

RENDER_TIMEOUT = 10.0
"""Seconds `dot` may take to lay a diagram out (ResNet-50 expanded takes well under one)."""


@dataclass
class SpecView:
    """One served spec and what the page last drew of it."""

    path: Path
    name: str
    timeout: float = RENDER_TIMEOUT
    run: Path | None = None
    """The run folder the spec came from (`archspec serve runs/X`): its curves and samples are shown too."""
    last_valid: dict[bool, str] = field(default_factory=dict)
    """The SVG of the last valid version, per fold setting."""

    def files(self) -> list[Path]:
        """What to watch: the spec, its bases, and the run's curves and samples."""
        return spec_files(self.path) + (run_files(self.run) if self.run is not None else [])

    def payload(self, fold: bool) -> dict[str, Any]:
        """What the page needs to draw this spec now (read from disk)."""
        result: dict[str, Any] = {"name": self.name, "file": str(self.path), "svg": None, "errors": [],
                                  "summary": None, "nodes": {}, "valid": False}
        try:
            diagram = build_diagram(self.path, RenderOptions(fold=fold))
            graph = diagram.graph
            result["errors"] = [str(error) for error in diagram.errors]
            result["svg"] = self._svg(diagram.digraph.source)
            result["nodes"] = node_panels(graph) if graph is not None else {}
            if not diagram.errors:
                result["summary"] = summary_table(graph)
        except ArchspecError as error:
            result["errors"] = [str(problem) for problem in flatten_errors(error)] or [str(error)]
        except OSError as error:
            result["errors"] = [f"cannot read {self.path}: {error.strerror or error}"]
        result["valid"] = not result["errors"]
        if result["valid"] and result["svg"]:
            self.last_valid[fold] = result["svg"]
        result["last_valid_svg"] = None if result["valid"] else self.last_valid.get(fold)
        result["run"] = run_payload(self.run) if self.run is not None else None
        return result

    def _svg(self, source: str) -> str:
        try:
            done = subprocess.run(["dot", "-Tsvg"], input=source.encode(), capture_output=True,
                                  timeout=self.timeout, check=False)
        except subprocess.TimeoutExpired:
            raise ArchspecError(f"{self.path}: drawing took longer than {self.timeout:g} s and was stopped "
                                "(graphviz's dot did not finish the layout)") from None
        except FileNotFoundError:
            raise ArchspecError("graphviz's `dot` program was not found: install graphviz "
                                "(`apt-get install graphviz`)") from None
        if done.returncode != 0:
            raise ArchspecError(f"graphviz's dot failed: {done.stderr.decode(errors='replace').strip()}")
        text = done.stdout.decode("utf-8", errors="replace")
        return text[text.find("<svg"):]  # the XML prolog and doctype are not for inline SVG


def node_panels(graph: nx.MultiDiGraph) -> dict[str, dict[str, str]]:
    """For each box id of the diagram (`node-NAME`, or a folded use's `node-USE`): its YAML lines and shapes."""
    texts: dict[str, list[str]] = {}
    panels = {}
    for name, data in graph.nodes(data=True):
        location = data.location
        if location is None or not location.line:
            continue
        if location.file not in texts:
            texts[location.file] = _lines(location.file)
        panels[name] = {"where": str(location), "yaml": _entry(texts[location.file], location.line),
                        "info": _plain(describe_node(graph, name))}
    for frames in block_uses_of(graph).values():
        use = frames[0].use if frames else None
        if use is not None and use not in panels:
            text = describe_block_use(graph, use)
            if text:
                panels[use] = {"where": "", "yaml": "", "info": _plain(text)}
    return panels


def _plain(markdown: str) -> str:
    """The hover's markdown as the page's plain text (no emphasis marks or code fences)."""
    return markdown.replace("```yaml\n", "").replace("```", "").replace("**", "").replace("`", "").strip()


def _lines(file: str) -> list[str]:
    try:
        return LINE_BREAK.split(Path(file).read_text(encoding="utf-8", errors="replace"))
    except OSError:
        return []


def _entry(lines: list[str], line: int) -> str:
    """The YAML of an entry: its line and the more-indented lines under it (a block-style node)."""
    if not 0 < line <= len(lines):
        return ""
    first = lines[line - 1]
    indent = len(first) - len(first.lstrip())
    entry = [first]
    for text in lines[line:line + 40]:
        if text.strip() and len(text) - len(text.lstrip()) <= indent:
            break
        entry.append(text)
    return "\n".join(entry).rstrip()
