"""Training tasks as a registry: each `Task` says what its model must look like and how it is scored.

`archspec fit` trains on 28x28 greyscale images (MNIST, Fashion-MNIST). A
task holds everything that differs between classify, autoencode and denoise:
the default loss and metrics, the static check of the model's output shape
(so a model that cannot take the data is refused at its output node, before
TensorFlow is imported, and `archspec validate` finds it too), the targets it
learns, whether it needs noise, the extra test figures and the sample picture.
Adding a task is one class here plus its name in `TASKS`; nothing else names
tasks. numpy only (no TensorFlow): `validate` imports this module.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import ClassVar

import networkx as nx
import numpy as np

from archspec.errors import DataError, Location, SpecError, raise_collected
from archspec.graph.primitives import Shape, format_shape

IMAGE_SIZE = (28, 28)
IMAGE_VALUES = IMAGE_SIZE[0] * IMAGE_SIZE[1]
CLASSES = 10
IMAGE_SHAPES_TEXT = "784 values, e.g. 28x28x1, 28x28 or 784"
SAMPLE_COUNT = 10

SampleRows = list[tuple[str, np.ndarray]]


def holds_image(shape: Shape) -> bool:
    """A fully known shape with exactly 28*28 values (a 28x28 image reshaped into it)."""
    return None not in shape and math.prod(shape) == IMAGE_VALUES


def fit_images(images: np.ndarray, shape: Sequence[int | None], what: str) -> np.ndarray:
    """uint8 (N, 28, 28) -> float32 in [0, 1] of shape (N, *shape), e.g. (28, 28) or (28, 28, 1)."""
    if None in shape or int(np.prod(shape)) != IMAGE_VALUES:
        raise DataError(
            f"the model's {what} shape {tuple(shape)} does not hold a 28x28 image; "
            "use (28, 28), (28, 28, 1) or (784,)"
        )
    return (images.astype(np.float32) / 255.0).reshape((len(images), *shape))


def psnr(predictions: np.ndarray, targets: np.ndarray) -> float:
    """Mean over images of 10 log10(1 / MSE), for images in [0, 1]."""
    axes = tuple(range(1, targets.ndim))
    mse = np.mean((predictions.astype(np.float64) - targets) ** 2, axis=axes)
    return float(np.mean(10.0 * np.log10(1.0 / np.maximum(mse, 1e-10))))


class Task:
    """One training task; subclasses fill in the class attributes and the methods that differ."""

    name: ClassVar[str]
    default_loss: ClassVar[str]
    default_metrics: ClassVar[tuple[str, ...]] = ()
    test_figure_names: ClassVar[tuple[str, ...]] = ()
    """The names test_figures returns, known before anything trains (a sweep checks its objective)."""
    uses_noise: ClassVar[bool] = False
    """True: training inputs get fresh noise each batch; validation and test inputs a fixed noisy copy."""

    def output_problem(self, shape: Shape, node: str, location: Location | None, dataset: str) -> SpecError | None:
        """The SpecError of an output node this task cannot compare with its targets, else None."""
        raise NotImplementedError

    def targets(self, labels: np.ndarray, images: np.ndarray, output_shape: Sequence[int | None]) -> np.ndarray:
        """What the model learns to output for these (uint8) labels and images."""
        raise NotImplementedError

    def test_figures(self, predictions: np.ndarray, targets: np.ndarray) -> dict[str, float]:
        """Figures beyond the compiled loss and metrics, on the test set."""
        return {}

    def sample_rows(
        self, inputs: np.ndarray, clean: np.ndarray, targets: np.ndarray, predictions: np.ndarray,
    ) -> tuple[SampleRows, list[str] | None]:
        """The rows of samples.png (label, images) and optional column titles."""
        raise NotImplementedError


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


TASKS: dict[str, Task] = {task.name: task for task in (Classify(), Autoencode(), Denoise())}


def get_task(name: str) -> Task:
    try:
        return TASKS[name]
    except KeyError:
        raise DataError(f"unknown task '{name}'; expected one of {', '.join(TASKS)}") from None


# ---------------------------------------------------------------- the static check


def check_task_fits(graph: nx.MultiDiGraph, task: str, dataset: str) -> None:
    """Raise the SpecError(s) of an input or output that the task's data cannot fill or match."""
    raise_collected(task_problems(graph, task, dataset))


def task_problems(graph: nx.MultiDiGraph, task: str, dataset: str) -> list[SpecError]:
    inputs = [name for name, data in graph.nodes(data=True) if data["kind"] == "input"]
    outputs = graph.graph["outputs"]
    extra = [(name, "input") for name in inputs[1:]] + [(name, "node") for name in outputs[1:]]
    if extra:
        name, kind = extra[0]
        return [SpecError(
            "`archspec fit` trains models with one input and one output",
            location=graph.nodes[name]["location"], node=name, node_kind=kind,
            expected="1 input and 1 output",
            got=f"{len(inputs)} input(s) ({', '.join(inputs)}) and {len(outputs)} output(s) ({', '.join(outputs)})",
            hint="build and train such a model from Python with archspec.compile_model(spec)",
        )]
    problems = []
    image_input, output = inputs[0], outputs[0]
    shape = graph.nodes[image_input]["shape"]
    if not holds_image(shape):
        problems.append(SpecError(
            f"task '{task}' feeds this input {dataset}'s 28x28 greyscale images",
            location=graph.nodes[image_input]["location"], node=image_input, node_kind="input",
            expected=IMAGE_SHAPES_TEXT, got=format_shape(shape),
            hint="give the input shape [28, 28, 1] (archspec fit trains on MNIST-sized images only)",
        ))
    problem = get_task(task).output_problem(
        graph.nodes[output]["shape"], output, graph.nodes[output]["location"], dataset)
    if problem is not None:
        problems.append(problem)
    return problems


def model_shapes(graph: nx.MultiDiGraph) -> tuple[Shape, Shape]:
    """The (input, output) shapes of a model that passed `check_task_fits`, read from its graph."""
    inputs = [name for name, data in graph.nodes(data=True) if data["kind"] == "input"]
    return tuple(graph.nodes[inputs[0]]["shape"]), tuple(graph.nodes[graph.graph["outputs"][0]]["shape"])
