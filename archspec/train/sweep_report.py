"""The sweep folder's report: report.md, pareto.png, importance.png and the best trials' curves.

Everything is read from the study (values, varied parameters, states) and
from the trials' run folders (history.csv, spec.yaml), so the report can be
rewritten at any time by any process that shares the study; each process
writes it when it finishes. Pictures reuse the run folder's plotting
(archspec.train.plots) and its fixed pixel sizes.
"""

from __future__ import annotations

import math
import warnings
from pathlib import Path
from typing import Any

import optuna
from optuna.trial import FrozenTrial, TrialState

from archspec.errors import ArchspecError
from archspec.graph.diff import diff_specs, format_diff
from archspec.train import runs
from archspec.train.plots import DPI, _pyplot, _save, plot_curves
from archspec.train.sweep_file import Sweep

REPORT_FILE = "report.md"
PARETO_FILE = "pareto.png"
IMPORTANCE_FILE = "importance.png"
CURVES_FILE = "best_curves.png"
BEST_CURVES = 3
STATE_ORDER = {TrialState.COMPLETE: 0, TrialState.PRUNED: 1, TrialState.RUNNING: 2, TrialState.FAIL: 3,
               TrialState.WAITING: 4}


def ranked(study: optuna.Study, sweep: Sweep) -> list[FrozenTrial]:
    """Finished trials by objective (best first), then pruned, running and failed ones."""
    sign = 1.0 if sweep.model.objective.direction == "minimize" else -1.0

    def key(trial: FrozenTrial) -> tuple[int, float, int]:
        value = trial.values[0] if trial.values else _last_report(trial)
        return (STATE_ORDER[trial.state], sign * value if value is not None else math.inf, trial.number)

    return sorted(study.get_trials(deepcopy=False), key=key)


def _last_report(trial: FrozenTrial) -> float | None:
    return trial.intermediate_values[max(trial.intermediate_values)] if trial.intermediate_values else None


def write_report(study: optuna.Study, sweep: Sweep, out: Path) -> Path:
    trials = [trial for trial in ranked(study, sweep) if trial.state != TrialState.WAITING]
    complete = [trial for trial in trials if trial.state == TrialState.COMPLETE]
    goals = [sweep.model.objective, *sweep.model.secondary]
    names = list(sweep.model.dimensions)
    static_params = "params" not in [goal.metric for goal in goals]  # else it is an objective's column
    header = ["rank", "trial", *names, *(goal.metric for goal in goals), *(["params"] * static_params),
              "time s", "state", "run folder"]
    retried = {trial.user_attrs["retry_of"]: trial.number for trial in trials if "retry_of" in trial.user_attrs}
    rows = []
    for rank, trial in enumerate(trials, start=1):
        values = [format_figure(value) for value in (trial.values or [])]
        values += [""] * (len(goals) - len(values))
        if static_params:
            values.append(f"{trial.user_attrs['params']:,}" if "params" in trial.user_attrs else "")
        run_dir = trial.user_attrs.get("run_dir", "")
        rows.append([str(rank), str(trial.number), *(str(trial.params.get(name, "")) for name in names), *values,
                     str(trial.user_attrs.get("time_s", "")), _state(trial, retried),
                     f"[{Path(run_dir).name}]({_relative(run_dir, out)})" if run_dir else ""])
    lines = [f"# Sweep `{sweep.name}`", "",
             f"Base spec `{sweep.base}`, {sweep.sampler} sampler, objective `{sweep.model.objective.metric}` "
             f"({sweep.model.objective.direction}); {len(complete)} trials complete, "
             f"{sum(t.state == TrialState.PRUNED for t in trials)} pruned, "
             f"{sum(t.state == TrialState.FAIL for t in trials)} failed or lost.", "",
             "| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    lines += _best_section(complete, sweep)
    lines += _pictures(study, sweep, complete, out)
    path = out / REPORT_FILE
    runs.write_text(path, "\n".join(lines) + "\n")
    return path


def format_figure(value: float) -> str:
    """Losses with 4 decimals, parameter counts with thousands separators."""
    return f"{value:.4f}" if abs(value) < 1e5 else f"{value:,.0f}"


def _state(trial: FrozenTrial, retried: dict[int, int]) -> str:
    state = trial.state.name.lower()
    if "retry_of" in trial.user_attrs:
        state += f" (retry of {trial.user_attrs['retry_of']})"
    if trial.number in retried:
        state += f" (stopped or lost; retried as {retried[trial.number]})"
    return state


def _relative(path: str, out: Path) -> str:
    try:
        return str(Path(path).resolve().relative_to(out.resolve()))
    except ValueError:
        return path


def _best_section(complete: list[FrozenTrial], sweep: Sweep) -> list[str]:
    if not complete:
        return ["", "No trial has finished yet."]
    best = complete[0]
    lines = ["", f"## Best variant: trial {best.number}", "",
             ", ".join(f"{name} = {value}" for name, value in best.params.items()), "",
             f"Its architecture against the base spec (`archspec diff {sweep.base} {best.user_attrs.get('run_dir')}"
             f"/{runs.SPEC_FILE}`):", "", "```"]
    try:
        lines.append(format_diff(diff_specs(sweep.base, Path(best.user_attrs["run_dir"]) / runs.SPEC_FILE)))
    except (ArchspecError, KeyError, OSError) as error:
        lines.append(f"(no diff: {error})")
    return [*lines, "```"]


def _pictures(study: optuna.Study, sweep: Sweep, complete: list[FrozenTrial], out: Path) -> list[str]:
    lines = ["", "## Pictures", ""]
    if len(complete) >= 1:
        plot_pareto(out / PARETO_FILE, complete, sweep)
        lines += [f"Objective against parameters, Pareto front joined: ![pareto]({PARETO_FILE})", ""]
    why = plot_importance(out / IMPORTANCE_FILE, study, sweep)
    lines += [f"Dimension importance (Optuna's default evaluator): ![importance]({IMPORTANCE_FILE})" if why is None
              else f"Dimension importance: not computed ({why}).", ""]
    histories = {}
    for trial in complete[:BEST_CURVES]:
        history = runs.read_history(Path(trial.user_attrs.get("run_dir", "")) / runs.HISTORY_FILE)
        if history:
            histories[f"#{trial.number} " + ", ".join(map(str, trial.params.values()))] = history
    if histories:
        plot_curves(out / CURVES_FILE, histories)
        lines.append(f"Curves of the best {len(histories)}: ![curves]({CURVES_FILE})")
    return lines


def pareto_front(points: list[tuple[float, float, Any]], sign: float) -> list[tuple[float, float, Any]]:
    """Points not dominated in (sign * objective, params), both smaller-is-better, by params."""
    front = []
    best = math.inf
    for objective, params, tag in sorted(points, key=lambda p: (p[1], sign * p[0])):
        if sign * objective < best:
            front.append((objective, params, tag))
            best = sign * objective
    return front


def plot_pareto(path: Path, complete: list[FrozenTrial], sweep: Sweep) -> None:
    plt = _pyplot()
    sign = 1.0 if sweep.model.objective.direction == "minimize" else -1.0
    points = [(trial.values[0], float(trial.user_attrs.get("params", math.nan)), trial.number)
              for trial in complete]
    front = pareto_front([p for p in points if math.isfinite(p[1])], sign)
    figure, axis = plt.subplots(figsize=(6.0, 4.5), dpi=DPI)
    axis.scatter([p[1] for p in points], [p[0] for p in points], color="C0", label="trials")
    axis.plot([p[1] for p in front], [p[0] for p in front], "o-", color="C3", label="Pareto front")
    for objective, params, number in points:
        axis.annotate(f"#{number}", (params, objective), fontsize=7, xytext=(3, 3), textcoords="offset points")
    axis.set_xlabel("parameters")
    axis.set_ylabel(sweep.model.objective.metric)
    axis.grid(alpha=0.3)
    axis.legend(fontsize="small")
    figure.tight_layout()
    _save(plt, figure, path)


def plot_importance(path: Path, study: optuna.Study, sweep: Sweep) -> str | None:
    """Optuna's parameter importances as bars; the reason when they cannot be computed."""
    sign = 1.0 if sweep.model.objective.direction == "minimize" else -1.0  # the evaluator ranks low values
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            importances = optuna.importance.get_param_importances(study, target=lambda trial: sign * trial.values[0])
    except (ValueError, RuntimeError, ZeroDivisionError, IndexError) as error:
        return str(error).splitlines()[0] if str(error) else type(error).__name__
    if not importances:
        return "no dimension varied among the finished trials"
    plt = _pyplot()
    figure, axis = plt.subplots(figsize=(6.0, 0.5 * len(importances) + 1.5), dpi=DPI)
    names = list(importances)[::-1]
    axis.barh(names, [importances[name] for name in names], color="C0")
    axis.set_xlabel(f"importance for {sweep.model.objective.metric}")
    figure.tight_layout()
    _save(plt, figure, path)
    return None
