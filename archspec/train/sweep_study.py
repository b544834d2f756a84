"""The Optuna study of a sweep: storage, samplers, pruners, handing out trials, recovering lost ones.

Storage: a journal file in the sweep folder by default (`study.journal`,
which `optuna-dashboard` opens as is and which works on NFS), a path to
another journal file, or a database URL (`sqlite:///...`, `postgresql://...`,
`mysql://...`). Everything a sweep knows lives there, so a killed sweep
resumes by running the same command, and several processes (a SLURM array)
share one study.

Handing out trials: processes sharing a sweep folder take a file lock around
"count, then ask", so `--trials N` is never exceeded and a grid point is
never handed out twice (a grid is a queue of enqueued trials; Optuna pops a
waiting trial atomically even without the lock).

Lost trials: a RUNNING trial records its owner (host, pid, process start
time) and a heartbeat. When its owner is a dead process on this host, or its
heartbeat is older than STALE_AFTER_S, the trial is marked FAIL and its values
are queued again (with the old run folder, which the retry resumes from its
last complete epoch), so nothing finished is ever run again.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import socket
import time
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import optuna
import sqlalchemy.exc
from optuna.trial import TrialState

from archspec.train.sweep_file import Sweep, SweepError
from archspec.train.sweep_space import distributions, grid_points

JOURNAL_FILE = "study.journal"
LOCK_FILE = ".sweep.lock"
HEARTBEAT_S = 30.0
STALE_AFTER_S = 600.0
COUNTED = (TrialState.COMPLETE, TrialState.PRUNED, TrialState.RUNNING)

warnings.filterwarnings("ignore", category=optuna.exceptions.ExperimentalWarning)
optuna.logging.set_verbosity(optuna.logging.WARNING)


DRIVERS = {"postgresql": "psycopg2-binary", "mysql": "pymysql (and a URL mysql+pymysql://...)"}
"""The package a database URL's scheme needs, for the message when it is missing."""


def open_storage(storage: str | None, out: Path) -> optuna.storages.BaseStorage:
    """A database URL as Optuna's RDBStorage; a path (default: OUT/study.journal) as a journal file."""
    if storage and "://" in storage:
        engine = {"connect_args": {"timeout": 60}} if storage.startswith("sqlite") else {}
        with storage_errors(storage):
            return optuna.storages.RDBStorage(storage, engine_kwargs=engine)
    path = Path(storage) if storage else out / JOURNAL_FILE
    check_journal(path, storage)
    path.parent.mkdir(parents=True, exist_ok=True)
    return optuna.storages.JournalStorage(optuna.storages.journal.JournalFileBackend(str(path)))


def check_journal(path: Path, storage: str | None) -> None:
    """A journal path names a regular file whose first line is a journal entry, or nothing yet."""
    if not path.exists():
        return
    if not path.is_file():
        raise _storage_error(storage or str(path), "is not a regular file (a folder, pipe or device)")
    with path.open("rb") as handle:
        first = handle.readline(1 << 20)
    if first.strip() and not (first.lstrip().startswith(b"{") and b'"op_code"' in first):
        raise _storage_error(storage or str(path), "is not an Optuna journal file (its first line is no "
                             "journal entry)", hint="give a new file name, or a database URL such as "
                             "sqlite:///study.db")


@contextlib.contextmanager
def storage_errors(storage: str) -> Iterator[None]:
    """What a storage URL's database or driver refuses, as one message naming the --storage."""
    scheme = storage.partition("://")[0].partition("+")[0]
    try:
        yield
    except ImportError:
        raise _storage_error(storage, f"needs a database driver for '{scheme}' that is not installed",
                             hint=f"pip install {DRIVERS.get(scheme, 'the driver SQLAlchemy names for it')}") from None
    except (sqlalchemy.exc.NoSuchModuleError, sqlalchemy.exc.ArgumentError):
        raise _storage_error(storage, f"'{scheme}' is not a database URL scheme SQLAlchemy knows",
                             hint="sqlite:///PATH, postgresql://..., mysql+pymysql://..., "
                             "or a journal file path") from None
    except sqlalchemy.exc.SQLAlchemyError as error:
        reason = str(getattr(error, "orig", None) or error).splitlines()[0]
        raise _storage_error(storage, f"cannot be opened as a database ({reason})",
                             hint="check the URL and that the file is an SQLite database "
                             "(or give a new file name)") from None
    except (ValueError, KeyError) as error:  # a journal with a broken entry
        raise _storage_error(storage, f"holds an unreadable journal entry ({type(error).__name__}: {error})",
                             hint="give a new file name; this one is not a journal this sweep wrote") from None


def _storage_error(storage: str, problem: str, hint: str | None = None) -> SweepError:
    return SweepError(f"--storage {storage!r}: {problem}", hint=hint)


@contextlib.contextmanager
def sweep_lock(out: Path) -> Iterator[None]:
    """An exclusive lock shared by the processes that use this sweep folder."""
    with (out / LOCK_FILE).open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


SAMPLERS = {
    "grid": lambda seed: optuna.samplers.RandomSampler(seed=seed),  # the grid is the queue; see open_study
    "random": lambda seed: optuna.samplers.RandomSampler(seed=seed),
    "tpe": lambda seed: optuna.samplers.TPESampler(seed=seed),
}
PRUNERS = {
    "none": lambda warmup: optuna.pruners.NopPruner(),
    "median": lambda warmup: optuna.pruners.MedianPruner(n_startup_trials=2, n_warmup_steps=warmup),
    "hyperband": lambda warmup: optuna.pruners.HyperbandPruner(min_resource=max(1, warmup)),
}


def open_study(sweep: Sweep, storage: optuna.storages.BaseStorage, out: Path,
               storage_name: str | None = None) -> optuna.Study:
    """Create the study (queueing the grid, once) or load it, checking it was made by this sweep."""
    seed = sweep.model.seed
    with sweep_lock(out), storage_errors(storage_name or str(out / JOURNAL_FILE)):
        try:
            study = optuna.create_study(
                study_name=sweep.name, storage=storage, directions=sweep.directions,
                sampler=SAMPLERS[sweep.sampler](seed), pruner=PRUNERS[sweep.model.pruning.pruner](
                    sweep.model.pruning.warmup_epochs), load_if_exists=True)
        except ValueError as error:
            if isinstance(error, json.JSONDecodeError):  # a damaged journal: storage_errors' message
                raise
            raise _other_sweep(sweep, str(error)) from None
        made_by = study.user_attrs.get("archspec_sweep")
        if made_by is None:
            study.set_user_attr("archspec_sweep", sweep.fingerprint())
            study.set_user_attr("sweep_file", str(sweep.path))
            study.set_user_attr("base_spec", str(sweep.base))
            if sweep.sampler == "grid":
                for values in grid_points(sweep):
                    study.enqueue_trial(values)
        elif made_by != sweep.fingerprint():
            raise _other_sweep(sweep, f"it was made by a different sweep file ({study.user_attrs.get('sweep_file')})")
    return study


def _other_sweep(sweep: Sweep, why: str) -> SweepError:
    return SweepError(f"the storage already holds a study '{sweep.name}' that this sweep cannot continue: {why}",
                      location=sweep.locate("name") if sweep.model.name else sweep.locate(),
                      hint="give this sweep another name:, or another --out / --storage")


def target_trials(sweep: Sweep, trials: int | None) -> int:
    """--trials, else the file's trials:, else the grid's size."""
    wanted = trials or sweep.model.trials
    if sweep.sampler == "grid":
        size = sweep.variant_count() or 0
        return min(wanted, size) if wanted else size
    if wanted is None:
        raise SweepError(f"a {sweep.sampler} sweep needs a number of trials", location=sweep.locate(),
                         hint="give --trials N, or trials: N in the sweep file")
    return wanted


def owner_id() -> str:
    """This process, on this host, distinguished from a later process that reuses its pid."""
    return f"{socket.gethostname()}:{os.getpid()}:{_start_time(os.getpid())}"


def _start_time(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[19]
    except (OSError, IndexError):
        return "?"


def _owner_gone(owner: str | None, heartbeat: float | None, now: float) -> bool:
    if owner is not None:
        host, pid, started = owner.rsplit(":", 2)
        if host == socket.gethostname():
            return _start_time(int(pid)) != started
    return heartbeat is None or now - heartbeat > STALE_AFTER_S


def recover_lost_trials(study: optuna.Study) -> list[int]:
    """Fail RUNNING trials whose process is gone and queue their values again; their numbers."""
    now = time.time()
    lost = []
    for trial in study.get_trials(deepcopy=False, states=(TrialState.RUNNING,)):
        heartbeat = trial.user_attrs.get("heartbeat")
        if heartbeat is None and trial.datetime_start is not None:
            heartbeat = trial.datetime_start.timestamp()
        if not _owner_gone(trial.user_attrs.get("owner"), heartbeat, now):
            continue
        try:
            study.tell(trial.number, state=TrialState.FAIL, skip_if_finished=True)
        except (ValueError, RuntimeError):
            continue
        requeue(study, trial.params, trial.number, trial.user_attrs.get("run_dir"))
        lost.append(trial.number)
    return lost


def requeue_killed_trials(study: optuna.Study, out: Path) -> list[int]:
    """Queue again the trials whose process was killed in an earlier run of the sweep (once each:
    a trial already retried is skipped); the retry resumes its run folder. Their numbers."""
    with sweep_lock(out):
        trials = study.get_trials(deepcopy=False)
        retried = {trial.user_attrs.get("retry_of") for trial in trials}
        killed = [trial for trial in trials if trial.state == TrialState.FAIL and trial.user_attrs.get("killed")
                  and trial.number not in retried]
        for trial in killed:
            requeue(study, trial.params, trial.number, trial.user_attrs.get("run_dir"))
    return [trial.number for trial in killed]


def requeue(study: optuna.Study, params: dict[str, Any], number: int, run_dir: str | None) -> None:
    attrs = {"retry_of": number}
    if run_dir:
        attrs["resume"] = run_dir
    study.enqueue_trial(params, user_attrs=attrs)


def claim_trial(study: optuna.Study, sweep: Sweep, target: int, out: Path) -> optuna.Trial | None:
    """The next trial to run, or None when the study has its `target` trials (or the grid is used up)."""
    with sweep_lock(out):
        recover_lost_trials(study)
        trials = study.get_trials(deepcopy=False)
        if sum(trial.state in COUNTED for trial in trials) >= target:
            return None
        if sweep.sampler == "grid" and not any(trial.state == TrialState.WAITING for trial in trials):
            return None
        trial = study.ask(fixed_distributions=distributions(sweep))
        trial.set_user_attr("owner", owner_id())
        trial.set_user_attr("heartbeat", time.time())
        return trial
