"""Sweep settings checked before anything trains: grids counted, steps, objectives, storage URLs, failures.

No test here trains: every refusal comes from the sweep file, the base spec
or the storage, and the one study that "fails" every trial has its trials
failed by a stand-in for the trial runner.
"""

from __future__ import annotations

import os
import tracemalloc
from pathlib import Path

import pytest

optuna = pytest.importorskip("optuna")

from archspec.train import sweep as sweep_module  # noqa: E402
from archspec.train.sweep_file import SweepError, load_sweep  # noqa: E402
from archspec.train.sweep_space import check_space  # noqa: E402
from archspec.train.sweep_trial import Outcome, failure_text  # noqa: E402
from tests.conftest import ROOT  # noqa: E402
from tests.train.test_train import run_cli  # noqa: E402

MLP = ROOT / "specs" / "mlp_functional.yaml"
UNET = ROOT / "specs" / "mnist_denoise_unet.yaml"


@pytest.fixture(autouse=True)
def _in_repository(monkeypatch):
    monkeypatch.chdir(ROOT)


def write_sweep(folder: Path, dimensions: str, objective: str = "validation.loss", spec: Path = MLP,
                pruning: str | None = None) -> Path:
    path = folder / "sweep.yaml"
    path.write_text(f"""\
archspec_sweep: 1
name: settings
spec: {os.path.relpath(spec, folder)}
objective: {{metric: {objective}}}
fit: {{epochs: 1, subset: 64}}
dimensions:
{dimensions}{f"pruning: {pruning}" if pruning else ""}""")
    return path


def refusal(path: Path) -> str:
    with pytest.raises(SweepError) as caught:
        load_sweep(path)
    return str(caught.value)


def test_a_grid_of_a_trillion_points_is_counted_not_built(tmp_path):
    path = write_sweep(tmp_path, "  width: {set: nodes.hidden.units, low: 1, high: 1000000000000, step: 1}\n")
    tracemalloc.start()
    message = refusal(path)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert peak < 20_000_000, "the grid was listed"
    assert message == (
        f"{path}:6:1: the grid has 1,000,000,000,000 points, more than a grid sweep runs\n"
        "  expected: at most 10,000 points\n"
        "  got:      width 1,000,000,000,000\n"
        "  hint: use fewer values or a larger step, or sampler: tpe or random "
        "(which samples the space instead of listing it)")


def test_three_dimensions_of_100_values_are_refused_and_a_tiny_float_step_too(tmp_path):
    path = write_sweep(tmp_path, "".join(f"  {name}: {{set: {where}, low: 1, high: 100}}\n" for name, where in
                                         [("a", "nodes.hidden.units"), ("b", "train.seed"),
                                          ("c", "train.batch_size")]))
    assert "got:      a 100 x b 100 x c 100" in refusal(path)
    path = write_sweep(tmp_path, "  noise: {set: train.noise.gaussian, low: 0.1, high: 0.5, step: 1e-300}\n")
    assert refusal(path).splitlines()[0] == f"{path}:6:1: the grid has about 10^299 points, more than a grid sweep runs"


def test_a_sampled_sweep_over_a_huge_grid_is_checked_trial_by_trial_without_listing_it(tmp_path):
    path = write_sweep(tmp_path, "  width: {set: nodes.hidden.units, low: 1, high: 1000000000000, step: 1}\n"
                       "sampler: random\ntrials: 2\n")
    assert check_space(load_sweep(path), tmp_path) == 0


@pytest.mark.parametrize(("step", "column"), [("0", 60), ("-1", 60), ("0.0", 60)])
def test_a_step_of_zero_or_below_is_refused_at_the_step(tmp_path, step, column):
    path = write_sweep(tmp_path, f"  width: {{set: nodes.hidden.units, low: 8, high: 64, step: {step}}}\n")
    assert refusal(path) == (f"{path}:7:{column}: step must be above 0, got {step} (a range goes from low up to high)\n"
                             f"  got:      {step}")


def test_an_integer_grid_stops_at_high(tmp_path):
    path = write_sweep(tmp_path, "  width: {set: nodes.hidden.units, low: 8, high: 20, step: 8}\n")
    assert load_sweep(path).model.dimensions["width"].grid() == [8, 16]
    path = write_sweep(tmp_path, "  noise: {set: train.noise.gaussian, low: 0.0, high: 1.0, step: 0.6}\n")
    assert load_sweep(path).model.dimensions["noise"].grid() == [0.0, 0.6]


def test_an_infinite_bound_is_refused(tmp_path):
    path = write_sweep(tmp_path, "  noise: {set: train.noise.gaussian, low: 0, high: .inf}\n")
    assert refusal(path).splitlines()[0] == f"{path}:7:52: high must be a finite number, got inf"


def test_a_misspelt_objective_is_found_before_any_trial(tmp_path, capsys):
    path = write_sweep(tmp_path, "  width: {set: nodes.hidden.units, values: [8, 16]}\n", objective="validation.los")
    code, _out, err = run_cli(["sweep", str(path), "--out", str(tmp_path / "out")], capsys)
    assert code == 1
    assert err.splitlines()[0] == f"{path}:4:21: metrics.json of a trial will have no figure 'validation.los'"
    assert "  hint: did you mean 'validation.loss' or 'validation.accuracy'?" in err
    assert not (tmp_path / "out" / "trials").exists()


def test_the_objectives_follow_the_task_of_the_base_spec(tmp_path):
    psnr = write_sweep(tmp_path, "  noise: {set: train.noise.gaussian, values: [0.3]}\n", "test.psnr", UNET)
    check_space(load_sweep(psnr), tmp_path)  # a denoiser reports PSNR
    accuracy = write_sweep(tmp_path, "  noise: {set: train.noise.gaussian, values: [0.3]}\n", "test.accuracy", UNET)
    with pytest.raises(SweepError, match=r"no figure 'test\.accuracy'"):
        check_space(load_sweep(accuracy), tmp_path)


WIDTH = "  width: {set: nodes.hidden.units, values: [8, 16]}\n"


def test_a_misspelt_pruning_metric_is_found_at_its_line_before_any_trial(tmp_path, capsys):
    path = write_sweep(tmp_path, WIDTH, pruning="{pruner: median, metric: val_acuracy}")
    code, _out, err = run_cli(["sweep", str(path), "--out", str(tmp_path / "out")], capsys)
    assert code == 1
    assert err.splitlines()[0] == (f"{path}:8:35: pruning.metric 'val_acuracy': no trial's history.csv will have "
                                   "that column, so the pruner never prunes")
    assert "  expected: one of accuracy, loss, val_accuracy, val_loss" in err
    assert "  hint: did you mean 'val_accuracy' or 'accuracy'?" in err
    assert not (tmp_path / "out" / "trials").exists()


def test_a_pruning_metric_that_improves_the_other_way_than_the_objective_is_refused(tmp_path):
    path = write_sweep(tmp_path, WIDTH, pruning="{pruner: hyperband, metric: val_accuracy}")
    with pytest.raises(SweepError) as caught:
        check_space(load_sweep(path), tmp_path)
    assert str(caught.value).splitlines()[:3] == [
        f"{path}:8:38: pruning watches 'val_accuracy', which is better when it is maximized, but the objective is "
        "to minimize validation.loss", "  expected: a column that is better when minimized",
        "  got:      'val_accuracy' (maximize)"]


def test_pruning_an_objective_that_history_does_not_record_is_refused_at_the_pruner(tmp_path):
    noise = "  noise: {set: train.noise.gaussian, values: [0.3]}\n"
    path = write_sweep(tmp_path, noise, "test.psnr", UNET, pruning="{pruner: median}")
    with pytest.raises(SweepError) as caught:
        check_space(load_sweep(path), tmp_path)
    assert str(caught.value).splitlines()[0] == (
        f"{path}:8:19: the objective 'test.psnr' (pruning watches its column 'val_psnr'): no trial's "
        "history.csv will have that column, so the pruner never prunes")
    assert "hint: set pruning.metric to a column of history.csv (val_loss, val_accuracy, ...)" in str(caught.value)


@pytest.mark.parametrize("pruning", ["{pruner: median}", "{pruner: hyperband, metric: val_loss}",
                                     "{pruner: median, metric: loss}"])
def test_pruning_on_a_column_that_agrees_with_the_objective_passes(tmp_path, pruning):
    check_space(load_sweep(write_sweep(tmp_path, WIDTH, pruning=pruning)), tmp_path)


@pytest.fixture
def valid_sweep(tmp_path):
    return write_sweep(tmp_path, "  width: {set: nodes.hidden.units, values: [8, 16]}\n")


@pytest.mark.parametrize(("storage", "message"), [
    ("{dir}/text.txt", "--storage '{dir}/text.txt': is not an Optuna journal file "
     "(its first line is no journal entry)"),
    ("sqlite:///{dir}/text.txt", "--storage 'sqlite:///{dir}/text.txt': cannot be opened as a database "
     "(file is not a database)"),
    ("foo://x", "--storage 'foo://x': 'foo' is not a database URL scheme SQLAlchemy knows"),
    ("postgresql://user@localhost/db", "--storage 'postgresql://user@localhost/db': needs a database driver for "
     "'postgresql' that is not installed"),
    ("{dir}", "--storage '{dir}': is not a regular file (a folder, pipe or device)"),
])
def test_a_storage_that_cannot_hold_the_study_is_one_message(tmp_path, valid_sweep, capsys, storage, message):
    if storage.startswith("postgresql"):
        pytest.importorskip("sqlalchemy")
        if any(__import__("importlib").util.find_spec(name) for name in ("psycopg2", "pg8000")):
            pytest.skip("a PostgreSQL driver is installed")
    (tmp_path / "text.txt").write_text("hello\n")
    storage = storage.format(dir=tmp_path)
    code, _out, err = run_cli(["sweep", str(valid_sweep), "--out", str(tmp_path / "out"), "--storage", storage],
                              capsys)
    assert code == 1, err
    assert err.splitlines()[0] == message.format(dir=tmp_path)
    assert all(line.startswith("  hint: ") for line in err.splitlines()[1:])


def test_a_sweep_whose_every_trial_failed_exits_1(tmp_path, valid_sweep, monkeypatch, capsys):
    def fail(study, trial, *_args):
        study.tell(trial, state=optuna.trial.TrialState.FAIL)
        return Outcome(optuna.trial.TrialState.FAIL, error="boom")

    monkeypatch.setattr(sweep_module, "run_trial", fail)
    out = tmp_path / "out"
    code, stdout, err = run_cli(["sweep", str(valid_sweep), "--out", str(out)], capsys)
    assert code == 1
    assert err.strip() == (f"sweep settings: every trial run here failed (2); their messages are in "
                           f"{out / 'report.md'} and their logs in {out / 'trials'}")
    assert "trial 0 fail: boom" in stdout and "trial 1 fail: boom" in stdout


def test_a_trials_stored_error_is_plain_text():
    log = ("E0000 00:00:1796650022.759531   17218 cuda_platform.cc:52] failed call to cuInit\n"
           "Epoch 1/2\n\r 1/8 \x1b[32m━━━━━━\x1b[0m\x1b[37m━━━━\x1b[0m 0s 5ms/step - loss: 2.3\r"
           " 8/8 ━━━━━━━━━━ 1s 30ms/step - loss: 2.1\n"
           "runs/x/model.keras: cannot write (No space left on device)\n")
    assert failure_text(log, 1) == "runs/x/model.keras: cannot write (No space left on device)"
    assert failure_text(" 3/8 ━━━━ 0s 5ms/step\r", -9) == "the trial's process was killed by SIGKILL"
