"""archspec: neural-network architectures as YAML graphs, compiled to Keras 3 Functional models.

    spec = archspec.load("specs/mnist_denoise_unet.yaml")   # validated Spec
    graph = archspec.analyze(spec)                           # networkx DAG with shapes
    model = archspec.compile_model(spec)                     # keras.Model
    spec = archspec.loads(text)                              # a spec from a notebook cell; shows its diagram
    run = archspec.fit(spec, epochs=1, subset=2000)          # a run folder; shows curves, samples, metrics

Names are imported on first use (PEP 562), so `import archspec` and
`archspec --help` stay fast; only compiling, codegen and training import
TensorFlow.
"""

from __future__ import annotations

import importlib
import sys
from typing import Any

from archspec import moved

__version__ = "0.1.0"

moved.install()  # old import paths (archspec.ops, archspec.graph.ops...) keep working, with a warning

_EXPORTS = {
    "ArchspecError": "archspec.errors",
    "SpecError": "archspec.errors",
    "SpecErrors": "archspec.errors",
    "Spec": "archspec.spec.models",
    "load_spec": "archspec.spec.frontend",
    "loads_spec": "archspec.spec.frontend",
    "build_graph": "archspec.graph.build",
    "infer_shapes": "archspec.graph.shapes",
    "analyze": "archspec.graph.shapes",
    "compile_model": "archspec.keras.compiler",
    "generate_code": "archspec.keras.codegen",
    "render": "archspec.draw.diagram",
    "loads": "archspec.notebook",
    "fit": "archspec.notebook",
    "open_run": "archspec.notebook",
    "Run": "archspec.notebook",
    "use_backend": "archspec.keras.backend",
}
_ALIASES = {"load": ("archspec.spec.frontend", "load_spec")}

__all__ = sorted([*_EXPORTS, *_ALIASES])


def __getattr__(name: str) -> Any:
    if "IPython" in sys.modules and "archspec.notebook" not in sys.modules:
        importlib.import_module("archspec.notebook")  # in Jupyter, a Spec shows as its diagram
    if name in _EXPORTS:
        return getattr(importlib.import_module(_EXPORTS[name]), name)
    if name in _ALIASES:
        module, attribute = _ALIASES[name]
        return getattr(importlib.import_module(module), attribute)
    raise AttributeError(f"module 'archspec' has no attribute {name!r}")


def __dir__() -> list[str]:
    return __all__
