"""Block definitions and block uses: what a `blocks:` entry must hold, and the params and counts of a use.

A block is checked once, where it is defined, so that an error in it (an
unknown key, an `outputs:` entry naming no node) points at the definition
and not at the edges its copies generate.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from archspec.errors import Location, SchemaError, did_you_mean
from archspec.spec.document import Path_
from archspec.spec.syntax import SHARES, chain_links

USE_KEYS = ("block", "repeat", "start", SHARES)
RESERVED_NAMES = {
    "block": "a key of every block use (the block it uses)",
    "repeat": "a key of every block use (how many copies it makes)",
    "start": "a key of every block use (the number of its first copy)",
    SHARES: "a key of every block use (the use whose layers it calls again)",
    "index": "the number of the copy inside a block (${index})",
}
"""Names a block param may not take: a use's own keys, and the copy's number its nodes may read."""
BLOCK_KEYS = ("doc", "params", "inputs", "outputs", "nodes", "edges")
MAX_REPEAT = 1_000
SEPARATOR = "_"

Locate = Callable[..., Location]
"""at(path, context=None, *, key=False): where a path of the source document was written."""


def check_block(name: str, block: Any, at: Locate) -> dict[str, Any]:
    """The definition of block `name`, after checking its keys, nodes, edges, inputs and outputs."""
    path: Path_ = ("blocks", name)
    if not isinstance(block, dict):
        raise SchemaError(f"block '{name}' must be a mapping", location=at(path),
                          expected="keys " + ", ".join(BLOCK_KEYS))
    for key in block:
        if key not in BLOCK_KEYS:
            raise SchemaError(f"unknown key '{key}' in block '{name}'",
                              location=at(path + (key,), key=True),
                              expected="one of " + ", ".join(BLOCK_KEYS),
                              hint=did_you_mean(key, BLOCK_KEYS))
    for key, kind in (("nodes", dict), ("edges", list)):
        if not isinstance(block.get(key), kind):
            raise SchemaError(f"block '{name}' needs '{key}:' as a {'mapping' if kind is dict else 'list'}",
                              location=at(path + (key,)) if key in block else at(path, key=True))
    for key in ("inputs", "outputs"):
        if not names_of(block.get(key, [])):
            raise SchemaError(f"block '{name}' needs '{key}:' (a list of names)",
                              location=at(path + (key,)) if key in block else at(path, key=True),
                              hint="inputs: [x]  names what edges into the use feed; "
                              "outputs: [out]  names the node edges out of it start at")
    _check_inputs(name, block, at)
    _check_outputs(name, block, at)
    return block


def _check_inputs(name: str, block: dict[str, Any], at: Locate) -> None:
    """An input may not share a name with a node of the block: edges from the name would be ambiguous."""
    inputs = block["inputs"]
    for index, port in enumerate([inputs] if isinstance(inputs, str) else inputs):
        if isinstance(port, str) and port in block["nodes"]:
            path: Path_ = ("blocks", name, "inputs") + (() if isinstance(inputs, str) else (index,))
            raise SchemaError(f"input '{port}' of block '{name}' is also the name of a node of the block",
                              location=at(path), hint="inputs and nodes of a block share one namespace; "
                              "rename the input or the node")


def _check_outputs(name: str, block: dict[str, Any], at: Locate) -> None:
    """Each output names a node of the block, one of its inputs, or an output of a block use in it."""
    nodes, inputs = block["nodes"], names_of(block["inputs"])
    outputs = block["outputs"]
    for index, output in enumerate([outputs] if isinstance(outputs, str) else outputs):
        if not isinstance(output, str):
            continue
        use = output.partition(".")[0]
        if output in nodes or output in inputs or (isinstance(nodes.get(use), dict) and "block" in nodes[use]):
            continue
        path: Path_ = ("blocks", name, "outputs") + (() if isinstance(outputs, str) else (index,))
        raise SchemaError(f"output '{output}' of block '{name}' is not a node of the block",
                          location=at(path), expected="one of " + ", ".join([*nodes, *inputs]),
                          hint=did_you_mean(output, [*nodes, *inputs]) or "name a node under the block's 'nodes:'")


def check_params(name: str, declared: Any, at: Locate) -> dict[str, Any]:
    """A block's declared params as a mapping of names to defaults (None: the use must give it)."""
    declared_as = declared
    if isinstance(declared, list) and all(isinstance(param, str) for param in declared):
        declared = dict.fromkeys(declared)
    if not isinstance(declared, dict):
        raise SchemaError(f"block '{name}' needs 'params:' as a mapping of names to defaults "
                          "or a list of names", location=at(("blocks", name, "params")),
                          got=repr(declared), hint="params: {filters: null, kernel: 3}")
    for number, param in enumerate(declared):
        if param in RESERVED_NAMES:  # a use's key: the use's value would be taken as the key, not the param
            where = ("blocks", name, "params", param) if isinstance(declared_as, dict) else \
                ("blocks", name, "params", number)
            raise SchemaError(f"block '{name}' declares a param '{param}', but '{param}' is "
                              f"{RESERVED_NAMES[param]}", location=at(where, key=isinstance(declared_as, dict)),
                              hint=f"name the param otherwise, e.g. '{param}_'")
    return declared


def check_given(name: str, defaults: dict[str, Any], given: dict[str, Any], path: Path_,
                context: str | None, at: Locate) -> None:
    """A use gives only params its block declares, and every param without a default."""
    for key in given:
        if key not in defaults:
            raise SchemaError(f"block '{name}' has no parameter '{key}'",
                              location=at(path + (key,), context, key=True),
                              expected="one of " + (", ".join(defaults) or "(no params)"),
                              hint=did_you_mean(key, defaults) or "declare it in the block's params")
    missing = [key for key, value in {**defaults, **given}.items() if value is None]
    if missing:
        raise SchemaError(f"block use needs parameter '{missing[0]}' of block '{name}'",
                          location=at(path, context, key=True),
                          hint=f"add '{missing[0]}: ...' to the use ({name}({missing[0]}=...) in a chain)")


def check_count(key: str, value: Any, location: Location) -> int:
    """A use's `repeat:` or `start:` value: a whole number from 1 to MAX_REPEAT."""
    if isinstance(value, bool) or not isinstance(value, int) or not 0 < value <= MAX_REPEAT:
        hint = None
        if isinstance(value, float) and value.is_integer():
            hint = "'/' divides into a fraction; use '//' for a whole number, e.g. ${n // 2}"
        raise SchemaError(f"'{key}' must be a whole number from 1 to {MAX_REPEAT}", location=location,
                          got=repr(value), hint=hint)
    return value


def check_feed(use: str, port: str, inputs: list[str], location: Location) -> str:
    """The input `port` of block use `use` that an edge feeds ('' for its only one), after checking it exists.

    A port may take several edges: plain ones are its tensors in the order
    written (a merge inside the block sees them in that order), and a
    skip, gate or attention edge into it goes to the one node the port feeds.
    """
    if not port:
        if len(inputs) != 1:
            raise SchemaError(f"block use '{use}' has several inputs ({', '.join(inputs)})",
                              location=location, hint=f"name one: '{use}.{inputs[0]}'")
        port = inputs[0]
    if port not in inputs:
        raise SchemaError(f"block use '{use}' has no input '{port}'", location=location,
                          expected="one of " + ", ".join(inputs), hint=did_you_mean(port, inputs))
    return port


def port_feeds(use: str, port: str, feeds: list[tuple[str, dict[str, Any] | None, Location]],
               consumers: int) -> None:
    """Check what feeds one port of a use: a plain edge first, and merge edges only into a port read once."""
    plain = [feed for feed in feeds if not is_merge(feed[1])]
    merged = [feed for feed in feeds if is_merge(feed[1])]
    if merged and not plain:
        kind = merged[0][1]["kind"]  # type: ignore[index]
        raise SchemaError(f"input '{port}' of block use '{use}' has a {kind} edge but no plain edge",
                          location=merged[0][2], hint=f"a {kind} edge changes a main input; "
                          f"feed the port with a plain edge too, e.g. 'SOURCE -> {use}.{port}'")
    if merged and consumers != 1:
        raise SchemaError(f"a {merged[0][1]['kind']} edge into input '{port}' of block use '{use}' needs the "  # type: ignore[index]
                          f"port to feed one node of the block; it feeds {consumers}", location=merged[0][2],
                          hint="send the edge to the node inside the block that should merge it")


def is_merge(extra: dict[str, Any] | None) -> bool:
    """True for an edge's extra keys that name a kind other than plain (a skip, gate or attention edge)."""
    return extra is not None and extra.get("kind", "plain") != "plain"


def port_sources(port: str, feeds: list[tuple[str, dict[str, Any] | None, Location]], extra: dict[str, Any] | None,
                 location: Location) -> list[tuple[str, dict[str, Any] | None]]:
    """The edges a link (with `extra`) from block input `port` stands for, given what feeds the port.

    Plain feeds are passed on in the order written, with the link's own kind;
    skip and gate feeds follow, each with its kind, to the same target.
    """
    plain = [(source, extra) for source, kind, _ in feeds if not is_merge(kind)]
    merged = [(source, kind) for source, kind, _ in feeds if is_merge(kind)]
    if (merged or len(plain) > 1) and is_merge(extra):
        raise SchemaError(f"a {extra['kind']} edge from block input '{port}', which several edges feed",  # type: ignore[index]
                          location=location, hint="merge them in a node of the block first")
    return plain + merged


def one_source(port: str, feeds: list[tuple[str, dict[str, Any] | None, Location]], location: Location) -> str:
    """The one node feeding block input `port`, where one tensor is needed (a block output naming it)."""
    if len(feeds) != 1:
        raise SchemaError(f"block input '{port}' is fed by {len(feeds)} edges, so it is no one tensor",
                          location=location, hint="merge them in a node of the block and use that node")
    return feeds[0][0]


def consumers_of(port: str, edges: list[Any]) -> int:
    """How many edge links inside a block start at `port` (as written, before expansion)."""
    return sum(1 for entry in edges for source, _, _ in (links_of(entry) or []) if source == port)


def names_of(value: Any) -> list[str]:
    """The names of a block's `inputs:` or `outputs:` (one name or a list)."""
    if isinstance(value, str):
        return [value]
    return [item for item in value if isinstance(item, str)] if isinstance(value, list) else []


def links_of(entry: Any) -> list[tuple[str, str, dict[str, Any] | None]] | None:
    """An edge entry as (source, target, extra keys or None for a plain chain link); None if malformed."""
    if isinstance(entry, str):
        links = chain_links(entry)
        return None if links is None else [(source, target, None) for source, target in links]
    if isinstance(entry, dict) and isinstance(entry.get("from"), str) and isinstance(entry.get("to"), str):
        extra = {key: value for key, value in entry.items() if key not in ("from", "to")}
        return [(entry["from"], entry["to"], extra)]
    return None
