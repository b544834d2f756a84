"""What a training task is (`Task`), and the image helpers the tasks share; the registry is tasks.py.

A task holds everything that differs between tasks: the default loss and
metrics, the static check of the model's output shape against MNIST-like
data (`output_problem`) and against a user's own data
(`data_output_problem`), the targets it learns, its extra test figures and
its sample picture. numpy only (no TensorFlow): `validate` imports it.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, ClassVar

import numpy as np

from archspec.catalogue.primitives import Shape
from archspec.catalogue.training import DATASET_NAMES
from archspec.errors import DataError, Location, SpecError

if TYPE_CHECKING:
    from archspec.train.userdata.sources.base import Scan

IMAGE_SIZE = (28, 28)
IMAGE_VALUES = IMAGE_SIZE[0] * IMAGE_SIZE[1]
CLASSES = 10
IMAGE_SHAPES_TEXT = "784 values, e.g. 28x28x1, 28x28 or 784"
SAMPLE_COUNT = 10
DATASETS = DATASET_NAMES
"""Every dataset `train: dataset` may name; each is also the name of its `keras.datasets` loader."""

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
    needs_own_data: ClassVar[bool] = False
    """True: there is nothing to check a spec against until its data is named (train.data or --data)."""
    class_targets: ClassVar[bool] = True
    """Own data (archspec.train.userdata): read the targets as classes (True) or as numeric values (False)."""

    def output_problem(self, shape: Shape, node: str, location: Location | None, dataset: str) -> SpecError | None:
        """The SpecError of an output node this task cannot compare with its targets, else None."""
        raise NotImplementedError

    def targets(self, labels: np.ndarray, images: np.ndarray, output_shape: Sequence[int | None]) -> np.ndarray:
        """What the model learns to output for these (uint8) labels and images."""
        raise NotImplementedError

    def data_output_problem(self, shape: Shape, node: str, location: Location | None, scan: Scan) -> SpecError | None:
        """The SpecError of an output node that cannot learn the targets of a user's own data, else None."""
        return SpecError(
            f"task '{self.name}' trains on {', '.join(DATASETS)} only, not on data of your own ({scan.path})",
            location=location, node=node, expected="task classify or regress", got=f"task {self.name}",
            hint="give train.task classify (class folders, integer targets) or regress (numeric targets)",
        )

    def data_targets(self, labels: np.ndarray, output_shape: Sequence[int | None]) -> np.ndarray:
        """What the model learns to output for the targets a data source read (class indices or values)."""
        raise DataError(f"task '{self.name}' does not train on data of your own")

    def test_figures(self, predictions: np.ndarray, targets: np.ndarray) -> dict[str, float]:
        """Figures beyond the compiled loss and metrics, on the test set."""
        return {}

    def sample_rows(
        self, inputs: np.ndarray, clean: np.ndarray, targets: np.ndarray, predictions: np.ndarray,
    ) -> tuple[SampleRows, list[str] | None]:
        """The rows of samples.png (label, images) and optional column titles."""
        raise NotImplementedError
