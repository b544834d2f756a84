"""Tasks on a user's own data only (archspec.train.userdata): regress (numeric targets) and segment (per-pixel classes).

They are registered in tasks.py's `TASKS` like every task; on MNIST they
refuse to train at the output node, since MNIST has neither numeric
targets nor masks.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from archspec.catalogue.primitives import Shape, format_shape
from archspec.errors import DataError, Location, SpecError
from archspec.train.task_base import SAMPLE_COUNT, SampleRows, Task

if TYPE_CHECKING:
    from archspec.train.userdata.sources.base import Scan


class Regress(Task):
    """Numeric targets (a table's column, float arrays): mean squared error, and R² on the test set."""

    name = "regress"
    test_figure_names = ("r2",)
    needs_own_data = True
    default_loss = "mse"
    default_metrics = ("mae",)
    class_targets = False

    def output_problem(self, shape: Shape, node: str, location: Location | None, dataset: str) -> SpecError | None:
        return SpecError(
            f"task 'regress' needs numeric targets, and {dataset} has classes",
            location=location, node=node, expected="train.data: a table or arrays with numeric targets",
            got=f"dataset {dataset}", hint="give train.data (or --data) a CSV table with a target column",
        )

    def data_output_problem(self, shape: Shape, node: str, location: Location | None, scan: Scan) -> SpecError | None:
        if None not in shape and math.prod(shape) == math.prod(scan.target_shape):
            return None
        return SpecError(
            f"task 'regress' compares this output with the targets of {scan.path}",
            location=location, node=node, expected=f"{math.prod(scan.target_shape)} value(s) per example "
            f"(shape {format_shape(scan.target_shape)})", got=format_shape(shape),
            hint=f"end with a dense node of {math.prod(scan.target_shape)} unit(s) and no activation",
        )

    def targets(self, labels: np.ndarray, images: np.ndarray, output_shape: Sequence[int | None]) -> np.ndarray:
        raise DataError("task 'regress' needs numeric targets: give train.data (or --data)")

    def data_targets(self, labels: np.ndarray, output_shape: Sequence[int | None]) -> np.ndarray:
        return labels.astype(np.float32).reshape((len(labels), *output_shape))

    def test_figures(self, predictions: np.ndarray, targets: np.ndarray) -> dict[str, float]:
        residual = float(np.sum((targets - predictions.reshape(targets.shape)) ** 2))
        total = float(np.sum((targets - targets.mean()) ** 2))
        return {"r2": 1.0 - residual / total if total else 0.0}

    def sample_rows(
        self, inputs: np.ndarray, clean: np.ndarray, targets: np.ndarray, predictions: np.ndarray,
    ) -> tuple[SampleRows, list[str] | None]:
        return [], [f"{p:.3g} / {t:.3g}" for p, t in zip(predictions.ravel(), targets.ravel())]


class MultiLabel(Task):
    """Several yes/no labels an example (a table's 0/1 columns): binary cross-entropy, exact match and F1."""

    name = "multilabel"
    test_figure_names = ("exact_match", "f1")
    needs_own_data = True
    default_loss = "binary_crossentropy"
    default_metrics = ("binary_accuracy",)
    class_targets = False

    def output_problem(self, shape: Shape, node: str, location: Location | None, dataset: str) -> SpecError | None:
        return SpecError(
            f"task 'multilabel' needs several labels an example, and {dataset} has one class",
            location=location, node=node, expected="train.data: a table with target: [COLUMN, ...]",
            got=f"dataset {dataset}", hint="give train.data a CSV and its 0/1 label columns as target: [a, b, c]",
        )

    def data_output_problem(self, shape: Shape, node: str, location: Location | None, scan: Scan) -> SpecError | None:
        columns = scan.facts.get("label_columns")
        if not columns:
            return SpecError(
                f"task 'multilabel' needs several 0/1 label columns, and {scan.path} names one target",
                location=location, node=node, expected="data: {target: [COLUMN, COLUMN, ...]}",
                got=f"target {scan.facts.get('target', scan.kind)}", hint="list the label columns in target:",
            )
        if tuple(shape) == (len(columns),):
            return None
        return SpecError(
            f"task 'multilabel' compares this output with the labels {', '.join(columns)} of {scan.path}",
            location=location, node=node, expected=f"{len(columns)} label scores (shape {len(columns)})",
            got=format_shape(shape), hint=f"end with a dense node of {len(columns)} units and sigmoid",
        )

    def targets(self, labels: np.ndarray, images: np.ndarray, output_shape: Sequence[int | None]) -> np.ndarray:
        raise DataError("task 'multilabel' needs label columns: give train.data a table with target: [a, b, ...]")

    def data_targets(self, labels: Any, output_shape: Sequence[int | None]) -> Any:
        return np.asarray(labels, np.float32)

    def test_figures(self, predictions: np.ndarray, targets: Any) -> dict[str, float]:
        chosen, truth = predictions >= 0.5, np.asarray(targets) >= 0.5
        hits = float(np.logical_and(chosen, truth).sum())
        marked = float(chosen.sum() + truth.sum())
        return {"exact_match": float(np.mean(np.all(chosen == truth, axis=-1))),
                "f1": 2.0 * hits / marked if marked else 1.0}

    def sample_rows(
        self, inputs: Any, clean: Any, targets: Any, predictions: np.ndarray,
    ) -> tuple[SampleRows, list[str] | None]:
        return [], None  # predicted scores against the 0/1 labels (finish.py draws them)


class Segment(Task):
    """Per-pixel classes from an images/ + masks/ folder: per-pixel cross-entropy, mean IoU on the test set."""

    name = "segment"
    test_figure_names = ("mean_iou",)
    needs_own_data = True
    default_loss = "sparse_categorical_crossentropy"
    default_metrics = ("accuracy",)

    def output_problem(self, shape: Shape, node: str, location: Location | None, dataset: str) -> SpecError | None:
        return SpecError(
            f"task 'segment' needs masks, and {dataset} has none", location=location, node=node,
            expected="train.data: a folder of images/ and masks/", got=f"dataset {dataset}",
            hint="give train.data (or --data) a folder with images/ and masks/ of the same file names",
        )

    def data_output_problem(self, shape: Shape, node: str, location: Location | None, scan: Scan) -> SpecError | None:
        classes = scan.pixel_classes
        if not classes:
            return SpecError(
                f"task 'segment' needs masks, and {scan.path} is a {scan.kind}", location=location, node=node,
                expected="a folder of images/ and masks/", got=scan.kind,
                hint="give train.data a folder with images/ and masks/ of the same file names",
            )
        if len(shape) == 3 and None not in shape and shape[2] >= classes:  # masks may lack a class, never exceed
            return None
        return SpecError(
            f"task 'segment' compares this output with the masks of {scan.path}, whose pixels hold "
            f"classes 0..{classes - 1} (class {classes - 1} in {scan.facts['largest_class_in']})",
            location=location, node=node,
            expected=f"(height, width, {classes} or more): a class score a pixel for each of classes 0..{classes - 1}",
            got=format_shape(shape),
            hint=f"end with a conv2d of {classes} filters, kernel 1 and softmax (masks are resized to its size)",
        )

    def targets(self, labels: np.ndarray, images: np.ndarray, output_shape: Sequence[int | None]) -> np.ndarray:
        raise DataError("task 'segment' needs masks: give train.data (or --data) a folder of images/ and masks/")

    def data_targets(self, labels: Any, output_shape: Sequence[int | None]) -> Any:
        return labels  # mask files, decoded as they stream

    def test_figures(self, predictions: np.ndarray, targets: Any) -> dict[str, float]:
        return {"mean_iou": mean_iou(predictions.argmax(axis=-1), np.asarray(targets[:]), predictions.shape[-1])}

    def sample_rows(
        self, inputs: Any, clean: Any, targets: Any, predictions: np.ndarray,
    ) -> tuple[SampleRows, list[str] | None]:
        classes = max(predictions.shape[-1] - 1, 1)
        masks = np.asarray(targets[:SAMPLE_COUNT]) / classes
        predicted = predictions[:SAMPLE_COUNT].argmax(axis=-1) / classes
        return [("image", np.asarray(clean[:SAMPLE_COUNT])), ("mask", masks), ("predicted", predicted)], None


class NextToken(Task):
    """Next-token language modelling on a text's characters or on token ids: cross-entropy, perplexity."""

    name = "next_token"
    test_figure_names = ("perplexity",)
    needs_own_data = True
    default_loss = "sparse_categorical_crossentropy"
    default_metrics = ("accuracy",)

    def output_problem(self, shape: Shape, node: str, location: Location | None, dataset: str) -> SpecError | None:
        return SpecError(
            f"task 'next_token' needs text, and {dataset} is images", location=location, node=node,
            expected="train.data: a text file (.txt, one text a line)", got=f"dataset {dataset}",
            hint="give train.data (or --data) a .txt file",
        )

    def data_output_problem(self, shape: Shape, node: str, location: Location | None, scan: Scan) -> SpecError | None:
        if not scan.token_ids:
            return SpecError(
                f"task 'next_token' needs text or token ids, and {scan.path} is a {scan.kind}", location=location,
                node=node, expected="a text file (.txt, one text a line) or token ids (.npy)", got=scan.kind,
                hint="give train.data a .txt file, or an .npy of integer token ids",
            )
        vocabulary = scan.token_ids
        if len(shape) == 2 and shape[1] is not None and shape[1] >= vocabulary:
            return None
        return SpecError(
            f"task 'next_token' scores every {scan.facts['token']} of {scan.path} at every position",
            location=location, node=node,
            expected=f"(length, {vocabulary} or more): {scan.facts['token_ids_hold']}",
            got=format_shape(shape),
            hint=f"end with a dense node of {vocabulary} units and softmax, applied at every position",
        )

    def targets(self, labels: np.ndarray, images: np.ndarray, output_shape: Sequence[int | None]) -> np.ndarray:
        raise DataError("task 'next_token' needs text: give train.data (or --data) a .txt file")

    def data_targets(self, labels: Any, output_shape: Sequence[int | None]) -> Any:
        return np.asarray(labels, np.int32)

    def test_figures(self, predictions: np.ndarray, targets: Any) -> dict[str, float]:
        chosen = np.take_along_axis(predictions, np.asarray(targets)[..., None], axis=-1)
        return {"perplexity": float(np.exp(-np.mean(np.log(np.maximum(chosen, 1e-12)))))}

    def sample_rows(
        self, inputs: Any, clean: Any, targets: Any, predictions: np.ndarray,
    ) -> tuple[SampleRows, list[str] | None]:
        return [("input ids", np.asarray(inputs[:SAMPLE_COUNT], np.float32) / max(float(np.max(inputs)), 1.0)),
                ("predicted", predictions[:SAMPLE_COUNT].argmax(-1) / max(predictions.shape[-1] - 1, 1))], None


def mean_iou(predicted: np.ndarray, truth: np.ndarray, classes: int) -> float:
    """The mean over classes present in either of intersection / union of their pixels."""
    scores = []
    for number in range(classes):
        union = np.logical_or(predicted == number, truth == number).sum()
        if union:
            scores.append(np.logical_and(predicted == number, truth == number).sum() / union)
    return float(np.mean(scores)) if scores else 0.0
