"""Run folders that always finish: killed after the last epoch, a damaged checkpoint, a full disk."""

from __future__ import annotations

import errno
import json
import os
import shutil

import pytest

from archspec.errors import RunError
from archspec.train import runs
from tests.conftest import ROOT, needs_mnist
from tests.train.test_train import run_cli

pytestmark = [pytest.mark.slow, needs_mnist]

MLP = ROOT / "specs" / "mlp_sequential.yaml"
SETTINGS = {"epochs": 2, "subset": 512, "seed": 0, "batch_size": 64, "verbose": 0}


class Killed(Exception):
    pass


@pytest.fixture(scope="module")
def killed_after_last_epoch(tmp_path_factory, keras):
    """A seeded 2-epoch run stopped after its last checkpoint and history row, before the final files."""
    from archspec.train.runner import fit_spec

    class KillAtTheEnd(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            if epoch == 1:
                raise Killed

    run_dir = tmp_path_factory.mktemp("killed") / "run"
    with pytest.raises(Killed):
        fit_spec(MLP, out=run_dir, callbacks=[KillAtTheEnd()], **SETTINGS)
    assert runs.completed_checkpoints(run_dir) == [1, 2]
    assert not any((run_dir / name).exists() for name in runs.FINAL_FILES)
    return run_dir


def copy(run_dir, tmp_path):
    return shutil.copytree(run_dir, tmp_path / "run")


def test_resume_finishes_a_run_killed_after_its_last_epoch(killed_after_last_epoch, tmp_path, capsys):
    run_dir = copy(killed_after_last_epoch, tmp_path)
    leftover = run_dir / runs.CHECKPOINT_DIR / f".epoch_002.tmp-{os.getpid() + 1}.keras"
    leftover.write_bytes(b"half a checkpoint")
    history = (run_dir / runs.HISTORY_FILE).read_text()
    code, out, err = run_cli(["fit", "--resume", str(run_dir)], capsys)
    assert code == 0, err
    assert not leftover.exists(), "a killed write's temporary file is cleaned on the next start"
    assert (run_dir / runs.HISTORY_FILE).read_text() == history, "nothing trained again"
    assert all((run_dir / name).is_file() for name in runs.FINAL_FILES)
    metrics = json.loads((run_dir / runs.METRICS_FILE).read_text())
    assert metrics["epochs"] == 2 == runs.read_json(run_dir / runs.CONFIG_FILE)["epochs"]
    assert metrics["train"]["loss"] == pytest.approx(runs.read_history(run_dir / runs.HISTORY_FILE)[1]["loss"])
    code, out, err = run_cli(["evaluate", str(run_dir)], capsys)
    printed = dict(line.split(": ") for line in out.strip().splitlines())
    assert code == 0 and float(printed["loss"]) == pytest.approx(metrics["test"]["loss"], abs=1e-4)
    code, _, err = run_cli(["fit", "--resume", str(run_dir), "--epochs", "1"], capsys)
    assert code == 1
    assert err.strip() == (f"{run_dir}: already has 2 epochs, more than the 1 asked for; "
                           "give --epochs 3 or more to train further")


def test_unfinished_run_is_named_so_by_evaluate_and_compare(killed_after_last_epoch, capsys, tmp_path):
    code, _, err = run_cli(["evaluate", str(killed_after_last_epoch)], capsys)
    assert code == 1
    assert err.splitlines()[0] == f"{killed_after_last_epoch}: no model.keras: the run has not finished"
    code, _, err = run_cli(["compare", str(killed_after_last_epoch), "--out", str(tmp_path)], capsys)
    assert code == 1
    assert err.splitlines() == [
        f"{killed_after_last_epoch}: no metrics.json: the run has not finished",
        f"  hint: finish it with `archspec fit --resume {killed_after_last_epoch}` "
        "(it trains only the missing epochs)",
    ]


def test_a_truncated_newest_checkpoint_falls_back_and_the_seeded_resume_reproduces_the_run(
        killed_after_last_epoch, tmp_path, capsys):
    run_dir = copy(killed_after_last_epoch, tmp_path)
    uninterrupted = runs.read_history(run_dir / runs.HISTORY_FILE)
    newest = runs.checkpoint_path(run_dir, 2)
    newest.write_bytes(newest.read_bytes()[:1000])
    code, _out, err = run_cli(["fit", "--resume", str(run_dir)], capsys)
    assert code == 0, err
    assert err.startswith(f"archspec: {newest} is damaged (")
    assert "resuming from epoch_001.keras" in err
    resumed = runs.read_history(run_dir / runs.HISTORY_FILE)
    assert [row["epoch"] for row in resumed] == [1, 2]
    for key in ("loss", "accuracy", "val_loss", "val_accuracy"):
        assert resumed[1][key] == pytest.approx(uninterrupted[1][key], rel=1e-6), key


@pytest.mark.parametrize(("number", "hint"), [
    (errno.ENOSPC, "the disk is full: free some space"),
    (errno.EACCES, "no permission to write there: give another --out, or make the folder writable"),
])
def test_a_full_disk_or_no_permission_during_a_checkpoint_is_one_message_and_the_run_resumes(
        tmp_path, monkeypatch, capsys, number, hint):
    from archspec.train.runner import fit_spec

    real_replace = os.replace

    def replace(source, target):
        if str(target).endswith("epoch_002.keras"):
            raise OSError(number, os.strerror(number))
        return real_replace(source, target)

    monkeypatch.setattr(runs.os, "replace", replace)
    run_dir = tmp_path / "run"
    with pytest.raises(RunError) as caught:
        fit_spec(MLP, out=run_dir, **SETTINGS)
    checkpoint = runs.checkpoint_path(run_dir, 2)
    assert str(caught.value) == (
        f"{checkpoint}: cannot write ({os.strerror(number)})\n"
        f"  hint: {hint}; the run folder keeps every complete epoch, "
        f"so continue with `archspec fit --resume {run_dir}`"
    )
    assert not list(run_dir.rglob(".*tmp*"))
    monkeypatch.setattr(runs.os, "replace", real_replace)
    code, _out, err = run_cli(["fit", "--resume", str(run_dir)], capsys)
    assert code == 0, err
    assert json.loads((run_dir / runs.METRICS_FILE).read_text())["epochs"] == 2


@pytest.mark.parametrize(("number", "hint"), [
    (errno.EROFS, "the file system is read-only: give an --out on a writable disk"),
    (errno.EACCES, "no permission to write there: give another --out, or make the folder writable"),
])
def test_a_read_only_or_forbidden_output_location_is_one_message(tmp_path, monkeypatch, capsys, number, hint):
    from pathlib import Path

    real_mkdir = Path.mkdir

    def mkdir(self, *args, **kwargs):
        if self.name == "run":
            raise OSError(number, os.strerror(number))
        return real_mkdir(self, *args, **kwargs)

    monkeypatch.setattr(Path, "mkdir", mkdir)
    out = tmp_path / "run"
    code, _out, err = run_cli(["fit", str(MLP), "--subset", "256", "--epochs", "1", "--out", str(out)], capsys)
    assert code == 1
    assert err.strip().splitlines() == [f"{out}: cannot write ({os.strerror(number)})", f"  hint: {hint}"]


def test_an_output_path_too_long_is_one_message(tmp_path, capsys):
    out = tmp_path / ("x" * 300)  # a real ENAMETOOLONG: no file system takes a 300-byte name
    code, _out, err = run_cli(["fit", str(MLP), "--subset", "256", "--epochs", "1", "--out", str(out)], capsys)
    assert code == 1
    assert err.strip().splitlines() == [
        f"{out}: cannot write (File name too long)",
        "  hint: the path is too long: give a shorter --out (or a shorter spec name)",
    ]


def test_no_permission_for_the_tensorboard_folder_is_one_message(tmp_path, monkeypatch):
    from pathlib import Path

    from archspec.train.runner import fit_spec

    real_mkdir = Path.mkdir

    def mkdir(self, *args, **kwargs):
        if self.name == "tensorboard":
            raise OSError(errno.EACCES, "Permission denied")
        return real_mkdir(self, *args, **kwargs)

    monkeypatch.setattr(Path, "mkdir", mkdir)
    run_dir = tmp_path / "run"
    with pytest.raises(RunError) as caught:
        fit_spec(MLP, out=run_dir, **SETTINGS)
    assert str(caught.value) == (
        f"{run_dir / 'tensorboard'}: cannot write (Permission denied)\n"
        "  hint: no permission to write there: give another --out, or make the folder writable; the run folder "
        f"keeps every complete epoch, so continue with `archspec fit --resume {run_dir}`"
    )


def test_an_os_error_that_tensorflow_reports_as_text_is_one_message(tmp_path):
    import tensorflow as tf

    from archspec.train.tensorboard import writing

    folder = tmp_path / ("y" * 300)
    with pytest.raises(RunError) as caught, writing(folder):
        tf.summary.create_file_writer(str(folder))  # TensorFlow's own error: InvalidArgumentError, "File name too long"
    assert str(caught.value) == (f"{folder}: cannot write (File name too long)\n"
                                 "  hint: the path is too long: give a shorter --out (or a shorter spec name)")
    with pytest.raises(tf.errors.InvalidArgumentError), writing(folder):  # not an OS error: unchanged
        raise tf.errors.InvalidArgumentError(None, None, "a wrong shape")


def test_an_older_config_json_still_reads(tmp_path):
    from archspec.train.config import DEFAULT_WORKER_TIMEOUT_S, RunConfig

    older = {"dataset": "mnist", "task": "denoise", "noise": ["gaussian", 0.5], "loss": "binary_crossentropy",
             "optimizer": "adam", "metrics": [], "batch_size": 64, "epochs": 3, "validation_split": 0.1,
             "seed": 7, "spec": "ae", "spec_file": "specs/ae.yaml", "subset": None, "data_dir": None,
             "strategy": "default", "versions": {}, "steps_per_execution": 8, "jit_compile": "auto",
             "replicas": 1, "some_future_key": 1}
    config = RunConfig.from_json(older, tmp_path / "config.json")
    assert config.noise == ("gaussian", 0.5) and config.metrics == () and config.epochs == 3
    assert config.data_seed == 7 and config.worker_timeout_s == DEFAULT_WORKER_TIMEOUT_S
    assert RunConfig.from_json(json.loads(json.dumps(config.to_json())), tmp_path) == config
    with pytest.raises(RunError, match=r"not a config\.json of `archspec fit`"):
        RunConfig.from_json({"epochs": 3}, tmp_path / "config.json")


DROPOUT_SPEC = """\
archspec: 1
name: mlp_dropout
inputs:
  image: {shape: [28, 28]}
nodes:
  flat: {op: flatten}
  hidden: {op: dense, units: 32, activation: relu}
  drop: {op: dropout, rate: 0.5}
  probs: {op: dense, units: 10, activation: softmax}
edges:
  - image -> flat -> hidden -> drop -> probs
outputs: [probs]
train: {dataset: mnist, task: classify, metrics: [accuracy]}
"""


def test_a_seeded_resume_of_a_model_with_dropout_reproduces_the_uninterrupted_run(write_spec, tmp_path, keras):
    """Dropout draws from its layer's seed generator, whose state is not in a .keras file: the
    checkpoint's epoch_NNN.rng.json carries it, so epoch 2 after a resume drops the same units."""
    from archspec.train.resume import resume_run
    from archspec.train.runner import fit_spec

    class KillAfterTheFirstEpoch(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            raise Killed

    spec = write_spec(DROPOUT_SPEC)
    whole = fit_spec(spec, out=tmp_path / "whole", **SETTINGS)
    with pytest.raises(Killed):
        fit_spec(spec, out=tmp_path / "resumed", callbacks=[KillAfterTheFirstEpoch()], **SETTINGS)
    assert runs.completed_checkpoints(tmp_path / "resumed") == [1]
    resumed = resume_run(tmp_path / "resumed", verbose=0)
    uninterrupted = runs.read_history(whole / runs.HISTORY_FILE)
    again = runs.read_history(resumed / runs.HISTORY_FILE)
    assert uninterrupted[0]["loss"] == again[0]["loss"]  # the same first epoch, before the kill
    for key in ("loss", "accuracy", "val_loss", "val_accuracy"):
        assert again[1][key] == pytest.approx(uninterrupted[1][key], rel=1e-6), key
    assert runs.read_json(resumed / runs.METRICS_FILE)["test"] == pytest.approx(
        runs.read_json(whole / runs.METRICS_FILE)["test"], rel=1e-6)
