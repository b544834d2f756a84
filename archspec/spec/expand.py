"""Expansion of `vars:`, `${...}` expressions and `blocks:` (with `repeat:`) into a flat document.

This runs after the base is merged and `--set` applied (archspec.spec.frontend),
before validation, so the validator, the graph checks and the compiler only
ever see plain nodes and edges. Every generated key keeps the position it was
written at (inside the block definition) and a context naming the use that
generated it, so an error inside a block points at both lines. `${...}` is
expanded in every value, edge chains included (`- x -> ${first}`).

Naming: a use `conv2` of a block makes nodes `conv2_<inner>`; with
`repeat: N` the copies are `conv2<i>` (i from `start`, default 1), so a use
`block` with repeat in a use `conv3` gives `conv3_block2_1_conv`, the names
Keras's own ResNet50 uses.

Cost: each node, edge and block copy is visited once and its positions (a
subtree) copied once, and block copies count toward the node limit even when
they hold no node, so expansion is linear in what it produces and bounded.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from archspec.errors import Location, SchemaError, did_you_mean
from archspec.spec import blocks
from archspec.spec.composer import MAX_ENTRIES
from archspec.spec.document import Document, Path_, with_context
from archspec.spec.provenance import BlockUse
from archspec.spec.substitute import Binding, Substituter, check_spliced_chain, has_expression
from archspec.spec.syntax import INDEX_FIELD, NAME_RULE, SHARES, is_name, join_chain

MAX_NODES = MAX_ENTRIES
"""The one node limit, whether written out or expanded; block copies count too (docs/security.md)."""


def expand(document: Document) -> Document:
    """The document with vars, `${...}` and blocks expanded; unchanged if it uses none of them."""
    data = document.data
    if not isinstance(data, dict) or not ("vars" in data or "blocks" in data or has_expression(data)):
        return document
    return _Expander(document).run()


_Feed = tuple[str, dict[str, Any] | None, Location]
"""An edge into a block input: its source node, its extra keys (None: plain), where it was written."""


@dataclass
class _Scope:
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
    ports: dict[str, list[_Feed]] = field(default_factory=dict)
    frames: tuple[BlockUse, ...] = ()  # the block uses this scope is a copy of, outermost first
    twin: _Scope | None = None  # the copy whose layers this copy calls again (a use with `shares:`)

    def __post_init__(self) -> None:
        self.uses = {name for name, raw in self.nodes.items() if isinstance(raw, dict) and "block" in raw}
        sharing = {name: raw[SHARES] for name, raw in self.nodes.items()  # `{shares: USE}`: a use of USE's block
                   if isinstance(raw, dict) and "op" not in raw and "block" not in raw
                   and isinstance(raw.get(SHARES), str)}
        while grown := {name for name, other in sharing.items() if other in self.uses} - self.uses:
            self.uses |= grown  # a use may share a use that shares another


class _Expander:
    def __init__(self, document: Document) -> None:
        self.source = document
        self.data: dict[str, Any] = document.data
        self.out = Document(data={}, file=document.file, text=document.text)
        self.out.positions.key, self.out.positions.value = document.positions.key, document.positions.value
        self.substituter = Substituter()
        self.instances: dict[tuple[int, str], list[_Scope]] = {}
        self.copies = 0
        self.blocks = self.data.get("blocks") or {}
        if not isinstance(self.blocks, dict):
            raise SchemaError("'blocks' must be a mapping of block names to definitions",
                              location=self._at(("blocks",)))
        self.checked: dict[str, dict[str, Any]] = {}
        self.env = self._vars()

    def run(self) -> Document:
        nodes, edges = self.data.get("nodes"), self.data.get("edges")
        flat = isinstance(nodes, dict) and isinstance(edges, list)
        out = self.out.data
        for key, value in self.data.items():
            if key in ("vars", "blocks"):
                continue
            if flat and key in ("nodes", "edges"):
                out[key] = {} if key == "nodes" else []
                self.out.positions.child(key).key = self._at((key,), key=True)
                continue
            out[key] = self._resolve(value, self.env, (key,), (key,), None)
        if flat:
            top = _Scope(nodes, edges, ("nodes",), ("edges",), "", self.env)
            self._expand(top)
            outputs = out.get("outputs")
            if isinstance(outputs, (str, list)):
                names = [outputs] if isinstance(outputs, str) else outputs
                out["outputs"] = [
                    self._source(name, top, ("outputs", index)) if isinstance(name, str) else name
                    for index, name in enumerate(names)
                ]
        return self.out

    def _at(self, path: Path_, context: str | None = None, *, key: bool = False) -> Location:
        return with_context(self.source.locate(path, key=key), context, inner=True)

    def _resolve(self, value: Any, env: dict[str, Binding], path: Path_, target: Path_ | None,
                 context: str | None) -> Any:
        """`value` (at `path` in the source) resolved; its positions are put at `target` in the output."""
        positions = self.source.section(path, context, inner=True)
        resolved = self.substituter.resolve(value, env, self._at(path, context), positions)
        if target is not None:
            self.out.positions.put(target, positions)
        return resolved

    def _vars(self) -> dict[str, Binding]:
        raw = self.data.get("vars") or {}
        if not isinstance(raw, dict):
            raise SchemaError("'vars' must be a mapping of names to values", location=self._at(("vars",)),
                              hint="vars: {width: 64, depth: 3}")
        env: dict[str, Binding] = {}
        for name, value in raw.items():
            if not is_name(name):
                raise SchemaError(f"variable name '{name}' is not a valid identifier",
                                  location=self._at(("vars", name), key=True), expected=NAME_RULE)
            path = ("vars", name)
            env[name] = self.substituter.bind(value, env, self._at(path), self.source.section(path))
        return env

    # -- scopes ------------------------------------------------------------------------------

    def _expand(self, scope: _Scope) -> None:
        out_nodes = self.out.data["nodes"]
        for name, raw in scope.nodes.items():
            if name in scope.uses:
                continue
            path = scope.nodes_path + (name,)
            full = self._full(scope, name, path)
            if full in out_nodes:
                raise SchemaError(f"two nodes are both named '{full}' after expanding blocks",
                                  location=self._at(path, scope.context, key=True), node=full,
                                  hint="rename the node or the block use so the generated names differ")
            self._check_size(path, scope.context)
            out_nodes[full] = node = self._resolve(raw, scope.env, path, ("nodes", full), scope.context)
            if isinstance(node, dict) and isinstance(node.get(SHARES), str):  # a node of this copy
                node[SHARES] = self._full(scope, node[SHARES], path + (SHARES,))
            elif isinstance(node, dict) and scope.twin is not None:  # the twin copy's node owns the layer
                out_nodes[full] = {SHARES: self._full(scope.twin, name, path)}
            if scope.frames:
                self.out.block_uses[full] = scope.frames
        bindings: dict[str, dict[str, list[_Feed]]] = {use: {} for use in scope.uses}
        for index, raw_entry in enumerate(scope.edges):
            path = scope.edges_path + (index,)
            entry = self._resolve(raw_entry, scope.env, path, None, scope.context)
            check_spliced_chain(raw_entry, entry, self._at(path, scope.context))
            links = blocks.links_of(entry)
            if links is None:  # malformed: pass it through for the validator to report
                self._emit(entry, path, scope.context)
                continue
            for source, target, extra in links:
                for resolved, kind in self._feeds(source, extra, scope, path):
                    self._link(scope, resolved, target, kind, bindings, path)
        for use in scope.nodes:
            if use in scope.uses:
                self._instantiate(scope, use, bindings[use])

    def _link(self, scope: _Scope, source: str, target: str, extra: dict | None,
              bindings: dict[str, dict[str, list[_Feed]]], path: Path_) -> None:
        """One edge from full node name `source` to `target` of `scope` (a node, or an input of a use)."""
        use, _, port = target.partition(".")
        if use in scope.uses:
            inputs = self._instances(scope, use)[0].inputs
            port = blocks.check_feed(use, port, inputs, self._at(path, scope.context))
            bindings[use].setdefault(port, []).append((source, extra, self._at(path, scope.context)))
            return
        if target in scope.ports:
            raise SchemaError(f"block input '{target}' cannot be the target of an edge",
                              location=self._at(path, scope.context),
                              hint="a block's inputs are fed from outside, by edges into its use")
        entry_out: Any = join_chain([source, self._full(scope, target, path)])
        if extra is not None:
            entry_out = {"from": source, "to": self._full(scope, target, path), **extra}
        self._emit(entry_out, path, scope.context)

    def _feeds(self, name: str, extra: dict | None, scope: _Scope, path: Path_) -> list[tuple[str, dict | None]]:
        """The (source, extra) edges a link from `name` stands for: one, or, from a block input, what feeds it."""
        if name not in scope.ports:
            return [(self._source(name, scope, path), extra)]
        return blocks.port_sources(name, scope.ports[name], extra, self._at(path, scope.context))

    def _check_size(self, path: Path_, context: str | None) -> None:
        if len(self.out.data["nodes"]) + self.copies >= MAX_NODES:
            raise SchemaError(f"the spec expands to more than {MAX_NODES:,} nodes and block copies",
                              location=self._at(path, context),
                              hint="lower a repeat count (a block copy counts even when it has no nodes)")

    def _emit(self, entry: Any, path: Path_, context: str | None) -> None:
        edges = self.out.data["edges"]
        self.out.positions.put(("edges", len(edges)), self.source.section(path, context, inner=True))
        edges.append(entry)

    def _source(self, name: str, scope: _Scope, path: Path_) -> str:
        """The full node name an edge (or output) from `name` in `scope` starts at."""
        if name in scope.ports:
            return blocks.one_source(name, scope.ports[name], self._at(path, scope.context))
        use, _, port = name.partition(".")
        if use in scope.uses:
            last = self._instances(scope, use)[-1]
            if not port:
                if len(last.outputs) != 1:
                    raise SchemaError(f"block use '{use}' has several outputs ({', '.join(last.outputs)})",
                                      location=self._at(path, scope.context),
                                      hint=f"name one: '{use}.{last.outputs[0]}'")
                port = last.outputs[0]
            if port not in last.outputs:
                raise SchemaError(f"block use '{use}' has no output '{port}'",
                                  location=self._at(path, scope.context),
                                  expected="one of " + ", ".join(last.outputs),
                                  hint=did_you_mean(port, last.outputs))
            return self._source(port, last, path)
        return self._full(scope, name, path)

    def _full(self, scope: _Scope, name: str, path: Path_) -> str:
        """A node's name after expanding: the use's prefix and its own (`stage2_conv`), or, for a name
        holding {index}, that template with the use's number (`conv_dw_{index}_bn` -> `conv_dw_3_bn`)."""
        if INDEX_FIELD not in name:
            return scope.prefix + name
        number = scope.env.get("index")
        if number is None:
            declared = name in scope.nodes  # the name where it is declared, not the edge that reached it
            raise SchemaError(f"node name '{name}' holds {INDEX_FIELD}, but nothing gives it a number here",
                              location=self._at(scope.nodes_path + (name,) if declared else path, scope.context,
                                                key=declared),
                              hint="use its block with repeat: N (copies numbered from start:) or with start: N")
        return name.replace(INDEX_FIELD, str(number.value))

    # -- block copies ------------------------------------------------------------------------

    def _instantiate(self, scope: _Scope, use: str, bound: dict[str, list[_Feed]]) -> None:
        copies = self._instances(scope, use)
        missing = [port for port in copies[0].inputs if port not in bound]
        if missing:
            raise SchemaError(f"input '{missing[0]}' of block use '{use}' is not connected",
                              location=self._at(scope.nodes_path + (use,), scope.context, key=True),
                              hint=f"add an edge into it, e.g. 'SOURCE -> {use}'")
        for port, feeds in bound.items():
            blocks.port_feeds(use, port, feeds, blocks.consumers_of(port, copies[0].edges))
        ports = bound
        for copy in copies:
            copy.ports = ports
            copy.frames[-1].inputs.update({port: _first_source(feeds) for port, feeds in ports.items() if feeds})
            self._expand(copy)
            self._note_outputs(copy)
            ports = {copy.inputs[0]: [(self._source(copy.outputs[0], copy, copy.nodes_path), None,
                                       self._at(copy.nodes_path))]}

    def _note_outputs(self, copy: _Scope) -> None:
        """Record which node each output port of a copy comes from (provenance only: errors stay where they were)."""
        for port in copy.outputs:
            try:
                copy.frames[-1].outputs[port] = self._source(port, copy, copy.nodes_path)
            except SchemaError:
                continue  # an output nobody uses that cannot be resolved: reported only if used

    def _instances(self, scope: _Scope, use: str) -> list[_Scope]:
        """The copies a block use makes (one, or `repeat` of them), built once and cached."""
        cache_key = (id(scope), use)
        if cache_key in self.instances:
            return self.instances[cache_key]
        path = scope.nodes_path + (use,)
        raw = scope.nodes[use]
        twins, owner = self._twins(scope, use, raw, path)
        if owner is not None:  # `shares: other`: the block, params and repeat of the use that owns the layers
            raw = scope.nodes[owner]
        name = raw["block"]
        if not isinstance(name, str) or name not in self.blocks:
            raise SchemaError(f"unknown block '{name}'", location=self._at(path + ("block",), scope.context),
                              node=scope.prefix + use,
                              expected="one of " + (", ".join(self.blocks) or "(no blocks defined)"),
                              hint=did_you_mean(str(name), self.blocks) or "define it under 'blocks:'")
        if name in scope.stack:
            raise SchemaError(f"block '{name}' uses itself", location=self._at(path, scope.context),
                              got=" -> ".join(scope.stack + (name,)))
        block = self._block(name)
        repeat = self._count(raw, "repeat", None, scope, path)
        start = self._count(raw, "start", 1, scope, path)
        params = self._params(name, block, raw, scope, path)
        inputs, outputs = blocks.names_of(block.get("inputs", [])), blocks.names_of(block.get("outputs", []))
        if repeat is not None and repeat > 1 and (len(inputs) != 1 or len(outputs) != 1):
            raise SchemaError(f"block '{name}' cannot repeat: it needs one input and one output to chain",
                              location=self._at(path + ("repeat",), scope.context),
                              got=f"{len(inputs)} inputs, {len(outputs)} outputs")
        use_at = self._at(path, key=True)
        indices = [None] if repeat is None else list(range(start, start + repeat))
        self._check_size(path, scope.context)
        self.copies += len(indices)
        copies = []
        for index in indices:
            instance = scope.prefix + use + ("" if index is None else str(index))
            context = f"block '{name}' used as '{instance}' at {Location(use_at.file, use_at.line, use_at.column)}"
            if scope.context:
                context = f"{context}; {scope.context}"
            number = index if index is not None else (start if "start" in raw else None)  # names with {index}
            env = {**self.env, **params, **({} if number is None else {"index": Binding(number, 1)})}
            block_path: Path_ = ("blocks", name)
            frame = BlockUse(instance, scope.prefix + use, name, index, repeat)
            copies.append(_Scope(
                block.get("nodes") or {}, block.get("edges") or [], block_path + ("nodes",),
                block_path + ("edges",), instance + blocks.SEPARATOR, env, context, scope.stack + (name,),
                inputs, outputs, frames=scope.frames + (frame,),
                twin=None if twins is None else twins[len(copies)],
            ))
        self.instances[cache_key] = copies
        return copies

    def _twins(self, scope: _Scope, use: str, raw: dict, path: Path_) -> tuple[list[_Scope] | None, str | None]:
        """The copies whose layers the copies of `use` call again (None if it shares none): of the use
        that owns the layers it `shares:` (returned too), or of the same use in the copy this scope
        shares (a use inside a shared block)."""
        if SHARES not in raw:
            return (None if scope.twin is None else self._instances(scope.twin, use)), None
        other = raw[SHARES]
        at = self._at(path + (SHARES,), scope.context)
        if not isinstance(other, str) or other not in scope.uses or other == use:
            raise SchemaError(f"block use '{use}' shares {other!r}, which is not another block use here",
                              location=at, node=scope.prefix + use, expected="one of " + (
                                  ", ".join(sorted(scope.uses - {use})) or "(no other block use)"),
                              hint=did_you_mean(str(other), scope.uses - {use})
                              or "a block use shares the layers of another use of a block in the same scope")
        seen = [use, other]
        while SHARES in scope.nodes[other]:  # shares a use that shares another: the one that owns the layers
            other = scope.nodes[other][SHARES]
            if other in seen or other not in scope.uses:
                raise SchemaError(f"block use '{use}' shares '{seen[1]}', and the uses sharing each other never "
                                  f"reach one that owns its layers: {' -> '.join(seen + [str(other)])}",
                                  location=at, node=scope.prefix + use,
                                  hint="one of them must be a use of a block without 'shares'")
            seen.append(other)
        given = [key for key in raw if key not in ("block", SHARES)]
        if given or raw.get("block", scope.nodes[other]["block"]) != scope.nodes[other]["block"]:
            key = given[0] if given else "block"
            raise SchemaError(f"block use '{use}' shares the layers of '{other}', so it takes its block, params "
                              f"and repeat from it, but it sets '{key}'",
                              location=self._at(path + (key,), scope.context, key=True), node=scope.prefix + use,
                              hint=f"remove '{key}' (one set of layers has one set of params)")
        return self._instances(scope, other), other

    def _block(self, name: str) -> dict[str, Any]:
        if name not in self.checked:
            self.checked[name] = blocks.check_block(name, self.blocks[name], self._at)
        return self.checked[name]

    def _params(self, name: str, block: dict, raw: dict, scope: _Scope, path: Path_) -> dict[str, Binding]:
        params_path: Path_ = ("blocks", name, "params")
        declared = blocks.check_params(name, block.get("params") or {}, self._at)
        given = {key: value for key, value in raw.items() if key not in blocks.USE_KEYS}
        blocks.check_given(name, declared, given, path, scope.context, self._at)
        bound = {}
        for key, value in declared.items():
            if key in given:
                at, positions = path + (key,), self.source.section(path + (key,), scope.context, inner=True)
                bound[key] = self.substituter.bind(given[key], scope.env, self._at(at, scope.context), positions)
            else:
                at = params_path + (key,) if isinstance(block.get("params"), dict) else params_path
                bound[key] = self.substituter.bind(value, self.env, self._at(at), self.source.section(at))
        return bound

    def _count(self, raw: dict, key: str, default: int | None, scope: _Scope, path: Path_) -> int | None:
        if key not in raw:
            return default
        value = self._resolve(raw[key], scope.env, path + (key,), None, scope.context)
        return blocks.check_count(key, value, self._at(path + (key,), scope.context))


def _first_source(feeds: list[_Feed]) -> str:
    """The node a port draws from (its first plain feed): what a folded diagram attaches the port to."""
    return next((source for source, extra, _ in feeds if extra is None), feeds[0][0])
