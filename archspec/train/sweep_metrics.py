"""The figures a trial's metrics.json will hold, known before any trial trains.

A sweep's objectives name figures of metrics.json by dotted path
(`validation.loss`, `test.psnr`, `params`). Which exist follows from each
variant's task and metrics (finish.py writes them), so a misspelt one is
reported at its line before the study starts, not after a trial has trained.
"""

from __future__ import annotations

from archspec.errors import SpecError, did_you_mean
from archspec.spec.models import Spec, TrainSpec
from archspec.train.sweep_dimensions import SetRange, SetValues
from archspec.train.sweep_file import Sweep, SweepError
from archspec.train.tasks import TASKS

RUN_FIGURES = ("params", "epochs", "train_samples", "train_time_s", "samples_per_s", "wall_time_s")
SPLITS = ("train", "validation", "test")


def expected_figures(sweep: Sweep, specs: list[Spec]) -> set[str] | None:
    """Every figure some variant's metrics.json holds; None when the sweep varies the metrics
    themselves (a `set` of train.metrics), so that they cannot be known."""
    swept: dict[str, list[object]] = {}
    for dim in sweep.model.dimensions.values():
        if isinstance(dim, SetValues | SetRange):
            swept[dim.set] = list(dim.values) if isinstance(dim, SetValues) else []
    if any(path == "train" or path.startswith("train.metrics") for path in swept):
        return None
    figures = set(RUN_FIGURES)
    for spec in specs:
        train = spec.train or TrainSpec()
        tasks = {train.task, *(value for value in swept.get("train.task", []) if value in TASKS)}
        for task in (TASKS[name] for name in tasks):
            metrics = train.metrics if train.metrics is not None else task.default_metrics
            for split in SPLITS:
                figures.update(f"{split}.{name}" for name in ("loss", *metrics))
            figures.update(f"test.{name}" for name in task.test_figure_names)
    return figures


def objective_problems(sweep: Sweep, specs: list[Spec]) -> list[SpecError]:
    """Objectives naming a figure no variant's metrics.json will hold, each at its line."""
    figures = expected_figures(sweep, specs)
    if figures is None:
        return []
    problems: list[SpecError] = []
    goals = [(sweep.model.objective, ("objective", "metric"))]
    goals += [(goal, ("secondary", index, "metric")) for index, goal in enumerate(sweep.model.secondary)]
    for goal, where in goals:
        if goal.metric not in figures:
            problems.append(SweepError(f"metrics.json of a trial will have no figure '{goal.metric}'",
                                       location=sweep.locate(*where), got=repr(goal.metric),
                                       expected="one of " + ", ".join(sorted(figures)),
                                       hint=did_you_mean(goal.metric, figures)
                                       or "a figure by dotted path: validation.loss, test.accuracy, params"))
    return problems
