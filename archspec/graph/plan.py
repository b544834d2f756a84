"""Each node's in-edges turned once into the ordered list of applications that makes its output.

A node's output is a fold: start from its main input, apply each merge edge
in the order it is written, then the node's op. `plan_node` writes that fold
down as `Application`s (archspec.catalogue.primitives) and checks that it exists;
the shape checker (archspec.graph.shapes) and the lowering
(archspec.keras.lowering) both run the same list, one with shapes, the other
with Keras steps, so they cannot disagree. Where an edge goes in the list is
its connection's rule (archspec.catalogue.connections), how the op reads it is
its arity's rule (`ARITIES` below).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from archspec.catalogue.connections import CONNECTIONS, NodeInputs
from archspec.catalogue.ops import Op
from archspec.catalogue.ops.attention import check_relative
from archspec.catalogue.primitives import Application, Operand, Shape, Step
from archspec.errors import GraphError, Location
from archspec.graph.named_inputs import input_names, no_merges
from archspec.spec.models import EdgeSpec


@dataclass(frozen=True)
class NodePlan:
    """A node's applications in the order they apply; the last is the node's op.

    `mains` are its plain in-edges, `attention` its attention edge, `mask`
    its mask edge and `relative` its relative edge, as written (diagrams and summaries read them); inputs have
    an empty plan.
    """

    applications: tuple[Application, ...] = ()
    mains: tuple[EdgeSpec, ...] = ()
    attention: EdgeSpec | None = None
    mask: EdgeSpec | None = None
    relative: EdgeSpec | None = None


def plan_node(name: str, op: Op, params: object, location: object, in_edges: list[EdgeSpec],
              text_location: Location | None = None) -> NodePlan:
    """The plan of node `name` (op `op`, at `location`) from its in-edges; GraphError if they make none.

    `text_location` is where an `expr` node's expression starts, so its errors point at a token.
    """
    inputs = NodeInputs(target=name, op=op, location=location, text_location=text_location)
    for edge in sorted(in_edges, key=lambda edge: edge.index):
        CONNECTIONS[edge.kind].collect(edge, inputs)
    if op.arity != "named":
        for edge in inputs.mains:
            if getattr(edge.params, "name", None) is not None:
                raise GraphError(
                    f"edge {edge.source} -> {name} names its input 'as: {edge.params.name}', but '{name}' is "
                    f"{'an' if op.name[:1] in 'aeiou' else 'a'} {op.name} node",
                    location=edge.location, node=name,
                    hint="'as:' names an input of an expr node's expression; remove it here",
                )
    if not inputs.mains:
        side = inputs.merges + [edge for edge in (inputs.attention, inputs.mask, inputs.relative)
                                if edge is not None]
        side.sort(key=lambda edge: edge.index)
        raise GraphError(
            "has no main input (no plain edge leads into it)",
            location=location,
            node=name,
            hint=(f"its {side[0].kind} edge from '{side[0].source}' modifies a main input; "
                  f"add a plain edge such as 'x -> {name}'") if side else
            f"add an edge such as 'x -> {name}', or remove the node",
        )
    applications = ARITIES[op.arity].before_op(inputs) + ARITIES[op.arity].checks(inputs, params)
    applications.append(ARITIES[op.arity].op(inputs, params))
    return NodePlan(tuple(applications), tuple(inputs.mains), inputs.attention, inputs.mask, inputs.relative)


def _main_then_merges(inputs: NodeInputs) -> list[Application]:
    """One main input (or k mixed by a softmax gate), then every merge edge in edge order."""
    name, mains = inputs.target, inputs.mains
    merges = [CONNECTIONS[edge.kind].application(edge, mains) for edge in inputs.merges]
    mixers = [application for application in merges if application.mixes]
    if len(mains) > 1 and not mixers:
        duplicate = _repeated_edge(mains)
        if duplicate:
            first, second = duplicate
            raise GraphError(
                f"the plain edge {second.source} -> {name} is given twice (lines {first.location.line} "
                f"and {second.location.line})",
                location=second.location,
                node=name,
                expected=f"one plain input into a {inputs.op.name} node",
                hint="remove one of them (an edge written twice is a duplicate, not a second input)",
            )
        first, second = mains[0], mains[1]
        raise GraphError(
            f"has {len(mains)} plain inputs ({first.source} -> {name} at line "
            f"{first.location.line}, {second.source} -> {name} at line {second.location.line}) "
            "and no rule to merge them",
            location=second.location,
            node=name,
            expected=f"one plain input into a {inputs.op.name} node",
            hint=f"make one a merge edge, e.g. {{from: {second.source}, to: {name}, kind: concat-skip}} "
            "(or add-residual), or add a concat/add node, or a softmax gate edge",
        )
    if len(mixers) > 1:
        raise GraphError(
            f"has two softmax gates ({mixers[0].edge.source} and {mixers[1].edge.source})",
            location=mixers[1].edge.location, node=name,
            hint="one gate mixes the inputs; combine the gate signals first",
        )
    start = mixers or [Application((mains[0].source,), shape=lambda operands: operands[0].shape,
                                   lower=lambda args, target, shapes: [])]
    return start + [application for application in merges if not application.mixes]


def _all_mains(inputs: NodeInputs) -> list[Application]:
    """A merge op takes its plain inputs as they are: it needs two or more, and no merge edges."""
    name, op = inputs.target, inputs.op
    article = "an" if op.name[:1] in "aeiou" else "a"
    if len(inputs.mains) < 2:
        wanted = "two or more" if op.exact_inputs is None else f"exactly {op.exact_inputs}"
        raise GraphError(
            f"{article} {op.name} node merges {wanted} inputs, but '{name}' has one",
            location=inputs.location, node=name,
            expected=f"{wanted} plain edges into it", got=str(len(inputs.mains)),
            hint=op.inputs_hint,
        )
    if inputs.merges:
        edge = inputs.merges[0]
        raise GraphError(
            f"{edge.kind} edge {edge.source} -> {name}: '{name}' is already {article} {op.name} node",
            location=edge.location, node=name,
            hint=f"make it a plain edge: '{edge.source} -> {name}'",
        )
    return []


@dataclass(frozen=True)
class Arity:
    """How an op of one arity reads the node's inputs: what applies before it, and its own application."""

    before_op: Callable[[NodeInputs], list[Application]]
    sources: Callable[[NodeInputs], tuple[str | None, ...]]
    as_list: bool = False

    def checks(self, inputs: NodeInputs, params: object) -> list[Application]:
        """Checks of side inputs that need the node's params, located at their edges (none by default)."""
        return []

    def op(self, inputs: NodeInputs, params: object) -> Application:
        op = inputs.op
        shape = (
            (lambda operands: op.merge_shape(params, operands)) if self.as_list else
            (lambda operands: op.infer_shape(params, [operand.shape for operand in operands]))
        )
        return Application(
            self.sources(inputs),
            shape=shape,
            lower=lambda args, target, shapes: [Step(
                target, target, op.layer(params, shapes), tuple(args), self.as_list, op.call_kwargs(params),
            )],
            is_op=True,
        )


class AttentionArity(Arity):
    """An `attention` node: queries from its main input, keys and values from its attention edge (else the
    main input); its mask edge's source is the layer's `value_mask`, its relative edge's its `relative`, each
    checked first at its own edge (the mask against the keys, the table against the node's `relative`)."""

    def checks(self, inputs: NodeInputs, params: object) -> list[Application]:
        keys = _attention_sources(inputs)[1]
        checks = [CONNECTIONS[inputs.mask.kind].check(inputs.mask, keys)] if inputs.mask is not None else []
        if inputs.relative is not None:
            checks.append(Application(
                (None, inputs.relative.source),
                shape=lambda operands: (check_relative(params, operands[0].shape, operands[1].shape),
                                        operands[0].shape)[1],
                lower=lambda args, target, shapes: [],
                edge=inputs.relative,
                intended=lambda operands: operands[0].shape,
            ))
        return checks

    def op(self, inputs: NodeInputs, params: object) -> Application:
        op, keywords = inputs.op, [keyword for keyword, _ in _side_edges(inputs)]

        def shape(operands: list[Operand]) -> Shape:
            side = dict(zip(keywords, operands[2:], strict=True))
            return op.infer_shape(params, [operand.shape for operand in operands[:2]]
                                  + ([side["relative"].shape] if "relative" in side else []))

        return Application(
            self.sources(inputs),
            shape=shape,
            lower=lambda args, target, shapes: [Step(
                target, target, op.layer(params, shapes), tuple(args[:2]), False, op.call_kwargs(params),
                tuple(zip(keywords, args[2:], strict=True)),
            )],
            is_op=True,
        )


def _self_attention_when_relative(inputs: NodeInputs) -> list[Application]:
    """An attention node's main input and merges; relative positions score a sequence against itself only."""
    if inputs.relative is not None and inputs.attention is not None:
        raise GraphError(
            f"'{inputs.target}' has a relative edge and an attention edge: relative positions score a sequence "
            "against itself", location=inputs.relative.location, node=inputs.target,
            hint="remove the attention edge (self-attention), or the relative edge")
    return _main_then_merges(inputs)


def _side_edges(inputs: NodeInputs) -> list[tuple[str, EdgeSpec]]:
    """An attention node's edges passed to its layer by keyword, with the keyword, in the order of its sources."""
    return [(keyword, edge) for keyword, edge in (("value_mask", inputs.mask), ("relative", inputs.relative))
            if edge is not None]


def _attention_sources(inputs: NodeInputs) -> tuple[str | None, ...]:
    """Queries (the node's input so far), keys and values (None: the same), then the side edges' sources."""
    keys = inputs.attention.source if inputs.attention else None
    return (None, keys, *(edge.source for _, edge in _side_edges(inputs)))


class NamedArity(Arity):
    """An `expr` node: its plain inputs by the names its expression reads (archspec.graph.named_inputs)."""

    def op(self, inputs: NodeInputs, params: object) -> Application:
        op, names = inputs.op, input_names(inputs, params)
        return Application(
            tuple(edge.source for edge in inputs.mains),
            shape=lambda operands: op.expression_shape(params, names, operands),
            lower=lambda args, target, shapes: [Step(
                target, target, op.layer(params, shapes, names), tuple(args), True,
            )],
            is_op=True,
        )


ARITIES: dict[str, Arity] = {
    "one": Arity(_main_then_merges, lambda inputs: (None,)),
    "attention": AttentionArity(_self_attention_when_relative, _attention_sources),
    "many": Arity(_all_mains, lambda inputs: tuple(edge.source for edge in inputs.mains), as_list=True),
    "named": NamedArity(no_merges, lambda inputs: tuple(edge.source for edge in inputs.mains), as_list=True),
}
"""Every op arity (Op.arity), by name: the one place that says how an op's inputs reach it."""


def op_input_shape(operands: list[Operand]) -> Shape | list[Shape]:
    """What a node records as its `input_shape`: the one shape its op sees, or the list of them."""
    return operands[0].shape if len(operands) == 1 else [operand.shape for operand in operands]


def _repeated_edge(edges: list[EdgeSpec]) -> tuple[EdgeSpec, EdgeSpec] | None:
    """The first edge whose source an earlier one already has, with that earlier edge."""
    seen: dict[str, EdgeSpec] = {}
    for edge in edges:
        if edge.source in seen:
            return seen[edge.source], edge
        seen[edge.source] = edge
    return None
