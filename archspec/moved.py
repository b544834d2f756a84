"""Import paths that moved, kept working: each old module name is an alias of its new module.

A plugin written against older docs imports `archspec.ops.base` (turn 1) or `archspec.graph.ops`
(until the catalogue left graph/); both still load, as the very module they moved to (so
`archspec.ops.OPS is archspec.catalogue.ops.OPS`), with a DeprecationWarning that names the new
path and the stable plugin API, `archspec.plugin`. `archspec/__init__.py` installs the finder, so
the aliases work from any first import of archspec.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.util
import sys
import warnings
from importlib.machinery import ModuleSpec
from types import ModuleType

MOVED: dict[str, str] = {
    "archspec.ops": "archspec.catalogue.ops",  # turn 1
    "archspec.primitives": "archspec.catalogue.primitives",  # turn 1
    "archspec.connections": "archspec.catalogue.connections",  # turn 1
    "archspec.graph.ops": "archspec.catalogue.ops",
    "archspec.graph.connections": "archspec.catalogue.connections",
    "archspec.graph.primitives": "archspec.catalogue.primitives",
    "archspec.graph.shape_rules": "archspec.catalogue.shape_rules",
    "archspec.graph.expression": "archspec.catalogue.expression",
    "archspec.plugins": "archspec.catalogue.plugins",
}
"""Old module name (and everything below it) -> the module it is now."""

PLUGIN_API = "archspec.plugin"
"""The module a plugin imports from: its names stay when archspec's modules move."""


def new_name(old: str) -> str | None:
    """The current name of a moved module (`archspec.ops.base` -> `archspec.catalogue.ops.base`), else None."""
    for prefix, target in MOVED.items():
        if old == prefix or old.startswith(prefix + "."):
            return target + old[len(prefix):]
    return None


class MovedModuleFinder(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Finds an old name in MOVED and loads it as the new module, warning once per old name."""

    def find_spec(self, fullname: str, path: object = None, target: object = None) -> ModuleSpec | None:
        if new_name(fullname) is None:
            return None
        return importlib.util.spec_from_loader(fullname, self)

    def create_module(self, spec: ModuleSpec) -> ModuleType:
        target = new_name(spec.name)
        assert target is not None  # find_spec answered only for moved names
        # stacklevel 2 is the `import` line: warn() skips importlib's own frames
        warnings.warn(f"{spec.name} moved to {target}; import an op plugin's names from {PLUGIN_API} "
                      "(docs/plugins.md)", DeprecationWarning, stacklevel=2)
        module = importlib.import_module(target)
        spec.loader_state = module.__spec__  # importlib sets __spec__ to the alias's: exec_module puts it back
        return module

    def exec_module(self, module: ModuleType) -> None:
        """The module is the new one, already executed; it keeps its own spec (reload, pickling by name)."""
        module.__spec__ = module.__spec__.loader_state


def install() -> None:
    """Put the finder first on sys.meta_path (once): the old names must not reach the file system."""
    if not any(isinstance(finder, MovedModuleFinder) for finder in sys.meta_path):
        sys.meta_path.insert(0, MovedModuleFinder())
