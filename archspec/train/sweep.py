"""`archspec sweep`: a study of architecture variants on Optuna, run as `archspec fit` trials.

    archspec sweep specs/sweeps/skip_study.yaml --workers 2 --out runs/sweeps/skip_study

The steps, in order: read and check the sweep file (sweep_file); check every
variant it can make with the static front end, so an invalid one stops the
sweep before anything trains (sweep_space); open or resume the Optuna study
(sweep_study); run workers, each a thread here that hands trials to
`archspec fit` child processes with its share of the cores (sweep_trial); write the
report (sweep_report). Ctrl-C or SIGTERM stops the children, queues their
trials again and exits; running the same command continues.
"""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import optuna
from optuna.trial import TrialState

from archspec.errors import ArchspecError
from archspec.train import runs
from archspec.train.sweep_file import Sweep, SweepError, load_sweep
from archspec.train.sweep_report import format_figure, write_report
from archspec.train.sweep_space import check_space, check_variant, label, trial_spec
from archspec.train.sweep_study import (
    claim_trial,
    open_storage,
    open_study,
    requeue_killed_trials,
    target_trials,
)
from archspec.train.sweep_trial import Slot, make_slots, run_trial

DEFAULT_ROOT = runs.SWEEPS_ROOT


class SweepInterrupted(ArchspecError):
    """The sweep was stopped by a signal; its unfinished trials are queued for the next run."""


@dataclass
class SweepResult:
    out: Path
    report: Path
    ran: list[int] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)


@dataclass
class _Shared:
    """What the worker threads share: the study, the stop flag, the trials run and the first error."""

    study: optuna.Study
    sweep: Sweep
    out: Path
    target: int
    progress: Callable[[str], None]
    stop: threading.Event = field(default_factory=threading.Event)
    ran: list[int] = field(default_factory=list)
    errors: list[BaseException] = field(default_factory=list)
    failures: int = 0
    successes: int = 0
    gave_up: bool = False
    lock: threading.Lock = field(default_factory=threading.Lock)


def run_sweep(path: str | Path, *, trials: int | None = None, workers: int = 1, threads: int | None = None,
              storage: str | None = None, out: Path | None = None, pin: bool = False,
              progress: Callable[[str], None] = print) -> SweepResult:
    """Run (or continue) the sweep until the study has its trials; write the report; return where."""
    sweep = load_sweep(path)
    out = Path(out) if out else DEFAULT_ROOT / sweep.name
    out.mkdir(parents=True, exist_ok=True)
    checked = check_space(sweep, out)
    target = target_trials(sweep, trials)
    study = open_study(sweep, open_storage(storage, out), out, storage)
    for number in requeue_killed_trials(study, out):
        progress(f"trial {number} was killed in an earlier run; queued again (it resumes its last complete epoch)")
    done = len(study.get_trials(deepcopy=False, states=(TrialState.COMPLETE, TrialState.PRUNED)))
    slots = make_slots(workers, threads, pin)
    progress(f"sweep {sweep.name}: {sweep.sampler} sampler, {target} trials ({done} already finished), "
             f"{len(slots)} worker(s) x {slots[0].threads} thread(s); "
             + (f"{checked} variants checked" if checked else "variants checked trial by trial"))
    shared = _Shared(study, sweep, out, target, progress)
    with _stopping_on_signals(shared.stop):
        pool = [threading.Thread(target=_worker, args=(shared, slot), name=f"sweep-worker-{slot.index}")
                for slot in slots]
        for thread in pool:
            thread.start()
        for thread in pool:
            while thread.is_alive():
                thread.join(0.5)
    if shared.errors:
        raise shared.errors[0]
    report = write_report(study, sweep, out)
    counts: dict[str, int] = {}
    for trial in study.get_trials(deepcopy=False):
        counts[trial.state.name.lower()] = counts.get(trial.state.name.lower(), 0) + 1
    if shared.gave_up:
        raise SweepError(f"sweep {sweep.name} stopped after {shared.failures} failed trials; their messages are "
                         f"in {report} and their logs in {out / 'trials'}")
    if shared.failures and not shared.successes and not shared.stop.is_set():
        raise SweepError(f"sweep {sweep.name}: every trial run here failed ({shared.failures}); their messages are "
                         f"in {report} and their logs in {out / 'trials'}")
    if shared.stop.is_set():
        raise SweepInterrupted(f"sweep {sweep.name} interrupted; its unfinished trials are queued again: "
                               f"run the same command to continue (report so far: {report})")
    return SweepResult(out, report, sorted(shared.ran), counts)


@contextlib.contextmanager
def _stopping_on_signals(stop: threading.Event) -> Iterator[None]:
    """SIGINT/SIGTERM set the stop flag (the workers end their children) instead of raising at random."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {number: signal.getsignal(number) for number in (signal.SIGINT, signal.SIGTERM)}
    for number in previous:
        signal.signal(number, lambda *_: stop.set())
    try:
        yield
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)


def _worker(shared: _Shared, slot: Slot) -> None:
    try:
        while not shared.stop.is_set():
            trial = claim_trial(shared.study, shared.sweep, shared.target, shared.out)
            if trial is None:
                return
            _run_one(shared, trial, slot)
    except BaseException as error:  # handed to the main thread, which raises it
        shared.errors.append(error)
        shared.stop.set()


def _run_one(shared: _Shared, trial: optuna.Trial, slot: Slot) -> None:
    values = dict(trial.params)
    spec = trial_spec(shared.sweep, values, shared.out)
    try:
        trial.set_user_attr("params", check_variant(spec, shared.sweep.model.fit.data))
    except ArchspecError as error:
        shared.progress(f"trial {trial.number}: invalid variant ({label(values)}), not trained:\n{error}")
        trial.set_user_attr("error", str(error))
        shared.study.tell(trial, state=TrialState.FAIL)
        _count_failure(shared)
        return
    retry = trial.user_attrs.get("retry_of")
    shared.progress(f"trial {trial.number} started: {label(values)}"
                    + (f" (again, for lost trial {retry})" if retry is not None else "")
                    + (f" on cpu {','.join(map(str, slot.cpus))}" if slot.pin else f" with {slot.threads} thread(s)"))
    outcome = run_trial(shared.study, trial, shared.sweep, spec, slot, shared.out, shared.stop)
    if shared.stop.is_set() and outcome.state == TrialState.FAIL:
        shared.progress(f"trial {trial.number} stopped; queued again")
        return
    with shared.lock:
        shared.ran.append(trial.number)
    figures = ", ".join(f"{goal.metric} {format_figure(value)}" for goal, value in
                        zip([shared.sweep.model.objective, *shared.sweep.model.secondary], outcome.values or []))
    shared.progress(f"trial {trial.number} {outcome.state.name.lower()}: {figures or outcome.error}")
    if outcome.state == TrialState.FAIL:
        _count_failure(shared)
    else:
        with shared.lock:
            shared.successes += 1


def _count_failure(shared: _Shared) -> None:
    """Failing trials do not count toward --trials; stop before failures repeat without end."""
    with shared.lock:
        shared.failures += 1
        if shared.failures >= max(3, shared.target):
            shared.gave_up = True
            shared.stop.set()
