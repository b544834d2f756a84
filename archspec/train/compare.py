"""`archspec compare`: finished runs side by side, read from their folders (no TensorFlow)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from archspec.errors import RunError
from archspec.train import runs
from archspec.train.plots import join_images, plot_curves

COMPARE_CURVES = "compare_curves.png"
COMPARE_SAMPLES = "compare_samples.png"


def run_label(run_dir: Path, labels: dict[str, int]) -> str:
    """The folder's name: unique, and it says spec and time."""
    name = run_dir.resolve().name
    labels[name] = labels.get(name, 0) + 1
    return name if labels[name] == 1 else f"{name} ({labels[name]})"


def own_outputs(run_dirs: Sequence[Path], out: Path) -> list[Path]:
    """The given folders that are no runs but archspec's own output: `out` itself, another comparison's
    folder, the sweeps' root. `archspec compare runs/*` matches `runs/compare` (the default `--out`) and
    `runs/sweeps` once they exist, so these are left out (and named) rather than refused."""
    return [path for path in run_dirs if not (path / runs.CONFIG_FILE).exists() and (
        path.resolve() == out.resolve() or path.name == runs.SWEEPS_ROOT.name or (path / COMPARE_CURVES).is_file())]


def compare_runs(run_dirs: Sequence[Path], out: Path) -> str:
    """Write the overlaid curves and the joined sample images into `out`; return the table."""
    records = []
    seen: dict[str, int] = {}
    skipped = own_outputs(run_dirs, out)
    run_dirs = [path for path in run_dirs if path not in skipped]
    if not run_dirs:
        raise RunError(f"no run folder to compare: {', '.join(map(str, skipped))} hold archspec's own output "
                       "(comparisons, sweeps)\n  hint: give run folders, e.g. runs/<spec>-<time>")
    for run_dir in run_dirs:
        if (run_dir / runs.CONFIG_FILE).is_file() and not (run_dir / runs.METRICS_FILE).is_file():
            raise RunError(
                f"{run_dir}: no {runs.METRICS_FILE}: the run has not finished\n"
                f"  hint: finish it with `archspec fit --resume {run_dir}` (it trains only the missing epochs)"
            )
        metrics = runs.read_json(run_dir / runs.METRICS_FILE)
        history = runs.read_history(run_dir / runs.HISTORY_FILE)
        if not history:
            raise RunError(f"{run_dir}: empty history.csv; is the run finished?")
        records.append((run_label(run_dir, seen), run_dir, metrics, history))
    out.mkdir(parents=True, exist_ok=True)
    plot_curves(out / COMPARE_CURVES, {label: history for label, _, _, history in records},
                {label: runs.read_history(run_dir / runs.STEPS_FILE) for label, run_dir, _, _ in records})
    join_images(
        out / COMPARE_SAMPLES,
        [run_dir / runs.SAMPLES_FILE for _, run_dir, _, _ in records],
        [label for label, *_ in records],
    )
    return format_table(records)


def format_table(records: list) -> str:
    figures: list[str] = []
    for _, _, metrics, _ in records:
        for split in ("train", "validation", "test"):
            figures.extend(f"{split} {k}" for k in metrics[split] if f"{split} {k}" not in figures)
    header = ["run", "spec", "params", "epochs", *figures, "time s", "samples/s"]
    rows = []
    for label, _, metrics, _ in records:
        values = []
        for figure in figures:
            split, key = figure.split(" ", 1)
            value = metrics[split].get(key)
            values.append("" if value is None else f"{value:.4f}")
        rows.append([
            label, metrics["spec"], f"{metrics['params']:,}", str(metrics["epochs"]), *values,
            f"{metrics['train_time_s']:.1f}", f"{metrics['samples_per_s']:.0f}",
        ])
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
    lines = ["  ".join(cell.ljust(width) for cell, width in zip(row, widths)).rstrip()
             for row in [header, *rows]]
    return "\n".join(lines)
