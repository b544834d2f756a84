"""A scope of block expansion (archspec.spec.expand): the top level or one copy of a block.

A scope holds the nodes and edges written there, how their names are prefixed, the values its
`${...}` see, the ports a copy is fed through, and which of its nodes are block uses, including
uses that call another use's layers again (`shares:`), resolved here to the use that owns them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from archspec.errors import Location, SchemaError, did_you_mean
from archspec.spec.document import Path_
from archspec.spec.provenance import BlockCopy
from archspec.spec.substitute import Binding
from archspec.spec.syntax import INDEX_FIELD, SHARES

Feed = tuple[str, dict[str, Any] | None, Location]
"""An edge into a block input: its source node, its extra keys (None: plain), where it was written."""


@dataclass
class Scope:
    """The nodes and edges of the top level or of one copy of a block, and how to name them."""

    nodes: dict[str, Any]
    edges: list[Any]
    nodes_path: Path_
    edges_path: Path_
    prefix: str
    env: dict[str, Binding]
    context: str | None = None
    stack: tuple[str, ...] = ()
    inputs: list[str] = field(default_factory=list)
    outputs: list[str] = field(default_factory=list)
    ports: dict[str, list[Feed]] = field(default_factory=dict)
    frames: tuple[BlockCopy, ...] = ()  # the block uses this scope is a copy of, outermost first
    twin: Scope | None = None  # the copy whose layers this copy calls again (a use with `shares:`)

    def __post_init__(self) -> None:
        self.uses = {name for name, raw in self.nodes.items() if isinstance(raw, dict) and "block" in raw}
        sharing = {name: raw[SHARES] for name, raw in self.nodes.items()  # `{shares: USE}`: a use of USE's block
                   if isinstance(raw, dict) and "op" not in raw and "block" not in raw
                   and isinstance(raw.get(SHARES), str)}
        while grown := {name for name, other in sharing.items() if other in self.uses} - self.uses:
            self.uses |= grown  # a use may share a use that shares another

    def layer_owner(self, use: str, path: Path_, locate: Callable[..., Location]) -> str:
        """The block use whose layers the use `use` (which has `shares:`) calls again, following a use that
        shares another to the one that owns them; `locate(path, key=False)` places an error in the file."""
        raw = self.nodes[use]
        other = raw[SHARES]
        at = locate(path + (SHARES,))
        if not isinstance(other, str) or other not in self.uses or other == use:
            raise SchemaError(f"block use '{use}' shares {other!r}, which is not another block use here",
                              location=at, node=self.prefix + use, expected="one of " + (
                                  ", ".join(sorted(self.uses - {use})) or "(no other block use)"),
                              hint=did_you_mean(str(other), self.uses - {use})
                              or "a block use shares the layers of another use of a block in the same scope")
        seen = [use, other]
        while SHARES in self.nodes[other]:  # shares a use that shares another: the one that owns the layers
            other = self.nodes[other][SHARES]
            if other in seen or other not in self.uses:
                raise SchemaError(f"block use '{use}' shares '{seen[1]}', and the uses sharing each other never "
                                  f"reach one that owns its layers: {' -> '.join(seen + [str(other)])}",
                                  location=at, node=self.prefix + use,
                                  hint="one of them must be a use of a block without 'shares'")
            seen.append(other)
        given = [key for key in raw if key not in ("block", SHARES)]
        if given or raw.get("block", self.nodes[other]["block"]) != self.nodes[other]["block"]:
            key = given[0] if given else "block"
            raise SchemaError(f"block use '{use}' shares the layers of '{other}', so it takes its block, params "
                              f"and repeat from it, but it sets '{key}'",
                              location=locate(path + (key,), key=True), node=self.prefix + use,
                              hint=f"remove '{key}' (one set of layers has one set of params)")
        return other

    def full_name(self, name: str, locate: Callable[[], Location]) -> str:
        """A node's name after expanding: the use's prefix and its own (`stage2_conv`), or, for a name
        holding {index}, that template with the use's number (`conv_dw_{index}_bn` -> `conv_dw_3_bn`)."""
        if INDEX_FIELD not in name:
            return self.prefix + name
        number = self.env.get("index")
        if number is None:
            raise SchemaError(f"node name '{name}' holds {INDEX_FIELD}, but nothing gives it a number here",
                              location=locate(),
                              hint="use its block with repeat: N (copies numbered from start:) or with start: N")
        return name.replace(INDEX_FIELD, str(number.value))


def first_source(feeds: list[Feed]) -> str:
    """The node a port draws from (its first plain feed): what a folded diagram attaches the port to."""
    return next((source for source, extra, _ in feeds if extra is None), feeds[0][0])
