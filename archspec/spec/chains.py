"""The compact forms, rewritten into plain nodes and edges: inline chain steps and per-op `defaults:`.

Runs after `--set` and before vars and blocks expand (archspec.spec.frontend),
on the top level and on every block definition, so that everything after it
(expansion, validation, the graph) sees only named nodes and plain chains:

- a chain step that is a call, `conv2d(64, 3, strides=2)`, or a bare op name
  that is not a declared node, `relu`, becomes a node of its own, named
  `OP_N` (the Nth such step of that op in its scope, counted in file order,
  skipping names already taken); positional arguments map to the op's
  `positional` parameters;
- `defaults: {conv2d: {padding: same}}` gives every node of that op (declared,
  inline or in a block) each parameter it does not set itself.

Generated nodes and defaulted parameters keep the positions they were
written at: the step's column in its chain line, the default's line, so a
bad value is reported where it was typed. `${...}` in a step's arguments is
left for the expander, which resolves it in the scope the chain is in.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

from archspec.catalogue.ops import OPS
from archspec.errors import Location, SchemaError, did_you_mean
from archspec.spec.blocks import call_inputs, call_params, port_arguments
from archspec.spec.branches import arms, is_branch
from archspec.spec.chain_colons import named_with_colon
from archspec.spec.chain_limits import check_chain_length, check_node_room
from archspec.spec.chain_places import chain_columns
from archspec.spec.defaults import DEFAULTS_KEY, read_defaults
from archspec.spec.document import Document, Path_, Positions
from archspec.spec.steps import ChainStep, StepError, read_step
from archspec.spec.syntax import (
    LINE_BREAK,
    SHARES,
    chain_problem,
    edge_ends,
    group_names,
    join_chain,
    split_group,
    split_steps,
)


def desugar(document: Document) -> Document:
    """The document with inline steps made nodes and `defaults:` applied; unchanged if it uses neither."""
    data = document.data
    if not isinstance(data, dict):
        return document
    data = dict(data)
    result = Document(data=data, file=document.file, text=document.text, positions=document.positions)
    defaults = read_defaults(result, data.pop(DEFAULTS_KEY)) if DEFAULTS_KEY in data else {}
    blocks, ports = call_params(data.get("blocks")), call_inputs(data.get("blocks"))
    lines = LINE_BREAK.split(document.text)  # once: each chain's columns are looked up in them
    for scope in _scopes(data):
        _Scope(result, *scope, blocks, ports, lines).rewrite(defaults)
    return result


def _scopes(data: dict[str, Any]) -> list[tuple[Path_, dict[str, Any], list[str]]]:
    """(path, mapping holding nodes and edges, names declared besides the nodes) of the top level and each block.

    The mappings are copies, put into `data`, so the rewrite leaves the loaded document as it was.
    """
    found: list[tuple[Path_, dict[str, Any], list[str]]] = []
    if isinstance(data.get("inputs"), dict):
        found.append(((), data, list(data["inputs"])))
    else:
        found.append(((), data, []))
    blocks = data.get("blocks")
    if isinstance(blocks, dict):
        data["blocks"] = blocks = dict(blocks)
        for name, block in blocks.items():
            if isinstance(block, dict):
                blocks[name] = block = dict(block)
                inputs = block.get("inputs", [])
                found.append((("blocks", name), block, [inputs] if isinstance(inputs, str) else
                              [item for item in inputs if isinstance(item, str)] if isinstance(inputs, list)
                              else []))
    return found


class _Scope:
    """The nodes and edges of the top level or of one block definition, rewritten in place."""

    def __init__(self, document: Document, path: Path_, holder: dict[str, Any], declared: list[str],
                 blocks: dict[str, tuple[str, ...]], ports: dict[str, list[str]], lines: list[str]) -> None:
        self.document, self.path, self.holder, self.blocks, self.ports = document, path, holder, blocks, ports
        self.lines = lines
        self.feeds: list[tuple[str, str, Location]] = []  # `up(32, skip=e2)`, `+x`: (source, target, where written)
        nodes = holder.get("nodes", {} if isinstance(holder.get("edges"), list) else None)  # all inline: optional
        self.nodes: dict[str, Any] | None = dict(nodes) if isinstance(nodes, dict) else None
        self.pending = {name: raw for name, raw in (self.nodes or {}).items() if _is_pending(raw)}
        self.declared = set(declared) | (set(self.nodes or {}) - set(self.pending))
        self.counts: dict[str, int] = {}
        self.bare: list[tuple[str, Location]] = []
        self.generated: set[str] = set()

    def rewrite(self, defaults: dict[str, dict[str, Any]]) -> None:
        if self.nodes is None:
            return
        edges = self.holder.get("edges")
        if isinstance(edges, list):
            self.holder["edges"] = edges = list(edges)
            for index, entry in enumerate(edges):
                edges[index] = self._entry(entry, self.path + ("edges", index))
            for source, target, where in self.feeds:
                self.document.positions.put(self.path + ("edges", len(edges)), Positions(where, where))
                edges.append(join_chain([source, target]))
            self._check_bare(edges)
        for name, raw in self.nodes.items():
            op = raw.get("op") if isinstance(raw, dict) else None
            if isinstance(op, str) and op in defaults and SHARES not in raw:  # a sharing node has no params
                self.nodes[name] = raw = dict(raw)
                for key, value in defaults[op].items():
                    if key not in raw:
                        raw[key] = copy.deepcopy(value)
                        self.document.positions.put(self.path + ("nodes", name, key),
                                                    self.document.section((DEFAULTS_KEY, op, key)))
        if "nodes" in self.holder or self.nodes:  # a missing nodes: stays missing unless chains made some
            self.holder["nodes"] = self.nodes

    def _entry(self, entry: Any, path: Path_) -> Any:
        """An edge entry with its chains' inline steps made nodes, in both arms of a conditional too."""
        if isinstance(entry, str):
            return self._chain(entry, path)
        if not is_branch(entry):
            return entry
        result = {key: list(value) if isinstance(value, list) else value for key, value in entry.items()}
        for key, item, item_path in arms(entry, path):
            if isinstance(result[key], list):
                result[key][item_path[-1]] = self._entry(item, item_path)
            else:
                result[key] = self._entry(item, item_path)
        return result

    def _chain(self, text: str, path: Path_) -> str:
        check_chain_length(self.document, self.lines, path, text)
        at = chain_columns(self.document, self.lines, path, text)
        problem = chain_problem(text)
        if problem is not None:
            message, offset, hint = problem
            raise SchemaError(message, location=at(offset), got=text, hint=hint)
        parts = split_steps(text)
        assert parts is not None
        groups: list[tuple[list[ChainStep], bool]] = []  # each step's items, and whether it is a group [a, b]
        for part, offset in parts:
            items = split_group(part)
            try:
                groups.append(([read_step(item, offset + at_) for item, at_ in items or [(part, 0)]],
                               items is not None))
            except StepError as error:
                raise SchemaError(str(error), location=at(error.offset), hint=error.hint) from None
        if groups[0][0][0].residual is not None:
            raise SchemaError(f"'{groups[0][0][0].text}' adds its tensor to the step before it, but it starts the "
                              "chain", location=at(groups[0][0][0].offset),
                              hint="write the branch first: x -> conv2d(64) -> batch_norm -> +x")
        new = [[self._is_new(step, at) for step in steps] for steps, _ in groups]
        if not any(map(any, new)) and not any(grouped for _, grouped in groups):
            return text
        written = [[self._node(step, at) if made else step.text for step, made in zip(steps, made_, strict=True)]
                   for (steps, _), made_ in zip(groups, new, strict=True)]
        return join_chain([f"[{', '.join(names)}]" if grouped else names[0]
                           for names, (_, grouped) in zip(written, groups, strict=True)])

    def _is_new(self, step: ChainStep, at: Callable[[int], Location]) -> bool:
        """True if the step makes a node: a call, or a bare op name that is not a declared name."""
        if step.name is None:
            return False
        if step.residual is not None:
            if step.label in self.declared:
                raise SchemaError(f"'{step.label}' is already a name in this scope", location=at(step.offset),
                                  node=step.label, hint="a step 'name=+x' declares a new node; pick another name")
            if step.label:
                self.declared.add(step.label)
            return True
        if step.label is not None:
            if step.label in self.declared:
                raise SchemaError(f"'{step.label}' is already a name in this scope", location=at(step.offset),
                                  node=step.label, hint="a step 'name=op' declares a new node; pick another name")
            if step.name not in OPS and step.name not in self.blocks:
                raise SchemaError(f"unknown op '{step.name}' in a chain step", location=at(step.offset),
                                  hint=did_you_mean(step.name, [*OPS, *self.blocks]))
            self.declared.add(step.label)
            return True
        if step.call:
            if step.name in self.declared:
                raise SchemaError(f"'{step.name}' is a node, not an op: a step with arguments makes a new node",
                                  location=at(step.offset), node=step.name,
                                  hint=f"write '{step.name}' alone to connect the node, or an op such as "
                                  "conv2d(64, 3)")
            if step.name not in OPS and step.name not in self.blocks:
                raise SchemaError(f"unknown op '{step.name}' in a chain step", location=at(step.offset),
                                  expected="an op: " + ", ".join(sorted(OPS)) + (
                                      "; or a block: " + ", ".join(self.blocks) if self.blocks else ""),
                                  hint=did_you_mean(step.name, [*OPS, *self.blocks]))
            return True
        if step.name not in self.declared and (step.name in OPS or step.name in self.blocks):
            self.bare.append((step.name, at(step.offset)))
            return True
        return False

    def _check_bare(self, edges: list[Any]) -> None:
        """A bare op step that looks like a typo for a node no edge connects is that typo, not a new node."""
        if not self.bare:
            return
        used: set[str] = set()
        for entry in edges:
            if isinstance(entry, str):
                used.update(name.partition(".")[0] for step, _ in split_steps(entry) or []
                            for name in group_names(step))
            elif isinstance(entry, dict):
                used.update(name.partition(".")[0] for key in ("from", "to")
                            for name in edge_ends(entry.get(key)) or [])
        unused = [name for name in self.nodes or {} if name not in used and name not in self.generated]
        for op, where in self.bare:
            hint = did_you_mean(op, unused)
            if hint:
                raise SchemaError(f"'{op}' names no node, so it would make a new {op} node, but a node "
                                  "with a similar name is connected by no edge", location=where,
                                  hint=f"{hint} (write {op}() to make a new node on purpose)")

    def _node(self, step: ChainStep, at: Callable[[int], Location]) -> str:
        assert step.name is not None and self.nodes is not None
        check_node_room(len(self.nodes), at(step.offset))
        kind = "op" if step.name in OPS else "block"  # an op, or a use of a block of this spec
        names = OPS[step.name].positional if kind == "op" else self.blocks[step.name]
        name = step.label or self._fresh(step.name)
        raw: dict[str, Any] = {kind: step.name}
        where = at(step.offset)
        positions = Positions(where, where)
        positions.child(kind).key = positions.child(kind).value = where
        positional = [arg for arg in step.args if arg.keyword is None]
        for index, arg in enumerate(step.args):
            if arg.keyword is None:
                named_with_colon(arg.value, OPS[step.name].Params.model_fields if kind == "op" else names,
                                 at(arg.offset))
                if any(earlier.keyword for earlier in step.args[:index]):
                    raise SchemaError("a positional argument after a named one", location=at(arg.offset),
                                      hint="put the positional arguments first: conv2d(64, 3, strides=2)")
                number = positional.index(arg)
                if number >= len(names):
                    raise SchemaError(f"{step.name} takes {len(names)} positional argument(s) "
                                      f"({', '.join(names) or 'none'}), got {len(positional)}",
                                      location=at(arg.offset), hint=self._named_hint(step.name, names))
                key = names[number]
            else:
                key = arg.keyword
            if key in ("op", "block"):  # before 'given twice': raw holds the step's own op already
                raise SchemaError(f"'{key}' is not an argument: the step's {kind} is its name, '{step.name}'",
                                  location=at(arg.offset),
                                  hint=f"write the {kind} as the step: {arg.value}(...)" if isinstance(arg.value, str)
                                  else None)
            if key in raw:
                raise SchemaError(f"argument '{key}' is given twice", location=at(arg.offset))
            if kind == "block" and key in self.ports.get(step.name, ()) and key not in names:
                self._feed(step.name, name, key, arg.value, at(arg.offset))
                continue
            raw[key] = arg.value
            located = at(arg.offset)
            positions.child(key).key = positions.child(key).value = located
        if name in self.pending:  # `--set nodes.NAME.PARAM=V` on a step: its value wins, where it was given
            for key, value in self.pop_pending(name).items():
                raw[key] = value
                positions.children[key] = self.document.section(self.path + ("nodes", name, key))
        self.nodes[name] = raw
        self.document.positions.put(self.path + ("nodes", name), positions)
        if step.residual is not None:  # `+x`: x is the sum's second input, after the step before it
            self.feeds.append((step.residual, name, where))
        return name

    def _feed(self, block: str, use: str, port: str, value: Any, where: Location) -> None:
        """`up(32, skip=e2)`: an edge from e2 (or from each name of a list) into input `skip` of the new use."""
        self.feeds += [(source, f"{use}.{port}", where) for source in port_arguments(block, port, value, where)]

    def _named_hint(self, name: str, positional: tuple[str, ...]) -> str:
        """What to write for arguments past the positional ones: an op's other parameters by name."""
        if name not in OPS:
            return f"block '{name}' has {len(positional)} param(s); remove the extra values"
        others = [key for key in OPS[name].Params.model_fields if key not in positional]
        if not others:
            return f"{name} takes no other parameters; remove the extra values"
        return f"name the others, e.g. {others[0]}=...; {name} also takes " + ", ".join(others[1:6]) \
            + (", ..." if len(others) > 6 else "")

    def pop_pending(self, name: str) -> dict[str, Any]:
        """The parameters a `nodes:` entry without op (a `--set` on a step) gave the step `name`, taken out."""
        assert self.nodes is not None
        del self.nodes[name]
        return self.pending.pop(name)

    def _fresh(self, op: str) -> str:
        count = self.counts.get(op, 0)
        while True:
            count += 1
            name = f"{op}_{count}"
            if name not in self.declared:
                break
        self.counts[op] = count
        self.declared.add(name)
        self.generated.add(name)
        return name


def _is_pending(raw: Any) -> bool:
    """A `nodes:` entry with neither `op:` nor `block:`: parameters for the chain step of that name.

    That is what `--set nodes.hidden.units=8` makes when `hidden` is a step
    (`hidden=dense(32)`) and not a `nodes:` entry; with no such step it stays
    an entry without an op, which validation reports.
    """
    return isinstance(raw, dict) and "op" not in raw and "block" not in raw and SHARES not in raw
