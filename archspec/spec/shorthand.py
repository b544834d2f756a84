"""The short forms of the keys every spec pays for: a default name, a shape alone, a block's signature, sinks.

Issue 18 measured specs against the Keras they replace; besides the layers,
each spec paid lines that say what the reader already knows. These forms
take them away, and each means exactly the long form it stands for:

- `name:` left out: the file's stem (`specs/zoo/tcn.yaml` is `tcn`), after
  `extends:` is merged, so a variant keeps inheriting its base's name; text
  loaded without a file is `model`;
- `inputs: {image: [28, 28, 1]}` is `inputs: {image: {shape: [28, 28, 1]}}`;
- `edges: a -> b -> c`, one chain written as a string, is `edges: [a -> b -> c]`
  (a block's body too: `unit(filters): x -> conv2d(${filters}) -> relu`);
- a block written `unit(filters, strides=1): [chains]` is a block `unit` with
  `params: {filters: null, strides: 1}` and those chains as its `edges:` (the
  body may also be the usual mapping); a block without `inputs:` has `[x]`;
- a block without `outputs:` has its one sink (the one node no edge leaves),
  and a spec without `outputs:` the graph's one sink. Several sinks are an
  error that lists them, never a silent multi-output model.

`read_short_forms` runs on each file as it is read (before `extends:` and
`--set`), `default_name` after merging, `block_outputs` after inline steps are
read (archspec.spec.chains) (a sink is often an inline step), and
`model_outputs` after blocks expand, on the flat graph.
"""

from __future__ import annotations

import re
from pathlib import PurePath
from typing import Any

import networkx as nx

from archspec.errors import Location, SchemaError, SpecError, Suggestions, raise_collected
from archspec.spec.branches import all_links
from archspec.spec.document import Document, Positions
from archspec.spec.models import MODEL_NAME_PATTERN
from archspec.spec.steps import StepError, read_step
from archspec.spec.syntax import MAX_MODEL_NAME_LENGTH, SHARES, is_name
from archspec.spec.wiring import cycle_error, input_target_error, unknown_name_error

DEFAULT_INPUT = "x"
UNNAMED = "model"
"""The name of a spec read from text without a file (loads_spec) that sets none."""


def read_short_forms(document: Document) -> Document:
    """One file's inputs given as a shape alone and its block signatures, in the long form.

    Run on each file as it is read, before `extends:` merges it with its base
    and before `--set`, so that a block is the same `unit` whether its file
    writes `unit(filters):` or `unit:` with `params:`, and `--set blocks.unit...`
    reaches it.
    """
    if not isinstance(document.data, dict):
        return document
    data = dict(document.data)
    result = Document(data=data, file=document.file, text=document.text, positions=document.positions,
                      block_uses=document.block_uses)
    if isinstance(data.get("inputs"), dict):
        data["inputs"] = {name: _input(result, name, value) for name, value in data["inputs"].items()}
    if isinstance(data.get("edges"), str):
        data["edges"] = _one_chain(result, ("edges",), data["edges"])
    if isinstance(data.get("blocks"), dict):
        data["blocks"] = _blocks(result, data["blocks"])
    return result


def _one_chain(document: Document, path: tuple, chain: str) -> list[str]:
    """`edges: a -> b -> c` (one chain, a string) -> `edges: [a -> b -> c]`, its position moved to the item."""
    old = document.section(path)
    new = Positions(old.key, old.value)
    new.children[0] = Positions(old.value, old.value)
    document.positions.put(path, new)
    return [chain]


def default_name(document: Document) -> Document:
    """The document with `name:` from its file when neither it nor its bases set one (after merging)."""
    if not isinstance(document.data, dict) or "name" in document.data:
        return document
    return Document(data={**document.data, "name": _name_from_file(document)}, file=document.file,
                    text=document.text, positions=document.positions, block_uses=document.block_uses)


def _name_from_file(document: Document) -> str:
    if document.file.startswith("<"):
        return UNNAMED
    stem = PurePath(document.file).stem
    if not MODEL_NAME_PATTERN.fullmatch(stem):
        raise SchemaError(f"the spec sets no 'name:', and its file name {stem!r} is not a model name",
                          location=Location(document.file, 1, 1),
                          expected="ASCII letters, digits and _ . -, starting with a letter or digit",
                          hint=f"add 'name: {_as_model_name(stem)}' (or rename the file)")
    return stem


def _as_model_name(stem: str) -> str:
    """The file stem made a model name for the hint: other characters become '_', leading ones dropped."""
    name = re.sub(r"[^A-Za-z0-9_.-]+", "_", stem).strip("_.-")
    return name[:MAX_MODEL_NAME_LENGTH] or "my_model"


def _input(document: Document, name: str, value: Any) -> Any:
    """`[28, 28, 1]` -> `{shape: [28, 28, 1]}`, its positions moved under `shape`."""
    if not isinstance(value, list):
        return value
    old = document.section(("inputs", name))
    new = Positions(old.key, old.value)
    new.children["shape"] = Positions(old.value, old.value)
    new.children["shape"].children = old.children
    document.positions.put(("inputs", name), new)
    return {"shape": value}


def _blocks(document: Document, blocks: dict[str, Any]) -> dict[str, Any]:
    signatures = {key: _signature(document, key) if isinstance(key, str) and "(" in key else (key, None)
                  for key in blocks}
    seen: set[str] = set()
    for key, (name, _) in signatures.items():
        if name in seen:
            raise SchemaError(f"block '{name}' is defined twice", location=document.locate(("blocks", key), key=True),
                              hint="give each block one definition")
        seen.add(name)
    moved = {key: document.section(("blocks", key)) for key in blocks}
    for key in blocks:
        document.positions.drop(("blocks", key))
    result: dict[str, Any] = {}
    for key, body in blocks.items():
        (name, params), old = signatures[key], moved[key]
        if isinstance(body, str):  # one chain
            body = [body]
            old.children = {0: Positions(old.value, old.value)}
        if isinstance(body, list):
            new = Positions(old.key, old.value)
            new.children["edges"] = old
            old.key = old.value
            body, old = {"edges": body}, new
        document.positions.put(("blocks", name), old)
        if isinstance(body, dict):
            body = dict(body)
            if isinstance(body.get("edges"), str):  # {inputs: [x, skip], edges: x -> ...}: one chain here too
                body["edges"] = _one_chain(document, ("blocks", name, "edges"), body["edges"])
            if params is not None:
                if "params" in body:
                    raise SchemaError(f"block '{name}' declares its params twice: in its signature and in 'params:'",
                                      location=document.locate(("blocks", name, "params"), key=True),
                                      hint="keep one of them")
                body["params"], places = params
                for param, where in places.items():
                    document.positions.put(("blocks", name, "params", param), Positions(where, where))
            body.setdefault("inputs", [DEFAULT_INPUT])
        result[name] = body
    return result


def _signature(document: Document, key: str) -> tuple[str, tuple[dict[str, Any], dict[str, Location]]]:
    """`unit(filters, strides=1)` -> ('unit', ({filters: None, strides: 1}, where each param was written))."""
    start = document.locate(("blocks", key), key=True)

    def at(offset: int) -> Location:
        if start.column is None:
            return start
        return Location(start.file, start.line, start.column + offset, start.context)

    try:
        step = read_step(key, 0)
    except StepError as error:
        raise SchemaError(f"cannot read block signature {key!r}: {error}", location=at(error.offset),
                          hint=error.hint or "write a block as name(param, param=default): [chains]") from None
    if step.name is None or not step.call or step.label is not None:
        raise SchemaError(f"cannot read block signature {key!r}", location=start,
                          hint="write a block as name(param, param=default): [chains]")
    params: dict[str, Any] = {}
    places: dict[str, Location] = {}
    for arg in step.args:
        param = arg.keyword if arg.keyword is not None else arg.value
        if not is_name(param):
            raise SchemaError(f"a block param is a name, got {param!r}", location=at(arg.offset),
                              hint="write name or name=default: unit(filters, strides=1)")
        if param in params:
            raise SchemaError(f"param '{param}' is declared twice", location=at(arg.offset))
        params[param] = arg.value if arg.keyword is not None else None
        places[param] = at(arg.offset)
    return step.name, (params, places)


def block_outputs(document: Document) -> Document:
    """Each block without `outputs:` given its one sink (after inline steps made their nodes)."""
    data = document.data
    if not isinstance(data, dict) or not isinstance(data.get("blocks"), dict):
        return document
    blocks = dict(data["blocks"])
    for name, block in blocks.items():
        if isinstance(block, dict) and "outputs" not in block and isinstance(block.get("nodes"), dict) \
                and isinstance(block.get("edges"), list):
            inputs = block.get("inputs", [DEFAULT_INPUT])
            sink = _one_sink(document, ("blocks", name), inputs if isinstance(inputs, list) else [inputs],
                             f"block '{name}'")
            if sink is not None:
                blocks[name] = {**block, "outputs": [sink]}
    return Document(data={**data, "blocks": blocks}, file=document.file, text=document.text,
                    positions=document.positions, block_uses=document.block_uses)


def model_outputs(document: Document) -> Document:
    """A spec without `outputs:` given the graph's one sink (after blocks expanded)."""
    data = document.data
    if not isinstance(data, dict) or "outputs" in data or not isinstance(data.get("nodes"), dict) \
            or not isinstance(data.get("edges"), list):
        return document
    inputs = list(data["inputs"]) if isinstance(data.get("inputs"), dict) else []
    sink = _one_sink(document, (), inputs, "the spec")
    if sink is None:
        return document
    data = {**data, "outputs": [sink]}
    return Document(data=data, file=document.file, text=document.text, positions=document.positions,
                    block_uses=document.block_uses)


def _one_sink(document: Document, path: tuple, inputs: list[str], owner: str) -> str | None:
    """The one node no edge leaves; None when there is none only because a node is malformed (reported later)."""
    holder = document.data
    for key in path:
        holder = holder[key]
    nodes, edges = holder["nodes"], holder["edges"]
    links = [(source.partition(".")[0], target.partition(".")[0], index) for source, target, index in all_links(edges)]
    sources = {source for source, _, _ in links}
    formed = [name for name, raw in nodes.items()
              if isinstance(raw, dict) and ("op" in raw or "block" in raw or SHARES in raw)]
    sinks = [name for name in formed if name not in sources]
    if len(sinks) == 1:
        return sinks[0]
    if not sinks and len(formed) < len(nodes):
        return None  # a node without op (a misspelt --set nodes.NAME...): validation says so, at its place
    _check_names(document, path, links, set(nodes) | set(inputs))
    if not sinks:
        _why_no_sink(document, path, links, inputs, owner)
    top = not path
    raise SchemaError(f"{owner} has no 'outputs:' and {len(sinks)} sinks (nodes no edge leaves): {', '.join(sinks)}",
                      location=document.locate(path + ("edges",) if top else path, key=True),
                      expected="one sink, or 'outputs:' naming the outputs",
                      hint=f"connect the node that should feed another (a skip or gate edge left out?), or add "
                      f"'outputs: [{', '.join(sinks)}]' to {owner}"
                      + ("" if top else " (written as a mapping: {outputs: [...], edges: [...]})"))


def _check_names(document: Document, path: tuple, links: list[tuple[str, str, int]], known: set[str]) -> None:
    """An edge naming no node is why there is no one sink (`a -> relx`): say that, with its did-you-mean, rather
    than list the sinks the typo made."""
    names = Suggestions(known)
    unknown: dict[tuple[str, Location], SpecError] = {}  # a chain 'a -> typo -> b' names it twice: once
    for source, target, index in links:
        for role, name in (("source", source), ("target", target)):
            where = document.locate(path + ("edges", index))
            if name not in known and (name, where) not in unknown:
                unknown[name, where] = unknown_name_error(source, target, role, where, names)
    raise_collected(unknown.values())


def _why_no_sink(document: Document, path: tuple, links: list[tuple[str, str, int]], inputs: list[str],
                 owner: str) -> None:
    """Every node feeds another: an edge into an input, or a cycle. Raise the one found, where it is written
    (the graph checks would find it too, but only after validation, which needs the missing outputs)."""
    for source, target, index in links:
        if target in inputs:
            raise input_target_error(source, target, document.locate(path + ("edges", index)))
    graph = nx.MultiDiGraph()
    for source, target, index in links:
        graph.add_edge(source, target, location=document.locate(path + ("edges", index)))
    error = cycle_error(graph, before=f"{owner} has no 'outputs:' and no sink (a node no edge leaves): ")
    if error is not None:
        raise error
