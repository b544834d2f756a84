"""The run folder's pictures (matplotlib, Agg backend: no display needed, fixed pixel sizes).

Figures have a fixed size in pixels (inches x DPI, no tight bounding box),
so a test can check that a PNG is the image it should be.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from archspec.train.runs import write_atomic

DPI = 100
PANEL_SIZE = (5.0, 4.0)  # inches per curves panel -> 500 x 400 pixels
SAMPLE_COLUMNS = 10
SAMPLE_CELL = 1.0  # inches per sample image -> 100 x 100 pixels


def _pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def metric_names(rows: Sequence[dict[str, float]]) -> list[str]:
    """The training metrics of a history ('loss', 'accuracy', ...), without val_ twins and time."""
    names: list[str] = []
    for row in rows:
        names.extend(
            key for key in row if key not in names and key not in ("epoch", "time_s")
            and not key.startswith("val_")
        )
    return names


def step_positions(rows: Sequence[dict[str, float]]) -> list[float]:
    """Where steps.csv's rows lie on the epoch axis: step / steps per epoch, read off each epoch's
    last row (a call into the graph ends with the epoch's last step), so epoch 1 ends at 1.0."""
    last_step: dict[int, float] = {}
    for row in rows:
        last_step[int(row["epoch"])] = row["step"]
    per_epoch = max((step / epoch for epoch, step in last_step.items() if epoch > 0), default=1.0) or 1.0
    return [row["step"] / per_epoch for row in rows]


def plot_curves(
    path: Path,
    runs: dict[str, Sequence[dict[str, float]]],
    steps: dict[str, Sequence[dict[str, float]]] | None = None,
) -> None:
    """One panel per metric; each run's training (solid, dots per epoch) and validation (dashed)
    curve by epoch, and where `steps` has the run's steps.csv rows, its training value after each
    logged step (a thin line: a one-epoch run has a curve, not one dot)."""
    plt = _pyplot()
    _save(plt, curves_figure(plt, runs, steps), path)


def curves_figure(
    plt: Any,
    runs: dict[str, Sequence[dict[str, float]]],
    steps: dict[str, Sequence[dict[str, float]]] | None = None,
) -> Any:
    """The figure plot_curves saves (a test reads its lines)."""
    steps = steps or {}
    from matplotlib.ticker import MaxNLocator

    names: list[str] = []
    for rows in runs.values():
        names.extend(name for name in metric_names(rows) if name not in names)
    names = names or ["loss"]
    figure, axes = plt.subplots(
        1, len(names), figsize=(PANEL_SIZE[0] * len(names), PANEL_SIZE[1]), dpi=DPI, squeeze=False
    )
    for axis, name in zip(axes[0], names):
        for index, (label, rows) in enumerate(runs.items()):
            color = f"C{index}"
            step_rows = [row for row in steps.get(label, ()) if np.isfinite(row.get(name, np.nan))]
            if step_rows:
                axis.plot(step_positions(step_rows), [row[name] for row in step_rows], "-", linewidth=0.8,
                          alpha=0.6, color=color, label=f"{label} train per step")
            epochs = [row["epoch"] for row in rows]
            for key, style, suffix in ((name, "-", "train"), (f"val_{name}", "--", "val")):
                values = [row.get(key, np.nan) for row in rows]
                if any(np.isfinite(values)):
                    axis.plot(epochs, values, style, marker="o", color=color, label=f"{label} {suffix}")
        axis.set_xlabel("epoch")
        axis.xaxis.set_major_locator(MaxNLocator(integer=True))
        axis.set_title(name)
        axis.grid(alpha=0.3)
        axis.legend(fontsize="small")
    return figure


def plot_samples(
    path: Path,
    rows: Sequence[tuple[str, np.ndarray]],
    titles: Sequence[str] | None = None,
) -> None:
    """A grid of images: one row per (label, images (N, H, W[, C]) or MNIST's 784 values, or feature rows
    drawn as strips); optional titles per column."""
    plt = _pyplot()
    columns = min(SAMPLE_COLUMNS, min(len(images) for _, images in rows))
    top = 0.3 if titles else 0.1  # inches above the grid, for the column titles
    height = SAMPLE_CELL * len(rows) + top
    figure, axes = plt.subplots(
        len(rows), columns, figsize=(SAMPLE_CELL * columns, height), dpi=DPI, squeeze=False
    )
    for row_axes, (label, images) in zip(axes, rows):
        for column, axis in enumerate(row_axes):
            axis.imshow(_picture(np.asarray(images[column])), cmap="gray", vmin=0.0, vmax=1.0, aspect="auto")
            axis.set_xticks([])
            axis.set_yticks([])
        row_axes[0].set_ylabel(label, fontsize=7)
    if titles:
        for axis, title in zip(axes[0], titles):
            axis.set_title(title, fontsize=7)
    figure.subplots_adjust(
        left=0.06, right=0.99, top=1 - top / height, bottom=0.02, wspace=0.05, hspace=0.15
    )
    _save(plt, figure, path)


def _picture(example: np.ndarray) -> np.ndarray:
    """One example as something imshow draws: an image (grey or RGB), or a feature row as a strip."""
    example = example.squeeze(-1) if example.ndim == 3 and example.shape[-1] == 1 else example
    if example.ndim == 1:
        return example.reshape(28, 28) if example.size == 28 * 28 else example.reshape(1, -1)
    return np.clip(example, 0.0, 1.0)


def plot_predictions(path: Path, predictions: np.ndarray, targets: np.ndarray) -> None:
    """Predicted against true values (regression): the samples picture of a numeric target."""
    plt = _pyplot()
    figure, axis = plt.subplots(figsize=(4.0, 4.0), dpi=DPI)
    axis.scatter(targets.ravel(), predictions.ravel(), s=6, alpha=0.6)
    low, high = float(min(targets.min(), predictions.min())), float(max(targets.max(), predictions.max()))
    axis.plot([low, high], [low, high], color="grey", linewidth=0.8)
    axis.set_xlabel("true")
    axis.set_ylabel("predicted")
    figure.subplots_adjust(left=0.16, right=0.97, top=0.97, bottom=0.13)
    _save(plt, figure, path)


def join_images(path: Path, images: Sequence[Path], labels: Sequence[str]) -> None:
    """Several PNGs (the runs' samples.png) side by side, each under its label."""
    plt = _pyplot()
    pictures = [plt.imread(str(image)) for image in images]
    height = max(picture.shape[0] for picture in pictures)
    width = sum(picture.shape[1] for picture in pictures)
    figure = plt.figure(figsize=(width / DPI, (height + 30) / DPI), dpi=DPI)
    left = 0
    for picture, label in zip(pictures, labels):
        axis = figure.add_axes(
            (left / width, 0.0, picture.shape[1] / width, picture.shape[0] / (height + 30))
        )
        axis.imshow(picture)
        axis.set_axis_off()
        figure.text((left + picture.shape[1] / 2) / width, 1 - 15 / (height + 30), label,
                    ha="center", va="center", fontsize=9)
        left += picture.shape[1]
    _save(plt, figure, path)


def _save(plt: Any, figure: Any, path: Path) -> None:
    write_atomic(path, lambda target: figure.savefig(target, format="png", dpi=DPI), suffix=".png")
    plt.close(figure)
