"""Which tests need Keras: the rule behind the `keras` marker that tests/conftest.py sets on collection.

A test needs Keras when its code, the fixtures it uses, or the helpers it calls
(functions and classes written under tests/, followed transitively) name a
Keras entry point, import a module that loads Keras, or run a command that
trains, compiles, exports or imports a model. Marking more than needed only
moves a test out of the fast lane; marking less is caught: in the lane
(`-m "not keras"`) a test that loads TensorFlow or Keras fails by name.
"""

from __future__ import annotations

import ast
import functools
import inspect
import re
import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

TESTS = Path(__file__).resolve().parent

ENTRY_POINTS = frozenset({
    "decode_all", "file_pipeline", "use_backend", "backend_outputs",
    "keras", "tf", "tensorflow", "import_keras", "import_tensorflow", "compile_model", "fit_spec", "resume_run",
    "evaluate_run", "load_keras_model", "load_model_to_import", "export_model", "import_model", "run_sweep", "fit",
    "generate_code",
})
"""Names whose use loads Keras: the `keras` and `backend_outputs` fixtures, Keras itself, and the library calls that
build models."""

KERAS_MODULES = ("keras", "tensorflow", "jax", "torch", "onnx", "onnxruntime", "tf2onnx", "archspec.keras.compiler",
                 "archspec.keras.export", "archspec.keras.saved", "archspec.keras.importer", "archspec.keras.layers",
                 "archspec.train.runner", "archspec.train.pipeline", "archspec.train.compiling",
                 "archspec.train.loops", "archspec.train.sweep", "archspec.train.resume",
                 "archspec.train.userdata.stream", "archspec.train.userdata.run_data")
"""Modules (and their sub-modules) that load Keras when imported."""

KERAS_COMMANDS = frozenset({"build", "codegen", "compile", "fit", "evaluate", "export", "import", "sweep"})
"""`archspec` commands that build a model; a test that passes one of these words runs it."""

KERAS_SOURCE = re.compile(r"\b(import|from) (keras|tensorflow)\b|\btests\.backend_outputs\b|\b("
                          + "|".join(sorted(ENTRY_POINTS)) + r")\(")
"""Python text that loads Keras, in a string: code a test runs in a subprocess, or a plugin it writes."""


def needs_keras(function: Callable[..., Any], fixtures: list[Callable[..., Any]], fixture_names: list[str]) -> bool:
    """Whether a test (its function and the functions of the fixtures it uses) needs Keras."""
    if "keras" in fixture_names:
        return True
    return any(_uses_keras(_inner(code)) for code in [function, *fixtures])


@functools.cache
def _uses_keras(code: Callable[..., Any] | type) -> bool:
    _IN_PROGRESS.add(code)  # a helper that calls itself (or a cycle of them) is read once
    try:
        return any(_names_keras(node, code) for node in ast.walk(_tree(code)))
    finally:
        _IN_PROGRESS.discard(code)


_IN_PROGRESS: set[Any] = set()


def _tree(code: Callable[..., Any] | type) -> ast.AST:
    try:
        return ast.parse(textwrap.dedent(inspect.getsource(code)))
    except (OSError, TypeError, SyntaxError):
        return ast.Module(body=[], type_ignores=[])


def _names_keras(node: ast.AST, code: Callable[..., Any] | type) -> bool:
    if isinstance(node, ast.Name) and node.id in ENTRY_POINTS:
        return True
    if isinstance(node, ast.Attribute) and node.attr in ENTRY_POINTS:
        return True
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return _keras_text(node.value)
    if isinstance(node, (ast.Import, ast.ImportFrom)):
        return any(_loads_keras(module) for module in _imported(node))
    if isinstance(node, ast.Name):
        value = getattr(code, "__globals__", vars(inspect.getmodule(code) or object)).get(node.id)
        if isinstance(value, str):  # a module's constant: code a test runs or writes
            return _keras_text(value)
        return _is_test_helper(value) and value not in _IN_PROGRESS and _uses_keras(_inner(value))
    return False


def _keras_text(text: str) -> bool:
    return text in KERAS_COMMANDS or KERAS_SOURCE.search(text) is not None


def _inner(code: Any) -> Any:
    """The function a decorator wraps: functools' __wrapped__, or Hypothesis's inner test."""
    inner = getattr(getattr(code, "hypothesis", None), "inner_test", None)
    return inspect.unwrap(inner or code)


def _imported(node: ast.Import | ast.ImportFrom) -> Iterator[str]:
    if isinstance(node, ast.Import):
        yield from (alias.name for alias in node.names)
    elif node.module:
        yield node.module
        yield from (f"{node.module}.{alias.name}" for alias in node.names)


def _loads_keras(module: str) -> bool:
    return any(module == name or module.startswith(f"{name}.") for name in KERAS_MODULES)


def _is_test_helper(value: Any) -> bool:
    """A function or class written under tests/ (its code is read too); library code is not followed."""
    if not (inspect.isfunction(value) or inspect.isclass(value)):
        return False
    try:
        return Path(inspect.getfile(value)).resolve().is_relative_to(TESTS)
    except TypeError:
        return False
