"""The seeded train/validation/test split of a run, kept in its run folder as data.json.

A split is the list of examples (file paths relative to the data folder, or
row and array indices) of each part, so `--resume`, `evaluate`, `compare`
and sweeps read exactly the examples the run was made with, whatever seed
they are given. Splits the data declares (train/ val/ test/ folders, a
split column, x_train/x_test) are kept; what is missing is cut from the
training part with the seed.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from archspec.errors import DataError, RunError
from archspec.spec.data_spec import SplitSpec
from archspec.train.runs import write_json
from archspec.train.userdata.sources import Scan

DATA_FILE = "data.json"
SPLIT_KEYS = {"kind", "path", "classes", "counts", "skipped", "items"}


@dataclass(frozen=True)
class Split:
    """The examples of each part ("train", "val", "test"), the classes, and the files left out as bad."""

    kind: str
    path: str
    items: dict[str, list[Any]]
    classes: list[str] | None = None
    skipped: list[str] = field(default_factory=list)
    fitted: dict[str, Any] = field(default_factory=dict)
    """What the source fitted on the training part (a text's vocabulary), for people and exports."""

    def to_json(self) -> dict[str, Any]:
        return {"kind": self.kind, "path": self.path, "classes": self.classes,
                "counts": {part: len(items) for part, items in self.items.items()},
                "skipped": self.skipped, **self.fitted, "items": self.items}


def make_split(scan: Scan, fractions: SplitSpec, seed: int) -> Split:
    """Keep the data's own parts; cut missing val/test parts from the rest with a seeded permutation."""
    rng = np.random.default_rng(seed)
    pool = list(scan.items.get("train", scan.items.get("all", [])))
    pool = [pool[i] for i in rng.permutation(len(pool))]
    total = len(pool)
    parts: dict[str, list[Any]] = {}
    for part in ("test", "val"):
        if part in scan.items:
            parts[part] = list(scan.items[part])
        else:
            count = round(total * getattr(fractions, part))
            parts[part], pool = pool[:count], pool[count:]
    if not pool:
        raise DataError(f"{scan.path}: no training examples left after the validation and test splits")
    if not parts["test"]:
        raise DataError(f"{scan.path}: no test examples; give a test/ folder, more data, "
                        "or data: {split: {test: 0.2}}")
    return Split(scan.kind, str(scan.path), {"train": pool, "val": parts["val"], "test": parts["test"]},
                 list(scan.classes) if scan.classes is not None else None, [str(item) for item in scan.bad])


def write_split(run_dir: Path, split: Split) -> None:
    write_json(run_dir / DATA_FILE, split.to_json())


def read_split(run_dir: Path) -> Split:
    path = run_dir / DATA_FILE
    try:
        data = json.loads(path.read_text())
        fitted = {key: value for key, value in data.items() if key not in SPLIT_KEYS}
        return Split(data["kind"], data["path"], data["items"], data.get("classes"), data.get("skipped", []), fitted)
    except FileNotFoundError:
        raise RunError(f"{path}: missing; the run trained on its own data and kept its split there") from None
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise RunError(f"{path}: unreadable split of the run's data ({error})") from None
