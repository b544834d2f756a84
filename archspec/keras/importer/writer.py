"""Write a folded import in the compact forms: `defaults:`, blocks, and chains of named steps.

Every scope (the top level and each block) is written as `a -> b -> c` chains
whose new nodes are named steps, `1_conv=conv2d(64, 1, strides=2)`, defined
where the chain first reaches them; a node the chains cannot make in place
(no plain input, a name that is also an op or block, a value a step cannot
hold) is declared under `nodes:`. `defaults:` holds, per op, the value most of
its nodes share where it differs from the op's own default; a node that
differs writes its value.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from archspec.catalogue.ops import OPS
from archspec.keras.importer.blocks import Folded
from archspec.keras.importer.layout import chain_cover, flow
from archspec.keras.importer.structure import REQUIRED, Block, Item, frozen, full_value, op_default, producer
from archspec.spec.scalars import reads_as_string
from archspec.spec.shorthand import DEFAULT_INPUT

WIDTH = 110
"""A chain longer than this goes on in a new chain from its last node."""


class _NotInline(ValueError):
    """A value a chain step cannot hold (a mapping, a string with quotes of both kinds)."""


def defaults_of(folded: Folded) -> dict[str, dict[str, Any]]:
    """Per op, each parameter's most common value where more nodes share it than the op's default."""
    items = [item for item in folded.items.values() if item.op] + \
        [item for block in folded.blocks for item in block.items.values() if item.op]
    by_op: dict[str, list[Item]] = {}
    for item in items:
        by_op.setdefault(item.op, []).append(item)
    found: dict[str, dict[str, Any]] = {}
    for op, group in by_op.items():
        for key in dict.fromkeys(key for item in group for key in item.params):
            default = op_default(op, key)
            if default is REQUIRED:
                continue
            values = [full_value(item, key) for item in group]
            counts = Counter(frozen(value) for value in values if "${" not in frozen(value))
            if not counts:
                continue
            common, count = counts.most_common(1)[0]
            if common != frozen(default) and count >= 2 and count > counts.get(frozen(default), 0):
                found.setdefault(op, {})[key] = next(value for value in values if frozen(value) == common)
    return found


def written(item: Item, defaults: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """The parameters a node writes: those that differ from the spec's default for its op, else the op's."""
    if item.op is None:
        return dict(item.params)
    mine = defaults.get(item.op, {})
    params = {key: value for key, value in item.params.items()
              if key not in mine or frozen(value) != frozen(mine[key])}
    for key in mine:
        if key not in item.params:
            params[key] = op_default(item.op, key)
    return params


class ScopeWriter:
    """The `nodes:` and `edges:` lines of one scope."""

    def __init__(self, heads: list[str], items: dict[str, Item], blocks: dict[str, Block],
                 defaults: dict[str, dict[str, Any]]) -> None:
        self.heads, self.items, self.blocks, self.defaults = heads, items, blocks, defaults
        self.calls: dict[str, str] = {}
        self.declared: list[str] = []
        for name, item in items.items():
            call = self._call(item)
            if call is None or name in OPS or name in blocks or not any(edge.plain for edge in item.inputs) or \
                    (item.op is None and len(blocks[item.block].inputs) > 1):
                self.declared.append(name)
            else:
                self.calls[name] = call

    def node_lines(self) -> list[str]:
        width = max((len(name) for name in self.declared), default=0) + 1
        lines = []
        for name in self.declared:
            item = self.items[name]
            head = {"op": item.op} if item.op else {"block": item.block}
            lines.append(f"{(flow(name) + ':').ljust(width)} {flow({**head, **written(item, self.defaults)})}")
        return lines

    def edge_lines(self) -> list[str]:
        entries: list[Any] = []
        defined = set(self.heads) | set(self.declared)
        for chain, merges in self._chains():
            steps: list[str] = [chain[0]]
            length = len(chain[0])
            for name in chain[1:]:
                step = name if name in defined else f"{name}={self.calls[name]}"
                defined.add(name)
                if length + len(step) + 4 > WIDTH and len(steps) > 1:
                    entries.append(" -> ".join(steps))
                    steps = [steps[-1].partition("=")[0]]
                    length = len(steps[0])
                steps.append(step)
                length += len(step) + 4
            entries.append(" -> ".join(steps))
            entries.extend(merges)
        for name in self.declared:
            item = self.items[name]
            for edge in item.inputs:
                if edge.port is not None:
                    entries.append(f"{edge.source} -> {name}.{edge.port}")
        for name, item in self.items.items():
            for edge in item.inputs:
                if "as" in edge.params:
                    entries.append({"from": edge.source, "to": name, **edge.params})
        return [entry if isinstance(entry, str) and _plain_scalar(entry) else flow(entry) for entry in entries]

    def _chains(self) -> list[tuple[list[str], list[dict[str, Any]]]]:
        """Plain edges as chains (each node's inputs in order, the longest path first), with the
        merge edges into each chain's nodes."""
        order = list(self.heads)
        for name in self.items:
            order.append(name)
        pending = {name: [edge.source for edge in item.inputs if edge.plain and edge.port is None]
                   for name, item in self.items.items()}
        outgoing: dict[str, list[str]] = {}
        fan_out: Counter[str] = Counter()
        for name, item in self.items.items():
            for edge in item.inputs:
                fan_out[edge.source] += 1
                if edge.plain and edge.port is None:
                    outgoing.setdefault(edge.source, []).append(name)
                    if edge.source not in order:
                        order.insert(order.index(producer(edge.source)) + 1, edge.source)
        readers: dict[str, list[str]] = {}
        for name, item in self.items.items():
            for edge in item.inputs:
                readers.setdefault(edge.source, []).append(name)
        height: dict[str, int] = {}
        for name in reversed(order):
            height[name] = 1 + max((height.get(target, 0) for target in readers.get(name, [])), default=0)
        for targets in outgoing.values():
            targets.sort(key=lambda target: -height.get(target, 0))
        return [(chain, [{"from": edge.source, "to": target, "kind": edge.kind, **edge.params}
                         for target in chain[1:] for edge in self.items[target].inputs if edge.kind])
                for chain in chain_cover(order, outgoing, pending, fan_out)]

    def _call(self, item: Item) -> str | None:
        """The step that makes `item` in place (`conv2d(64, 3, strides=2)`), or None if a step cannot."""
        params = written(item, self.defaults)
        try:
            if item.op is None:
                return f"{item.block}(" + ", ".join(f"{key}={_arg(value)}" for key, value in params.items()) + ")"
            args = []
            positional = True
            for key in OPS[item.op].positional:
                if key not in params or not positional:
                    positional = False
                    continue
                args.append(_arg(params.pop(key)))
            args += [f"{key}={_arg(value)}" for key, value in params.items()]
        except _NotInline:
            return None
        text = f"{item.op}(" + ", ".join(args) + ")" if args else item.op
        return text if _plain_scalar(text) else None


def _arg(value: Any) -> str:
    if isinstance(value, dict):
        raise _NotInline
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_arg(item) for item in value) + "]"
    if isinstance(value, str):
        if _expression(value) or (value.isidentifier() and reads_as_string(value)):
            return value
        if "->" in value or "\n" in value:
            raise _NotInline
        for quote in "'\"":
            if quote not in value:
                return f"{quote}{value}{quote}"
        raise _NotInline
    return flow(value)


def _expression(value: Any) -> bool:
    return isinstance(value, str) and value.startswith("${") and value.endswith("}") and value.count("}") == 1


def _plain_scalar(text: str) -> bool:
    """True if `text` reads back from YAML as itself when written unquoted after `- `."""
    return ": " not in text and " #" not in text and not text.endswith(":") and text[:1] not in "!&*[]{}|>'\"%@`#,?:-"


def write_blocks(blocks: list[Block], defaults: dict[str, dict[str, Any]]) -> list[str]:
    """The `blocks:` section."""
    known = {block.name: block for block in blocks}
    lines = ["", "blocks:"]
    for block in blocks:
        lines.append(f"  {block.name}({', '.join(block.params)}):")  # the signature (archspec.spec.shorthand)
        if block.inputs != [DEFAULT_INPUT]:
            lines.append(f"    inputs: {flow(block.inputs)}")
        if block.outputs != one_sink(block.items):
            lines.append(f"    outputs: {flow(block.outputs)}")
        scope = ScopeWriter(block.inputs, block.items, known, defaults)
        nodes = scope.node_lines()
        if nodes:
            lines += ["    nodes:"] + [f"      {line}" for line in nodes]
        lines += ["    edges:"] + [f"      - {line}" for line in scope.edge_lines()]
    return lines


def write_body(inputs: dict[str, dict], folded: Folded) -> list[str]:
    """`defaults:`, `inputs:`, `blocks:`, `nodes:`, `edges:` and `outputs:` of a folded import."""
    defaults = defaults_of(folded)
    lines: list[str] = []
    if defaults:
        lines += ["", "defaults:"] + [f"  {op}: {flow(values)}" for op, values in defaults.items()]
    lines += ["", "inputs:"] + [f"  {name}: {flow(spec)}" for name, spec in inputs.items()]
    if folded.blocks:
        lines += write_blocks(folded.blocks, defaults)
    scope = ScopeWriter(list(inputs), folded.items, {block.name: block for block in folded.blocks}, defaults)
    nodes = scope.node_lines()
    if nodes:
        lines += ["", "nodes:"] + [f"  {line}" for line in nodes]
    lines += ["", "edges:"] + [f"  - {line}" for line in scope.edge_lines()]
    if folded.outputs != one_sink(folded.items):
        lines += ["", f"outputs: {flow(folded.outputs)}"]
    return lines + [""]


def one_sink(items: dict[str, Item]) -> list[str]:
    """[the one item nothing reads], which `outputs:` defaults to; [] if there are several."""
    read = {producer(edge.source) for item in items.values() for edge in item.inputs}
    sinks = [name for name, item in items.items() if name not in read and item.op is not None]
    return sinks if len(sinks) == 1 else []
