"""Training tasks as a registry: each `Task` says what its model must look like and how it is scored.

`archspec fit` trains on 28x28 greyscale images (MNIST, Fashion-MNIST) or on
a user's own data (archspec.train.userdata). A task (task_base.Task) holds everything
that differs between classify, autoencode, denoise, regress and segment:
the default loss and metrics, the static check of the model's output shape
(so a model that cannot take the data is refused at its output node, before
TensorFlow is imported, and `archspec validate` finds it too), the targets it
learns, whether it needs noise, the extra test figures and the sample picture.
The MNIST tasks live here, those of own data only in data_tasks.py; adding a
task is one class plus its entry in `TASKS` (and its name in TrainSpec.task);
nothing else names tasks. numpy only (no TensorFlow): `validate` imports this.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from archspec.catalogue.primitives import Shape, format_shape
from archspec.errors import DataError, Location, SpecError, raise_collected
from archspec.graph.ir import node_of
from archspec.train.data_tasks import MultiLabel, NextToken, Regress, Segment
from archspec.train.task_base import (
    CLASSES,
    DATASETS,
    IMAGE_SHAPES_TEXT,
    IMAGE_SIZE,
    IMAGE_VALUES,
    SAMPLE_COUNT,
    SampleRows,
    Task,
    fit_images,
    holds_image,
    psnr,
)

if TYPE_CHECKING:
    import networkx as nx  # only annotated: the CLI lists TASKS without loading networkx

    from archspec.train.userdata.sources.base import Scan

__all__ = [
    "CLASSES", "DATASETS", "IMAGE_SHAPES_TEXT", "IMAGE_SIZE", "IMAGE_VALUES", "SAMPLE_COUNT", "TASKS", "Autoencode",
    "Classify", "Denoise", "MultiLabel", "NextToken", "Regress", "SampleRows", "Segment", "Task", "check_task_fits",
    "fit_images", "get_task", "holds_image", "model_shapes", "psnr", "single_input_output", "task_problems",
]


class Classify(Task):
    name = "classify"
    default_loss = "sparse_categorical_crossentropy"
    default_metrics = ("accuracy",)

    def output_problem(self, shape: Shape, node: str, location: Location | None, dataset: str) -> SpecError | None:
        if tuple(shape) == (CLASSES,):
            return None
        return SpecError(
            f"task 'classify' compares this output with one of {dataset}'s {CLASSES} classes",
            location=location, node=node,
            expected=f"{CLASSES} class scores (shape {CLASSES})", got=format_shape(shape),
            hint=f"end with a dense node of {CLASSES} units and softmax (after a flatten), "
            "or train it with task: autoencode or denoise",
        )

    def targets(self, labels: np.ndarray, images: np.ndarray, output_shape: Sequence[int | None]) -> np.ndarray:
        if tuple(output_shape)[-1:] != (CLASSES,):
            raise DataError(
                f"task 'classify' needs a model output of {CLASSES} class scores, "
                f"the model's output shape is {tuple(output_shape)}"
            )
        return labels.astype(np.int32)

    def data_output_problem(self, shape: Shape, node: str, location: Location | None, scan: Scan) -> SpecError | None:
        classes = scan.classes or ()
        if classes and tuple(shape) == (len(classes),):
            return None
        if not classes:
            return SpecError(
                f"task 'classify' needs classes, and the targets of {scan.path} are numbers",
                location=location, node=node, expected="class targets (class folders, integer labels, text)",
                got="numeric targets", hint="train it with task: regress",
            )
        shown = ", ".join(classes[:12]) + (", ..." if len(classes) > 12 else "")
        return SpecError(
            f"task 'classify' compares this output with the {len(classes)} classes of {scan.path} ({shown})",
            location=location, node=node,
            expected=f"{len(classes)} class scores (shape {len(classes)})", got=format_shape(shape),
            hint=f"end with a dense node of {len(classes)} units and softmax",
        )

    def data_targets(self, labels: np.ndarray, output_shape: Sequence[int | None]) -> np.ndarray:
        return labels.astype(np.int32)

    def sample_rows(
        self, inputs: np.ndarray, clean: np.ndarray, targets: np.ndarray, predictions: np.ndarray,
    ) -> tuple[SampleRows, list[str] | None]:
        predicted = predictions[:SAMPLE_COUNT].argmax(axis=-1)
        titles = [f"{p} / {t}" for p, t in zip(predicted, targets[:SAMPLE_COUNT])]
        return [("pred / true", clean[:SAMPLE_COUNT])], titles


class Autoencode(Task):
    """The clean image in, the same image out."""

    name = "autoencode"
    default_loss = "binary_crossentropy"
    test_figure_names = ("psnr",)

    def output_problem(self, shape: Shape, node: str, location: Location | None, dataset: str) -> SpecError | None:
        if holds_image(shape):
            return None
        return SpecError(
            f"task '{self.name}' compares this output with the clean 28x28 image",
            location=location, node=node, expected=IMAGE_SHAPES_TEXT, got=format_shape(shape),
            hint="end with a conv2d of 1 filter and sigmoid at 28x28, or train it with task: classify",
        )

    def targets(self, labels: np.ndarray, images: np.ndarray, output_shape: Sequence[int | None]) -> np.ndarray:
        return fit_images(images, output_shape, "output")

    def test_figures(self, predictions: np.ndarray, targets: np.ndarray) -> dict[str, float]:
        return {"psnr": psnr(predictions, targets)}

    def sample_rows(
        self, inputs: np.ndarray, clean: np.ndarray, targets: np.ndarray, predictions: np.ndarray,
    ) -> tuple[SampleRows, list[str] | None]:
        count = SAMPLE_COUNT
        return [("input", inputs[:count]), ("output", predictions[:count]), ("target", targets[:count])], None


class Denoise(Autoencode):
    """A noisy image in, the clean image out."""

    name = "denoise"
    uses_noise = True


TASKS: dict[str, Task] = {
    task.name: task for task in (Classify(), Autoencode(), Denoise(), Regress(), Segment(), NextToken(), MultiLabel())
}


def get_task(name: str) -> Task:
    try:
        return TASKS[name]
    except KeyError:
        raise DataError(f"unknown task '{name}'; expected one of {', '.join(TASKS)}") from None


# ---------------------------------------------------------------- the static check


def check_task_fits(graph: nx.MultiDiGraph, task: str, dataset: str) -> None:
    """Raise the SpecError(s) of an input or output that the task's data cannot fill or match."""
    raise_collected(task_problems(graph, task, dataset))


def single_input_output(graph: nx.MultiDiGraph) -> SpecError | None:
    """The SpecError of a model with more than one input or output (`archspec fit` feeds one of each)."""
    inputs = [name for name, data in graph.nodes(data=True) if data.is_input]
    outputs = graph.graph["outputs"]
    extra = [(name, "input") for name in inputs[1:]] + [(name, "node") for name in outputs[1:]]
    if not extra:
        return None
    name, kind = extra[0]
    return SpecError(
        "`archspec fit` trains models with one input and one output",
        location=node_of(graph, name).location, node=name, node_kind=kind,
        expected="1 input and 1 output",
        got=f"{len(inputs)} input(s) ({', '.join(inputs)}) and {len(outputs)} output(s) ({', '.join(outputs)})",
        hint="build and train such a model from Python with archspec.compile_model(spec)",
    )


def task_problems(graph: nx.MultiDiGraph, task: str, dataset: str) -> list[SpecError]:
    several = single_input_output(graph)
    if several is not None:
        return [several]
    inputs = [name for name, data in graph.nodes(data=True) if data.is_input]
    outputs = graph.graph["outputs"]
    problems = []
    image_input, output = inputs[0], outputs[0]
    shape = node_of(graph, image_input).shape
    if not holds_image(shape):
        problems.append(SpecError(
            f"task '{task}' feeds this input {dataset}'s 28x28 greyscale images",
            location=node_of(graph, image_input).location, node=image_input, node_kind="input",
            expected=IMAGE_SHAPES_TEXT, got=format_shape(shape),
            hint="give the input shape [28, 28, 1] (archspec fit trains on MNIST-sized images only)",
        ))
    problem = get_task(task).output_problem(
        node_of(graph, output).shape, output, node_of(graph, output).location, dataset)
    if problem is not None:
        problems.append(problem)
    return problems


def model_shapes(graph: nx.MultiDiGraph) -> tuple[Shape, Shape]:
    """The (input, output) shapes of a model that passed `check_task_fits`, read from its graph."""
    inputs = [name for name, data in graph.nodes(data=True) if data.is_input]
    return tuple(node_of(graph, inputs[0]).shape), tuple(node_of(graph, graph.graph["outputs"][0]).shape)
