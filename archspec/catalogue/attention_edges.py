"""The three edge kinds that feed an `attention` node: its keys and values (`attention`), which key steps
it may attend to (`mask`), and a table of relative-position vectors (`relative`, DeBERTa's). None changes the
main input; the attention arity (archspec.graph.plan) reads them."""

from __future__ import annotations

from typing import Any

from archspec.catalogue.connection_base import Connection, EdgeParams, EdgeStyle, NodeInputs
from archspec.catalogue.primitives import Application, Operand, Shape, ShapeProblem, format_shape
from archspec.errors import GraphError


class AttentionParams(EdgeParams):
    pass


class MaskParams(EdgeParams):
    pass


class RelativeParams(EdgeParams):
    pass


class Attention(Connection):
    kind = "attention"
    style = EdgeStyle("#8e24aa", "dashed", 2.6, "╍╍╍╍")
    Params = AttentionParams
    doc = "Gives an `attention` node its keys and values; the main input supplies the queries."
    glyph = "◈"  # Geometric Shapes: in common fonts, unlike U+27D0 ⟐
    merges = False

    def collect(self, edge: Any, inputs: NodeInputs) -> None:
        _one_into_attention(edge, inputs, "attention", "one source supplies the keys and values; concat the "
                            "sources first")


class Mask(Connection):
    kind = "mask"
    style = EdgeStyle("#8e24aa", "dotted", 1.8, "┄┄┄┄")
    Params = MaskParams
    doc = (
        "Gives an `attention` node a key mask: it attends only to the key steps where the source is "
        "nonzero (a padding mask: 1 for a token, 0 for padding). The source has one value per key step."
    )
    glyph = "⊘"
    merges = False

    def collect(self, edge: Any, inputs: NodeInputs) -> None:
        _one_into_attention(edge, inputs, "mask", "one source masks the keys; multiply the masks first")

    def check(self, edge: Any, keys: str | None) -> Application:
        """A check only: the mask's shape against the keys' (`keys`: the attention edge's source, None for
        the main input); the attention op passes the mask to its layer (archspec.graph.plan)."""
        return Application(
            (None, keys, edge.source),
            shape=lambda operands: _masked_shape(operands[0], operands[1], operands[2]),
            lower=lambda args, target, shapes: [],
            edge=edge,
            intended=lambda operands: operands[0].shape,
        )


class Relative(Connection):
    kind = "relative"
    style = EdgeStyle("#8e24aa", "dashed", 1.4, "╌╌╌╌")
    Params = RelativeParams
    doc = (
        "Gives an `attention` node with `relative` its relative-position vectors: a (2 * buckets, features) "
        "table (a `relative_positions` node, usually layer-normalised), which the node projects with its own "
        "query and key projections (DeBERTa's disentangled attention)."
    )
    glyph = "⇹"
    merges = False

    def collect(self, edge: Any, inputs: NodeInputs) -> None:
        # the attention op checks the table's shape against the node's `relative` setting
        _one_into_attention(edge, inputs, "relative", "one table of relative positions per attention node")


def _masked_shape(main: Operand, keys: Operand, mask: Operand) -> Shape:
    """The main input's shape, once `mask` is one value per step of `keys` (their shape less the features)."""
    steps = keys.shape[:-1]
    if len(keys.shape) >= 2 and (len(mask.shape) != len(steps) or any(
            a is not None and b is not None and a != b for a, b in zip(mask.shape, steps, strict=True))):
        raise ShapeProblem(
            f"a mask gives one value per key step: {keys} has {len(steps)} step axis"
            f"{'es' if len(steps) > 1 else ''} of {format_shape(steps)}",
            expected=format_shape(steps), got=str(mask),
            hint="the mask is (steps,) of the keys: 1 where a token is, 0 where padding is",
        )
    return main.shape


def _one_into_attention(edge: Any, inputs: NodeInputs, slot: str, hint: str) -> None:
    """File `edge` in `inputs`' `slot` (attention, mask, relative): into an `attention` node, one per node."""
    _into_attention(edge, inputs)
    earlier = getattr(inputs, slot)
    if earlier is not None:
        raise GraphError(f"'{inputs.target}' has two {edge.kind} edges ({earlier.source} and {edge.source})",
                         location=edge.location, node=inputs.target, hint=hint)
    setattr(inputs, slot, edge)


def _into_attention(edge: Any, inputs: NodeInputs) -> None:
    """Refuse an edge of a kind that feeds an attention node (attention, mask, relative) into any other node."""
    if inputs.op.arity != "attention":
        name = inputs.target
        raise GraphError(
            f"{edge.kind} edge {edge.source} -> {name}: '{name}' is {_article(inputs.op.name)} {inputs.op.name} node",
            location=edge.location,
            node=name,
            expected=f"{_article(edge.kind)} {edge.kind} edge into an 'attention' node",
            hint="add an 'attention' node for the target and point the edge at it",
        )


def _article(word: str) -> str:
    return "an" if word[:1] in "aeiou" else "a"
