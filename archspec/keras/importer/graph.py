"""Read a Keras Functional (or Sequential) model's graph: every operation called in it, layers and
`keras.ops` calls alike, as importer nodes.

The walk follows the model's own node graph (`_nodes_by_depth`), not `model.layers` and not
each layer's `_inbound_nodes`: Keras records a call there for every model a layer was ever
called in (a Sequential reloaded from .keras records 7, 6, 5, ... 1 calls per layer), so only
calls that belong to this graph count as reuse. A nested Functional model is flattened into
its caller, its nodes named `outer_inner`.
"""

from __future__ import annotations

import re
from typing import Any

from pydantic import ValidationError

from archspec.catalogue.ops import OPS
from archspec.keras.importer.activations import function_activation, read_activation
from archspec.keras.importer.attention_calls import attention_inputs
from archspec.keras.importer.channels import as_channels_last, between_permutes, channels_first
from archspec.keras.importer.coverage import NO_OP_YET, REFUSED
from archspec.keras.importer.errors import KerasImportError, first_line
from archspec.keras.importer.graph_calls import calls_in_order, functional_graph
from archspec.keras.importer.keras_ops import (
    KERAS_OPS,
    OpCall,
    TensorRef,
    Unread,
    passes_through,
    unmappable,
    unmappable_output,
)
from archspec.keras.importer.layout import ImportedNode
from archspec.keras.importer.masks import MaskViews
from archspec.keras.importer.rewrites import has_rewrite, inner_prefix, rewritten_model
from archspec.keras.importer.subclasses import importable_base
from archspec.keras.importer.trace import traceable, traced_model, untraceable
from archspec.spec.syntax import NAME_PATTERN, SHARES


class GraphReader:
    """Collects inputs, nodes and outputs; `tensors` maps a Keras tensor (by id) to the spec name
    that produces it (a nested model's output tensors map to its inner producers)."""

    def __init__(self) -> None:
        self.inputs: dict[str, dict] = {}
        self.nodes: dict[str, ImportedNode] = {}
        self.shapes: dict[str, tuple] = {}
        self.layers: dict[str, Any] = {}
        """Spec node name -> the Keras layer it came from (weights copy from it)."""
        self.outputs: dict[str, Any] = {}
        """Spec node name -> the Keras tensor its layer produced in this graph."""
        self.tensors: dict[int, str] = {}
        self.unread: dict[int, KerasImportError] = {}
        """Tensors of keras.ops calls with no spec form (id -> why): an error only where a node uses one."""
        self.taken: set[str] = set()
        self.auto: set[str] = set()
        """Spec names of the operations Keras named itself (`conv2d_57`): the folding may rename them."""
        self.calls: dict[int, list[str]] = {}
        """id(layer) -> the spec names of its calls so far; a later call is a node that `shares:` the first."""
        self.traced: set[str] = set()
        """Spec names of the subclassed layers traced into their parts (their uses prefer to be a block)."""
        self.folded = False
        """Whether the spec was written with blocks (importer.read_spec sets it)."""
        self.masks = MaskViews()
        """keras.ops calls that only build an attention mask (importer.masks): views, not nodes."""
        self.by_class: dict[str, list[Any]] = {}
        """Keras class -> the ops that import it, tried in registry order (the first whose from_keras
        accepts the config wins: a Dropout with a per-example noise_shape is a drop_path)."""
        for op in OPS.values():
            for cls in op.keras_classes:
                self.by_class.setdefault(cls, []).append(op)

    def read(self, model: Any, prefix: str = "", bound: list[Any] | None = None) -> list[str]:
        """Read `model`'s graph; `bound` are the outer tensors its inputs stand for (nested models).
        Returns the spec names of its outputs."""
        graph = functional_graph(model)
        calls = calls_in_order(graph)
        model_inputs = list(graph.inputs)
        for call in calls:
            operation = call.operation
            if type(operation).__name__ == "InputLayer":
                tensor = call.output_tensors[0]
                if bound is not None:
                    index = next(i for i, item in enumerate(model_inputs) if item is tensor)
                    self.pass_on(tensor, bound[index], operation.name)
                    continue
                name = self.name(prefix + operation.name)
                spec: dict[str, Any] = {"shape": list(operation.batch_shape[1:])}
                if str(operation.dtype) != "float32":
                    spec["dtype"] = str(operation.dtype)
                self.inputs[name] = spec
                self.shapes[name] = tuple(operation.batch_shape[1:])
                self.tensors[id(tensor)] = name
            elif _is_model(operation):  # a nested Functional or Sequential model: flatten it
                inner = self.read(operation, f"{prefix}{operation.name}_", list(call.input_tensors))
                for tensor, name in zip(call.output_tensors, inner):
                    self.tensors[id(tensor)] = name
            elif self.traceable(operation):  # a subclassed layer: its traced call, flattened the same way
                self.traced.add(f"{prefix}{operation.name}")
                try:
                    rewritten = rewritten_model(operation, call)
                    model, outputs = ((rewritten, call.output_tensors) if rewritten is not None
                                      else traced_model(operation, call))
                    inner = self.read(model, inner_prefix(prefix, operation, rewritten), list(call.input_tensors))
                except KerasImportError as error:
                    raise error if str(error).startswith("layer '") else untraceable(operation, error) from None
                for tensor, name in zip(outputs, inner):
                    self.tensors[id(tensor)] = name
            elif (function := function_activation(operation)) is not None:  # a Python function: traced after
                read_activation(self, call, prefix, function)
            else:
                try:
                    self.add_call(call, prefix)
                except KerasImportError as error:  # a keras.ops call with no spec form: a mask, or an error where used
                    if _is_layer(operation):
                        raise
                    self.masks.record(operation, call, self.tensors)  # read by an attention layer, if a mask
                    self.unread.update((id(tensor), error) for tensor in call.output_tensors)  # else an error
        return [self.source(tensor, "the model outputs") for tensor in graph.outputs]

    def pass_on(self, inner: Any, outer: Any, user: str) -> None:
        """`inner` is `outer` under another tensor (a nested model's input, a cast to its own dtype): its spec
        name, or, for a mask view, the view and the error of a use as data."""
        if self.masks.alias(inner, outer):
            self.unread[id(inner)] = self.unread[id(outer)]
        else:
            self.tensors[id(inner)] = self.source(outer, user)

    def traceable(self, operation: Any) -> bool:
        """True for a layer no op imports whose call is traced into its parts (importer.trace)."""
        return _is_layer(operation) and (has_rewrite(operation) or (
            class_key(operation) not in self.by_class and traceable(operation)
            and importable_base(operation, self.by_class) is None))

    def add_call(self, call: Any, prefix: str) -> None:
        operation = call.operation
        if not _is_layer(operation) and passes_through(operation, call):  # the same tensor: no node, no name
            self.pass_on(call.output_tensors[0], call.input_tensors[0], operation.name)
            return
        earlier = self.calls.setdefault(id(operation), []) if _is_layer(operation) else []
        owner = earlier[0] if earlier else None  # the layer's second call is `NAME_2`, its third `NAME_3`, ...
        if owner is not None and not operation.weights and prefix[:-1] in self.traced:
            owner = None  # a traced call reusing a layer without weights (one Dropout object): nothing to share
        name = self.name(prefix + operation.name + (f"_{len(earlier) + 1}" if earlier else ""))
        if _is_layer(operation):
            earlier.append(name)
        shape = tuple(call.output_tensors[0].shape[1:])
        if not _is_layer(operation) and len(call.output_tensors) > 1:
            for index, part in enumerate(self.op_parts(operation, call, name)):
                if part is None:  # an output with no spec form (fft2's imaginary part): an error where used
                    self.unread[id(call.output_tensors[index])] = KerasImportError(unmappable_output(operation, index))
                    continue
                part.shape = tuple(call.output_tensors[index].shape[1:])
                self.nodes[part.name] = part
                self.shapes[part.name] = part.shape
                self.tensors[id(call.output_tensors[index])] = part.name
            return
        read = self.layer_node if _is_layer(operation) else self.op_node
        if auto_named(operation):
            self.auto.add(name)
        node = read(operation, call, name)
        if owner is not None:  # a layer called again: this node calls its first call's layer (`shares:`)
            node.params = {SHARES: owner}
            del self.layers[name]
        node.shape = shape
        if len(call.output_tensors) != 1:
            raise KerasImportError(f"'{operation.name}' has {len(call.output_tensors)} outputs; "
                                   "operations with several outputs are not supported")
        if _is_layer(operation) and channels_first(operation, call) and len(node.sources) == 1:
            placed = between_permutes(node, tuple(call.input_tensors[0].shape[1:]), shape, self.name)
        else:
            placed = [node]
            if name in self.layers:  # the layer's own output, for naming the first node that differs
                self.outputs[name] = call.output_tensors[0]
        for part in placed:
            self.nodes[part.name] = part
            self.shapes[part.name] = part.shape
        self.tensors[id(call.output_tensors[0])] = placed[-1].name

    def layer_node(self, layer: Any, call: Any, name: str) -> ImportedNode:
        cls = class_key(layer)
        cls = cls if cls in self.by_class else importable_base(layer, self.by_class) or cls
        if cls not in self.by_class:
            why = REFUSED.get(type(layer).__name__, NO_OP_YET)
            raise KerasImportError(
                f"layer '{layer.name}' is a {cls}, which no archspec op imports"
                f"{'' if why == NO_OP_YET else ': it ' + why}\n"
                f"  hint: write a plugin op that lists '{cls}' in keras_classes (docs/plugins.md) "
                "and pass it with `archspec --plugin module:Op import ...`")
        op, params = self.read_params(layer, call, cls)
        written = params.model_dump(exclude_defaults=True, mode="json")
        rank = len(call.output_tensors[0].shape)
        axis_field = op.Params.model_fields.get("axis")
        if written.get("axis") == rank - 1 and axis_field is not None and axis_field.default == -1:
            written.pop("axis")  # Keras's channels axis, written as the default -1
        merges: list[tuple[str, str, dict]] = []
        if op.arity == "attention":  # queries, keys and values, and masks: by argument name
            sources, merges, said = attention_inputs(self, layer, call)
            written.update(said)  # causal: true, window: W
        else:
            sources = [self.source(tensor, layer.name) for tensor in call.input_tensors]
        self.layers[name] = layer
        names = None
        if op.arity == "named":  # an expr: its layer's input names, else x, y, z in call order
            names = list(layer.get_config().get("names", [])) or ["x", "y", "z", "w"][:len(sources)]
        return ImportedNode(name, op.name, written, sources, merges, names=names)

    def op_call(self, operation: Any, call: Any) -> OpCall:
        return OpCall(operation, call, [self.source_or_none(item) for item in call.arguments.args],
                      dict(call.arguments.kwargs), tuple(call.output_tensors[0].shape[1:]))

    def op_node(self, operation: Any, call: Any, name: str) -> ImportedNode:
        operation_call, mapped = self.mapped(operation, call)
        if isinstance(mapped, list):
            raise KerasImportError(unmappable(operation_call))
        op_name, params, sources = mapped[:3]
        names = mapped[3] if len(mapped) > 3 else None
        return ImportedNode(name, op_name, self.checked(op_name, params, operation_call), sources, names=names)

    def read_params(self, layer: Any, call: Any, cls: str) -> tuple[Any, Any]:
        """The first op (of those importing `cls`) that can express the layer, and its params."""
        first: Exception | None = None
        for op in self.by_class[cls]:
            try:
                config = op.from_keras(as_channels_last(layer.get_config()))
                config.update(op.from_keras_call(dict(call.arguments.kwargs)))
                return op, op.Params.model_validate(config)
            except (ValueError, ValidationError) as error:
                first = first or error
        assert first is not None
        raise KerasImportError(f"layer '{layer.name}' ({cls}) cannot be written as op {self.by_class[cls][0].name}: "
                               f"{first_line(first)}")

    def op_parts(self, operation: Any, call: Any, name: str) -> list[ImportedNode | None]:
        """A keras.ops call with several outputs (split): one node per output, `NAME_0`, `NAME_1`, ...; None for
        an output with no spec form. One node alone (fft2's real part) is `NAME`."""
        operation_call, mapped = self.mapped(operation, call)
        if not isinstance(mapped, list):
            raise KerasImportError(unmappable(operation_call))
        self.taken.discard(name)
        alone = sum(part is not None for part in mapped) == 1
        return [None if part is None else ImportedNode(self.name(name if alone else f"{name}_{index}"), part[0],
                                                       self.checked(part[0], part[1], operation_call), part[2])
                for index, part in enumerate(mapped)]

    def mapped(self, operation: Any, call: Any) -> tuple[OpCall, Any]:
        """A keras.ops call and its spec form (keras_ops.KERAS_OPS); when it has none, the error of an argument
        whose producer had none first (the cause), else unmappable's."""
        operation_call = self.op_call(operation, call)
        mapping = KERAS_OPS.get(type(operation).__name__)
        mapped = mapping(operation_call) if mapping else None
        if mapped is None:
            unread = Unread.first(operation_call.args)
            raise unread.error if unread else KerasImportError(unmappable(operation_call))
        return operation_call, mapped

    def checked(self, op_name: str, params: dict[str, Any], operation_call: OpCall) -> dict[str, Any]:
        try:
            return OPS[op_name].Params.model_validate(params).model_dump(exclude_defaults=True, mode="json")
        except (ValueError, ValidationError) as error:
            raise KerasImportError(f"{unmappable(operation_call).splitlines()[0]}: {first_line(error)}") from None

    def source_or_none(self, value: Any) -> Any:
        """An argument: the spec name of a tensor argument, else the value itself."""
        if id(value) in self.unread:
            return Unread(self.unread[id(value)])
        if hasattr(value, "_keras_history"):
            return TensorRef(self.source(value, "?"), tuple(value.shape[1:]))
        if isinstance(value, (list, tuple)) and any(hasattr(item, "_keras_history") for item in value):
            return [self.source_or_none(item) for item in value]
        return value

    def source(self, tensor: Any, user: str) -> str:
        name = self.tensors.get(id(tensor))
        if name is None and id(tensor) in self.unread:
            raise self.unread[id(tensor)]
        if name is None:
            operation, _, index = tensor._keras_history
            raise KerasImportError(f"'{user}' uses output {index} of '{operation.name}', "
                                   "which the import cannot follow")
        return name

    def name(self, keras_name: str) -> str:
        """A Keras name as a spec name: unchanged when valid and free (so weights copy by name)."""
        safe = keras_name if NAME_PATTERN.match(keras_name) else re.sub(r"\W", "_", keras_name)
        if not NAME_PATTERN.match(safe):
            safe = f"n_{safe}"
        while safe in self.taken:
            safe += "_"
        self.taken.add(safe)
        return safe


def class_key(layer: Any) -> str:
    """The name an op's `keras_classes` lists: the class, and for a wrapper its wrapped layer's class
    too ("Bidirectional(LSTM)"), so the op of the wrapped layer imports both."""
    cls = type(layer).__name__
    inner = getattr(layer, "forward_layer", None) or getattr(layer, "layer", None)
    if inner is not None and not hasattr(layer, "layers"):
        return f"{cls}({type(inner).__name__})"
    return cls


def auto_named(operation: Any) -> bool:
    """True if Keras gave `operation` its name (its class in snake case, maybe numbered: `re_lu_3`)."""
    name = re.sub(r"\W+", "", type(operation).__name__)
    name = re.sub("(.)([A-Z][a-z]+)", r"\1_\2", name)
    name = re.sub("([a-z])([A-Z])", r"\1_\2", name).lower()
    return re.fullmatch(re.escape(name) + r"(_\d+)?", operation.name) is not None


def _is_layer(operation: Any) -> bool:
    return any(cls.__name__ == "Layer" and cls.__module__.startswith("keras")
               for cls in type(operation).__mro__)


def _is_model(operation: Any) -> bool:
    return hasattr(operation, "_nodes_by_depth") or getattr(operation, "_functional", None) is not None
