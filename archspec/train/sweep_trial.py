"""One trial: `archspec fit` in a subprocess on its worker's cores, watched epoch by epoch.

Each trial is an ordinary `archspec fit` run folder (OUT/trials/NNNN), made by
the CLI in a child process. That keeps the sweep independent of the runner's
internals, gives each worker its own TensorFlow with its own thread pools, and
makes stopping a trial (pruning, Ctrl-C) a matter of ending a process.

Cores: each worker's child gets its share of the CPUs as thread counts
(TF_NUM_INTRAOP_THREADS, TF_NUM_INTEROP_THREADS and OMP_NUM_THREADS, which
TensorFlow's pools follow), and with `pin` is also bound to those CPUs
(sched_setaffinity before TensorFlow starts). Binding helps on a machine of
one's own; on a shared one it keeps the scheduler from moving a worker off a
busy core, so it is not the default. The child asks Linux to kill it when the sweep process dies
(PR_SET_PDEATHSIG), so a killed sweep leaves no orphan training.

Pruning: history.csv gets a row at every epoch's end; the watcher reports the
pruning metric of each new row to Optuna and ends the child when the pruner
says so.
"""

from __future__ import annotations

import math
import os
import re
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import optuna
from optuna.trial import TrialState

from archspec.train import runs
from archspec.train.sweep_file import Sweep, SweepError
from archspec.train.sweep_metrics import prune_column
from archspec.train.sweep_space import TrialSpec
from archspec.train.sweep_study import HEARTBEAT_S, requeue

TRIALS_DIR = "trials"
POLL_S = 1.0

# Run in the child before archspec (and TensorFlow) are imported.
LAUNCHER = """\
import ctypes, os, signal, sys
cpus = [int(c) for c in os.environ.pop("ARCHSPEC_SWEEP_CPUS", "").split(",") if c]
if cpus:
    os.sched_setaffinity(0, cpus)
try:
    ctypes.CDLL(None).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG: die with the sweep
except (AttributeError, OSError):
    pass
if os.getppid() != int(os.environ.pop("ARCHSPEC_SWEEP_PARENT", os.getppid())):
    sys.exit(1)  # the sweep died before the line above
from archspec.cli import main
main(sys.argv[1:])
"""


@dataclass(frozen=True)
class Slot:
    """A worker's share of the machine."""

    index: int
    cpus: tuple[int, ...]
    pin: bool = False

    @property
    def threads(self) -> int:
        return len(self.cpus)


def make_slots(workers: int, threads: int | None, pin: bool = False) -> list[Slot]:
    """Split this process's CPUs among the workers (threads each, default an equal share); pin: bind them."""
    cpus = sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else list(range(os.cpu_count() or 1))
    share = threads or max(1, len(cpus) // workers)
    return [Slot(index, tuple(cpus[(index * share + k) % len(cpus)] for k in range(share)), pin)
            for index in range(workers)]


@dataclass
class Outcome:
    state: TrialState
    values: list[float] | None = None
    error: str | None = None


def fit_command(sweep: Sweep, spec: TrialSpec, run_dir: Path, resume: Path | None) -> list[str]:
    if resume is not None:
        return ["fit", "--resume", str(resume)]
    command = ["fit", str(spec.spec), "--out", str(run_dir)]
    for option, value in sweep.model.fit.model_dump().items():
        if value is not None:
            command += [f"--{option.replace('_', '-')}", str(value)]
    for override in spec.overrides:
        command += ["--set", override]
    return command


def resumable(run_dir: str | None) -> Path | None:
    """A lost trial's run folder, if it has a complete epoch to resume from and epochs still to train."""
    if not run_dir or not Path(run_dir, runs.CONFIG_FILE).exists():
        return None
    history = runs.read_history(Path(run_dir) / runs.HISTORY_FILE)
    epochs = {int(row["epoch"]) for row in history} & set(runs.completed_checkpoints(Path(run_dir)))
    total = runs.read_json(Path(run_dir) / runs.CONFIG_FILE).get("epochs", 0)
    return Path(run_dir) if epochs and max(epochs) < total else None


def launch(command: list[str], slot: Slot, log: Path) -> subprocess.Popen:
    env = dict(os.environ)
    threads = str(slot.threads)
    env.update(TF_NUM_INTRAOP_THREADS=threads, TF_NUM_INTEROP_THREADS=threads, OMP_NUM_THREADS=threads,
               ARCHSPEC_SWEEP_CPUS=",".join(map(str, slot.cpus)) if slot.pin else "",
               ARCHSPEC_SWEEP_PARENT=str(os.getpid()))
    with log.open("ab") as handle:
        return subprocess.Popen([sys.executable, "-c", LAUNCHER, *command], stdout=handle,
                                stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env)


def stop_child(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def metric_value(metrics: dict[str, Any], path: str) -> float | None:
    value: Any = metrics
    for part in path.split("."):
        if not isinstance(value, dict) or part not in value:
            return None
        value = value[part]
    return float(value) if isinstance(value, int | float) else None


def metric_paths(metrics: dict[str, Any], prefix: str = "") -> list[str]:
    names = []
    for key, value in metrics.items():
        if isinstance(value, dict):
            names += metric_paths(value, f"{prefix}{key}.")
        elif isinstance(value, int | float):
            names.append(prefix + key)
    return names


def prune_metric(sweep: Sweep) -> str | None:
    """The history.csv column watched for pruning: given, or the objective's validation twin."""
    return sweep.model.pruning.metric or prune_column(sweep)


def run_trial(study: optuna.Study, trial: optuna.Trial, sweep: Sweep, spec: TrialSpec, slot: Slot,
              out: Path, stop: threading.Event) -> Outcome:
    """Train the trial's variant, reporting epochs for pruning; tell Optuna the outcome and return it."""
    resume = resumable(trial.user_attrs.get("resume"))
    run_dir = resume or out / TRIALS_DIR / f"{trial.number:04d}"
    run_dir.parent.mkdir(parents=True, exist_ok=True)
    trial.set_user_attr("run_dir", str(run_dir))
    trial.set_user_attr("spec", str(spec.spec))
    trial.set_user_attr("overrides", spec.overrides)
    log = out / TRIALS_DIR / f"{trial.number:04d}.log"
    started = time.time()
    process = launch(fit_command(sweep, spec, run_dir, resume), slot, log)
    outcome = _watch(study, trial, sweep, process, run_dir, stop)
    trial_time = round(time.time() - started, 1)
    if outcome is None:
        try:
            outcome = _finished(sweep, process.returncode, run_dir, log)
        except SweepError as error:  # the objective names no figure of metrics.json: every trial would fail
            trial.set_user_attr("error", str(error))
            study.tell(trial, state=TrialState.FAIL)
            raise
    if outcome.state == TrialState.FAIL and stop.is_set():  # interrupted: run it again next time
        study.tell(trial, state=TrialState.FAIL)
        requeue(study, trial.params, trial.number, str(run_dir))
        return outcome
    killed = killed_by(process.returncode)
    if outcome.state == TrialState.FAIL and killed:  # its process was killed: run it again next time
        trial.set_user_attr("killed", killed)
        outcome.error = f"{outcome.error}\n(killed by {killed}: queued again when this command runs next)"
    trial.set_user_attr("time_s", trial_time)
    if outcome.error:
        trial.set_user_attr("error", outcome.error)
    study.tell(trial, outcome.values, state=outcome.state)
    return outcome


def killed_by(returncode: int | None) -> str | None:
    """The signal that ended a trial's process: by its default action (a negative status), or
    SIGINT/SIGTERM that `archspec fit` obeyed at a step boundary (128 + its number)."""
    if returncode is None or returncode == 0:
        return None
    number = -returncode if returncode < 0 else returncode - 128
    if returncode < 0 or number in (signal.SIGINT, signal.SIGTERM):
        return signal.Signals(number).name
    return None


def _watch(study: optuna.Study, trial: optuna.Trial, sweep: Sweep, process: subprocess.Popen,
           run_dir: Path, stop: threading.Event) -> Outcome | None:
    column = prune_metric(sweep)
    single = len(sweep.directions) == 1
    reported: set[int] = set()
    beat = time.time()
    while process.poll() is None:
        if stop.wait(POLL_S):
            stop_child(process)
            return Outcome(TrialState.FAIL, error="interrupted")
        if time.time() - beat > HEARTBEAT_S:
            beat = time.time()
            trial.set_user_attr("heartbeat", beat)
        if not single or column is None:
            continue
        for row in runs.read_history(run_dir / runs.HISTORY_FILE):
            epoch, value = int(row["epoch"]), row.get(column)
            if epoch in reported or not isinstance(value, int | float) or not math.isfinite(value):
                continue
            reported.add(epoch)
            trial.report(float(value), epoch)
            if trial.should_prune():
                stop_child(process)
                return Outcome(TrialState.PRUNED, error=f"pruned after epoch {epoch} ({column} {value:.4f})")
    return None


ESCAPES = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]|\x1b\][^\x07]*\x07")
NOISE = re.compile(r"\s*(\d+/\d+\s|Epoch \d+/\d+$)|[EWIF]\d{4} \d\d:|.*━")
"""Lines of a trial's log that say nothing about why it failed: Keras's progress bars and epoch
headers, and TensorFlow's start-up log lines."""


def failure_text(log_text: str, returncode: int) -> str:
    """Why a trial failed, as plain text: the last lines of its log without progress bars or colour
    codes (what Keras's bar redraws with carriage returns), and the signal that ended it."""
    lines = []
    for line in ESCAPES.sub("", log_text).split("\n"):  # a terminal shows what follows the last \r
        line = line.rsplit("\r", 1)[-1].rstrip()
        if line.strip() and not NOISE.match(line):
            lines.append(line)
    if returncode < 0:
        lines.append(f"the trial's process was killed by {signal.Signals(-returncode).name}")
    return "\n".join(lines[-6:]) or f"exit status {returncode}"


def _finished(sweep: Sweep, returncode: int, run_dir: Path, log: Path) -> Outcome:
    if returncode != 0 or not (run_dir / runs.METRICS_FILE).exists():
        return Outcome(TrialState.FAIL, error=failure_text(log.read_text(errors="replace"), returncode))
    metrics = runs.read_json(run_dir / runs.METRICS_FILE)
    goals = [sweep.model.objective, *sweep.model.secondary]
    values = [metric_value(metrics, goal.metric) for goal in goals]
    for index, (goal, value) in enumerate(zip(goals, values)):
        if value is None:
            where = ("objective", "metric") if index == 0 else ("secondary", index - 1, "metric")
            raise SweepError(f"metrics.json of {run_dir} has no figure '{goal.metric}'",
                             location=sweep.locate(*where),
                             expected="one of " + ", ".join(metric_paths(metrics)))
    return Outcome(TrialState.COMPLETE, values=values)  # type: ignore[arg-type]
