"""`archspec fit`, `evaluate` and `compare`: run folders, resume, NaN, bad data, two devices."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from archspec.cli import main
from archspec.spec.frontend import load_spec
from archspec.train import runs
from archspec.train.plots import DPI, PANEL_SIZE, SAMPLE_CELL, SAMPLE_COLUMNS
from archspec.train.tasks import get_task
from tests.conftest import ROOT, SHARED_MNIST, SPECS, needs_mnist

pytestmark = [pytest.mark.slow, needs_mnist]

MNIST_SPECS = [  # the specs that train on MNIST: those of tasks on data of one's own (docs/data.md) need --data
    path for path in SPECS if (train := load_spec(path).train) is not None and train.dataset == "mnist"
    and train.data is None and not get_task(train.task).needs_own_data
]
SUBSET = 512


def run_cli(args: list[str], capsys) -> tuple[int, str, str]:
    """Run the console entry point in-process: (exit code, stdout, stderr)."""
    try:
        main(args)
        code = 0
    except SystemExit as exit_:
        code = exit_.code or 0
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def python(script: str, *, env: dict | None = None, timeout: int = 120) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(script)], cwd=ROOT, capture_output=True, text=True,
        timeout=timeout, env={**os.environ, "PYTHONPATH": str(ROOT), **(env or {})},
    )


@pytest.fixture(scope="module")
def trained(tmp_path_factory, keras):
    """Each MNIST spec of specs/ trained for one epoch on SUBSET examples (shared by the checks)."""
    from archspec.train.runner import fit_spec

    root = tmp_path_factory.mktemp("runs")
    return {
        path.stem: fit_spec(path, runs_root=root, epochs=1, subset=SUBSET, seed=0, verbose=0)
        for path in MNIST_SPECS
    }


def losses_before_and_after(run_dir: Path, keras) -> tuple[float, float]:
    """The loss of the initial weights (same seed) and of the trained model, on the run's own
    training examples, both in training mode (batch statistics for batch norm, whose moving
    averages have hardly moved after a few steps)."""
    from archspec.train import runner as train

    config = train.read_config(run_dir)
    keras.utils.set_random_seed(config.seed)
    initial = train.compile_model(load_spec(run_dir / runs.SPEC_FILE))
    trained = keras.saving.load_model(run_dir / runs.MODEL_FILE, safe_mode=True)
    data = train.load_run_data(config, initial.inputs[0].shape[1:], initial.outputs[0].shape[1:])
    loss = keras.losses.get(config.loss)
    x, y = data.x_train, data.y_train
    if data.noise is not None:
        from archspec.train.data import add_noise_numpy

        x = add_noise_numpy(x, data.noise, seed=0)
    return tuple(
        float(keras.ops.mean(loss(y, model(x, training=True)))) for model in (initial, trained)
    )


def png_size(path: Path) -> tuple[int, int]:
    with Image.open(path) as image:
        image.verify()
        assert image.format == "PNG"
        return image.size


@pytest.mark.parametrize("name", [path.stem for path in MNIST_SPECS])
def test_one_epoch_fills_the_run_folder(trained, name, keras):
    run_dir = trained[name]
    assert run_dir.name.startswith(f"{name}-")
    spec = load_spec(ROOT / "specs" / f"{name}.yaml")
    as_run = load_spec(run_dir / runs.SPEC_FILE)  # self-contained: no base spec beside it
    assert "extends" not in as_run.document.data
    assert [(e.source, e.target, e.kind) for e in as_run.edges] == [
        (e.source, e.target, e.kind) for e in spec.edges]
    assert {n: (v.op, v.params) for n, v in as_run.nodes.items()} == {
        n: (v.op, v.params) for n, v in spec.nodes.items()}
    config = runs.read_json(run_dir / runs.CONFIG_FILE)
    assert config["epochs"] == 1 and config["subset"] == SUBSET and config["seed"] == 0
    assert config["task"] == spec.train.task and config["batch_size"] == spec.train.batch_size

    history = runs.read_history(run_dir / runs.HISTORY_FILE)
    assert [row["epoch"] for row in history] == [1]
    metrics = json.loads((run_dir / runs.METRICS_FILE).read_text())
    assert metrics["epochs"] == 1
    assert metrics["train"]["loss"] == pytest.approx(history[0]["loss"])
    assert metrics["validation"]["loss"] == pytest.approx(history[0]["val_loss"])
    assert metrics["train_samples"] == SUBSET - round(SUBSET * 0.1)
    assert metrics["samples_per_s"] == pytest.approx(
        metrics["train_samples"] / history[0]["time_s"], rel=0.01
    )
    assert math.isfinite(metrics["test"]["loss"])
    if spec.train.task == "classify":
        assert 0.0 <= metrics["test"]["accuracy"] <= 1.0
    else:
        assert 5.0 < metrics["test"]["psnr"] < 40.0

    model = keras.saving.load_model(run_dir / runs.MODEL_FILE, safe_mode=True)
    assert model.count_params() == metrics["params"]
    checkpoint = keras.saving.load_model(runs.checkpoint_path(run_dir, 1), safe_mode=True)
    for saved, final in zip(checkpoint.get_weights(), model.get_weights()):
        np.testing.assert_array_equal(saved, final)

    before, after = losses_before_and_after(run_dir, keras)
    assert after < before, "the loss went down"

    panels = 1 + len(config["metrics"])
    assert png_size(run_dir / runs.CURVES_FILE) == (
        round(PANEL_SIZE[0] * DPI * panels), round(PANEL_SIZE[1] * DPI)
    )
    rows, top = (1, 0.3) if spec.train.task == "classify" else (3, 0.1)
    assert png_size(run_dir / runs.SAMPLES_FILE) == (
        round(SAMPLE_CELL * SAMPLE_COLUMNS * DPI), round((SAMPLE_CELL * rows + top) * DPI)
    )
    assert not list(run_dir.rglob(".*tmp*")), "no temporary files left behind"


def test_evaluate_reproduces_the_test_figures(trained, capsys):
    run_dir = trained["mnist_denoise_unet"]
    code, out, err = run_cli(["evaluate", str(run_dir)], capsys)
    assert code == 0, err
    metrics = json.loads((run_dir / runs.METRICS_FILE).read_text())
    printed = dict(line.split(": ") for line in out.strip().splitlines())
    assert set(printed) == {"loss", "psnr"}
    assert float(printed["loss"]) == pytest.approx(metrics["test"]["loss"], abs=1e-4)
    assert float(printed["psnr"]) == pytest.approx(metrics["test"]["psnr"], abs=1e-3)


def test_compare_prints_a_table_and_writes_two_images(trained, tmp_path, capsys):
    first, second = trained["mnist_denoise_ae"], trained["mnist_denoise_unet"]
    code, out, err = run_cli(["compare", str(first), str(second), "--out", str(tmp_path)], capsys)
    assert code == 0, err
    header, row1, row2, _wrote = out.strip().splitlines()
    assert header.split() == [
        "run", "spec", "params", "epochs", "train", "loss", "validation", "loss", "test", "loss",
        "test", "psnr", "time", "s", "samples/s",
    ]
    assert row1.split()[:4] == [first.name, "mnist_denoise_ae", "739,073", "1"]
    assert row2.split()[:4] == [second.name, "mnist_denoise_unet", "813,377", "1"]
    assert png_size(tmp_path / "compare_curves.png") == (500, 400)
    width, height = png_size(tmp_path / "compare_samples.png")
    assert (width, height) == (2 * 1000, 310 + 30)


def test_compare_runs_star_works_again_with_its_own_output_among_the_runs(trained, capsys):
    root = next(iter(trained.values())).parent
    (root / "sweeps").mkdir(exist_ok=True)
    for _ in range(2):  # the second time `root/*` also matches the comparison folder written the first time
        folders = sorted(path for path in root.iterdir() if path.is_dir())
        code, out, err = run_cli(["compare", *map(str, folders), "--out", str(root / "compare")], capsys)
        assert code == 0, err
        assert len(out.strip().splitlines()) == 1 + len(trained) + 1
    assert err == (f"left out {root / 'compare'}: archspec's own output, not a run\n"
                   f"left out {root / 'sweeps'}: archspec's own output, not a run\n")


def test_an_existing_out_folder_is_never_overwritten(tmp_path, capsys):
    (tmp_path / "taken").mkdir()
    (tmp_path / "taken" / "keep.txt").write_text("earlier run")
    code, _out, err = run_cli(
        ["fit", str(ROOT / "specs" / "mlp_sequential.yaml"), "--out", str(tmp_path / "taken")], capsys
    )
    assert code == 1
    assert err.strip() == (
        f"{tmp_path / 'taken'}: already exists; a run never overwrites an earlier one: choose another --out, "
        f"or remove it (`rm -r {tmp_path / 'taken'}`) to start again"
    )
    assert (tmp_path / "taken" / "keep.txt").read_text() == "earlier run"


def test_corrupt_data_is_a_clear_error(tmp_path, capsys):
    data = tmp_path / "data"
    data.mkdir()
    for source in SHARED_MNIST.glob("*.gz"):
        (data / source.name).write_bytes(source.read_bytes())
    labels = data / "t10k-labels-idx1-ubyte.gz"
    labels.write_bytes(labels.read_bytes()[:100])
    code, _out, err = run_cli(
        ["fit", str(ROOT / "specs" / "mlp_sequential.yaml"), "--data-dir", str(data),
         "--out", str(tmp_path / "run")],
        capsys,
    )
    assert code == 1
    assert err.strip().startswith(f"{labels}: corrupt gzip data")
    assert "Traceback" not in err


KILL_MID_EPOCH = """
    import os, sys
    import keras
    from archspec.train.runner import fit_spec

    class Kill(keras.callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            if self.epoch == 1 and batch >= 1:   # in the middle of the second epoch
                os._exit(3)
        def on_epoch_begin(self, epoch, logs=None):
            self.epoch = epoch

    fit_spec("specs/mlp_sequential.yaml", out=sys.argv[1], epochs=3, subset=2048, seed=0,
             batch_size=64, verbose=0, callbacks=[Kill()])
"""


def test_resume_after_a_kill_mid_epoch(tmp_path, capsys, keras):
    run_dir = tmp_path / "run"
    script = KILL_MID_EPOCH.replace("sys.argv[1]", repr(str(run_dir)))
    killed = python(script)
    assert killed.returncode == 3, killed.stderr
    assert runs.completed_checkpoints(run_dir) == [1]
    assert [row["epoch"] for row in runs.read_history(run_dir / runs.HISTORY_FILE)] == [1]
    assert not (run_dir / runs.MODEL_FILE).exists()
    header = (run_dir / runs.HISTORY_FILE).read_text().splitlines()[0]

    code, _out, err = run_cli(["fit", "--resume", str(run_dir)], capsys)
    assert code == 0, err
    history = runs.read_history(run_dir / runs.HISTORY_FILE)
    assert [row["epoch"] for row in history] == [1, 2, 3]
    assert (run_dir / runs.HISTORY_FILE).read_text().splitlines()[0] == header
    assert runs.completed_checkpoints(run_dir) == [1, 2, 3]
    assert json.loads((run_dir / runs.METRICS_FILE).read_text())["epochs"] == 3
    steps = math.ceil((2048 - round(2048 * 0.1)) / 64)
    resumed = keras.saving.load_model(runs.checkpoint_path(run_dir, 3), safe_mode=True)
    assert int(resumed.optimizer.iterations.numpy()) == 3 * steps, "optimizer state carried over"


def test_resume_of_a_finished_run_asks_for_more_epochs(trained, capsys):
    run_dir = trained["mlp_sequential"]
    code, _out, err = run_cli(["fit", "--resume", str(run_dir)], capsys)
    assert code == 1
    assert err.strip() == (
        f"{run_dir}: already has 1 of 1 epochs; give a larger --epochs to train further"
    )


def test_nan_loss_stops_with_a_clear_error_and_keeps_the_good_checkpoint(tmp_path, keras):
    from archspec.errors import RunError
    from archspec.train.runner import fit_spec

    class Poison(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            if epoch == 1:
                kernel = self.model.get_layer("probs").kernel
                kernel.assign(np.full(kernel.shape, np.nan, dtype="float32"))

    run_dir = tmp_path / "run"
    with pytest.raises(RunError) as caught:
        fit_spec(ROOT / "specs" / "mlp_sequential.yaml", out=run_dir, epochs=3, subset=1024,
                 seed=0, verbose=0, callbacks=[Poison()])
    assert str(caught.value) == (
        # 8 steps an epoch, each its own graph call (at least 16 calls an epoch where it has 16 steps)
        f"{run_dir}: the loss became NaN in epoch 2 (noticed after batch 1; optimizer adam); "
        f"the last good checkpoint is {runs.checkpoint_path(run_dir, 1)}\n"
        "  hint: lower the learning rate, or check the data and the loss for the task"
    )
    assert runs.completed_checkpoints(run_dir) == [1]
    assert [row["epoch"] for row in runs.read_history(run_dir / runs.HISTORY_FILE)] == [1]
    assert not (run_dir / runs.MODEL_FILE).exists()
    good = keras.saving.load_model(runs.checkpoint_path(run_dir, 1), safe_mode=True)
    assert all(np.isfinite(weight).all() for weight in good.get_weights())


def test_a_huge_learning_rate_ends_in_the_nan_message(tmp_path, capsys):
    spec = (ROOT / "specs" / "mlp_sequential.yaml").read_text().replace(
        "  batch_size: 128", "  optimizer: {sgd: {learning_rate: 1.0e+12}}\n  batch_size: 128"
    )
    path = tmp_path / "diverge.yaml"
    path.write_text(spec)
    code, _out, err = run_cli(
        ["fit", str(path), "--subset", "1024", "--epochs", "2", "--out", str(tmp_path / "run")], capsys
    )
    assert code == 1
    assert "the loss became NaN in epoch 1" in err
    assert "no epoch finished before it, so there is no checkpoint" in err
    assert "Traceback" not in err


def test_mirrored_strategy_on_two_logical_cpus(tmp_path):
    result = python(
        f"""
        import tensorflow as tf
        cpu = tf.config.list_physical_devices("CPU")[0]
        tf.config.set_logical_device_configuration(
            cpu, [tf.config.LogicalDeviceConfiguration(), tf.config.LogicalDeviceConfiguration()])
        from archspec.train.runner import fit_spec
        fit_spec("specs/mlp_sequential.yaml", out={str(tmp_path / 'run')!r}, epochs=1,
                 subset=1024, strategy="mirrored", seed=0, verbose=0)
        """
    )
    assert result.returncode == 0, result.stderr[-3000:]
    config = runs.read_json(tmp_path / "run" / runs.CONFIG_FILE)
    assert config["strategy"] == "mirrored" and config["replicas"] == 2
    metrics = runs.read_json(tmp_path / "run" / runs.METRICS_FILE)
    assert metrics["epochs"] == 1 and math.isfinite(metrics["test"]["loss"])


def test_same_seed_same_history(tmp_path, keras):
    from archspec.train.runner import fit_spec

    losses = []
    for name in ("a", "b"):
        run_dir = fit_spec(ROOT / "specs" / "mnist_denoise_ae.yaml", out=tmp_path / name, epochs=1,
                           subset=256, seed=3, verbose=0)
        losses.append(runs.read_history(run_dir / runs.HISTORY_FILE)[0]["loss"])
    assert losses[0] == losses[1]


def test_fit_applies_set_overrides_and_records_the_resolved_spec(tmp_path, capsys):
    spec = ROOT / "specs" / "mlp_sequential.yaml"
    out = tmp_path / "run"
    code, _, err = run_cli(["fit", str(spec), "--subset", "256", "--out", str(out),
                            "--set", "nodes.hidden.units=8", "--set", "train.batch_size=32"], capsys)
    assert code == 0, err
    assert runs.read_json(out / runs.CONFIG_FILE)["batch_size"] == 32
    as_run = load_spec(out / runs.SPEC_FILE)
    assert as_run.nodes["hidden"].params.units == 8 and as_run.train.batch_size == 32


def test_resume_refuses_set_overrides(trained, capsys):
    code, _, err = run_cli(["fit", "--resume", str(trained["mlp_sequential"]),
                            "--set", "train.epochs=3"], capsys)
    assert code == 2
    assert "a resumed run keeps the spec and settings of its config.json, so --set would be ignored" in err
