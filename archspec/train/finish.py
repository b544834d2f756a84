"""A run's final files: model.keras, metrics.json (test figures), curves.png and samples.png.

Written after the last epoch, and by `--resume` for a run that has every
epoch but was stopped before these files (then without training). The test
figures come from the model evaluated in plain Keras on the task's fixed test
set; the task adds its own figures (PSNR for images) and picks the samples.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from archspec.train import runs
from archspec.train.config import RunConfig
from archspec.train.data import Prepared
from archspec.train.pipeline import make_pipeline
from archspec.train.plots import plot_curves, plot_predictions, plot_samples
from archspec.train.tasks import get_task
from archspec.train.tensorboard import log_image


def test_figures(model: Any, data: Prepared, config: RunConfig) -> tuple[dict[str, float], Any]:
    """Loss and metrics on the (fixed, noisy where the task uses noise) test set, plus the task's figures."""
    test = make_pipeline(data.x_test, data.y_test, config.batch_size)
    figures = {k: float(v) for k, v in model.evaluate(test, return_dict=True, verbose=0).items()}
    predictions = model.predict(test, verbose=0)
    figures.update(get_task(data.task).test_figures(predictions, data.y_test))
    return figures, predictions


def write_final_files(
    run_dir: Path, config: RunConfig, model: Any, data: Prepared, history: list[dict[str, float]],
    wall_time_s: float, *, save: bool = True, steps: list[dict[str, float]] | None = None,
    between: Callable[[], None] = lambda: None,
) -> None:
    """model.keras (unless `save` is False: already written), metrics.json, curves.png (with the
    per-step training curve of `steps`, steps.csv's rows), samples.png. `between` is called between
    files (a stop requested by a signal raises there; `--resume` writes the files again)."""
    if save:
        runs.save_model(model, run_dir / runs.MODEL_FILE)
    between()
    test, predictions = test_figures(model, data, config)
    between()
    train_time = sum(row["time_s"] for row in history)
    runs.write_json(
        run_dir / runs.METRICS_FILE,
        {
            "spec": config.spec,
            "task": config.task,
            "params": model.count_params(),
            "epochs": len(history),
            "train": _split(history[-1], train=True),
            "validation": _split(history[-1], train=False),
            "test": test,
            "train_samples": len(data.x_train),
            "train_time_s": round(train_time, 3),
            "samples_per_s": round(len(data.x_train) * len(history) / train_time, 1) if train_time else 0.0,
            "wall_time_s": round(wall_time_s, 3),
        },
    )
    between()
    plot_curves(run_dir / runs.CURVES_FILE, {config.spec: history}, {config.spec: steps or []})
    between()
    rows, titles = get_task(data.task).sample_rows(data.x_test, data.clean_test, data.y_test, predictions)
    if rows:
        plot_samples(run_dir / runs.SAMPLES_FILE, rows, titles)
    else:  # numeric targets: predicted against true
        plot_predictions(run_dir / runs.SAMPLES_FILE, predictions, data.y_test)
    log_image(run_dir, "samples", run_dir / runs.SAMPLES_FILE, len(history))


def _split(row: dict[str, float], *, train: bool) -> dict[str, float]:
    skip = {"epoch", "time_s"}
    if train:
        return {k: v for k, v in row.items() if k not in skip and not k.startswith("val_")}
    return {k.removeprefix("val_"): v for k, v in row.items() if k.startswith("val_")}
