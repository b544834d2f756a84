"""Faults injected into real processes at chosen moments; the resumed run equals an uninterrupted one.

Each process test starts `archspec fit` (or `archspec sweep`) as a child,
waits for a file that marks the moment (a run folder's config.json, the first
checkpoint, model.keras, a sweep trial's checkpoint), then signals or kills
it, resumes it as a user would, and compares every figure of history.csv and
metrics.json with one seeded run that nobody interrupted. Waiting is on files
(polled every 10 ms, with a deadline), never on a guessed sleep; where the
child has moved on by the time the signal lands, the expected message is the
one for where it actually stopped (read from its history.csv). They train
(each child imports TensorFlow), so they are marked slow; the tests of the
pieces (messages, locks, the sweep's requeue) need no TensorFlow.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from archspec.errors import RunError
from archspec.train import runs
from archspec.train.stopping import StopRequested, interrupted
from tests.conftest import ROOT, needs_mnist

MLP = ROOT / "specs" / "mlp_sequential.yaml"
EPOCHS = 4
ARGS = ["--epochs", str(EPOCHS), "--subset", "512", "--seed", "0", "--batch-size", "64"]
FIGURES = ("loss", "accuracy", "val_loss", "val_accuracy")
slow = pytest.mark.slow


def archspec(args: list[str], cwd: Path) -> subprocess.Popen:
    """`archspec ARGS` as a child process; its output goes to files in cwd (a full pipe would block it)."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    env.pop("TF_CONFIG", None)
    log = cwd / f"log-{time.monotonic_ns()}"
    with log.with_suffix(".out").open("w") as out, log.with_suffix(".err").open("w") as err:
        process = subprocess.Popen([sys.executable, "-m", "archspec.cli", *args], cwd=cwd, env=env,
                                   stdout=out, stderr=err)
    process.log = log  # type: ignore[attr-defined]
    return process


def output(process: subprocess.Popen, timeout: float = 600) -> tuple[int, str, str]:
    """Wait for the child; (exit status, stdout, stderr)."""
    process.wait(timeout)
    log = process.log  # type: ignore[attr-defined]
    return process.returncode, log.with_suffix(".out").read_text(), log.with_suffix(".err").read_text()


def wait_for(path: Path, process: subprocess.Popen, timeout: float = 600) -> None:
    """Until `path` exists (the moment to inject the fault); fail if the child ends first."""
    deadline = time.monotonic() + timeout
    while not path.exists():
        assert process.poll() is None, f"the child ended (status {process.returncode}) before {path} appeared"
        assert time.monotonic() < deadline, f"no {path} after {timeout} s"
        time.sleep(0.01)


def epochs_in(run_dir: Path) -> int:
    return len(runs.read_history(run_dir / runs.HISTORY_FILE))


def assert_same_run(run_dir: Path, uninterrupted: Path) -> None:
    """Every epoch's figures and the test figures of the two runs are equal (a seeded run is exact)."""
    resumed, reference = (runs.read_history(folder / runs.HISTORY_FILE) for folder in (run_dir, uninterrupted))
    assert [row["epoch"] for row in resumed] == list(range(1, EPOCHS + 1))
    for row, expected in zip(resumed, reference):
        for key in FIGURES:
            assert row[key] == pytest.approx(expected[key], rel=1e-6, abs=1e-7), (row["epoch"], key)
    test, expected_test = (runs.read_json(folder / runs.METRICS_FILE)["test"] for folder in (run_dir, uninterrupted))
    assert test == pytest.approx(expected_test, rel=1e-6, abs=1e-7)


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("uninterrupted")
    code, _out, err = output(archspec(["fit", str(MLP), *ARGS, "--out", "run"], folder))
    assert code == 0, err[-3000:]
    return folder / "run"


def resume(run_dir: Path) -> str:
    """`archspec fit --resume RUN_DIR` to its end; its stderr."""
    code, _out, err = output(archspec(["fit", "--resume", str(run_dir)], run_dir.parent))
    assert code == 0, err[-3000:]
    return err


# ---------------------------------------------------------------- signals and kills of `archspec fit`


@slow
@needs_mnist
@pytest.mark.parametrize("signal_name", ["SIGINT", "SIGTERM"])
def test_a_signal_right_after_a_checkpoint_stops_at_a_step_boundary_and_resumes_to_the_same_run(
        tmp_path, uninterrupted, signal_name):
    number = getattr(signal, signal_name)
    child = archspec(["fit", str(MLP), *ARGS, "--out", "run"], tmp_path)
    run_dir = tmp_path / "run"
    wait_for(runs.checkpoint_path(run_dir, 1), child)  # where a Ctrl-C used to be swallowed
    child.send_signal(number)
    code, _out, err = output(child)
    assert code == 128 + number, err[-3000:]
    done = epochs_in(run_dir)
    assert err.strip().splitlines()[-1] == str(interrupted(StopRequested(number), "run", done, EPOCHS))
    assert "Exception ignored" not in err and "Traceback" not in err
    assert runs.completed_checkpoints(run_dir)[-1:] == [done] or done == 0
    assert f"archspec: resuming {run_dir} after epoch {done} of {EPOCHS}" in resume(run_dir)
    assert_same_run(run_dir, uninterrupted)


@slow
@needs_mnist
def test_a_signal_before_the_first_epoch_says_resume_and_resume_trains_from_epoch_1(tmp_path, uninterrupted):
    """SIGTERM as soon as the run folder exists: no epoch is saved, and the one command named works."""
    child = archspec(["fit", str(MLP), *ARGS, "--out", "run"], tmp_path)
    run_dir = tmp_path / "run"
    wait_for(run_dir / runs.CONFIG_FILE, child)
    child.send_signal(signal.SIGTERM)
    code, _out, err = output(child)
    assert code == 143, err[-3000:]
    assert err.strip().splitlines()[-1] == (
        f"run: stopped by SIGTERM in epoch 1 of {EPOCHS}, before any epoch was saved; "
        "`archspec fit --resume run` starts it again from epoch 1")
    assert runs.completed_checkpoints(run_dir) == []
    assert f"archspec: {run_dir} has no complete epoch; training it from epoch 1 of {EPOCHS}" in resume(run_dir)
    assert_same_run(run_dir, uninterrupted)


@slow
@needs_mnist
def test_a_kill_while_the_final_files_are_written_is_finished_by_resume(tmp_path, uninterrupted):
    child = archspec(["fit", str(MLP), *ARGS, "--out", "run"], tmp_path)
    run_dir = tmp_path / "run"
    wait_for(run_dir / runs.MODEL_FILE, child)  # the first final file; metrics and plots follow
    child.send_signal(signal.SIGKILL)
    code, _out, _err = output(child)
    assert code == -signal.SIGKILL
    assert not (run_dir / runs.METRICS_FILE).exists()
    history = (run_dir / runs.HISTORY_FILE).read_text()
    assert f"archspec: {run_dir} has all {EPOCHS} epochs; writing its final files" in resume(run_dir)
    assert (run_dir / runs.HISTORY_FILE).read_text() == history, "nothing trained again"
    assert_same_run(run_dir, uninterrupted)


@slow
@needs_mnist
def test_a_run_folder_in_use_is_refused_naming_its_holder(tmp_path, uninterrupted):
    """This test process holds the lock as a running `archspec fit` would; resume and evaluate are
    refused with its pid (that the lock is free again once its holder dies is tested below)."""
    run_dir = tmp_path / "run"
    shutil.copytree(uninterrupted, run_dir)
    command = f"archspec fit {MLP}"
    with runs.run_lock(run_dir, command):
        for args in (["fit", "--resume", str(run_dir), "--epochs", str(EPOCHS + 1)], ["evaluate", str(run_dir)]):
            code, _out, err = output(archspec(args, tmp_path))
            assert code == 1, err[-3000:]
            assert err.strip() == (f"{run_dir}: in use by `{command}` (pid {os.getpid()}); wait for it to end, "
                                   f"or stop it (`kill {os.getpid()}`) and continue the run with "
                                   f"`archspec fit --resume {run_dir}`")


# ---------------------------------------------------------------- a sweep whose worker is killed


def children(pid: int) -> list[int]:
    """The child processes of `pid` (started by any of its threads)."""
    found = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        with open(task / "children") as handle:
            found += [int(number) for number in handle.read().split()]
    return found


SWEEP = f"""\
archspec_sweep: 1
name: killed
spec: mlp.yaml
objective: {{metric: validation.loss}}
fit: {{epochs: {EPOCHS}, subset: 512, seed: 0}}
dimensions:
  batch: {{set: train.batch_size, values: [64]}}
"""


@slow
@needs_mnist
def test_a_killed_sweep_worker_is_requeued_by_the_next_run_and_resumes_its_epochs(tmp_path, uninterrupted):
    """The trial's `archspec fit` child is SIGKILLed after its first checkpoint: the sweep marks it
    failed, saying so, and exits 1 (its only trial failed); running the command again resumes the
    trial's run folder, whose figures are those of the uninterrupted run."""
    optuna = pytest.importorskip("optuna")
    shutil.copy(MLP, tmp_path / "mlp.yaml")
    (tmp_path / "sweep.yaml").write_text(SWEEP)
    command = ["sweep", "sweep.yaml", "--out", "out"]
    sweep = archspec(command, tmp_path)
    trial_dir = tmp_path / "out" / "trials" / "0000"
    wait_for(runs.checkpoint_path(trial_dir, 1), sweep)
    (worker,) = children(sweep.pid)
    os.kill(worker, signal.SIGKILL)
    code, out, err = output(sweep)
    assert code == 1, err[-3000:]
    assert "the trial's process was killed by SIGKILL\n(killed by SIGKILL: queued again when this command runs next)" \
        in out
    assert err.strip().startswith("sweep killed: every trial run here failed (1)")
    done = epochs_in(trial_dir)
    assert done >= 1

    code, out, err = output(archspec(command, tmp_path))
    assert code == 0, err[-3000:] + out[-3000:]
    assert "trial 0 was killed in an earlier run; queued again (it resumes its last complete epoch)" in out
    assert "trial 1 started: batch=64 (again, for lost trial 0)" in out
    log = (tmp_path / "out" / "trials" / "0001.log").read_text()
    assert f"archspec: resuming out/trials/0000 after epoch {done} of {EPOCHS}" in log
    assert_same_run(trial_dir, uninterrupted)
    storage = optuna.storages.JournalStorage(
        optuna.storages.journal.JournalFileBackend(str(tmp_path / "out" / "study.journal")))
    trials = optuna.load_study(study_name="killed", storage=storage).get_trials()
    assert [trial.state.name for trial in trials] == ["FAIL", "COMPLETE"]
    assert trials[1].value == pytest.approx(runs.read_history(uninterrupted / runs.HISTORY_FILE)[-1]["val_loss"])
    code, out, _err = output(archspec(command, tmp_path))  # requeued once: a third run has nothing to do
    assert code == 0 and "queued again" not in out


# ---------------------------------------------------------------- the pieces, without TensorFlow


@pytest.mark.parametrize(("done", "message"), [
    (0, "r: stopped by SIGINT in epoch 1 of 3, before any epoch was saved; `archspec fit --resume r` starts it "
        "again from epoch 1"),
    (1, "r: stopped by SIGINT after epoch 1 of 3; continue with `archspec fit --resume r` (it trains epochs 2-3)"),
    (2, "r: stopped by SIGINT after epoch 2 of 3; continue with `archspec fit --resume r` (it trains epoch 3)"),
    (3, "r: stopped by SIGINT after its last epoch (3), before its final files; `archspec fit --resume r` "
        "writes them"),
])
def test_every_stop_message_names_a_command_that_goes_on(done, message):
    error = interrupted(StopRequested(signal.SIGINT), "r", done, 3)
    assert str(error) == message and error.exit_status == 130


HOLD_LOCK = """\
import sys, time
from pathlib import Path
from archspec.train import runs
with runs.run_lock(Path(sys.argv[1]), "archspec fit spec.yaml"):
    Path(sys.argv[1], "held").write_text("")
    sys.stdin.read()
"""


def test_a_second_writer_is_refused_and_a_dead_holders_lock_is_free(tmp_path):
    holder = subprocess.Popen([sys.executable, "-c", HOLD_LOCK, str(tmp_path)], stdin=subprocess.PIPE,
                              env={**os.environ, "PYTHONPATH": str(ROOT)})
    wait_for(tmp_path / "held", holder, timeout=60)
    for shared in (False, True):
        with pytest.raises(RunError) as refused, runs.run_lock(tmp_path, "archspec fit --resume", shared=shared):
            pass
        assert str(refused.value) == (
            f"{tmp_path}: in use by `archspec fit spec.yaml` (pid {holder.pid}); wait for it to end, or stop it "
            f"(`kill {holder.pid}`) and continue the run with `archspec fit --resume {tmp_path}`")
    holder.kill()
    holder.wait()
    with runs.run_lock(tmp_path, "archspec fit --resume"):  # the kernel let go with the dead holder
        assert (tmp_path / runs.LOCK_FILE).read_text() == f"{os.getpid()} archspec fit --resume\n"


def test_readers_share_the_lock_and_a_writer_waits_for_them(tmp_path):
    with runs.run_lock(tmp_path, "archspec evaluate", shared=True), \
            runs.run_lock(tmp_path, "archspec evaluate", shared=True), \
            pytest.raises(RunError, match="in use by another archspec process"), \
            runs.run_lock(tmp_path, "archspec fit --resume"):
        pass


def test_killed_trials_are_queued_again_once(tmp_path):
    optuna = pytest.importorskip("optuna")
    from archspec.train.sweep_study import requeue_killed_trials
    from archspec.train.sweep_trial import killed_by

    assert [killed_by(status) for status in (0, 1, -9, 130, 143, 137, None)] == [
        None, None, "SIGKILL", "SIGINT", "SIGTERM", None, None]
    study = optuna.create_study()
    for attrs in ({"killed": "SIGKILL", "run_dir": "trials/0000"}, {}):
        trial = study.ask({"width": optuna.distributions.IntDistribution(1, 9)})
        for key, value in attrs.items():
            trial.set_user_attr(key, value)
        study.tell(trial, state=optuna.trial.TrialState.FAIL)
    assert requeue_killed_trials(study, tmp_path) == [0]
    waiting = study.get_trials(states=(optuna.trial.TrialState.WAITING,))
    assert [(trial.system_attrs["fixed_params"], trial.user_attrs) for trial in waiting] == [
        ({"width": study.trials[0].params["width"]}, {"retry_of": 0, "resume": "trials/0000"})]
    assert requeue_killed_trials(study, tmp_path) == []
