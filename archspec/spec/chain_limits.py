"""The limits of the compact syntax: how many steps one chain and how many nodes all chains may make.

Checked before a chain's steps are read, so a 100,000-step chain is refused
in linear time at the step that crosses the limit, not after building its
nodes (docs/security.md lists the limits).
"""

from __future__ import annotations

from archspec.errors import Location, SchemaError
from archspec.spec.chain_places import chain_columns
from archspec.spec.document import Document, Path_
from archspec.spec.expand import MAX_NODES
from archspec.spec.syntax import CHAIN_ARROW, split_steps

HINT = ("a spec describes an architecture; use a block with repeat: for long runs of the same layers "
        "(see docs/security.md for the limits)")


def check_chain_length(document: Document, lines: list[str], path: Path_, text: str) -> None:
    """A chain of more steps than the node limit is refused before its steps are read (and located).

    More than MAX_NODES + 1 steps would make more than MAX_NODES nodes or
    name one twice (a cycle), so no valid chain is refused.
    """
    if text.count(CHAIN_ARROW) <= MAX_NODES:  # an arrow inside brackets or quotes counts here too
        return
    steps = split_steps(text) or []
    if len(steps) > MAX_NODES + 1:
        offset = steps[MAX_NODES + 1][1]
        at = chain_columns(document, lines, path, text[:offset + 1])
        raise SchemaError(f"a chain of {len(steps):,} steps: more than the {MAX_NODES:,} nodes a spec may have",
                          location=at(offset), expected=f"at most {MAX_NODES + 1:,} steps in one chain", hint=HINT)


def check_node_room(count: int, where: Location) -> None:
    """The nodes: limit, for nodes written as chain steps too: `count` nodes exist before this step's."""
    if count >= MAX_NODES:
        raise SchemaError(f"the chains make more than {MAX_NODES:,} nodes", location=where,
                          expected=f"at most {MAX_NODES:,} nodes, written out or as chain steps", hint=HINT)
