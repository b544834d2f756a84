"""archspec: neural-network architectures as YAML graphs, compiled to Keras 3 Functional models.

    spec = archspec.load("specs/mnist_denoise_unet.yaml")   # validated Spec
    graph = archspec.analyze(spec)                           # networkx DAG with shapes
    model = archspec.compile_model(spec)                     # keras.Model

Importing archspec does not import TensorFlow; only compiling, codegen and
training do.
"""

from __future__ import annotations

from typing import Any

from archspec.errors import ArchspecError, SpecError, SpecErrors
from archspec.graph import build_graph
from archspec.shapes import analyze, infer_shapes
from archspec.spec import Spec, load_spec, loads_spec

load = load_spec

__version__ = "0.1.0"


def compile_model(source: Any) -> Any:
    """Compile a spec (path, Spec or graph) into a keras.Model; imports TensorFlow."""
    from archspec.compiler import compile_model as _compile_model

    return _compile_model(source)


def codegen(source: Any) -> str:
    """The hand-written Keras Functional code equivalent to a spec."""
    from archspec.codegen import generate_code

    return generate_code(source)


def render(source: Any, **options: Any) -> Any:
    """The graphviz.Digraph of a spec (see archspec.diagram.render for the options); no TensorFlow."""
    from archspec.diagram import render as _render

    return _render(source, **options)


__all__ = [
    "ArchspecError", "Spec", "SpecError", "SpecErrors", "analyze", "build_graph", "codegen",
    "compile_model", "infer_shapes", "load", "load_spec", "loads_spec", "render",
]
