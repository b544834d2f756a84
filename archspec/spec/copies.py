"""The block-copy half of expansion: the copies a use makes, their params, sharing twins, and their ports.

`archspec.spec.expand` walks scopes (the top level, each copy) and links
their edges; this module makes the copies it walks: one per use, or `repeat`
of them chained through the block's one output or its `carry:`, each with its
params bound, its prefix and its provenance, and expands each with the ports
its use's edges feed. Split from expand.py to keep each module one job.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from archspec.errors import Location, SchemaError, did_you_mean
from archspec.spec import blocks, branches
from archspec.spec.discard import Discarded
from archspec.spec.document import Document, Path_
from archspec.spec.provenance import BlockCopy
from archspec.spec.substitute import Binding, Substituter
from archspec.spec.syntax import SHARES

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
    carry: str | None = None  # in a repeated use: the output that feeds the next copy (the others are collected)

    def __post_init__(self) -> None:
        self.uses = {name for name, raw in self.nodes.items() if isinstance(raw, dict) and "block" in raw}
        sharing = {name: raw[SHARES] for name, raw in self.nodes.items()  # `{shares: USE}`: a use of USE's block
                   if isinstance(raw, dict) and "op" not in raw and "block" not in raw
                   and isinstance(raw.get(SHARES), str)}
        while grown := {name for name, other in sharing.items() if other in self.uses} - self.uses:
            self.uses |= grown  # a use may share a use that shares another


class BlockCopies:
    """What the expander needs to make block copies; `_Expander` provides the scope walk it calls back."""

    source: Document
    blocks: dict[str, Any]
    checked: dict[str, dict[str, Any]]
    instances: dict[tuple[int, str], list[Scope]]
    discarded: list[Discarded]
    substituter: Substituter
    env: dict[str, Binding]
    copies: int

    def _at(self, path: Path_, context: str | None = None, *, key: bool = False) -> Location:
        raise NotImplementedError

    def _resolve(self, value: Any, env: dict[str, Binding], path: Path_, target: Path_ | None,
                 context: str | None) -> Any:
        raise NotImplementedError

    def _expand(self, scope: Scope) -> None:
        raise NotImplementedError

    def _source(self, name: str, scope: Scope, path: Path_) -> str:
        raise NotImplementedError

    def _check_size(self, path: Path_, context: str | None) -> None:
        raise NotImplementedError

    def _instantiate(self, scope: Scope, use: str, bound: dict[str, list[Feed]]) -> None:
        copies = self._instances(scope, use)
        if "" in bound:
            unnamed = bound.pop("")
            block = copies[0].frames[-1].block
            bound[blocks.unnamed_port(use, block, copies[0].inputs, bound, unnamed[0][2])] = unnamed
        missing = [port for port in copies[0].inputs if port not in bound]
        if missing:
            raise SchemaError(f"input '{missing[0]}' of block use '{use}' is not connected",
                              location=self._at(scope.nodes_path + (use,), scope.context, key=True),
                              hint=f"add an edge into it, e.g. 'SOURCE -> {use}'")
        for port, feeds in bound.items():
            blocks.port_feeds(use, port, feeds, branches.consumers_of(port, copies[0].edges))
        ports = bound
        for copy in copies:
            copy.ports = ports
            copy.frames[-1].inputs.update({port: _first_source(feeds) for port, feeds in ports.items() if feeds})
            self._expand(copy)
            self._note_outputs(copy)
            ports = {copy.inputs[0]: [(self._source(copy.carry or copy.outputs[0], copy, copy.nodes_path), None,
                                       self._at(copy.nodes_path))]}
        raw = scope.nodes[use]
        where = self._at(scope.nodes_path + (use, blocks.DISCARD), scope.context)
        for port in blocks.discarded_ports(raw, copies[0].outputs, where):  # the carry leaves the last copy only
            for copy in copies[-1:] if port == copies[0].carry else copies:
                self.discarded.append(Discarded(self._source(port, copy, copy.nodes_path), copy.prefix,
                                                f"{scope.prefix}{use}.{port}", where))

    def _note_outputs(self, copy: Scope) -> None:
        """Record which node each output port of a copy comes from (provenance only: errors stay where they were)."""
        for port in copy.outputs:
            try:
                copy.frames[-1].outputs[port] = self._source(port, copy, copy.nodes_path)
            except SchemaError:
                continue  # an output nobody uses that cannot be resolved: reported only if used

    def _instances(self, scope: Scope, use: str) -> list[Scope]:
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
        carry = blocks.check_carry(name, raw, inputs, outputs, repeat, self._at, path, scope.context)
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
            frame = BlockCopy(instance, scope.prefix + use, name, index, repeat)
            copies.append(Scope(
                block.get("nodes") or {}, block.get("edges") or [], block_path + ("nodes",),
                block_path + ("edges",), instance + blocks.SEPARATOR, env, context, scope.stack + (name,),
                inputs, outputs, frames=scope.frames + (frame,),
                twin=None if twins is None else twins[len(copies)], carry=carry,
            ))
        self.instances[cache_key] = copies
        return copies

    def _twins(self, scope: Scope, use: str, raw: dict, path: Path_) -> tuple[list[Scope] | None, str | None]:
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

    def _params(self, name: str, block: dict, raw: dict, scope: Scope, path: Path_) -> dict[str, Binding]:
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

    def _count(self, raw: dict, key: str, default: int | None, scope: Scope, path: Path_) -> int | None:
        if key not in raw:
            return default
        value = self._resolve(raw[key], scope.env, path + (key,), None, scope.context)
        return blocks.check_count(key, value, self._at(path + (key,), scope.context))


def _first_source(feeds: list[Feed]) -> str:
    """The node a port draws from (its first plain feed): what a folded diagram attaches the port to."""
    return next((source for source, extra, _ in feeds if extra is None), feeds[0][0])
