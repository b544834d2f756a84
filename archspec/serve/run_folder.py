"""A run folder on the preview page: its curves (history.csv, steps.csv), final figures and samples.

Read with the run folder's own readers (archspec.train.runs, plain CSV and
JSON, no TensorFlow), every time the page asks, so a run that is training
shows its newest epoch. Only these fixed file names are read from the folder.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from archspec.errors import ArchspecError
from archspec.train.runs import (
    CONFIG_FILE,
    HISTORY_FILE,
    METRICS_FILE,
    SAMPLES_FILE,
    SPEC_FILE,
    STEPS_FILE,
    read_history,
)

WATCHED = (HISTORY_FILE, STEPS_FILE, METRICS_FILE, SAMPLES_FILE)
MAX_STEPS = 2000
"""Step rows sent to the page (the newest); a long run logs many more than a chart can show."""


def is_run_folder(folder: Path) -> bool:
    """A folder `archspec fit` made: the spec as run, and its settings or history."""
    return (folder / SPEC_FILE).is_file() and ((folder / CONFIG_FILE).is_file() or (folder / HISTORY_FILE).is_file())


def run_files(folder: Path) -> list[Path]:
    """The files whose change means new curves or samples."""
    return [folder / name for name in WATCHED]


def run_payload(folder: Path) -> dict[str, Any]:
    """The run's epochs, latest steps, final metrics (once written) and whether samples exist."""
    result: dict[str, Any] = {"folder": str(folder), "history": [], "steps": [], "metrics": None,
                              "samples": (folder / SAMPLES_FILE).is_file(), "errors": []}
    for key, name in (("history", HISTORY_FILE), ("steps", STEPS_FILE)):
        try:
            result[key] = _finite(read_history(folder / name))[-MAX_STEPS:]
        except (ArchspecError, OSError) as error:  # a file being rewritten is complete or absent; a broken one
            result["errors"].append(str(error))
    try:
        result["metrics"] = json.loads((folder / METRICS_FILE).read_text()) if (folder / METRICS_FILE).is_file() \
            else None
    except (OSError, ValueError) as error:
        result["errors"].append(f"{folder / METRICS_FILE}: unreadable ({error})")
    return result


def _finite(rows: list[dict[str, float]]) -> list[dict[str, float | None]]:
    """Rows as JSON can carry them: NaN (a column a row lacks) as null."""
    return [{key: (None if value != value else value) for key, value in row.items()} for row in rows]
