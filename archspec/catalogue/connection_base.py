"""What every edge kind is made of: the node's sorted inputs, the params base, the drawing style and the
`Connection` class (archspec.catalogue.connections lists the kinds; attention_edges holds the two that feed
an attention node)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict

from archspec.catalogue.primitives import Application, Operand, Shape, Step


@dataclass
class NodeInputs:
    """A node's in-edges sorted by role, as the connections file them (see `Connection.collect`)."""

    target: str
    op: Any
    """The target's Op (its `name` and `arity`)."""
    location: Any = None
    mains: list[Any] = field(default_factory=list)
    merges: list[Any] = field(default_factory=list)
    attention: Any = None
    mask: Any = None
    relative: Any = None
    text_location: Any = None
    """Where an `expr` node's expression text starts (its errors point at a token of it)."""


class EdgeParams(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


@dataclass(frozen=True)
class EdgeStyle:
    """How `render` draws one edge kind: line colour, graphviz line style and width; `sample` draws the
    line in the legend."""

    color: str
    style: str
    penwidth: float
    sample: str


class Connection:
    """One edge kind. `glyph` is what `render` draws at the target, `style` how it draws the line."""

    kind: ClassVar[str]
    Params: ClassVar[type[EdgeParams]]
    doc: ClassVar[str]
    style: ClassVar[EdgeStyle]
    glyph: ClassVar[str] = ""
    merges: ClassVar[bool] = True
    """False for edges that do not change the main input (plain, attention)."""

    def collect(self, edge: Any, inputs: NodeInputs) -> None:
        """File `edge` among its target's inputs; raise GraphError if the target cannot take it."""
        inputs.merges.append(edge)

    def application(self, edge: Any, mains: list[Any]) -> Application:
        """What a merge edge does to the main input, once the node's plain edges `mains` are known."""
        return Application(
            (None, edge.source),
            shape=lambda operands: self.merge_shape(edge.params, operands[0], operands[1]),
            lower=lambda args, target, shapes: self.lower(edge.params, args[0], args[1], target),
            edge=edge,
            names_main=True,
            intended=lambda operands: self.intended_shape(edge.params, operands[0], operands[1]),
        )

    def label(self, edge: Any, mains: int) -> str:
        """Words drawn on the edge besides its shape (a gate's activation)."""
        return ""

    def merge_shape(self, params: Any, main: Operand, source: Operand) -> Shape:
        raise NotImplementedError

    def intended_shape(self, params: Any, main: Operand, source: Operand) -> Shape | None:
        """The shape the merge was meant to give when it fails: the main input's, for most kinds."""
        return main.shape

    def lower(self, params: Any, main: str, source: str, target: str) -> list[Step]:
        """The steps that merge tensor `source` into tensor `main` at node `target`; the last is the result."""
        raise NotImplementedError
