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
from archspec.train.task_base import Task
from archspec.train.tasks import TASKS

RUN_FIGURES = ("params", "epochs", "train_samples", "train_time_s", "samples_per_s", "wall_time_s")
SPLITS = ("train", "validation", "test")


def expected_figures(sweep: Sweep, specs: list[Spec]) -> set[str] | None:
    """Every figure some variant's metrics.json holds; None when the sweep varies the metrics
    themselves (a `set` of train.metrics), so that they cannot be known."""
    variants = _variant_metrics(sweep, specs)
    if variants is None:
        return None
    figures = set(RUN_FIGURES)
    for task, metrics in variants:
        for split in SPLITS:
            figures.update(f"{split}.{name}" for name in ("loss", *metrics))
        figures.update(f"test.{name}" for name in task.test_figure_names)
    return figures


def expected_columns(sweep: Sweep, specs: list[Spec]) -> set[str] | None:
    """Every history.csv column some variant writes after an epoch (Keras's logs: loss, the metrics,
    and their val_ twins); None when the metrics are swept."""
    variants = _variant_metrics(sweep, specs)
    if variants is None:
        return None
    names = {name for _task, metrics in variants for name in ("loss", *metrics)}
    return names | {f"val_{name}" for name in names}


def _variant_metrics(sweep: Sweep, specs: list[Spec]) -> list[tuple[Task, tuple[str, ...]]] | None:
    """The task and Keras metrics of every variant (the base specs and each swept task)."""
    swept: dict[str, list[object]] = {}
    for dim in sweep.model.dimensions.values():
        if isinstance(dim, SetValues | SetRange):
            swept[dim.set] = list(dim.values) if isinstance(dim, SetValues) else []
    if any(path == "train" or path.startswith("train.metrics") for path in swept):
        return None
    variants = []
    for spec in specs:
        train = spec.train or TrainSpec()
        tasks = {train.task, *(value for value in swept.get("train.task", []) if value in TASKS)}
        for task in (TASKS[name] for name in sorted(tasks)):
            variants.append((task, tuple(train.metrics if train.metrics is not None else task.default_metrics)))
    return variants


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


MINIMIZED = ("loss", "error", "mae", "mse", "mape", "msle", "crossentropy", "hinge", "logcosh", "perplexity",
             "poisson", "divergence")
MAXIMIZED = ("accuracy", "auc", "precision", "recall", "psnr", "ssim", "r2", "f1", "iou", "exact_match")
"""Words in a figure's name that say which way is better; a name with neither has no known direction."""


def better_direction(name: str) -> str | None:
    """'minimize' for a loss or an error, 'maximize' for an accuracy or a score, None when unknown."""
    if any(word in name for word in MINIMIZED):
        return "minimize"
    return "maximize" if any(word in name for word in MAXIMIZED) else None


def pruning_problems(sweep: Sweep, specs: list[Spec]) -> list[SpecError]:
    """A pruner watching a history.csv column no trial writes, or one that gets better the other way
    than the objective: Optuna compares reports in the study's direction, so the first never prunes
    and the second prunes the best trials. Located at `pruning.metric`, else at `pruning.pruner`."""
    pruning = sweep.model.pruning
    if pruning.pruner == "none" or sweep.model.secondary:
        return []  # the secondary objectives' own check refuses pruning
    column = pruning.metric or prune_column(sweep)
    where = sweep.locate("pruning", "metric") if pruning.metric else sweep.locate("pruning", "pruner")
    columns = expected_columns(sweep, specs)
    if column is None or (columns is not None and column not in columns):
        named = f"pruning.metric '{column}'" if pruning.metric else (
            f"the objective '{sweep.model.objective.metric}' (pruning watches "
            + (f"its column '{column}')" if column else "no history column for it)"))
        return [SweepError(f"{named}: no trial's history.csv will have that column, so the pruner never prunes",
                           location=where, got=repr(column),
                           expected="one of " + ", ".join(sorted(columns or ())),
                           hint=(did_you_mean(column, columns or ()) if pruning.metric else None)
                           or "set pruning.metric to a column of history.csv (val_loss, val_accuracy, ...)")]
    direction, goal = better_direction(column), sweep.model.objective.direction
    if direction is not None and direction != goal:
        return [SweepError(f"pruning watches '{column}', which is better when it is {direction[:-1]}ed, but the "
                           f"objective is to {goal} {sweep.model.objective.metric}",
                           location=where, expected=f"a column that is better when {goal[:-1]}ed",
                           got=f"'{column}' ({direction})",
                           hint="prune on the objective's own column (drop pruning.metric), or swap the "
                           "objective's direction; Optuna would prune the best trials")]
    return []


def prune_column(sweep: Sweep) -> str | None:
    """The history.csv column pruning watches by default: the objective's validation twin."""
    split, _, name = sweep.model.objective.metric.partition(".")
    return {"validation": f"val_{name}", "test": f"val_{name}", "train": name}.get(split)
