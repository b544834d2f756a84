"""Export a model through Keras's own `model.export`, then prove the artifact computes what the model does.

An exported file that loads but computes something else (an op converted
wrongly, a layer left out) is worse than none, because it fails far from
here. So every export is loaded back by the runtime that will serve it
(TensorFlow for a SavedModel, onnxruntime for ONNX, the TFLite / LiteRT
interpreter for LiteRT), run on the same random batch as the Keras model, and
compared; only then is it reported as written. Each format is one row of
FORMATS: Keras's name for it, its file suffix, the packages it needs and the
function that loads it back.
"""

from __future__ import annotations

import importlib.util
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from archspec.errors import ArchspecError
from archspec.keras.backend import current_backend, import_keras, import_tensorflow, stderr_captured
from archspec.keras.compiler import compile_model
from archspec.keras.equivalence import TOLERANCE, max_difference, sample_inputs
from archspec.keras.saved import load_keras_model

CHECK_BATCH = 4

Runner = Callable[[list[np.ndarray]], list[np.ndarray]]
"""Inputs in the model's order -> outputs in the model's order."""


class ExportError(ArchspecError):
    """An artifact could not be written, loaded back, or does not compute what the model computes."""


@dataclass(frozen=True)
class ExportFormat:
    """One export format: how Keras names it, where it goes, what loads it back."""

    keras_format: str
    suffix: str
    """The file suffix, or a name suffix for a folder (SavedModel)."""
    runtime: str
    packages: tuple[str, ...]
    load: Callable[[Path, Any], Runner]
    tensorflow_packages: tuple[str, ...] = ()
    """Further packages Keras's exporter needs on the TensorFlow backend."""
    on_tensorflow: Callable[[], None] | None = None
    """Run before exporting on the TensorFlow backend."""


@dataclass(frozen=True)
class ExportReport:
    path: Path
    format: str
    max_difference: float
    backend: str


def _load_saved_model(path: Path, model: Any) -> Runner:
    tf = import_tensorflow()
    loaded = tf.saved_model.load(str(path))  # held by run(): its variables die with it

    def run(inputs: list[np.ndarray]) -> list[np.ndarray]:
        return _as_list(loaded.serve(inputs[0] if len(inputs) == 1 else inputs))

    return run


def _load_onnx(path: Path, model: Any) -> Runner:
    import onnxruntime

    session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    names = [item.name for item in session.get_inputs()]

    def run(inputs: list[np.ndarray]) -> list[np.ndarray]:
        return session.run(None, dict(zip(names, inputs)))

    return run


def _load_litert(path: Path, model: Any) -> Runner:
    tf = import_tensorflow()
    with warnings.catch_warnings():  # tf.lite.Interpreter's deprecation notice; it runs SELECT_TF_OPS models
        warnings.simplefilter("ignore")
        interpreter = tf.lite.Interpreter(model_path=str(path))
    signature = interpreter.get_signature_runner()
    names = [tensor.name.split(":")[0] for tensor in model.inputs]

    def run(inputs: list[np.ndarray]) -> list[np.ndarray]:
        outputs = signature(**dict(zip(names, inputs)))
        return [outputs[key] for key in sorted(outputs, key=lambda key: int(key.rsplit("_", 1)[-1]))]

    return run


def _register_tf2onnx_ops() -> None:
    from archspec.keras.onnx_ops import register_onnx_handlers  # imports tf2onnx: only when exporting ONNX

    register_onnx_handlers()


FORMATS: dict[str, ExportFormat] = {
    "savedmodel": ExportFormat("tf_saved_model", "_savedmodel", "TensorFlow", ("tensorflow",), _load_saved_model),
    "onnx": ExportFormat("onnx", ".onnx", "onnxruntime", ("onnx", "onnxruntime"), _load_onnx,
                         tensorflow_packages=("tf2onnx",), on_tensorflow=_register_tf2onnx_ops),
    "litert": ExportFormat("litert", ".tflite", "the TFLite interpreter", ("tensorflow",), _load_litert),
}


def load_source(source: str | Path) -> Any:
    """The model to export: a .keras file (a run folder's is found by the CLI), or a spec compiled afresh."""
    source = Path(source)
    if source.suffix == ".keras":
        return load_keras_model(source, compile=False)
    return compile_model(source)


def default_path(source: Path, format: str) -> Path:
    """Beside the spec (SPEC.onnx), or inside the run folder (RUN_DIR/model.onnx)."""
    suffix = FORMATS[format].suffix
    if source.is_dir():
        return source / f"model{suffix}"
    return source.with_name(source.stem + suffix) if suffix.startswith("_") else source.with_suffix(suffix)


def export_model(model: Any, path: str | Path, format: str, *, seed: int = 0) -> ExportReport:
    """Write `model` as `format` at `path`, load it back and check it against the model; raise ExportError if not."""
    if format not in FORMATS:
        raise ExportError(f"unknown export format '{format}'; use one of {', '.join(FORMATS)}")
    spec = FORMATS[format]
    path = Path(path)
    backend = current_backend().name
    _check_packages(format, spec, backend)
    if "tensorflow" in spec.packages:
        import_tensorflow()  # quietly, before Keras's exporter imports it on a jax or torch backend
    if backend == "tensorflow" and spec.on_tensorflow is not None:
        spec.on_tensorflow()
    if spec.suffix.startswith(".") and path.suffix != spec.suffix:
        raise ExportError(f"{path}: {format} files end in {spec.suffix}")
    path.parent.mkdir(parents=True, exist_ok=True)
    inputs = sample_inputs(model, seed=seed, batch=CHECK_BATCH)
    # the reference outputs; calling the model (not predict) marks it called, which Keras's ONNX export requires
    keras = import_keras()
    outputs = model(inputs[0] if len(inputs) == 1 else inputs, training=False)
    expected = [keras.ops.convert_to_numpy(output) for output in _as_tensors(outputs)]
    try:
        with stderr_captured(), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            model.export(str(path), format=spec.keras_format, verbose=False)
    except (ValueError, ImportError, NotImplementedError, RuntimeError, TypeError) as error:
        hint = "" if backend == "tensorflow" else "\n  hint: the tensorflow backend exports to every format"
        raise ExportError(f"Keras could not export '{model.name}' as {format} on the {backend} backend: "
                          f"{_first_line(error)}{hint}") from None
    try:
        with stderr_captured():
            got = FORMATS[format].load(path, model)(inputs)
    except Exception as error:  # any failure of the runtime means the artifact is unusable: say which
        raise ExportError(f"{path}: written, but {spec.runtime} cannot run it: {_first_line(error)}") from None
    difference = max_difference(expected, got)
    if not difference <= TOLERANCE:
        raise ExportError(
            f"{path}: written, but its outputs differ from the Keras model's by {difference:.3g} "
            f"(tolerance {TOLERANCE:g}) on {CHECK_BATCH} random inputs; do not use it\n"
            f"  hint: an op is converted differently by {spec.runtime}; try another format or backend"
        )
    return ExportReport(path, format, difference, backend)


def _check_packages(format: str, spec: ExportFormat, backend: str) -> None:
    needed = spec.packages + (spec.tensorflow_packages if backend == "tensorflow" else ())
    missing = [name for name in needed if importlib.util.find_spec(name) is None]
    if missing:
        raise ExportError(f"exporting to {format} needs {', '.join(missing)}, not installed\n"
                          "  hint: pip install 'archspec[export]'")


def _as_tensors(outputs: Any) -> list[Any]:
    if isinstance(outputs, dict):
        outputs = [outputs[key] for key in sorted(outputs)]
    return list(outputs) if isinstance(outputs, list | tuple) else [outputs]


def _as_list(outputs: Any) -> list[np.ndarray]:
    return [np.asarray(output) for output in _as_tensors(outputs)]


def _first_line(error: BaseException) -> str:
    text = str(error).strip()
    return text.splitlines()[0][:300] if text else type(error).__name__
