"""A spec held against the data it trains on, from headers alone (no TensorFlow): validate, sweeps.

`check_training_fits` is the one check of a spec's `train:` section: its own
data (train.data, or the command line's --data) when it has some, else the
task against MNIST's shapes. Scans are kept per data options while the
process lives, so a sweep's variants share one scan of a folder.
"""

from __future__ import annotations

from pathlib import Path

import networkx as nx

from archspec.spec.data_spec import DataSpec
from archspec.spec.models import TrainSpec
from archspec.train.tasks import check_task_fits, get_task
from archspec.train.userdata.checks import check_bad_items, check_data_fits
from archspec.train.userdata.scan import scan_data
from archspec.train.userdata.sources import Scan, Source


def data_options(train: TrainSpec | None, path: Path | str | None) -> DataSpec | None:
    """train.data with the command line's path in place of the spec's (other options kept), or None."""
    declared = train.data if train is not None else None
    if path is None:
        return declared if declared is not None and declared.path is not None else None
    return DataSpec.model_validate({**(declared.model_dump() if declared else {}), "path": str(path)})


_SCANS: dict[tuple[str, bool], tuple[Source, Scan]] = {}


def check_training_fits(graph: nx.MultiDiGraph, data_path: Path | str | None = None) -> None:
    """Raise the errors of a spec whose inputs or outputs cannot take the data it trains on.

    A spec whose task needs data of its own (segment, regress, next_token) and names none is only
    checked once it does (`--data`); `fit` without data then stops at the task's own message.
    """
    train = graph.graph["train"]
    options = data_options(train, data_path)
    if options is not None:
        check_spec_data(graph, options)
    elif train is not None and not get_task(train.task).needs_own_data:
        check_task_fits(graph, train.task, train.dataset)


def check_spec_data(graph: nx.MultiDiGraph, options: DataSpec) -> Scan:
    """Raise the errors of a spec whose inputs or outputs do not fit this data, or of unusable files."""
    train = graph.graph["train"] or TrainSpec()
    class_targets = get_task(train.task).class_targets
    key = (options.model_dump_json(), class_targets)
    if key not in _SCANS:
        _SCANS[key] = scan_data(options, class_targets=class_targets)
    source, scan = _SCANS[key]
    check_data_fits(graph, train.task, source, scan, options)
    check_bad_items(scan, options)
    return scan
