"""A run's own data, from the spec's `train.data` to the `Prepared` arrays or files the runner trains on.

`plan_run_data` does everything that can fail before TensorFlow works: find
and scan the data (decoding every image once, so a truncated file stops the
run before it starts), hold it against the spec, stop on or skip bad files,
cut the seeded split. `saved_run_data` reads the split a run folder keeps
(resume, evaluate). `prepare_run_data` reads the split's examples: arrays
in memory, image folders as lazily decoded files (streamed by stream.py).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import networkx as nx

from archspec.errors import DataError
from archspec.spec.data_spec import DataSpec
from archspec.train.data import Prepared
from archspec.train.tasks import get_task
from archspec.train.userdata.checks import check_bad_items, check_data_fits
from archspec.train.userdata.scan import scan_data
from archspec.train.userdata.sources import Scan, Source
from archspec.train.userdata.split import Split, make_split, read_split


@dataclass(frozen=True)
class RunData:
    options: DataSpec
    source: Source
    scan: Scan
    split: Split


def plan_run_data(options: dict[str, Any], task: str, seed: int, graph: nx.MultiDiGraph) -> RunData:
    """Scan (deeply), check against the spec and cut the split: every data fault before training."""
    spec = DataSpec.model_validate(options)
    source, scan = scan_data(spec, deep=True, class_targets=get_task(task).class_targets)
    check_data_fits(graph, task, source, scan, spec)
    check_bad_items(scan, spec)
    split = make_split(scan, spec.split, seed)
    return RunData(spec, source, scan, replace(split, fitted=source.fitted(scan, split.items["train"])))


def saved_run_data(options: dict[str, Any], task: str, run_dir: Path) -> RunData:
    """The data of an existing run, split as the run folder's data.json says."""
    spec = DataSpec.model_validate(options)
    source, scan = scan_data(spec, class_targets=get_task(task).class_targets)
    split = read_split(run_dir)
    known = {item for items in scan.items.values() for item in items}
    missing = [item for items in split.items.values() for item in items if item not in known]
    if missing:
        raise DataError(f"{scan.path}: {len(missing)} example(s) of the run's split are gone or unreadable "
                        f"(first: {missing[0]}); the run's data.json lists the examples it was made with")
    if split.classes is not None and list(scan.classes or ()) != split.classes:
        raise DataError(f"{scan.path}: the classes changed since the run ({', '.join(split.classes)} then, "
                        f"{', '.join(scan.classes or ())} now)")
    return RunData(spec, source, scan, split)


def prepare_run_data(data: RunData, task_name: str, input_shape: Sequence[int | None],
                     output_shape: Sequence[int | None], subset: int | None = None) -> Prepared:
    """The split's inputs (arrays, or image files streamed later) and targets, shaped for the model."""
    task = get_task(task_name)
    parts = {part: items[:subset] if subset else items for part, items in data.split.items.items()}
    shape = tuple(int(size) for size in input_shape)

    def inputs(part: str) -> Any:
        return data.source.read(data.scan, parts[part], data.options, shape, data.split.items["train"])

    def targets(part: str) -> Any:
        found = data.source.targets(data.scan, parts[part], data.split.items["train"], tuple(map(int, output_shape)))
        return task.data_targets(found, tuple(output_shape))

    x_test = inputs("test")
    has_val = bool(parts["val"])
    return Prepared(
        task=task.name, x_train=inputs("train"), y_train=targets("train"),
        x_val=inputs("val") if has_val else None, y_val=targets("val") if has_val else None,
        x_test=x_test, y_test=targets("test"), clean_test=x_test, noise=None,
    )
