"""Expansion of `vars:`, `${...}` expressions and `blocks:` (with `repeat:`) into a flat spec.

This runs on the loaded document, before archspec.spec.models validates it, so the
validator, the graph checks and the compiler only ever see plain nodes and
edges. Every generated key keeps the position it was written at (inside the
block definition) and a context naming the use that generated it, so an
error inside a block points at both lines.

Naming: a use `conv2` of a block makes nodes `conv2_<inner>`; with
`repeat: N` the copies are `conv2<i>` (i from `start`, default 1), so a use
`block` with repeat in a use `conv3` gives `conv3_block2_1_conv`, the names
Keras's own ResNet50 uses.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from archspec.errors import Location, SchemaError, did_you_mean
from archspec.spec.arith import ArithError, evaluate
from archspec.spec.document import MAX_ENTRIES, Document, Path_
from archspec.spec.positions import ExpandedDocument, Positions, with_context
from archspec.spec.variants import apply_overrides, merge_base

SEPARATOR = "_"
USE_KEYS = ("block", "repeat", "start")
BLOCK_KEYS = ("doc", "params", "inputs", "outputs", "nodes", "edges")
MAX_NODES = MAX_ENTRIES  # the one node limit, whether written out or expanded (docs/security.md)
MAX_REPEAT = 1_000
_EXPRESSION = re.compile(r"\$\{([^}]*)\}")


def expand_document(document: Document, overrides: Sequence[str] = ()) -> Document:
    """The document with its base merged, `--set` overrides applied, vars and blocks expanded."""
    document = apply_overrides(merge_base(document), overrides)
    data = document.data
    if not isinstance(data, dict) or not ("vars" in data or "blocks" in data or _has_expression(data)):
        return document
    return _Expander(document).run()


def _has_expression(value: Any) -> bool:
    if isinstance(value, dict):
        return any(_has_expression(item) for item in value.values())
    if isinstance(value, list):
        return any(_has_expression(item) for item in value)
    return isinstance(value, str) and "${" in value


@dataclass
class _Scope:
    """The nodes and edges of the top level or of one copy of a block, and how to name them."""

    nodes: dict[str, Any]
    edges: list[Any]
    nodes_path: Path_
    edges_path: Path_
    prefix: str
    env: dict[str, Any]
    context: str | None = None
    stack: tuple[str, ...] = ()
    inputs: list[str] = field(default_factory=list)
    outputs: list[str] = field(default_factory=list)
    ports: dict[str, str] = field(default_factory=dict)

    @property
    def uses(self) -> set[str]:
        return {name for name, raw in self.nodes.items() if isinstance(raw, dict) and "block" in raw}


class _Expander:
    def __init__(self, document: Document) -> None:
        self.document = document
        self.source = Positions.of(document)
        self.data: dict[str, Any] = document.data
        self.out: dict[str, Any] = {}
        self.positions = Positions()
        self.instances: dict[tuple[int, str], list[_Scope]] = {}
        self.blocks = self.data.get("blocks") or {}
        self.env: dict[str, Any] | None = None
        if not isinstance(self.blocks, dict):
            raise SchemaError("'blocks' must be a mapping of block names to definitions",
                              location=self._at(("blocks",)))

    def run(self) -> ExpandedDocument:
        env = self._global_env()
        nodes, edges = self.data.get("nodes"), self.data.get("edges")
        flat = isinstance(nodes, dict) and isinstance(edges, list)
        for key, value in self.data.items():
            if key in ("vars", "blocks"):
                continue
            if flat and key in ("nodes", "edges"):
                self.out[key] = {} if key == "nodes" else []
                self.positions.keys[(key,)] = self.source.keys.get((key,), self._at((key,)))
                continue
            self.out[key] = self._resolve(value, env, (key,), None)
            self.positions.copy(self.source, (key,), (key,))
        if flat:
            top = _Scope(nodes, edges, ("nodes",), ("edges",), "", env)
            self._expand(top)
            outputs = self.out.get("outputs")
            if isinstance(outputs, (str, list)):
                names = [outputs] if isinstance(outputs, str) else outputs
                self.out["outputs"] = [
                    self._source(name, top, ("outputs", index)) if isinstance(name, str) else name
                    for index, name in enumerate(names)
                ]
        return ExpandedDocument(data=self.out, file=self.document.file, text=self.document.text,
                                positions=self.positions)

    # -- values -----------------------------------------------------------------------------

    def _at(self, path: Path_, context: str | None = None, *, key: bool = False) -> Location:
        return with_context(self.source.at(path, key=key), context, inner=True)

    def _vars(self) -> dict[str, Any]:
        raw = self.data.get("vars") or {}
        if not isinstance(raw, dict):
            raise SchemaError("'vars' must be a mapping of names to values", location=self._at(("vars",)),
                              hint="vars: {width: 64, depth: 3}")
        env: dict[str, Any] = {}
        for name, value in raw.items():
            _check_identifier(name, "variable", self._at(("vars", name), key=True))
            env[name] = self._resolve(value, env, ("vars", name), None)
        return env

    def _resolve(self, value: Any, env: dict[str, Any], path: Path_, context: str | None) -> Any:
        """`value` with every `${expression}` evaluated; a string that is only one keeps its type."""
        if isinstance(value, dict):
            return {key: self._resolve(item, env, path + (key,), context) for key, item in value.items()}
        if isinstance(value, list):
            return [self._resolve(item, env, path + (index,), context) for index, item in enumerate(value)]
        if not isinstance(value, str) or "${" not in value:
            return value
        try:
            whole = _EXPRESSION.fullmatch(value.strip())
            if whole:
                return evaluate(whole.group(1), env)
            return _EXPRESSION.sub(lambda match: str(evaluate(match.group(1), env)), value)
        except ArithError as error:
            raise SchemaError(f"cannot evaluate {value!r}: {error}", location=self._at(path, context),
                              hint="write ${name} or arithmetic such as ${width * 2} on numbers and "
                              "names from 'vars:' (or the block's params)") from None

    # -- scopes ------------------------------------------------------------------------------

    def _expand(self, scope: _Scope) -> None:
        uses = scope.uses
        for name, raw in scope.nodes.items():
            if name in uses:
                continue
            path = scope.nodes_path + (name,)
            full = scope.prefix + name
            if full in self.out["nodes"]:
                raise SchemaError(f"two nodes are both named '{full}' after expanding blocks",
                                  location=self._at(path, scope.context, key=True), node=full,
                                  hint="rename the node or the block use so the generated names differ")
            if len(self.out["nodes"]) >= MAX_NODES:
                raise SchemaError(f"the spec expands to more than {MAX_NODES:,} nodes",
                                  location=self._at(path, scope.context), hint="lower a repeat count")
            self.out["nodes"][full] = self._resolve(raw, scope.env, path, scope.context)
            self.positions.copy(self.source, path, ("nodes", full), scope.context, inner=True)
        bindings: dict[str, dict[str, str]] = {use: {} for use in uses}
        for index, entry in enumerate(scope.edges):
            path = scope.edges_path + (index,)
            links = _links(entry)
            if links is None:  # malformed: pass it through for the validator to report
                self._emit(entry, path, scope.context)
                continue
            for source, target, extra in links:
                resolved = self._source(source, scope, path)
                use, _, port = target.partition(".")
                if use in uses:
                    self._bind(scope, use, port, resolved, extra, bindings[use], path)
                    continue
                if target in scope.ports:
                    raise SchemaError(f"block input '{target}' cannot be the target of an edge",
                                      location=self._at(path, scope.context),
                                      hint="a block's inputs are fed from outside, by edges into its use")
                extra = self._resolve(extra, scope.env, path, scope.context)
                entry_out: Any = f"{resolved} -> {scope.prefix + target}"
                if extra is not None:
                    entry_out = {"from": resolved, "to": scope.prefix + target, **extra}
                self._emit(entry_out, path, scope.context)
        for use in scope.nodes:
            if use in uses:
                self._instantiate(scope, use, bindings[use])

    def _emit(self, entry: Any, path: Path_, context: str | None) -> None:
        edges = self.out["edges"]
        self.positions.copy(self.source, path, ("edges", len(edges)), context, inner=True)
        edges.append(entry)

    def _bind(self, scope: _Scope, use: str, port: str, source: str, extra: dict | None,
              bound: dict[str, str], path: Path_) -> None:
        location = self._at(path, scope.context)
        if extra is not None and extra.get("kind", "plain") != "plain":
            raise SchemaError(f"a {extra['kind']} edge cannot go into block use '{use}'",
                              location=location,
                              hint="feed a block with plain edges; merge inside the block definition")
        inputs = self._instances(scope, use)[0].inputs
        if not port:
            if len(inputs) != 1:
                raise SchemaError(f"block use '{use}' has several inputs ({', '.join(inputs)})",
                                  location=location, hint=f"name one: '{use}.{inputs[0]}'")
            port = inputs[0]
        if port not in inputs:
            raise SchemaError(f"block use '{use}' has no input '{port}'", location=location,
                              expected="one of " + ", ".join(inputs), hint=did_you_mean(port, inputs))
        if port in bound:
            raise SchemaError(f"input '{port}' of block use '{use}' is fed twice", location=location,
                              hint="a block input takes one edge; merge the tensors before it")
        bound[port] = source

    def _source(self, name: str, scope: _Scope, path: Path_) -> str:
        """The full node name an edge (or output) from `name` in `scope` starts at."""
        if name in scope.ports:
            return scope.ports[name]
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
        return scope.prefix + name

    # -- blocks ------------------------------------------------------------------------------

    def _instantiate(self, scope: _Scope, use: str, bound: dict[str, str]) -> None:
        copies = self._instances(scope, use)
        missing = [port for port in copies[0].inputs if port not in bound]
        if missing:
            raise SchemaError(f"input '{missing[0]}' of block use '{use}' is not connected",
                              location=self._at(scope.nodes_path + (use,), scope.context, key=True),
                              hint=f"add an edge into it, e.g. 'SOURCE -> {use}'")
        ports = bound
        for copy in copies:
            copy.ports = ports
            self._expand(copy)
            ports = {copy.inputs[0]: self._source(copy.outputs[0], copy, copy.nodes_path)}

    def _instances(self, scope: _Scope, use: str) -> list[_Scope]:
        """The copies a block use makes (one, or `repeat` of them), built once and cached."""
        cache_key = (id(scope), use)
        if cache_key in self.instances:
            return self.instances[cache_key]
        path = scope.nodes_path + (use,)
        raw = scope.nodes[use]
        name = raw["block"]
        if not isinstance(name, str) or name not in self.blocks:
            raise SchemaError(f"unknown block '{name}'", location=self._at(path + ("block",), scope.context),
                              node=scope.prefix + use,
                              expected="one of " + (", ".join(self.blocks) or "(no blocks defined)"),
                              hint=did_you_mean(str(name), self.blocks) or "define it under 'blocks:'")
        if name in scope.stack:
            raise SchemaError(f"block '{name}' uses itself", location=self._at(path, scope.context),
                              got=" -> ".join(scope.stack + (name,)))
        block_path: Path_ = ("blocks", name)
        block = self._block(name)
        given = {key: value for key, value in raw.items() if key not in USE_KEYS}
        given = self._resolve(given, scope.env, path, scope.context)
        repeat = self._count(raw, "repeat", None, scope, path)
        start = self._count(raw, "start", 1, scope, path)
        params = self._params(block, given, scope, path, name)
        inputs, outputs = _names(block.get("inputs", [])), _names(block.get("outputs", []))
        if repeat is not None and repeat > 1 and (len(inputs) != 1 or len(outputs) != 1):
            raise SchemaError(f"block '{name}' cannot repeat: it needs one input and one output to chain",
                              location=self._at(path + ("repeat",), scope.context),
                              got=f"{len(inputs)} inputs, {len(outputs)} outputs")
        use_at = self._at(path, key=True)
        copies = []
        indices = [None] if repeat is None else list(range(start, start + repeat))
        for index in indices:
            instance = scope.prefix + use + ("" if index is None else str(index))
            context = f"block '{name}' used as '{instance}' at {Location(use_at.file, use_at.line, use_at.column)}"
            if scope.context:
                context = f"{context}; {scope.context}"
            env = {**self._global_env(), **params, **({} if index is None else {"index": index})}
            copies.append(_Scope(
                block.get("nodes") or {}, block.get("edges") or [], block_path + ("nodes",),
                block_path + ("edges",), instance + SEPARATOR, env, context, scope.stack + (name,),
                inputs, outputs,
            ))
        self.instances[cache_key] = copies
        return copies

    def _global_env(self) -> dict[str, Any]:
        """The top-level vars, evaluated once; blocks see them under their own params."""
        if self.env is None:
            self.env = self._vars()
        return self.env

    def _block(self, name: str) -> dict[str, Any]:
        block = self.blocks[name]
        path: Path_ = ("blocks", name)
        if not isinstance(block, dict):
            raise SchemaError(f"block '{name}' must be a mapping", location=self._at(path),
                              expected="keys " + ", ".join(BLOCK_KEYS))
        for key in block:
            if key not in BLOCK_KEYS:
                raise SchemaError(f"unknown key '{key}' in block '{name}'",
                                  location=self._at(path + (key,), key=True),
                                  expected="one of " + ", ".join(BLOCK_KEYS),
                                  hint=did_you_mean(key, BLOCK_KEYS))
        for key, kind in (("nodes", dict), ("edges", list)):
            if not isinstance(block.get(key), kind):
                raise SchemaError(f"block '{name}' needs '{key}:' as a {'mapping' if kind is dict else 'list'}",
                                  location=self._at(path + (key,)) if key in block else self._at(path, key=True))
        for key in ("inputs", "outputs"):
            if not _names(block.get(key, [])):
                raise SchemaError(f"block '{name}' needs '{key}:' (a list of names)",
                                  location=self._at(path + (key,)) if key in block else self._at(path, key=True),
                                  hint="inputs: [x]  names what edges into the use feed; "
                                  "outputs: [out]  names the node edges out of it start at")
        return block

    def _params(self, block: dict, given: dict, scope: _Scope, path: Path_, name: str) -> dict[str, Any]:
        declared = block.get("params") or {}
        if isinstance(declared, list) and all(isinstance(param, str) for param in declared):
            declared = dict.fromkeys(declared)
        if not isinstance(declared, dict):
            raise SchemaError(f"block '{name}' needs 'params:' as a mapping of names to defaults "
                              "or a list of names", location=self._at(("blocks", name, "params")),
                              got=repr(declared), hint="params: {filters: null, kernel: 3}")
        defaults = self._resolve(declared, self._global_env(), ("blocks", name, "params"), None)
        for key in given:
            if key not in defaults:
                raise SchemaError(f"block '{name}' has no parameter '{key}'",
                                  location=self._at(path + (key,), scope.context, key=True),
                                  expected="one of " + (", ".join(defaults) or "(no params)"),
                                  hint=did_you_mean(key, defaults) or "declare it in the block's params")
        params = {**defaults, **given}
        missing = [key for key, value in params.items() if value is None]
        if missing:
            raise SchemaError(f"block use needs parameter '{missing[0]}' of block '{name}'",
                              location=self._at(path, scope.context, key=True),
                              hint=f"add '{missing[0]}: ...' to the use")
        return params

    def _count(self, raw: dict, key: str, default: int | None, scope: _Scope, path: Path_) -> int | None:
        if key not in raw:
            return default
        value = self._resolve(raw[key], scope.env, path + (key,), scope.context)
        if isinstance(value, bool) or not isinstance(value, int) or not 0 < value <= MAX_REPEAT:
            raise SchemaError(f"'{key}' must be a whole number from 1 to {MAX_REPEAT}",
                              location=self._at(path + (key,), scope.context), got=repr(value))
        return value


def _links(entry: Any) -> list[tuple[str, str, dict[str, Any] | None]] | None:
    """An edge entry as (source, target, extra keys or None for a plain chain link)."""
    if isinstance(entry, str):
        parts = [part.strip() for part in entry.split("->")]
        if len(parts) < 2 or not all(parts):
            return None
        return [(source, target, None) for source, target in itertools.pairwise(parts)]
    if isinstance(entry, dict) and isinstance(entry.get("from"), str) and isinstance(entry.get("to"), str):
        extra = {key: value for key, value in entry.items() if key not in ("from", "to")}
        return [(entry["from"], entry["to"], extra)]
    return None


def _names(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    return [item for item in value if isinstance(item, str)] if isinstance(value, list) else []


def _check_identifier(name: str, what: str, location: Location) -> None:
    if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", str(name)):
        raise SchemaError(f"{what} name '{name}' is not a valid identifier", location=location,
                          expected="letters, digits and underscores, not starting with a digit")
