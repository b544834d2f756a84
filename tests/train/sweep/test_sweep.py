"""archspec sweep: the sweep file, variants, the static check, and whole sweeps on 512 MNIST examples.

The training tests run `archspec sweep` for real (each trial an `archspec fit`
child on the MLP, one epoch on 512 examples) and read the Optuna study and
the run folders afterwards; they are marked slow.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import jsonschema
import pytest
import yaml

optuna = pytest.importorskip("optuna")

from archspec.cli import main  # noqa: E402
from archspec.errors import ArchspecError  # noqa: E402
from archspec.train.sweep_file import SweepError, load_sweep, sweep_schema  # noqa: E402
from archspec.train.sweep_report import pareto_front  # noqa: E402
from archspec.train.sweep_space import check_space, check_variant, grid_points, trial_spec  # noqa: E402
from archspec.train.sweep_study import JOURNAL_FILE  # noqa: E402
from archspec.train.sweep_trial import make_slots, prune_metric  # noqa: E402
from tests.conftest import ROOT  # noqa: E402

MLP = ROOT / "specs" / "mlp_functional.yaml"
UNET = ROOT / "specs" / "mnist_denoise_unet.yaml"


@pytest.fixture(autouse=True)
def _in_repository(monkeypatch):
    """Variant specs extend base specs by relative path, which must stay under the current directory."""
    monkeypatch.chdir(ROOT)


def write_sweep(folder: Path, text: str, name: str = "sweep.yaml") -> Path:
    path = folder / name
    path.write_text(text.replace("MLP", os.path.relpath(MLP, folder)).replace("UNET", os.path.relpath(UNET, folder)))
    return path


MLP_SWEEP = """\
archspec_sweep: 1
name: mlp_width
spec: MLP
objective: {metric: validation.loss}
fit: {epochs: 1, subset: 512, seed: 1}
dimensions:
  width: {set: nodes.hidden.units, values: [WIDTHS]}
"""


def mlp_sweep(folder: Path, widths: str = "8, 16, 32, 64") -> Path:
    return write_sweep(folder, MLP_SWEEP.replace("WIDTHS", widths))


def load_study(out: Path, name: str = "mlp_width") -> optuna.Study:
    storage = optuna.storages.JournalStorage(optuna.storages.journal.JournalFileBackend(str(out / JOURNAL_FILE)))
    return optuna.load_study(study_name=name, storage=storage)


def sweep_command(sweep: Path, out: Path, *extra: str) -> list[str]:
    return [sys.executable, "-m", "archspec.cli", "sweep", str(sweep), "--out", str(out), *extra]


# ---------------------------------------------------------------- the sweep file


def test_skip_study_file_is_a_grid_of_four_kinds_at_three_noise_levels():
    sweep = load_sweep(ROOT / "specs" / "sweeps" / "skip_study.yaml")
    assert sweep.sampler == "grid"
    points = grid_points(sweep)
    assert len(points) == 12
    assert {point["skip"] for point in points} == {"absent", "concat-skip", "add-residual", "gate"}
    assert {point["noise"] for point in points} == {0.3, 0.5, 0.7}


def test_the_lectures_setting_is_the_four_kinds_at_noise_half_for_20_epochs():
    sweep = load_sweep(ROOT / "specs" / "sweeps" / "skip_study_noise05.yaml")
    points = grid_points(sweep)
    assert [point["skip"] for point in points] == ["absent", "concat-skip", "add-residual", "gate"]
    assert {point["noise"] for point in points} == {0.5} and sweep.model.fit.epochs == 20


def test_schema_accepts_the_shipped_sweep_and_rejects_an_unknown_key():
    schema = sweep_schema()
    data = yaml.safe_load((ROOT / "specs" / "sweeps" / "skip_study.yaml").read_text())
    jsonschema.validate(data, schema)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({**data, "objectiv": {}}, schema)


def test_unknown_edge_kind_is_reported_at_its_line(tmp_path):
    path = write_sweep(tmp_path, """\
archspec_sweep: 1
spec: UNET
objective: {metric: validation.loss}
dimensions:
  skip: {edges: [enc2 -> dec2], kinds: [absent, concat-skp]}
""")
    with pytest.raises(SweepError) as caught:
        load_sweep(path)
    assert str(caught.value).startswith(f"{path}:5:")
    assert "unknown edge kind 'concat-skp'" in str(caught.value)


def test_a_dimension_of_no_known_shape_is_reported_at_its_line(tmp_path):
    path = write_sweep(tmp_path, """\
archspec_sweep: 1
spec: MLP
objective: {metric: validation.loss}
dimensions:
  width: {sett: nodes.hidden.units, values: [8]}
""")
    with pytest.raises(SweepError) as caught:
        load_sweep(path)
    assert str(caught.value).startswith(f"{path}:5:10: a dimension needs set+values")


def test_grid_of_a_continuous_range_is_refused(tmp_path):
    path = write_sweep(tmp_path, """\
archspec_sweep: 1
spec: MLP
objective: {metric: validation.loss}
sampler: grid
dimensions:
  lr: {set: train.optimizer.adam.learning_rate, low: 0.0001, high: 0.01, log: true}
""")
    with pytest.raises(SweepError, match="continuous range, which a grid cannot list") as caught:
        load_sweep(path)
    assert str(caught.value).startswith(f"{path}:6:7:")


def test_numeric_range_defaults_to_tpe(tmp_path):
    path = write_sweep(tmp_path, """\
archspec_sweep: 1
spec: MLP
objective: {metric: validation.accuracy, direction: maximize}
dimensions:
  width: {set: nodes.hidden.units, low: 8, high: 64, step: 8}
  lr: {set: train.optimizer.adam.learning_rate, low: 0.0001, high: 0.01, log: true}
""")
    sweep = load_sweep(path)
    assert sweep.sampler == "tpe"
    assert prune_metric(sweep) == "val_accuracy"
    assert sweep.model.dimensions["width"].grid() == [8, 16, 24, 32, 40, 48, 56, 64]


# ---------------------------------------------------------------- variants


def test_edge_kinds_and_absent_make_the_autoencoder_and_the_unet(tmp_path):
    """absent = the autoencoder (739,073), concat-skip = the U-Net (813,377); add and gate keep the AE's count."""
    sweep = load_sweep(ROOT / "specs" / "sweeps" / "skip_study.yaml")
    params = {kind: check_variant(trial_spec(sweep, {"skip": kind, "noise": 0.5}, tmp_path))
              for kind in ("absent", "concat-skip", "add-residual", "gate")}
    assert params == {"absent": 739_073, "concat-skip": 813_377, "add-residual": 739_073, "gate": 739_073}
    gate = trial_spec(sweep, {"skip": "gate", "noise": 0.3}, tmp_path)
    assert gate.overrides == ["train.noise.gaussian=0.3"]
    data = yaml.safe_load(gate.spec.read_text())
    assert data["remove"] == {"edges": ["enc2 -> dec2", "enc1 -> clean"]}
    assert data["edges"] == [{"from": "enc2", "to": "dec2", "kind": "gate"},
                             {"from": "enc1", "to": "clean", "kind": "gate"}]
    absent = yaml.safe_load(trial_spec(sweep, {"skip": "absent", "noise": 0.3}, tmp_path).spec.read_text())
    assert "edges" not in absent


def test_node_choices_replace_the_node(tmp_path):
    """hidden as dense(64) or as dropout: 784*64+64 + 64*10+10 vs 784*10+10 parameters."""
    path = write_sweep(tmp_path, """\
archspec_sweep: 1
spec: MLP
objective: {metric: validation.loss}
dimensions:
  hidden:
    node: hidden
    choices:
      wide: {op: dense, units: 64, activation: relu}
      none: {op: dropout, rate: 0.1}
""")
    sweep = load_sweep(path)
    assert check_variant(trial_spec(sweep, {"hidden": "wide"}, tmp_path)) == 784 * 64 + 64 + 64 * 10 + 10
    assert check_variant(trial_spec(sweep, {"hidden": "none"}, tmp_path)) == 784 * 10 + 10


def test_invalid_variant_fails_before_any_training_with_its_location(tmp_path, capsys):
    """add-residual of flat (784) onto probs' input (32 from hidden) cannot be added: exit 1, nothing trained."""
    path = write_sweep(tmp_path, """\
archspec_sweep: 1
spec: MLP
objective: {metric: validation.loss}
fit: {epochs: 1, subset: 512}
dimensions:
  shortcut: {edges: [flat -> probs], kinds: [absent, add-residual]}
""")
    out = tmp_path / "out"
    with pytest.raises(SystemExit) as exited:
        main(["sweep", str(path), "--out", str(out)])
    assert exited.value.code == 1
    message = capsys.readouterr().err
    variant = next(path for path in (out / "variants").glob("*.yaml") if "kind: add-residual" in path.read_text())
    assert "1 of 2 variants are invalid; nothing was trained" in message
    assert "variant shortcut=add-residual:" in message
    line = next(number for number, text in enumerate(variant.read_text().splitlines(), 1)
                if "kind: add-residual" in text)
    assert f"{variant}:{line}:" in message
    assert "add-residual inputs do not broadcast: the features axis is 32 in 'hidden' but 784 in 'flat'" in message
    assert not (out / "trials").exists() and not (out / JOURNAL_FILE).exists()


def test_check_space_names_a_missing_node(tmp_path):
    path = write_sweep(tmp_path, """\
archspec_sweep: 1
spec: MLP
objective: {metric: validation.loss}
dimensions:
  op: {node: hiden, choices: {a: {op: dense, units: 4}}}
""")
    with pytest.raises(ArchspecError, match=f"{path}:5:14: dimension 'op': the base spec has no node 'hiden'") \
            as caught:
        check_space(load_sweep(path), tmp_path)
    assert "hint: did you mean 'hidden'?" in str(caught.value)


def test_check_space_points_at_the_edge_naming_a_missing_node(tmp_path):
    path = write_sweep(tmp_path, """\
archspec_sweep: 1
spec: MLP
objective: {metric: validation.loss}
dimensions:
  skip: {edges: [flat -> hidden, flat -> probz], kinds: [absent, gate]}
""")
    with pytest.raises(ArchspecError, match=f"{path}:5:34: dimension 'skip': the base spec has no node 'probz'") \
            as caught:
        check_space(load_sweep(path), tmp_path)
    assert "hint: did you mean 'probs'?" in str(caught.value)


def test_pareto_front_keeps_undominated_points():
    points = [(0.5, 100, "a"), (0.4, 200, "b"), (0.45, 300, "c"), (0.3, 400, "d")]
    assert [tag for *_, tag in pareto_front(points, 1.0)] == ["a", "b", "d"]
    assert [tag for *_, tag in pareto_front(points, -1.0)] == ["a"]


def test_slots_share_the_cpus():
    cpus = sorted(os.sched_getaffinity(0))
    slots = make_slots(len(cpus), None)
    assert [slot.cpus for slot in slots] == [(cpu,) for cpu in cpus]
    assert make_slots(1, None)[0].cpus == tuple(cpus)


# ---------------------------------------------------------------- whole sweeps


def finished_run_folders(out: Path) -> list[Path]:
    return sorted(path for path in (out / "trials").iterdir() if (path / "metrics.json").exists())


@pytest.mark.slow
def test_four_trials_on_two_workers_give_four_run_folders_and_a_report(tmp_path):
    out = tmp_path / "out"
    result = subprocess.run(sweep_command(mlp_sweep(tmp_path), out, "--workers", "2"), cwd=ROOT,
                            capture_output=True, text=True, timeout=900)
    assert result.returncode == 0, result.stderr
    folders = finished_run_folders(out)
    assert [folder.name for folder in folders] == ["0000", "0001", "0002", "0003"]
    study = load_study(out)
    trials = study.get_trials()
    assert [trial.state for trial in trials] == [optuna.trial.TrialState.COMPLETE] * 4
    assert sorted(trial.params["width"] for trial in trials) == [8, 16, 32, 64]
    for trial in trials:  # each trial's value is its run folder's metrics.json figure
        metrics = json.loads((Path(trial.user_attrs["run_dir"]) / "metrics.json").read_text())
        assert trial.values[0] == metrics["validation"]["loss"]
        assert metrics["params"] == trial.user_attrs["params"] == 784 * trial.params["width"] + trial.params[
            "width"] + trial.params["width"] * 10 + 10
        assert trial.intermediate_values == {1: metrics["validation"]["loss"]}
    report = (out / "report.md").read_text()
    ranked = sorted(trials, key=lambda trial: trial.values[0])
    rows = [line for line in report.splitlines() if line.startswith("| ") and line[2].isdigit()]
    assert [int(row.split("|")[2]) for row in rows] == [trial.number for trial in ranked]
    assert "## Best variant" in report and "~ hidden: dense(units=32" in report
    for picture in ("pareto.png", "best_curves.png"):
        assert (out / picture).stat().st_size > 1000


@pytest.mark.slow
def test_a_killed_sweep_resumes_with_the_remaining_trials_only(tmp_path):
    out = tmp_path / "out"
    command = sweep_command(mlp_sweep(tmp_path, "8, 16, 32"), out)
    first = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    lines = []
    for line in first.stdout:  # kill it as soon as the second trial has started
        lines.append(line)
        if line.startswith("trial 1 started"):
            break
    first.send_signal(signal.SIGKILL)
    first.wait()
    done_before = finished_run_folders(out)
    assert [folder.name for folder in done_before] == ["0000"], lines
    stamp = (done_before[0] / "metrics.json").stat().st_mtime_ns
    time.sleep(3)  # the killed trial's child dies with its sweep: it writes nothing more
    assert not (out / "trials" / "0001" / "metrics.json").exists()

    second = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=900)
    assert second.returncode == 0, second.stderr
    assert "trial 0 started" not in second.stdout
    assert "again, for lost trial 1" in second.stdout
    assert (done_before[0] / "metrics.json").stat().st_mtime_ns == stamp
    trials = load_study(out).get_trials()
    complete = [trial for trial in trials if trial.state == optuna.trial.TrialState.COMPLETE]
    assert sorted(trial.params["width"] for trial in complete) == [8, 16, 32]
    assert [trial.state for trial in trials if trial.number == 1] == [optuna.trial.TrialState.FAIL]


@pytest.mark.slow
def test_two_sweep_processes_share_one_study_without_duplicates(tmp_path):
    out = tmp_path / "out"
    command = sweep_command(mlp_sweep(tmp_path), out, "--threads", "1")
    processes = [subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
                 for _ in range(2)]
    outputs = [process.communicate(timeout=900) for process in processes]
    assert [process.returncode for process in processes] == [0, 0], outputs
    started = [[line for line in stdout.splitlines() if " started: " in line] for stdout, _ in outputs]
    assert all(started), outputs  # both processes trained
    assert sum(len(lines) for lines in started) == 4
    trials = load_study(out).get_trials()
    assert len(trials) == 4
    assert sorted(trial.params["width"] for trial in trials) == [8, 16, 32, 64]
    assert len(finished_run_folders(out)) == 4


def test_watcher_reports_each_epoch_and_ends_the_child_when_pruned(tmp_path):
    """history.csv rows go to trial.report; a pruner that says stop ends the fit process."""
    from archspec.train.sweep_trial import _watch

    path = write_sweep(tmp_path, MLP_SWEEP.replace("WIDTHS", "8") + "pruning: {pruner: median}\n")
    sweep = load_sweep(path)
    study = optuna.create_study(pruner=optuna.pruners.ThresholdPruner(upper=1.0))
    trial = study.ask()
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    (run_dir / "history.csv").write_text("epoch,loss,val_loss,time_s\n1,2.0,0.5,1.0\n2,1.5,1.5,1.0\n")
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    outcome = _watch(study, trial, sweep, child, run_dir, threading.Event())
    assert child.returncode == -signal.SIGTERM  # ended by the watcher, not by finishing its sleep
    assert outcome.state == optuna.trial.TrialState.PRUNED
    assert outcome.error == "pruned after epoch 2 (val_loss 1.5000)"
    assert study.trials[0].intermediate_values == {1: 0.5, 2: 1.5}


def test_shipped_schema_file_is_up_to_date():
    shipped = json.loads((ROOT / "specs" / "sweeps" / "archspec.sweep.schema.json").read_text())
    assert shipped == sweep_schema(), "regenerate: archspec sweep --schema > specs/sweeps/archspec.sweep.schema.json"


def test_a_lost_trial_resumes_its_run_folder_only_with_epochs_left(tmp_path):
    from archspec.train.sweep_trial import resumable

    run = tmp_path / "run"
    (run / "checkpoints").mkdir(parents=True)
    (run / "config.json").write_text(json.dumps({"epochs": 3}))
    assert resumable(str(run)) is None  # no complete epoch yet: start afresh
    (run / "checkpoints" / "epoch_001.keras").write_bytes(b"")
    (run / "history.csv").write_text("epoch,loss,time_s\n1,0.5,1.0\n")
    assert resumable(str(run)) == run
    (run / "config.json").write_text(json.dumps({"epochs": 1}))
    assert resumable(str(run)) is None  # every epoch done but no metrics: train it again
