"""The run folder on disk: creating it, and reading and writing its files atomically.

Every file is written to a temporary name in the same folder and moved into
place with os.replace, so a run killed at any moment leaves either the old
file or the new one, never half of one; that is what lets `--resume` trust
whatever it finds. A new run never reuses a folder.

    runs/<spec>-<YYYYmmdd-HHMMSS>/
        spec.yaml        the spec as run, resolved (extends, vars, blocks, --set applied)
        config.json      the resolved training settings (spec + command line)
        checkpoints/epoch_001.keras ...   model and optimizer state after each epoch
        checkpoints/epoch_001.rng.json ... the layers' seed generator states there (rng.py)
        history.csv      one row per completed epoch (metrics, val_ metrics, time_s)
        steps.csv        the training loss (and metrics) after each call into the graph, by step
        model.keras      the final model
        metrics.json     final train / validation / test figures, time, samples per second
        curves.png       loss and metrics per epoch
        samples.png      inputs / reconstructions / targets, or digits with their labels
"""

from __future__ import annotations

import contextlib
import csv
import errno
import fcntl
import io
import json
import math
import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from archspec.errors import RunError

SPEC_FILE = "spec.yaml"
CONFIG_FILE = "config.json"
HISTORY_FILE = "history.csv"
STEPS_FILE = "steps.csv"
METRICS_FILE = "metrics.json"
MODEL_FILE = "model.keras"
CURVES_FILE = "curves.png"
SAMPLES_FILE = "samples.png"
CHECKPOINT_DIR = "checkpoints"
FINAL_FILES = (MODEL_FILE, METRICS_FILE, CURVES_FILE, SAMPLES_FILE)
TEMPORARY_GLOB = ".*.tmp-*"
LOCK_FILE = ".archspec.lock"
SWEEPS_ROOT = Path("runs/sweeps")
"""Where sweep folders go by default (beside the runs, so `archspec compare` knows it is none)."""

# what to do about an OS error on output, by errno
OUTPUT_HINTS = {
    errno.EROFS: "the file system is read-only: give an --out on a writable disk",
    errno.EACCES: "no permission to write there: give another --out, or make the folder writable",
    errno.EPERM: "no permission to write there: give another --out, or make the folder writable",
    errno.ENOSPC: "the disk is full: free some space",
    errno.EDQUOT: "the disk quota is used up: free some space",
    errno.ENAMETOOLONG: "the path is too long: give a shorter --out (or a shorter spec name)",
}


def final_model_file(run_dir: Path) -> Path:
    """The model a finished run saved (what `archspec export RUN_DIR` exports); RunError if it has none."""
    path = run_dir / MODEL_FILE
    if not path.is_file():
        raise RunError(f"{run_dir}: no {MODEL_FILE}; is it a finished run folder of `archspec fit`?")
    return path


def output_error(path: Path, error: OSError) -> RunError:
    """An OS error on writing `path` as one message: the path, the reason, what to do, how to go on."""
    hint = OUTPUT_HINTS.get(error.errno or 0, "check the folder and the disk")
    run_dir = next((folder for folder in (path.parent, path.parent.parent)
                    if (folder / CONFIG_FILE).is_file()), None)
    then = (f"; the run folder keeps every complete epoch, so continue with "
            f"`archspec fit --resume {run_dir}`" if run_dir is not None else "")
    return RunError(f"{path}: cannot write ({error.strerror or error})\n  hint: {hint}{then}")


def check_out_free(out: Path | None) -> None:
    """Refuse an existing --out before anything is built (create_run_dir checks again, atomically)."""
    try:
        exists = out is not None and out.exists()
    except OSError as error:  # a name too long, a folder above it unreadable
        raise output_error(out, error) from None
    if exists:
        raise _exists(out)


def _exists(out: Path) -> RunError:
    resume = f"continue it with `archspec fit --resume {out}`, " if (out / CONFIG_FILE).is_file() else ""
    return RunError(
        f"{out}: already exists; a run never overwrites an earlier one: choose another --out, {resume}"
        f"or remove it (`rm -r {out}`) to start again"
    )


@contextlib.contextmanager
def run_lock(run_dir: Path, command: str, *, shared: bool = False) -> Iterator[None]:
    """Hold the run folder's lock: exclusive for a process that writes it (fit, --resume), shared for
    one that reads its final model (evaluate). A second writer is refused, naming the holder.

    An flock, so a killed holder releases it with its last file descriptor; the exclusive holder
    writes its pid and command into the file for the message of whoever is refused.
    """
    try:
        handle = (run_dir / LOCK_FILE).open("a+")
    except OSError as error:
        raise output_error(run_dir / LOCK_FILE, error) from None
    with handle:
        try:
            fcntl.flock(handle, (fcntl.LOCK_SH if shared else fcntl.LOCK_EX) | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            raise _locked(run_dir, handle.read().strip()) from None
        if not shared:
            handle.truncate(0)
            handle.write(f"{os.getpid()} {command}\n")
            handle.flush()
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _locked(run_dir: Path, holder: str) -> RunError:
    pid, _, command = holder.partition(" ")
    if pid.isdigit() and Path(f"/proc/{pid}").exists():
        return RunError(f"{run_dir}: in use by `{command}` (pid {pid}); wait for it to end, or stop it "
                        f"(`kill {pid}`) and continue the run with `archspec fit --resume {run_dir}`")
    return RunError(f"{run_dir}: in use by another archspec process (an evaluate, or one on another machine); "
                    "try again when it has ended")


def create_run_dir(root: Path, name: str, out: Path | None = None) -> Path:
    """A fresh folder: `out` if given (it must not exist yet), else root/<name>-<timestamp>[-k]."""
    if out is not None:
        try:
            out.mkdir(parents=True, exist_ok=False)
        except FileExistsError:
            raise _exists(out) from None
        except OSError as error:
            raise output_error(out, error) from None
        _make(out / CHECKPOINT_DIR)
        return out
    _make(root, exist_ok=True)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    for attempt in range(1, 1000):
        candidate = root / (f"{name}-{stamp}" if attempt == 1 else f"{name}-{stamp}-{attempt}")
        try:
            candidate.mkdir()  # atomic: two runs started in the same second get different folders
        except FileExistsError:
            continue
        except OSError as error:
            raise output_error(candidate, error) from None
        _make(candidate / CHECKPOINT_DIR)
        return candidate
    raise RunError(f"{root}: could not find a free run folder name for {name}-{stamp}")


def make_folder(folder: Path) -> None:
    """A folder inside a run folder (tensorboard/); an OS error is output_error's message."""
    _make(folder, exist_ok=True)


def os_reason(message: str) -> OSError | None:
    """The OS error inside a message of a library that reports it as text (TensorFlow's file
    writers: "...; Permission denied"), for output_error; None when it names none we know."""
    for number in OUTPUT_HINTS:
        if os.strerror(number) in message:
            return OSError(number, os.strerror(number))
    return None


def _make(folder: Path, exist_ok: bool = False) -> None:
    try:
        folder.mkdir(parents=True, exist_ok=exist_ok)
    except OSError as error:
        raise output_error(folder, error) from None


def write_atomic(path: Path, write: Callable[[Path], None], suffix: str = "") -> None:
    """Call write(temporary path) then move it onto `path` (suffix: e.g. '.keras', which Keras insists on)."""
    temporary = path.with_name(f".{path.stem}.tmp-{os.getpid()}{suffix or path.suffix}")
    try:
        write(temporary)
        os.replace(temporary, path)
    except OSError as error:
        raise output_error(path, error) from None
    finally:
        with contextlib.suppress(OSError):  # a read-only folder: clean_temporary removes it next start
            temporary.unlink(missing_ok=True)


def clean_temporary(run_dir: Path) -> list[Path]:
    """Remove the temporary files a killed write left (`.epoch_003.tmp-PID.keras`, ...); return them."""
    left = [*run_dir.glob(TEMPORARY_GLOB), *(run_dir / CHECKPOINT_DIR).glob(TEMPORARY_GLOB)]
    for path in left:
        try:
            path.unlink()
        except OSError as error:
            raise output_error(path, error) from None
    return left


def remove_final_files(run_dir: Path) -> None:
    """Before training further: the final files describe fewer epochs than the run will have."""
    for name in FINAL_FILES:
        try:
            (run_dir / name).unlink(missing_ok=True)
        except OSError as error:
            raise output_error(run_dir / name, error) from None


def write_text(path: Path, text: str) -> None:
    write_atomic(path, lambda target: target.write_text(text))


def write_json(path: Path, data: Any) -> None:
    write_text(path, json.dumps(data, indent=2, default=_plain) + "\n")


def read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text())
    except FileNotFoundError:
        raise RunError(f"{path}: missing; is {path.parent} a run folder of `archspec fit`?") from None
    except json.JSONDecodeError as error:
        raise RunError(f"{path}: not valid JSON ({error})") from None


def save_model(model: Any, path: Path) -> None:
    write_atomic(path, lambda target: model.save(target), suffix=".keras")


def checkpoint_path(run_dir: Path, epoch: int) -> Path:
    return run_dir / CHECKPOINT_DIR / f"epoch_{epoch:03d}.keras"


def completed_checkpoints(run_dir: Path) -> list[int]:
    """Epoch numbers (1-based) that have a checkpoint, ascending."""
    folder = run_dir / CHECKPOINT_DIR
    if not folder.is_dir():
        return []
    epochs = []
    for path in folder.glob("epoch_*.keras"):
        number = path.stem.removeprefix("epoch_")
        if number.isdigit():
            epochs.append(int(number))
    return sorted(epochs)


def write_history(path: Path, rows: list[dict[str, float]]) -> None:
    """history.csv (one row per epoch) or steps.csv (one per logged step): a header of every
    column seen, then the rows (empty where a row lacks a column)."""
    columns: list[str] = []
    for row in rows:
        columns.extend(key for key in row if key not in columns)
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=columns, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    write_text(path, buffer.getvalue())


def read_history(path: Path) -> list[dict[str, float]]:
    if not path.exists():
        return []
    with path.open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    try:
        return [{key: _number(value) for key, value in row.items()} for row in rows]
    except ValueError as error:
        raise RunError(f"{path}: unreadable history ({error})") from None


def _number(text: str) -> float:
    value = float(text) if text != "" else math.nan
    return int(value) if value.is_integer() and abs(value) < 2**53 else value


def _plain(value: Any) -> Any:
    """JSON for numpy scalars and paths."""
    if hasattr(value, "item"):
        return value.item()
    return str(value)
