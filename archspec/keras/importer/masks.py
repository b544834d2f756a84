"""Attention masks built between layers, read back as what they mean: which key steps an attention attends to.

keras-hub and hand-written transformers turn a `(batch, steps)` padding input into the layer's
`attention_mask` with keras.ops: `cast(expand_dims(padding, 1), "int32")`, sometimes `minimum` with a
causal mask. Those calls have no spec form of their own, and need none: the spec says the same with a
`mask` edge from the padding input (and `causal: true`). So such a call is recorded as a *view* of the
tensor it masks with, not as a node; an attention layer reads the view (importer.attention_calls), and
any other use of the call's output is refused with the call's own message, as before.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from archspec.catalogue.primitives import INTEGER_DTYPES
from archspec.keras.importer.helpers import is_causal_marker, marker_window


@dataclass(frozen=True)
class MaskView:
    """A mask tensor as the steps it keeps: nonzero entries of `source` (the spec name of a (batch, steps)
    tensor; None for a causal mask alone), broadcast over the query steps when `broadcast`; with `causal`,
    only keys up to the query's step, and with a `window` only the `window` latest of those."""

    source: str | None
    broadcast: bool = False
    causal: bool = False
    window: int | None = None

    def params(self) -> dict[str, Any]:
        """What the view says of an attention node beyond its mask edge: causal: true, window: W."""
        return {**({"causal": True} if self.causal else {}), **({"window": self.window} if self.window else {})}


KEEPS_NONZERO = ("bool", *INTEGER_DTYPES)
"""Dtypes whose cast keeps a mask's zero/nonzero pattern from any source (a float cast to an integer does not:
0.5 becomes 0)."""


class MaskViews:
    """The mask views of one import, by the id of the Keras tensor they stand for."""

    def __init__(self) -> None:
        self.views: dict[int, MaskView] = {}

    def record(self, operation: Any, call: Any, names: dict[int, str]) -> None:
        """Record `call` (a keras.ops call with no spec form) as a mask view if it is one; `names` maps the
        ids of tensors with a spec node to its name. (Its error, for a use as data, the reader keeps.)"""
        rule = _RULES.get(type(operation).__name__)
        view = rule(operation, call, lambda tensor: self.view_of(tensor, names)) if rule else None
        if view is not None:
            self.views.update((id(tensor), view) for tensor in call.output_tensors)

    def alias(self, inner: Any, outer: Any) -> bool:
        """Make `inner` (a nested model's or a rewrite's input) the view `outer` is, if `outer` is one."""
        if id(outer) not in self.views:
            return False
        self.views[id(inner)] = self.views[id(outer)]
        return True

    def view_of(self, tensor: Any, names: dict[int, str]) -> MaskView | None:
        """A tensor as a mask: a recorded view, a causal mask (importer.helpers), or a spec tensor of shape
        (batch, steps) as itself."""
        if is_causal_marker(tensor):
            return MaskView(None, broadcast=True, causal=True, window=marker_window(tensor))
        if id(tensor) in self.views:
            return self.views[id(tensor)]
        if id(tensor) in names and len(tensor.shape) == 2:
            return MaskView(names[id(tensor)])
        return None


def _expand_dims(operation: Any, call: Any, view_of: Any) -> MaskView | None:
    """expand_dims(padding, 1): (batch, steps) -> (batch, 1, steps), the keys' mask for every query."""
    axis = operation.get_config().get("axis", getattr(operation, "axis", None))
    (tensor,) = call.input_tensors if len(call.input_tensors) == 1 else (None,)
    view = view_of(tensor) if tensor is not None else None
    if view is None or view.broadcast or view.causal or axis not in (1, -2, [1], (1,), [-2], (-2,)):
        return None
    return replace(view, broadcast=True)


def _cast(operation: Any, call: Any, view_of: Any) -> MaskView | None:
    """cast(mask, dtype): the same mask when the cast keeps which entries are zero."""
    if len(call.input_tensors) != 1:
        return None
    tensor = call.input_tensors[0]
    target = str(operation.get_config().get("dtype", getattr(operation, "dtype", "")))
    view = view_of(tensor)
    if view is None or not (str(tensor.dtype) in KEEPS_NONZERO or target == "bool"
                            or (str(tensor.dtype).startswith("float") and target.startswith("float"))):
        return None
    return view


def _both(operation: Any, call: Any, view_of: Any) -> MaskView | None:
    """minimum(a, b) / logical_and(a, b) of two 0/1 masks: the steps both keep; one of them may be causal."""
    if len(call.arguments.args) != 2 or call.arguments.kwargs:
        return None
    first, second = (view_of(tensor) for tensor in call.arguments.args)
    if first is None or second is None:
        return None
    sources = {view.source for view in (first, second)} - {None}
    windows = {view.window for view in (first, second)} - {None}
    if len(sources) > 1 or len(windows) > 1:
        return None  # two padding inputs or two windows: no single mask edge (or window) says it
    return MaskView(next(iter(sources), None), True, first.causal or second.causal, next(iter(windows), None))


_RULES = {"ExpandDims": _expand_dims, "Cast": _cast, "Minimum": _both, "LogicalAnd": _both}
"""keras.ops operation class -> how it turns a mask view into another (None: not a mask)."""
