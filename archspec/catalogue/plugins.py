"""The only way to add op kinds: an explicit plugin registry, never a name written in a spec.

A spec names ops by their registered name (`op: dense`); archspec never
imports a module or looks up a class because a spec mentions it. New ops come
from code the user chose to run:

- an installed package that declares an entry point in the group `archspec.ops`
  (`[project.entry-points."archspec.ops"] scale = "mypkg.ops:Scale"`), loaded by
  the `archspec` command at start-up, or by `load_entry_points()` in Python;
- `archspec --plugin mypkg.ops:Scale ...`, or `load_plugin("mypkg.ops:Scale")`.

A plugin op that lists Keras class names in `keras_classes` (and reads their config in
`from_keras`) is also what `archspec import` turns those layers into (docs/plugins.md).

A plugin imports what it needs from `archspec.plugin`, the stable API. Each plugin is checked
before it joins `archspec.catalogue.ops.OPS`: it must be an `Op`
subclass (or instance) with a snake_case name no other op has, a pydantic
params model derived from `OpParams` (unknown keys stay errors), and a known
arity and family.
"""

from __future__ import annotations

import importlib
import importlib.metadata
from typing import Any, get_args

from archspec.catalogue.names import NAME_PATTERN
from archspec.catalogue.ops import OPS, Op, OpParams
from archspec.catalogue.ops.base import ArityName, Family
from archspec.errors import PluginError
from archspec.moved import PLUGIN_API

ENTRY_POINT_GROUP = "archspec.ops"
ARITIES: tuple[str, ...] = tuple(name for name in get_args(ArityName) if name != "named")
"""The arities a plugin op may have: all but `named`, the `expr` op's own protocol (expression_shape)."""
FAMILIES: tuple[str, ...] = get_args(Family)


def register_op(candidate: Any, *, source: str) -> Op:
    """Validate a plugin op (class or instance) and add it to OPS; return the registered instance."""
    if isinstance(candidate, type) and issubclass(candidate, Op):
        op = candidate()
    elif isinstance(candidate, Op):
        op = candidate
    else:
        raise PluginError(f"plugin {source}: {candidate!r} is not an archspec Op subclass\n"
                          "  hint: subclass archspec.plugin.Op and set name, Params, infer_shape and layer")
    name = getattr(op, "name", None)
    if not isinstance(name, str) or not NAME_PATTERN.fullmatch(name) or name != name.lower():
        raise PluginError(f"plugin {source}: op name {name!r} is not a snake_case identifier")
    params = getattr(op, "Params", None)
    if not (isinstance(params, type) and issubclass(params, OpParams)):
        raise PluginError(f"plugin {source}: op '{name}' needs a Params model derived from "
                          "archspec.plugin.OpParams")
    if op.arity not in ARITIES:
        raise PluginError(f"plugin {source}: op '{name}' has arity {op.arity!r}; "
                          f"expected one of {', '.join(ARITIES)}")
    if op.family not in FAMILIES:
        raise PluginError(f"plugin {source}: op '{name}' has family {op.family!r}; "
                          f"expected one of {', '.join(FAMILIES)}")
    _check_keras_classes(op, source)
    existing = OPS.get(name)
    if existing is not None:
        if type(existing) is type(op):
            return existing  # the same plugin loaded twice (entry point and --plugin)
        raise PluginError(
            f"plugin {source}: op name '{name}' is already taken by "
            f"{type(existing).__module__}.{type(existing).__qualname__}\n"
            "  hint: give the plugin op another name; built-in ops cannot be replaced")
    OPS[name] = op
    return op


def load_plugin(reference: str) -> Op:
    """Import `module:OpClass` (code the user named on the command line) and register its op."""
    module_name, _, attribute = reference.partition(":")
    if not module_name or not attribute:
        raise PluginError(f"plugin {reference!r}: expected the form module:OpClass, "
                          "e.g. mypkg.ops:Scale")
    try:
        module = importlib.import_module(module_name)
    except ImportError as error:
        raise PluginError(f"plugin {reference}: cannot import module '{module_name}': {error}"
                          + _moved_hint(error)) from None
    try:
        candidate = getattr(module, attribute)
    except AttributeError:
        raise PluginError(f"plugin {reference}: module '{module_name}' has no '{attribute}'") from None
    return register_op(candidate, source=reference)


def load_entry_points(group: str = ENTRY_POINT_GROUP) -> list[Op]:
    """Register the ops of every installed package that declares an entry point in `group`."""
    registered = []
    for entry_point in importlib.metadata.entry_points(group=group):
        source = f"entry point '{entry_point.name} = {entry_point.value}'"
        try:
            candidate = entry_point.load()
        except Exception as error:
            raise PluginError(f"plugin {source} failed to load: {type(error).__name__}: {error}"
                              + _moved_hint(error)) from None
        registered.append(register_op(candidate, source=source))
    return registered


def _check_keras_classes(op: Op, source: str) -> None:
    """A plugin's `keras_classes` (the Keras layers `archspec import` turns into it) are class names
    no other op claims: the importer must know which op a layer becomes."""
    classes = op.keras_classes
    if not isinstance(classes, tuple) or not all(isinstance(item, str) and item for item in classes):
        raise PluginError(f"plugin {source}: op '{op.name}' keras_classes must be a tuple of Keras class "
                          f"names, got {classes!r}")
    for other in OPS.values():
        if type(other) is type(op):
            continue
        taken = set(classes) & set(other.keras_classes)
        if taken:
            raise PluginError(f"plugin {source}: op '{op.name}' imports {sorted(taken)[0]}, which op "
                              f"'{other.name}' already imports\n  hint: a Keras class imports as one op")


def _moved_hint(error: Exception) -> str:
    """A hint when a plugin fails on an archspec name: archspec's modules move, `archspec.plugin` stays."""
    if isinstance(error, ImportError) and (error.name or "").partition(".")[0] == "archspec":
        return (f"\n  hint: a plugin imports Op, OpParams, LayerCall, Shape and the shape helpers from "
                f"{PLUGIN_API}, the stable API (docs/plugins.md)")
    return ""
