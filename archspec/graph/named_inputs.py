"""The inputs of an `expr` node by name: each plain in-edge's `as:`, or `x` for the one unnamed edge.

Checked once, when the node's plan is made (archspec.graph.plan): every name
the expression reads is an input or a learnable, every input is read, no
name is given twice. Errors about a name point at its column in the
expression, errors about an edge at the edge.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from archspec.catalogue.connections import NodeInputs
from archspec.catalogue.expression import names_in
from archspec.catalogue.primitives import Application
from archspec.errors import GraphError, Location, did_you_mean

DEFAULT_NAME = "x"


def at_offset(start: Location | None, offset: int, fallback: Any) -> Any:
    """The location of character `offset` of an expression that starts at `start` (one line)."""
    if start is None or start.column is None:
        return fallback
    return replace(start, column=start.column + offset)


def no_merges(inputs: NodeInputs) -> list[Application]:
    """An expr node reads its inputs by name; a merge edge into it has no name to be read by."""
    if inputs.merges:
        edge = inputs.merges[0]
        raise GraphError(
            f"{edge.kind} edge {edge.source} -> {inputs.target}: an expr node takes plain edges named with 'as:'",
            location=edge.location, node=inputs.target,
            hint=f"make it {{from: {edge.source}, to: {inputs.target}, as: NAME}} and write the merge in the "
            "expression (+ for add-residual, * sigmoid(NAME) for a gate)",
        )
    return []


def input_names(inputs: NodeInputs, params: Any) -> list[str]:
    """The name of each of the node's plain inputs, in edge order, after checking them against the expression."""
    name, expression = inputs.target, params.expression()
    names: list[str] = []
    unnamed = None
    for edge in inputs.mains:
        given = edge.params.name
        if given is None:
            if unnamed is not None:
                raise GraphError(
                    f"expr node '{name}' has two inputs without a name ({unnamed.source} and {edge.source})",
                    location=edge.location, node=name,
                    hint=f"name them on the edges: {{from: {edge.source}, to: {name}, as: NAME}} "
                    f"(one unnamed input is called '{DEFAULT_NAME}')",
                )
            unnamed, given = edge, DEFAULT_NAME
        if given in names or given in params.learnable:
            raise GraphError(
                f"expr node '{name}' has two tensors called '{given}'", location=edge.location, node=name,
                hint="give each input its own 'as:' name, distinct from the learnable tensors",
            )
        names.append(given)
    read = names_in(expression)
    known = [*names, *params.learnable]
    for word, offset in read.items():
        if word not in known:
            raise GraphError(
                f"'{word}' in the expression of '{name}' is neither an input nor a learnable",
                location=at_offset(inputs.text_location, offset, inputs.location), node=name,
                expected="one of " + ", ".join(known), got=word,
                hint=did_you_mean(word, known) or f"add an edge {{from: SOURCE, to: {name}, as: {word}}}",
            )
    for edge, given in zip(inputs.mains, names, strict=True):
        if given not in read:
            raise GraphError(
                f"input '{given}' ({edge.source} -> {name}) is not used by the expression {expression.text!r}",
                location=edge.location, node=name,
                hint="use it in the expression, or remove the edge" + (
                    f" (an unnamed edge is called '{DEFAULT_NAME}')" if edge.params.name is None else ""),
            )
    for learnable in params.learnable:
        if learnable not in read:
            raise GraphError(f"learnable '{learnable}' of '{name}' is not used by the expression",
                             location=inputs.location, node=name, hint="use it, or remove it")
    return names
