"""The arrays a run trains on: a dataset shaped for the model and for its task, split for validation.

Reading the files is datasets.py's job and feeding them to TensorFlow is
pipeline.py's; this module only turns uint8 arrays into the model's inputs and
the task's targets (archspec.train.tasks), scaled to [0, 1], with fixed noisy
copies of the validation and test inputs for the tasks that use noise. numpy
only: a run prepares its data before TensorFlow builds anything, so a data
fault is reported first.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from archspec.errors import DataError
from archspec.train.datasets import DATA_DIR_ENV, Arrays, load_arrays, read_idx, resolve_data_dir
from archspec.train.tasks import fit_images, get_task

__all__ = [
    "DATA_DIR_ENV", "NOISES", "Arrays", "Prepared", "add_noise_numpy", "fit_images", "load_arrays", "prepare",
    "read_idx", "resolve_data_dir",
]

TEST_NOISE_SEED = 20231  # one fixed noisy test set, whatever the run's seed: runs stay comparable


@dataclass
class Prepared:
    """The arrays a task trains on, already shaped for the model and scaled to [0, 1].

    `x_*` are model inputs (noisy copies for validation and test when the task
    uses noise), `y_*` targets; `clean_*` the clean images (for sample plots);
    `noise` is None or (kind, amount), applied afresh each epoch to the
    training inputs.
    """

    task: str
    x_train: np.ndarray
    y_train: np.ndarray
    x_val: np.ndarray | None
    y_val: np.ndarray | None
    x_test: np.ndarray
    y_test: np.ndarray
    clean_test: np.ndarray
    noise: tuple[str, float] | None


def _gaussian(images: np.ndarray, stddev: float, rng: np.random.Generator) -> np.ndarray:
    noisy = images + stddev * rng.standard_normal(images.shape, dtype=np.float32)
    return np.clip(noisy, 0.0, 1.0).astype(np.float32)


def _salt_pepper(images: np.ndarray, amount: float, rng: np.random.Generator) -> np.ndarray:
    draw = rng.random(images.shape, dtype=np.float32)
    return np.where(draw < amount / 2, 0.0, np.where(draw > 1 - amount / 2, 1.0, images)).astype(
        np.float32
    )


NOISES: dict[str, Callable[[np.ndarray, float, np.random.Generator], np.ndarray]] = {
    "gaussian": _gaussian,
    "salt_pepper": _salt_pepper,
}
"""Every noise kind `train: noise` may name (numpy, for the fixed noisy copies); the training
pipeline draws the same kinds in TensorFlow (pipeline.NOISE_FUNCTIONS, one per name here)."""


def add_noise_numpy(images: np.ndarray, noise: tuple[str, float], seed: int) -> np.ndarray:
    """A fixed noisy copy (validation and test sets), drawn from its own seeded generator."""
    kind, amount = noise
    return NOISES[kind](images, amount, np.random.default_rng(seed))


def prepare(
    arrays: Arrays,
    task_name: str,
    input_shape: Sequence[int | None],
    output_shape: Sequence[int | None],
    *,
    noise: tuple[str, float] | None = None,
    validation_split: float = 0.1,
    subset: int | None = None,
) -> Prepared:
    """Shape the arrays for the model and the task; split off validation (the last fraction, as Keras)."""
    task = get_task(task_name)
    if task.uses_noise and noise is None:
        raise DataError(f"task '{task.name}' needs noise, e.g. noise: {{gaussian: 0.5}} in train:")
    if subset is not None:
        arrays = Arrays(
            arrays.x_train[:subset], arrays.y_train[:subset],
            arrays.x_test[:subset], arrays.y_test[:subset],
        )
    images_train = fit_images(arrays.x_train, input_shape, "input")
    images_test = fit_images(arrays.x_test, input_shape, "input")
    targets_train = task.targets(arrays.y_train, arrays.x_train, output_shape)
    targets_test = task.targets(arrays.y_test, arrays.x_test, output_shape)
    n_val = round(len(images_train) * validation_split)
    n_train = len(images_train) - n_val
    if n_train < 1:
        raise DataError(f"no training examples left after a validation split of {validation_split}")
    x_train, x_val = images_train[:n_train], images_train[n_train:]
    y_train, y_val = targets_train[:n_train], targets_train[n_train:]
    train_noise = noise if task.uses_noise else None
    x_test = images_test
    if train_noise is not None:
        x_val = add_noise_numpy(x_val, train_noise, TEST_NOISE_SEED + 1)
        x_test = add_noise_numpy(x_test, train_noise, TEST_NOISE_SEED)
    return Prepared(
        task=task.name,
        x_train=x_train,
        y_train=y_train,
        x_val=x_val if n_val else None,
        y_val=y_val if n_val else None,
        x_test=x_test,
        y_test=targets_test,
        clean_test=images_test,
        noise=train_noise,
    )
