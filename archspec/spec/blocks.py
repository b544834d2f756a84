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
from archspec.spec.syntax import SHARES, chain_links, edge_ends, type_word

CARRY, DISCARD = "carry", "discard"
USE_KEYS = ("block", "repeat", "start", SHARES, CARRY, DISCARD)
RESERVED_NAMES = {
    "block": "a key of every block use (the block it uses)",
    "repeat": "a key of every block use (how many copies it makes)",
    "start": "a key of every block use (the number of its first copy)",
    SHARES: "a key of every block use (the use whose layers it calls again)",
    CARRY: "a key of every block use (the output that feeds the next copy)",
    DISCARD: "a key of every block use (the outputs it drops)",
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


def check_carry(name: str, raw: dict[str, Any], inputs: list[str], outputs: list[str], repeat: int | None,
                at: Locate, path: Path_, context: str | None) -> str | None:
    """The output of a repeated use that feeds the next copy: `carry:`, or the block's one output.

    The other outputs of a repeated use are collected: an edge from `use.skip`
    is one edge from each copy's `skip`, in copy order (WaveNet's skips into a sum).
    """
    if CARRY in raw and (repeat is None or not isinstance(raw[CARRY], str) or raw[CARRY] not in outputs):
        problem = "needs 'repeat'" if repeat is None else "must name an output of the block"
        raise SchemaError(f"'{CARRY}' of block use {problem}: the output that feeds the next copy",
                          location=at(path + (CARRY,), context), got=repr(raw[CARRY]),
                          expected="one of " + ", ".join(outputs), hint=did_you_mean(str(raw[CARRY]), outputs))
    if repeat is None or (repeat == 1 and CARRY not in raw):
        return None
    if len(inputs) != 1 or (len(outputs) != 1 and CARRY not in raw):
        raise SchemaError(f"block '{name}' cannot repeat: it needs one input, and one output or a '{CARRY}:' "
                          "output, to chain", location=at(path + ("repeat",), context),
                          got=f"{len(inputs)} inputs, {len(outputs)} outputs",
                          hint=f"name the output that feeds the next copy: {CARRY}: {outputs[0]} (the others are "
                          "collected: an edge from USE.OUTPUT leaves every copy)" if len(inputs) == 1 else None)
    return raw.get(CARRY, outputs[0])


def discarded_ports(raw: dict[str, Any], outputs: list[str], location: Location) -> list[str]:
    """The outputs a use's `discard:` names (one name or a list): left unused, and pruned with what only feeds them."""
    value = raw.get(DISCARD, [])
    ports = [value] if isinstance(value, str) else value
    if not isinstance(ports, list) or not all(isinstance(port, str) and port in outputs for port in ports):
        wrong = next((port for port in ports if port not in outputs), ports) if isinstance(ports, list) else ports
        raise SchemaError(f"'{DISCARD}' of a block use names outputs of its block", location=location,
                          got=repr(wrong), expected="one or more of " + ", ".join(outputs),
                          hint=did_you_mean(str(wrong), outputs) or f"{DISCARD}: {outputs[-1]}")
    return ports


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
    if not port:  # a use with several inputs takes such edges on its one unnamed input (unnamed_port)
        port = inputs[0]
    if port not in inputs:
        raise SchemaError(f"block use '{use}' has no input '{port}'", location=location,
                          expected="one of " + ", ".join(inputs), hint=did_you_mean(port, inputs))
    return port


def unnamed_port(use: str, block: str, inputs: list[str], bound: dict[str, Any], location: Location) -> str:
    """The input of a use with several inputs that the edges naming no port feed: the one no edge names.

    So `a -> dec` with `e2 -> dec.skip` (or `dec=up(32, skip=e2)` in a chain)
    feeds `dec.x`, and a chain runs through a use with several inputs.
    """
    free = [port for port in inputs if port not in bound]
    if len(free) == 1:
        return free[0]
    left = "every input is named by another edge" if not free else f"{' and '.join(free)} are fed by none"
    first, other = (free[0], free[1]) if len(free) > 1 else (inputs[0], inputs[-1])
    raise SchemaError(f"block use '{use}' has several inputs ({', '.join(inputs)}), and an edge that names none "
                      f"goes to the one input no other edge names, but {left}", location=location,
                      hint=f"feed the others by name: in the chain step, {use}={block}(..., {other}=SOURCE), or "
                      f"with an edge 'SOURCE -> {use}.{other}'; or name this edge's input: '... -> {use}.{first}'")


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
    if not isinstance(entry, dict):
        return None
    sources, targets = edge_ends(entry.get("from")), edge_ends(entry.get("to"))
    if sources and targets:
        extra = {key: value for key, value in entry.items() if key not in ("from", "to")}
        return [(source, target, extra) for target in targets for source in sources]
    return None


def call_params(blocks: Any) -> dict[str, tuple[str, ...]]:
    """Each block's declared params in order: the positional arguments of a block call step `res(64, 2)`."""
    if not isinstance(blocks, dict):
        return {}
    found = {}
    for name, block in blocks.items():
        params = block.get("params") if isinstance(block, dict) else None
        found[name] = tuple(str(key) for key in params) if isinstance(params, (dict, list)) else ()
    return found


def call_inputs(blocks: Any) -> dict[str, list[str]]:
    """Each block's inputs: a block call step may feed all but its first by name, `up(32, skip=e2)`."""
    if not isinstance(blocks, dict):
        return {}
    return {name: names_of(block.get("inputs", [])) for name, block in blocks.items() if isinstance(block, dict)}


def port_arguments(block: str, port: str, value: Any, where: Location) -> list[str]:
    """The sources a block call step's `port=value` names (`skip=e2`, `skip=[e2, e1]`), after checking them."""
    sources = value if isinstance(value, list) else [value]
    if not sources or not all(isinstance(source, str) and source and "${" not in source for source in sources):
        raise SchemaError(f"input '{port}' of block '{block}' takes the name of what feeds it (or a list of "
                          "names)", location=where, got=type_word(value),
                          hint=f"{block}(..., {port}=NODE), e.g. the node of an earlier chain step 'enc=...'")
    return sources
