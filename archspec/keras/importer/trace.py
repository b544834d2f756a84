"""Subclassed layers traced into their parts (the torch.fx idea: record what the Python does).

A layer no op imports (a library's patching or embedding layer, a block written as a class) is
imported by calling its `call` on fresh symbolic inputs shaped like the call's: the Keras layers and
`keras.ops` calls inside it record themselves, so the trace is a Functional model the reader flattens
like a nested one (nodes `OUTER_INNER`; the inner layers are the layer's own objects, so their weights
copy from them). Only code already importable runs: the class's own `call`, as Keras itself runs it
when it loads a .keras file in safe mode; nothing is read from the file. Where tracing is impossible
(Python control flow on a tensor's values, a backend function applied to a symbolic tensor, a weight
used directly) the message names the class and the line of its source that stopped it.
"""

from __future__ import annotations

import collections
import contextlib
import functools
import importlib.util
import inspect
import traceback
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from archspec.keras.importer.errors import KerasImportError, first_line
from archspec.keras.importer.helpers import helpers_replaced


def traced_model(layer: Any, call: Any) -> tuple[Any, list[Any]]:
    """A Functional model computing `layer`'s call from symbolic inputs, one per input tensor of `call`,
    and the output tensors of `call` its outputs stand for.

    A call may return a structure with None in it (DeiT's blocks return `(x, None)` when no attention
    scores are asked for); Keras records the tensor parts only (see `_none_outputs_dropped`), and so
    does the trace. A part that is a constant (`ops.empty`, made without any input) is no output of
    the model: the outer call's tensor in its place stays unread, and a layer using it is refused."""
    from archspec.keras.backend import import_keras

    keras = import_keras()
    inner = {id(weight) for part in layer._flatten_layers(include_self=False) for weight in part.weights}
    own = [weight.path.rsplit("/", 1)[-1] for weight in layer.weights if id(weight) not in inner]
    if own:
        raise KerasImportError(
            f"{_refused(layer)}, and its call cannot be traced: it uses weights of its own ({', '.join(own)}), "
            f"which no traced node would hold\n  hint: {_HINT.format(cls=type(layer).__name__)}")
    fresh = {id(tensor): keras.Input(batch_shape=tuple(tensor.shape), dtype=tensor.dtype)
             for tensor in call.input_tensors}

    def swap(value: Any) -> Any:
        return fresh.get(id(value), value)

    args = keras.tree.map_structure(swap, list(call.arguments.args))
    kwargs = keras.tree.map_structure(swap, dict(call.arguments.kwargs))
    try:
        with fresh_auto_names(), helpers_replaced(), _none_outputs_dropped(), _transforms_of_any_size():
            parts = [part for part in keras.tree.flatten(layer.call(*args, **kwargs)) if part is not None]
            if len(parts) != len(call.output_tensors):
                raise KerasImportError(f"layer '{layer.name}' ({type(layer).__name__}) traced to {len(parts)} "
                                       f"outputs where its call gave {len(call.output_tensors)}")
            symbolic = [index for index, part in enumerate(parts) if isinstance(part, keras.KerasTensor)]
            model = keras.Model([fresh[id(tensor)] for tensor in call.input_tensors],
                                [parts[index] for index in symbolic])
    except KerasImportError:
        raise
    except Exception as error:  # any failure of the user's code is reported, located
        raise KerasImportError(
            f"{_refused(layer)}, and tracing its call stopped at {_stopped_at(error, layer)}: "
            f"{first_line(error)}\n  hint: {_HINT.format(cls=type(layer).__name__)}") from None
    return model, [call.output_tensors[index] for index in symbolic]


@contextlib.contextmanager
def _none_outputs_dropped() -> Iterator[None]:
    """Inside a trace, a layer whose call returns None among its outputs records a node of its tensor
    parts (Keras refuses the None: "All operation outputs must be tensors"); the caller still receives
    the whole structure, None included, as the layer's own Python returns it."""
    from keras.src import tree
    from keras.src.layers import layer as layer_module  # Layer.__call__ records its node with this name

    node = layer_module.Node

    def tensor_parts_node(operation: Any, call_args: Any = None, call_kwargs: Any = None, outputs: Any = None) -> Any:
        parts = None if outputs is None else [part for part in tree.flatten(outputs) if part is not None]
        return node(operation, call_args, call_kwargs, parts)

    layer_module.Node = tensor_parts_node
    try:
        yield
    finally:
        layer_module.Node = node


TRANSFORMS = ("FFT", "FFT2", "IFFT2")
"""keras.ops operations whose outputs are shaped like their (real, imaginary) inputs but whose symbolic rule
refuses a size known only at run time (a sequence of any length), which every backend transforms."""


@contextlib.contextmanager
def _transforms_of_any_size() -> Iterator[None]:
    """Inside a trace, the TRANSFORMS accept unknown sizes (FNet mixes a sequence of any length): their
    outputs are shaped like their inputs; Keras's rule still checks the rest, on the sizes as 1."""
    from keras.src.backend import KerasTensor
    from keras.src.ops import math

    def shaped_like_inputs(rule: Any) -> Any:
        def relaxed(self: Any, x: Any) -> Any:
            if not (isinstance(x, (tuple, list)) and len(x) == 2 and x[0].shape == x[1].shape):
                return rule(self, x)
            rule(self, [KerasTensor(shape=tuple(size or 1 for size in part.shape), dtype=part.dtype) for part in x])
            return tuple(KerasTensor(shape=part.shape, dtype=part.dtype) for part in x)
        return relaxed

    saved = {name: getattr(math, name).compute_output_spec for name in TRANSFORMS}
    for name, rule in saved.items():
        getattr(math, name).compute_output_spec = shaped_like_inputs(rule)
    try:
        yield
    finally:
        for name, rule in saved.items():
            getattr(math, name).compute_output_spec = rule


@contextlib.contextmanager
def fresh_auto_names() -> Iterator[None]:
    """Keras numbers the names it makes up (`multiply`, `multiply_1`, ...) process-wide; a traced call's
    keras.ops get them afresh, so an import names its nodes the same whatever ran before it."""
    from keras.src.backend.common import global_state  # the counter behind keras.src.utils.naming.uniquify

    saved = global_state.get_global_attribute("object_name_uids")
    global_state.set_global_attribute("object_name_uids", collections.defaultdict(int))
    try:
        yield
    finally:
        global_state.set_global_attribute("object_name_uids", saved)


_HINT = ("write its call with Keras layers and keras.ops only (no Python branch on a tensor's values), or a "
         "plugin op that lists '{cls}' in keras_classes (docs/plugins.md)")


def _refused(layer: Any) -> str:
    return f"layer '{layer.name}' is a {type(layer).__name__}, which no archspec op imports"


def untraceable(layer: Any, error: KerasImportError) -> KerasImportError:
    """The message for a traced call one of whose parts has no spec form: the layer first, then the part."""
    return KerasImportError(f"{_refused(layer)}, and a part of its traced call has no spec form: {error}")


def traceable(layer: Any) -> bool:
    """True for a layer whose call can be traced: not a model (those are flattened) and not Keras's own
    layers, whose calls use backend functions."""
    return not type(layer).__module__.startswith(("keras.", "tf_keras.")) and hasattr(layer, "call")


def _stopped_at(error: Exception, layer: Any) -> str:
    """`Class.call (file:line: source)` of the innermost frame outside Keras and TensorFlow, preferring the
    layer's own class."""
    frame = user_frame(error, type(layer))
    if frame is None:
        return f"{type(layer).__name__}.call"
    return f"{type(layer).__name__}.{frame.name} ({located(frame)})"


def user_frame(error: Exception, owner: Any) -> traceback.FrameSummary | None:
    """The innermost frame of `error` outside the LIBRARIES, preferring those in `owner`'s source file (a
    class or a function)."""
    frames = traceback.extract_tb(error.__traceback__)
    own = _source_file(owner)
    outside = [frame for frame in frames if not _library(frame.filename)]
    mine = [frame for frame in outside if own and Path(frame.filename) == own]
    return (mine or outside or frames)[-1] if frames else None


def located(frame: traceback.FrameSummary) -> str:
    """`file:line: `source`` of a frame, as the messages quote it."""
    return f"{frame.filename}:{frame.lineno}: `{(frame.line or '').strip()}`"


def _source_file(owner: Any) -> Path | None:
    try:
        return Path(inspect.getsourcefile(owner) or "")
    except TypeError:
        return None


LIBRARIES = ("keras", "tensorflow", "archspec", "optree")
"""Packages whose frames are never the user's line that stopped a trace."""


@functools.cache
def _library_folders() -> tuple[Path, ...]:
    """Where the LIBRARIES are installed (by their own location, so a user's folder that happens to be
    named `keras` is still the user's)."""
    folders = []
    for name in LIBRARIES:
        spec = importlib.util.find_spec(name)
        for location in (spec.submodule_search_locations or []) if spec else []:
            folders.append(Path(location).resolve())
    return tuple(folders)


def _library(filename: str) -> bool:
    path = Path(filename).resolve()
    return any(path.is_relative_to(folder) for folder in _library_folders())
