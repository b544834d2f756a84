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

from typing import Any

from archspec.errors import Location, SchemaError, did_you_mean
from archspec.spec import blocks, branches
from archspec.spec.composer import MAX_ENTRIES
from archspec.spec.copies import BlockCopies, Feed, Scope
from archspec.spec.discard import Discarded, prune
from archspec.spec.document import Document, Path_, with_context
from archspec.spec.substitute import Binding, Substituter, check_spliced_chain, has_expression
from archspec.spec.syntax import INDEX_FIELD, NAME_RULE, SHARES, is_name, join_chain

MAX_NODES = MAX_ENTRIES
"""The one node limit, whether written out or expanded; block copies count too (docs/security.md)."""


def expand(document: Document) -> Document:
    """The document with vars, `${...}` and blocks expanded; unchanged if it uses none of them."""
    data = document.data
    edges = data.get("edges") if isinstance(data, dict) else None
    if not isinstance(data, dict) or not ("vars" in data or "blocks" in data or has_expression(data)
                                          or (isinstance(edges, list) and any(map(branches.is_branch, edges)))):
        return document
    return _Expander(document).run()


class _Expander(BlockCopies):
    def __init__(self, document: Document) -> None:
        self.source = document
        self.data: dict[str, Any] = document.data
        self.out = Document(data={}, file=document.file, text=document.text)
        self.out.positions.key, self.out.positions.value = document.positions.key, document.positions.value
        self.substituter = Substituter()
        self.instances: dict[tuple[int, str], list[Scope]] = {}
        self.copies = 0
        self.blocks = self.data.get("blocks") or {}
        if not isinstance(self.blocks, dict):
            raise SchemaError("'blocks' must be a mapping of block names to definitions",
                              location=self._at(("blocks",)))
        self.checked: dict[str, dict[str, Any]] = {}
        self.discarded: list[Discarded] = []
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
            top = Scope(nodes, edges, ("nodes",), ("edges",), "", self.env)
            self._expand(top)
            prune(self.out, self.discarded)
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

    def _expand(self, scope: Scope) -> None:
        out_nodes = self.out.data["nodes"]
        taken, dropped = self._branches(scope)
        for name, raw in scope.nodes.items():
            if name in scope.uses or name in dropped:
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
        bindings: dict[str, dict[str, list[Feed]]] = {use: {} for use in scope.uses}
        for raw_entry, path in taken:
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
            if use in scope.uses and use not in dropped:
                self._instantiate(scope, use, bindings[use])

    def _branches(self, scope: Scope) -> tuple[branches.Entries, set[str]]:
        """The edge entries `when:` conditions take (with their paths), and the names only the others use."""
        def at(path: Path_) -> Location:
            return self._at(path, scope.context)

        def resolve(value: Any, path: Path_) -> Any:
            return self._resolve(value, scope.env, path, None, scope.context)

        taken, skipped = branches.choose(scope.edges, scope.edges_path, resolve, at)
        if not skipped:
            return taken, set()
        inputs = set(self.data.get("inputs") or {}) if not scope.frames else set()  # the top level's
        known = set(scope.nodes) | set(scope.inputs) | inputs
        return taken, branches.dropped_names(taken, skipped, known, at)

    def _link(self, scope: Scope, source: str, target: str, extra: dict | None,
              bindings: dict[str, dict[str, list[Feed]]], path: Path_) -> None:
        """One edge from full node name `source` to `target` of `scope` (a node, or an input of a use)."""
        use, _, port = target.partition(".")
        if use in scope.uses:
            inputs = self._instances(scope, use)[0].inputs
            if port or len(inputs) == 1:
                port = blocks.check_feed(use, port, inputs, self._at(path, scope.context))
            # else: '' holds the edges that name no port, for the one input no edge names (_instantiate)
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

    def _feeds(self, name: str, extra: dict | None, scope: Scope, path: Path_) -> list[tuple[str, dict | None]]:
        """The (source, extra) edges a link from `name` stands for: one, or, from a block input, what feeds it."""
        use, _, port = name.partition(".")
        if use in scope.uses and port and self._collected(scope, use, port):
            return [(self._source(port, copy, path), extra) for copy in self._instances(scope, use)]
        if name not in scope.ports:
            return [(self._source(name, scope, path), extra)]
        return blocks.port_sources(name, scope.ports[name], extra, self._at(path, scope.context))

    def _collected(self, scope: Scope, use: str, port: str) -> bool:
        """True for an output of a repeated use other than its carry: each copy's, collected (blocks.check_carry)."""
        copies = self._instances(scope, use)
        return len(copies) > 1 and port != copies[0].carry and port in copies[0].outputs

    def _check_size(self, path: Path_, context: str | None) -> None:
        if len(self.out.data["nodes"]) + self.copies >= MAX_NODES:
            raise SchemaError(f"the spec expands to more than {MAX_NODES:,} nodes and block copies",
                              location=self._at(path, context),
                              hint="lower a repeat count (a block copy counts even when it has no nodes)")

    def _emit(self, entry: Any, path: Path_, context: str | None) -> None:
        edges = self.out.data["edges"]
        self.out.positions.put(("edges", len(edges)), self.source.section(path, context, inner=True))
        edges.append(entry)

    def _source(self, name: str, scope: Scope, path: Path_) -> str:
        """The full node name an edge (or output) from `name` in `scope` starts at."""
        if name in scope.ports:
            return blocks.one_source(name, scope.ports[name], self._at(path, scope.context))
        use, _, port = name.partition(".")
        if use in scope.uses:
            last = self._instances(scope, use)[-1]
            if port and self._collected(scope, use, port):
                raise SchemaError(f"'{use}.{port}' is an output of every copy of the repeated use '{use}', so it is "
                                  "not one tensor", location=self._at(path, scope.context),
                                  hint=f"merge the copies' outputs in a node: '{use}.{port} -> add' (or concat)")
            port = port or last.carry or ""
            if not port:  # the one output not discarded
                kept = [name for name in last.outputs if name not in blocks.discarded_ports(
                    scope.nodes[use], last.outputs, self._at(scope.nodes_path + (use,), scope.context))]
                if len(kept) != 1:
                    raise SchemaError(f"block use '{use}' has several outputs ({', '.join(last.outputs)})",
                                      location=self._at(path, scope.context),
                                      hint=f"name one: '{use}.{last.outputs[0]}', or discard the others in the use "
                                      f"({blocks.DISCARD}: [{', '.join(last.outputs[1:])}])")
                port = kept[0]
            if port not in last.outputs and port in last.inputs:
                raise SchemaError(f"'{use}.{port}' is an input of block use '{use}', and an edge from it would "
                                  "start at its output", location=self._at(path, scope.context),
                                  hint=f"feed the input and read the output in two links: '... -> {use}.{port}' "
                                  f"and '{use} -> ...', or make the use in the chain and feed the other inputs by "
                                  f"name: '... -> {use}={last.frames[-1].block}(ARGS, "
                                  f"{next(name for name in last.inputs if name != port)}=SOURCE) -> ...'")
            if port not in last.outputs:
                raise SchemaError(f"block use '{use}' has no output '{port}'",
                                  location=self._at(path, scope.context),
                                  expected="one of " + ", ".join(last.outputs),
                                  hint=did_you_mean(port, last.outputs))
            return self._source(port, last, path)
        return self._full(scope, name, path)

    def _full(self, scope: Scope, name: str, path: Path_) -> str:
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
