"""Keras Functional model -> spec YAML (`archspec import`), the inverse of the compiler.

Each layer becomes a node through the op that declares its Keras class
(`Op.keras_classes` and `Op.from_keras`, next to `Op.layer`), so adding an op
still touches one place. An `Add` or `Concatenate` of two tensors whose result
feeds exactly one single-input layer becomes an `add-residual` or
`concat-skip` edge into that layer; other merges stay explicit `add`/`concat`
nodes. Plain edges are written as `a -> b -> c` chains.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from archspec.errors import ArchspecError, did_you_mean
from archspec.graph.ops import OPS
from archspec.spec.scalars import reads_as_string
from archspec.spec.syntax import NAME_PATTERN

FOLDS = {"add": "add-residual", "concat": "concat-skip"}
"""Explicit merge ops, and the edge kind a two-input use of each becomes."""
APPLICATIONS_PREFIX = "keras.applications."


class KerasImportError(ArchspecError):
    """A Keras model that archspec cannot express as a spec (or cannot load)."""


@dataclass
class _Node:
    name: str
    op: str
    params: dict[str, Any]
    sources: list[str]
    merges: list[tuple[str, str, dict[str, Any]]] = field(default_factory=list)
    """(source, kind, params) of the merge edges folded into this node."""


def load_keras_model(reference: str) -> Any:
    """A model from a .keras file, or `keras.applications.NAME` built with weights=None."""
    from archspec.keras.backend import import_keras

    keras = import_keras()
    if reference.startswith(APPLICATIONS_PREFIX):
        name = reference[len(APPLICATIONS_PREFIX):]
        known = [item for item in dir(keras.applications) if item[:1].isupper()]
        if name not in known:
            hint = did_you_mean(name, known) or "see dir(keras.applications)"
            raise KerasImportError(f"keras.applications has no model '{name}'; {hint}")
        return getattr(keras.applications, name)(weights=None)
    path = Path(reference)
    if path.suffix != ".keras" or not path.is_file():
        raise KerasImportError(
            f"cannot import {reference!r}: give a saved .keras file or keras.applications.NAME "
            "(e.g. keras.applications.ResNet50)")
    from archspec.keras.saved import load_keras_model as load_saved_model

    return load_saved_model(path, compile=False)  # safe_mode=True, clear errors for bad files


def import_model(model: Any, source: str | None = None) -> str:
    """The spec YAML text of a Keras Functional model."""
    inputs, nodes, outputs = _read_model(model)
    _fold_merges(nodes, outputs)
    entries = _edge_entries(inputs, nodes)
    header = (f"Imported from {source or model.name} by `archspec import`: "
              f"{len(nodes)} layers, {model.count_params():,} parameters.")
    lines = [f"# {header}", "archspec: 1", f"name: {_flow(model.name)}",
             f"doc: {_flow('Imported from Keras (' + (source or model.name) + ').')}", "", "inputs:"]
    lines += [f"  {name}: {_flow(spec)}" for name, spec in inputs.items()]
    width = max((len(name) for name in nodes), default=0) + 1
    lines += ["", "nodes:"]
    for node in nodes.values():
        lines.append(f"  {(node.name + ':').ljust(width)} {_flow({'op': node.op, **node.params})}")
    lines += ["", "edges:"] + [f"  - {_flow(entry)}" for entry in entries]
    lines += ["", f"outputs: {_flow(outputs)}", ""]
    return "\n".join(lines)


def _read_model(model: Any) -> tuple[dict[str, dict], dict[str, _Node], list[str]]:
    by_class = {cls: op for op in OPS.values() for cls in op.keras_classes}
    layers = list(model.layers)
    for tensor in reversed(model.inputs):  # a Sequential model does not list its InputLayer
        operation = tensor._keras_history.operation
        if all(operation is not layer for layer in layers):
            layers.insert(0, operation)
    names = _safe_names([layer.name for layer in layers])
    inputs: dict[str, dict] = {}
    nodes: dict[str, _Node] = {}
    for layer in layers:
        cls = type(layer).__name__
        name = names[layer.name]
        if cls == "InputLayer":
            spec: dict[str, Any] = {"shape": list(layer.batch_shape[1:])}
            if str(layer.dtype) != "float32":
                spec["dtype"] = str(layer.dtype)
            inputs[name] = spec
            continue
        if len(layer._inbound_nodes) != 1:
            raise KerasImportError(f"layer '{layer.name}' is called {len(layer._inbound_nodes)} times; "
                                   "a spec node is one layer called once (shared layers are not supported)")
        cls = _class_key(layer)
        if cls not in by_class:
            problem = "a nested model (import a flat model)" if hasattr(layer, "layers") else \
                f"a {cls}, which no archspec op imports"
            raise KerasImportError(f"layer '{layer.name}' is {problem}")
        op = by_class[cls]
        try:
            params = op.Params.model_validate(op.from_keras(layer.get_config()))
        except (ValueError, ValidationError) as error:
            raise KerasImportError(f"layer '{layer.name}' ({cls}) cannot be written as op {op.name}: "
                                   f"{_first_line(error)}") from None
        written = params.model_dump(exclude_defaults=True, mode="json")
        rank = len(layer.output.shape)
        if written.get("axis") == rank - 1:  # Keras's channels axis written as -1, the default
            written.pop("axis")
        sources = [names[_producer(tensor, layer.name)] for tensor in layer._inbound_nodes[0].input_tensors]
        nodes[name] = _Node(name, op.name, written, sources)
    outputs = [names[_producer(tensor, "the model outputs")] for tensor in model.outputs]
    return inputs, nodes, outputs


def _class_key(layer: Any) -> str:
    """The name an op's `keras_classes` lists: the class, and for a wrapper its wrapped layer's class
    too ("Bidirectional(LSTM)"), so the op of the wrapped layer imports both."""
    cls = type(layer).__name__
    inner = getattr(layer, "forward_layer", None) or getattr(layer, "layer", None)
    if inner is not None and not hasattr(layer, "layers"):
        return f"{cls}({type(inner).__name__})"
    return cls


def _producer(tensor: Any, user: str) -> str:
    operation, _, index = tensor._keras_history
    if index != 0:
        raise KerasImportError(f"'{user}' uses output {index} of '{operation.name}'; "
                               "layers with several outputs are not supported")
    return operation.name


def _safe_names(names: list[str]) -> dict[str, str]:
    """Keras names as spec names: unchanged when valid (so weights copy by name), else cleaned."""
    result: dict[str, str] = {}
    taken = set(names)
    for name in names:
        safe = name if NAME_PATTERN.match(name) else re.sub(r"\W", "_", name)
        if not NAME_PATTERN.match(safe):
            safe = f"n_{safe}"
        while safe != name and safe in taken:
            safe += "_"
        taken.add(safe)
        result[name] = safe
    return result


def _fold_merges(nodes: dict[str, _Node], outputs: list[str]) -> None:
    """Turn two-input add/concat nodes feeding one single-input node into merge edges into it."""
    consumers: dict[str, list[_Node]] = {}
    for node in nodes.values():
        for source in node.sources:
            consumers.setdefault(source, []).append(node)
    for node in list(nodes.values()):
        users = consumers.get(node.name, [])
        if node.op not in FOLDS or len(node.sources) != 2 or len(users) != 1 or node.name in outputs:
            continue
        user = users[0]
        if OPS[user.op].arity != "one" or user.sources != [node.name] or user.merges:
            continue
        first, second = node.sources
        main, skip = (second, first) if node.op == "add" else (first, second)
        user.sources = [main]
        user.merges.append((skip, FOLDS[node.op], node.params))
        for source in node.sources:
            consumers[source] = [user if item is node else item for item in consumers[source]]
        del nodes[node.name]


def _edge_entries(inputs: dict[str, dict], nodes: dict[str, _Node]) -> list[Any]:
    """Plain edges as `a -> b -> c` chains (keeping each node's input order), then merge edges."""
    order = list(inputs) + list(nodes)
    pending: dict[str, list[str]] = {node.name: list(node.sources) for node in nodes.values()}
    outgoing: dict[str, list[str]] = {name: [] for name in order}
    for node in nodes.values():
        for source in node.sources:
            outgoing[source].append(node.name)
    height = _heights(order, outgoing, nodes)
    fan_out = {name: len(targets) for name, targets in outgoing.items()}
    for node in nodes.values():
        for source, _, _ in node.merges:
            fan_out[source] += 1
    for name in outgoing:
        outgoing[name].sort(key=lambda target: -height[target])
    entries: list[Any] = []
    progress = True
    while progress:
        progress = False
        for start in order:
            while True:
                chain = [start]
                while (target := _next(chain[-1], outgoing, pending)) is not None:
                    chain.append(target)
                    if fan_out[target] > 1:  # a branch point ends a chain: one chain per block
                        break
                if len(chain) == 1:
                    break
                progress = True
                entries.append(" -> ".join(chain))
                for target in chain[1:]:
                    for source, kind, params in nodes[target].merges:
                        entries.append({"from": source, "to": target, "kind": kind, **params})
    return entries


def _next(source: str, outgoing: dict[str, list[str]], pending: dict[str, list[str]]) -> str | None:
    """The next chain link from `source`: the first target whose next expected input it is."""
    for target in outgoing[source]:
        if pending[target] and pending[target][0] == source:
            pending[target].pop(0)
            outgoing[source].remove(target)
            return target
    return None


def _heights(order: list[str], outgoing: dict[str, list[str]], nodes: dict[str, _Node]) -> dict[str, int]:
    """Longest path to an output from each node: chains follow the main path, not the shortcut."""
    height: dict[str, int] = {}
    extra: dict[str, list[str]] = {}
    for node in nodes.values():
        for source, _, _ in node.merges:
            extra.setdefault(source, []).append(node.name)
    for name in reversed(order):
        after = outgoing[name] + extra.get(name, [])
        height[name] = 1 + max((height[target] for target in after), default=0)
    return height


def _flow(value: Any) -> str:
    """`value` as one line of flow-style YAML that reads back to the same value."""
    if isinstance(value, dict):
        return "{" + ", ".join(f"{key}: {_flow(item)}" for key, item in value.items()) + "}"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_flow(item) for item in value) + "]"
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        text = repr(value)
        return text.replace("e", ".0e") if "e" in text and "." not in text else text
    if isinstance(value, int):
        return str(value)
    text = str(value)
    return text if (re.fullmatch(r"[A-Za-z_][A-Za-z0-9_ .>-]*", text) and "->" in text) or \
        (re.fullmatch(r"[A-Za-z_][A-Za-z0-9_-]*", text) and reads_as_string(text)) else json.dumps(text)


def _first_line(error: Exception) -> str:
    if isinstance(error, ValidationError):
        item = error.errors(include_url=False)[0]
        return f"{'.'.join(map(str, item['loc']))}: {item['msg']}"
    return str(error).splitlines()[0]
