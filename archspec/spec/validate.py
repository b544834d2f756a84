"""Validation of an expanded document: the top level, each node against its op, each edge against its kind.

This is the last stage of the front end (archspec.spec.frontend): it reads a
flat document (no `extends`, `--set`, vars or blocks left) and never calls the
stages before it. Every error it can find in one pass is collected, so a
person fixes a file once, not once per error.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from archspec.catalogue.connections import CONNECTIONS
from archspec.catalogue.expression import ExpressionProblem, parse_expression
from archspec.catalogue.ops import OPS
from archspec.errors import Location, SchemaError, SpecError, SpecErrors, did_you_mean, raise_collected
from archspec.spec.document import Document, Path_
from archspec.spec.messages import coercion_errors, nonfinite_errors, pydantic_errors
from archspec.spec.models import EdgeSpec, NodeSpec, Spec, SpecFile
from archspec.spec.shape_expr import is_deferred
from archspec.spec.substitute import EXPRESSION
from archspec.spec.syntax import (
    MAX_NAME_LENGTH,
    NAME_RULE,
    SHARES,
    article,
    chain_links,
    chain_problem,
    edge_ends,
    is_name,
    type_word,
)

T = TypeVar("T")


def validate_document(document: Document) -> Spec:
    """Check an expanded document against the format, collecting every error it can find."""
    data = document.data
    if not isinstance(data, dict):
        raise SchemaError(
            "a spec must be a mapping of keys (archspec, name, inputs, nodes, edges, outputs)",
            location=document.locate(()),
            got=type_word(data),
        )
    modelled = {key: value for key, value in data.items() if key not in ("nodes", "edges")}
    top = _validated(SpecFile, data, document, (), checked=modelled)
    errors: list[SpecError] = coercion_errors(modelled, top, document, ())
    names: dict[str, str] = {}
    input_locations = {}
    for name in top.inputs:
        input_locations[name] = document.locate(("inputs", name), key=True)
        errors.extend(_check_name(name, "input", document, ("inputs", name), names))
    nodes = {}
    for name, raw in top.nodes.items():
        errors.extend(_check_name(name, "node", document, ("nodes", name), names))
        if isinstance(raw, dict) and SHARES in raw:
            continue  # after the node it shares
        node = _collect(errors, validate_node, name, raw, document)
        if node is not None:
            nodes[name] = node
    for name, raw in top.nodes.items():
        if isinstance(raw, dict) and SHARES in raw:
            node = _collect(errors, validate_sharing_node, name, top.nodes, nodes, document)
            if node is not None:
                nodes[name] = node
    nodes = {name: nodes[name] for name in top.nodes if name in nodes}  # in the order written
    edges: list[EdgeSpec] = []
    for index, raw in enumerate(top.edges):
        edges.extend(_collect(errors, validate_edge, raw, index, len(edges), document) or [])
    output_locations = {name: document.locate(("outputs", index)) for index, name in enumerate(top.outputs)}
    seen: set[str] = set()
    for index, name in enumerate(top.outputs):
        if name in seen:
            errors.append(SchemaError(f"output '{name}' is listed twice",
                                      location=document.locate(("outputs", index)), hint="list each output once"))
        seen.add(name)
    raise_collected(errors)
    return Spec(
        name=top.name,
        doc=top.doc,
        inputs=dict(top.inputs),
        input_locations=input_locations,
        nodes=nodes,
        edges=edges,
        outputs=list(top.outputs),
        output_locations=output_locations,
        train=top.train,
        document=document,
    )


def _collect(errors: list[SpecError], check: Callable[..., T], *args: Any) -> T | None:
    """`check(*args)`, or None with its error(s) added to `errors`."""
    try:
        return check(*args)
    except SpecErrors as several:
        errors.extend(several.errors)
    except SpecError as error:
        errors.append(error)
    return None


def _validated(model: type[BaseModel], data: dict[str, Any], document: Document, path: Path_, *,
               node: str | None = None, what: str | None = None, checked: dict[str, Any] | None = None) -> Any:
    """`model` validated from `data`, or SpecError(s) located in the document (built from `model` itself).

    `checked` is the part of `data` whose numbers must be finite (default: all of it).
    """
    raise_collected(nonfinite_errors(data if checked is None else checked, document, path, node=node))
    try:
        validated = model.model_validate(data)
    except ValidationError as error:
        raise_collected(pydantic_errors(error, model, document, path, node=node, what=what))
        raise AssertionError("unreachable") from None
    return validated


def _check_name(name: str, what: str, document: Document, path: Path_, seen: dict[str, str]) -> list[SpecError]:
    errors = []
    location = document.locate(path, key=True)
    if len(name) > MAX_NAME_LENGTH:
        errors.append(SchemaError(
            f"{what} name is too long ({len(name):,} characters)",
            location=location,
            expected=f"at most {MAX_NAME_LENGTH} characters",
            hint="names become Keras layer names and Python variables; keep them short",
        ))
    elif not is_name(name):
        errors.append(SchemaError(
            f"{what} name {name!r} is not a valid identifier",
            location=location,
            expected=NAME_RULE,
            got=repr(name),
            hint="names become Keras layer names; use snake_case such as 'enc1' or 'block1_conv'",
        ))
    if name in seen:
        errors.append(SchemaError(
            f"'{name}' is both an input and a node",
            location=location,
            hint="inputs and nodes share one namespace; rename one of them",
        ))
    seen[name] = what
    return errors


def validate_node(name: str, raw: Any, document: Document) -> NodeSpec:
    """Validate one node mapping against its op's params model."""
    path: Path_ = ("nodes", name)
    location = document.locate(path, key=True)
    if not isinstance(raw, dict):
        raise SchemaError("must be a mapping with an 'op'", location=document.locate(path), node=name,
                          got=type_word(raw), hint="write it as  name: {op: dense, units: 32}")
    if "op" not in raw:
        nodes = document.data.get("nodes") if isinstance(document.data, dict) else None
        others = [other for other in nodes or {} if other != name]  # `--set nodes.hiden.units=3` meant hidden
        raise SchemaError("has no 'op'", location=location, node=name,
                          expected="op: one of " + ", ".join(sorted(OPS)), hint=did_you_mean(name, others))
    op_name = raw["op"]
    if not isinstance(op_name, str) or op_name not in OPS:
        raise SchemaError(
            f"unknown op {op_name!r}",
            location=document.locate(path + ("op",)),
            node=name,
            expected="one of " + ", ".join(sorted(OPS)),
            got=repr(op_name),
            hint=_unknown_op_hint(str(op_name), name),
        )
    model = OPS[op_name].Params
    params = {key: value for key, value in raw.items() if key != "op"}
    text_location = _text_location(OPS[op_name], params, document, path, name)
    deferred = {key: (value, document.locate(path + (key,))) for key, value in params.items()
                if key in model.model_fields and deferred_expression(value) is not None}
    for key in deferred:  # checked with the value it gets at shape inference (archspec.graph.deferred)
        params[key] = 1
        if not model.model_fields[key].is_required():
            del params[key]
    validated = _validated(model, params, document, path, node=name, what=f"for op {op_name}")
    raise_collected(coercion_errors(params, validated, document, path, node=name))
    return NodeSpec(name=name, op=op_name, params=validated, location=location, deferred=deferred,
                    text_location=text_location)


def validate_sharing_node(name: str, raw_nodes: dict[str, Any], nodes: dict[str, NodeSpec],
                          document: Document) -> NodeSpec | None:
    """A node `{shares: a}`: node a's op and parameters, called on this node's input (a's weights).

    `op:` may be written too if it is a's op; any other parameter is an error,
    since one layer has one set of parameters. A chain of sharing nodes resolves
    to the node that owns the layer. None when that node is itself invalid (its
    error is reported at it).
    """
    path: Path_ = ("nodes", name)
    raw = raw_nodes[name]
    seen = [name]
    owner = raw[SHARES]
    while True:
        where = document.locate(("nodes", seen[-1], SHARES))
        if not isinstance(owner, str) or owner not in raw_nodes:
            raise SchemaError(f"'shares' must name another node of this spec, got {owner!r}", location=where,
                              node=seen[-1], expected="a node with an op (its layer is called again here)",
                              hint=did_you_mean(str(owner), [key for key in raw_nodes if key != seen[-1]])
                              or "a block use shares a block use: {block: NAME, shares: OTHER_USE}")
        if owner == seen[-1]:
            raise SchemaError("a node cannot share its own layer", location=where, node=owner,
                              hint="name the node whose layer it calls again, or give it an op instead of 'shares'")
        if owner in seen:
            if name != min(seen[seen.index(owner):]):
                return None  # one report per circle, at one of its nodes
            raise SchemaError(f"nodes share each other in a circle: {' -> '.join(seen + [owner])}", location=where,
                              node=seen[-1], hint="one of them must own the layer: give it an op and no 'shares'")
        following = raw_nodes[owner]
        if not (isinstance(following, dict) and SHARES in following):
            break
        seen.append(owner)
        owner = following[SHARES]
    extra = [key for key in raw if key not in (SHARES, "op")]
    if extra:
        raise SchemaError(f"shares the layer of '{owner}', so it takes its op and parameters "
                          f"from it, but it sets '{extra[0]}'", location=document.locate(path + (extra[0],), key=True),
                          node=name, hint=f"remove '{extra[0]}' (one layer has one set of parameters; set it "
                          f"on '{owner}'), or give '{name}' its own op instead of 'shares'")
    if owner not in nodes:
        return None
    if "op" in raw and raw["op"] != nodes[owner].op:
        raise SchemaError(f"shares the layer of '{owner}', a {nodes[owner].op} node, but says "
                          f"op: {raw['op']}", location=document.locate(path + ("op",)), node=name,
                          expected=f"op: {nodes[owner].op}, or no op", got=repr(raw["op"]))
    return replace(nodes[owner], name=name, location=document.locate(path, key=True), shares=owner)


def deferred_expression(value: Any) -> str | None:
    """The expression of a value that is exactly `${...over in...}`, kept for shape inference; else None."""
    if not isinstance(value, str):
        return None
    whole = EXPRESSION.fullmatch(value.strip())
    return whole.group(1) if whole and is_deferred(whole.group(1)) else None


def _text_location(op: Any, params: dict[str, Any], document: Document, path: Path_, name: str) -> Location | None:
    """Where the first character of an op's text parameter (an expr's expression) is, after checking it.

    A problem of the text is raised here, at the column of its bad token.
    """
    key = op.text_param
    if key is None or not isinstance(params.get(key), str):
        return None
    value = document.locate(path + (key,))
    start: Location | None = None  # where the text's first character is, when it is written on one line
    lines = document.text.splitlines()
    if value.line is not None and value.column is not None and value.line <= len(lines):
        line = lines[value.line - 1]
        quoted = line[value.column - 1:value.column] in ('"', "'")
        first = value.column + (1 if quoted else 0)
        if line[first - 1:].startswith(params[key]):
            start = replace(value, column=first)
    try:
        parse_expression(params[key])
    except ExpressionProblem as problem:
        where = value if start is None else replace(start, column=start.column + problem.offset)
        raise SchemaError(problem.message, location=where, node=name, expected=problem.expected,
                          got=problem.got, hint=problem.hint) from None
    return start


def _unknown_op_hint(op_name: str, node: str) -> str:
    """An edge kind written as an op (`op: gate`) is told how to write the edge; others get a did-you-mean."""
    if op_name in CONNECTIONS:
        return (f"'{op_name}' is an edge kind, not an op: write it on the edge into the node it modifies, "
                f"e.g. {{from: SOURCE, to: TARGET, kind: {op_name}}}, and remove node '{node}'")
    return did_you_mean(op_name, OPS) or "see docs/spec.md for the list of ops"


def validate_edge(raw: Any, index: int, first_id: int, document: Document) -> list[EdgeSpec]:
    """Validate one entry of `edges:`: a chain string `a -> b -> c` or a mapping with from/to/kind."""
    path: Path_ = ("edges", index)
    location = document.locate(path)
    if isinstance(raw, str):
        links = chain_links(raw)
        if links is None:
            message, _, hint = chain_problem(raw) or (f"edge chain {raw!r} is not of the form 'a -> b -> c'", 0,
                                                      "separate node names with '->'")
            raise SchemaError(message, location=location, hint=hint)
        plain = CONNECTIONS["plain"].Params()
        return [EdgeSpec(source, target, "plain", plain, location, first_id + offset)
                for offset, (source, target) in enumerate(links)]
    if not isinstance(raw, dict):
        raise SchemaError("an edge must be a chain string 'a -> b' or a mapping {from: a, to: b, kind: ...}",
                          location=location, got=type_word(raw))
    missing = [key for key in ("from", "to") if key not in raw]
    if missing:
        raise SchemaError(f"edge has no '{missing[0]}'", location=location,
                          expected="{from: SOURCE, to: TARGET, kind: " + "|".join(CONNECTIONS) + "}")
    ends = {key: edge_ends(raw[key]) for key in ("from", "to")}
    for key, names in ends.items():
        if names is None:
            raise SchemaError(f"edge '{key}' must be a node name or a list of them",
                              location=document.locate(path + (key,)), got=type_word(raw[key]),
                              hint=f"{key}: a, or {key}: [a, b] for one edge from (or to) each, in order")
    links = [(source, target) for target in ends["to"] for source in ends["from"]]  # type: ignore[union-attr]
    if len(links) > 1 and "as" in raw:
        raise SchemaError("'as:' names one input of an expr node, but this edge stands for several",
                          location=document.locate(path + ("as",), key=True), got=f"{len(links)} edges",
                          hint="write one edge per input, each with its own 'as:'")
    kind = raw.get("kind", "plain")
    if not isinstance(kind, str) or kind not in CONNECTIONS:
        raise SchemaError(
            f"unknown edge kind {kind!r}",
            location=document.locate(path + ("kind",)),
            expected="one of " + ", ".join(CONNECTIONS),
            got=repr(kind),
            hint=did_you_mean(str(kind), CONNECTIONS) or "see docs/spec.md, 'Edges'",
        )
    params = {key: value for key, value in raw.items() if key not in ("from", "to", "kind")}
    validated = _validated(CONNECTIONS[kind].Params, params, document, path, what=f"for {article(kind)} edge")
    raise_collected(coercion_errors(params, validated, document, path))
    return [EdgeSpec(source, target, kind, validated, location, first_id + offset)
            for offset, (source, target) in enumerate(links)]
