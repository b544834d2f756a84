"""`archspec validate SPEC --data PATH`: a spec held against its data from headers alone (no TensorFlow)."""

from __future__ import annotations

from pathlib import Path

import networkx as nx

from archspec.data.checks import check_bad_items, check_data_fits
from archspec.data.scan import scan_data
from archspec.data.sources import Scan
from archspec.spec.data_spec import DataSpec
from archspec.spec.models import TrainSpec
from archspec.train.tasks import get_task


def data_options(train: TrainSpec | None, path: Path | str | None) -> DataSpec | None:
    """train.data with the command line's path in place of the spec's (other options kept), or None."""
    declared = train.data if train is not None else None
    if path is None:
        return declared
    return DataSpec.model_validate({**(declared.model_dump() if declared else {}), "path": str(path)})


def check_spec_data(graph: nx.MultiDiGraph, options: DataSpec) -> Scan:
    """Raise the errors of a spec whose inputs or outputs do not fit this data, or of unusable files."""
    train = graph.graph["train"] or TrainSpec()
    source, scan = scan_data(options, class_targets=get_task(train.task).class_targets)
    check_data_fits(graph, train.task, source, scan, options)
    check_bad_items(scan, options)
    return scan
