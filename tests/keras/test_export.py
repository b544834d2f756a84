"""`archspec export`: each format round-trips real models, checked here by loading the artifact independently."""

from __future__ import annotations

import numpy as np
import pytest

from archspec.cli import main
from archspec.keras.compiler import compile_model
from archspec.keras.equivalence import TOLERANCE, sample_inputs
from archspec.keras.export import FORMATS, ExportError, default_path, export_model
from tests.conftest import ROOT

pytestmark = [
    pytest.mark.export,
    pytest.mark.filterwarnings("ignore:.*tf.lite.Interpreter is deprecated:UserWarning"),
]

SPECS = {name: ROOT / "specs" / f"{name}.yaml" for name in ("mnist_denoise_unet", "mnist_transformer")}


def run_artifact(format: str, path, model, inputs):
    """The artifact's outputs, computed by its own runtime, not through archspec.keras.export."""
    import tensorflow as tf

    if format == "onnx":
        import onnxruntime

        session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
        return session.run(None, {session.get_inputs()[0].name: inputs})[0]
    if format == "savedmodel":
        loaded = tf.saved_model.load(str(path))  # kept alive while serve runs: it owns the variables
        return loaded.serve(inputs).numpy()
    interpreter = tf.lite.Interpreter(model_path=str(path))
    runner = interpreter.get_signature_runner()
    (output,) = runner(**{model.inputs[0].name: inputs}).values()
    return output


@pytest.fixture(scope="module")
def models(keras):
    keras.utils.set_random_seed(1)
    return {name: compile_model(path) for name, path in SPECS.items()}


@pytest.mark.parametrize("format", list(FORMATS))
@pytest.mark.parametrize("name", list(SPECS))
def test_each_format_round_trips_within_1e_4(models, name, format, tmp_path):
    model = models[name]
    target = default_path(tmp_path / f"{name}.yaml", format)
    report = export_model(model, target, format)
    assert report.path == target and report.max_difference <= TOLERANCE == 1e-4
    inputs = sample_inputs(model, seed=7, batch=3)[0]  # other inputs than the export's own check used
    expected = model.predict(inputs, verbose=0)
    got = run_artifact(format, target, model, inputs)
    assert got.shape == expected.shape
    np.testing.assert_allclose(got, expected, atol=TOLERANCE, rtol=0)


def test_an_artifact_that_computes_something_else_is_refused(models, tmp_path, monkeypatch):
    import dataclasses

    real = FORMATS["onnx"]

    def off_by_a_little(path, model):
        run = real.load(path, model)
        return lambda inputs: [output + 1e-3 for output in run(inputs)]

    monkeypatch.setitem(FORMATS, "onnx", dataclasses.replace(real, load=off_by_a_little))
    with pytest.raises(ExportError) as error:
        export_model(models["mnist_transformer"], tmp_path / "t.onnx", "onnx")
    assert str(error.value).startswith(f"{tmp_path / 't.onnx'}: written, but its outputs differ from the "
                                       "Keras model's by 0.001 (tolerance 0.0001)")


def test_default_paths():
    assert default_path(ROOT / "specs" / "a.yaml", "onnx") == ROOT / "specs" / "a.onnx"
    assert default_path(ROOT / "specs" / "a.yaml", "litert") == ROOT / "specs" / "a.tflite"
    assert default_path(ROOT / "specs" / "a.yaml", "savedmodel") == ROOT / "specs" / "a_savedmodel"
    assert default_path(ROOT / "specs", "onnx") == ROOT / "specs" / "model.onnx"


def test_cli_exports_a_run_folder_and_reports_the_check(models, tmp_path, capsys):
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    models["mnist_transformer"].save(run_dir / "model.keras")
    with pytest.raises(SystemExit) as exit_info:
        main(["export", str(run_dir), "--format", "onnx"])
    out, err = capsys.readouterr()
    assert exit_info.value.code in (0, None), err
    assert out.startswith(f"wrote {run_dir / 'model.onnx'} (onnx, tensorflow backend); "
                          "outputs match the Keras model within ")
    assert (run_dir / "model.onnx").is_file()


@pytest.mark.parametrize(("args", "message"), [
    (["--format", "pdf"], "Invalid value for --format: use one of savedmodel, onnx, litert; got 'pdf'"),
    (["--format", "onnx", "-o", "x.tflite"], "x.tflite: onnx files end in .onnx"),
])
def test_cli_refuses_a_wrong_format_or_suffix(args, message, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SystemExit) as exit_info:
        main(["export", str(SPECS["mnist_transformer"]), *args])
    _, err = capsys.readouterr()
    assert exit_info.value.code in (1, 2)
    assert message in err
    assert "Traceback" not in err


def test_a_run_folder_without_a_model_is_one_message(tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["export", str(tmp_path), "--format", "onnx"])
    _, err = capsys.readouterr()
    assert exit_info.value.code == 1
    assert err == f"{tmp_path}: no model.keras; is it a finished run folder of `archspec fit`?\n"
