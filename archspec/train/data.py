"""Datasets (MNIST, Fashion-MNIST) and tasks (classify, autoencode, denoise) for `archspec fit`.

The IDX files are read and checked here (magic number, dimensions, sizes), so
that a corrupt, truncated or missing file ends in one DataError naming the
file and what is wrong with it, instead of a numpy traceback. Without a data
directory, Keras's own downloader and cache are used (what a user with
internet gets); tests always point ARCHSPEC_DATA_DIR at a local copy.

numpy only at import time; TensorFlow is imported by `make_pipeline` alone.
"""

from __future__ import annotations

import gzip
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from archspec.errors import DataError
from archspec.train.tasks import CLASSES, IMAGE_SIZE

DATA_DIR_ENV = "ARCHSPEC_DATA_DIR"
TEST_NOISE_SEED = 20231  # one fixed noisy test set, whatever the run's seed: runs stay comparable

# IDX element types (the third byte of the magic number) that MNIST-like files may use
IDX_TYPES = {0x08: np.uint8}

# split -> (images file, labels file); the names are those of the original distribution
IDX_FILES = {
    "train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}

KERAS_LOADERS = {"mnist": "mnist", "fashion_mnist": "fashion_mnist"}


@dataclass(frozen=True)
class Arrays:
    """A dataset as uint8 arrays: images (N, 28, 28) and labels (N,)."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray


@dataclass
class Prepared:
    """The arrays a task trains on, already shaped for the model and scaled to [0, 1].

    `x_*` are model inputs (noisy copies for validation and test when denoising),
    `y_*` targets; `clean_*` the clean images (for sample plots); `noise` is None
    or (kind, amount), applied afresh each epoch to the training inputs.
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


# ---------------------------------------------------------------- reading IDX files


def read_idx(path: Path) -> np.ndarray:
    """Read one IDX file (gzipped or not) and check its header against its size."""
    try:
        raw = _read_bytes(path)
    except OSError as error:
        raise DataError(f"{path}: cannot read the file ({error.strerror or error})") from None
    if len(raw) < 4:
        raise DataError(f"{path}: truncated: {len(raw)} bytes, not even an IDX header")
    zero, dtype_code, ndim = int.from_bytes(raw[:2], "big"), raw[2], raw[3]
    if zero != 0 or dtype_code not in IDX_TYPES or not 1 <= ndim <= 4:
        raise DataError(
            f"{path}: not an IDX file of unsigned bytes: magic number 0x{raw[:4].hex()}, "
            "expected 0x00000801 (labels) or 0x00000803 (images)"
        )
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise DataError(f"{path}: truncated inside the header ({len(raw)} bytes)")
    shape = tuple(int.from_bytes(raw[4 + 4 * i: 8 + 4 * i], "big") for i in range(ndim))
    expected = header + int(np.prod(shape))
    if len(raw) != expected:
        state = "truncated" if len(raw) < expected else "too long"
        raise DataError(
            f"{path}: {state}: the header promises {shape} = {expected:,} bytes "
            f"with the header, the file has {len(raw):,}"
        )
    return np.frombuffer(raw, dtype=IDX_TYPES[dtype_code], offset=header).reshape(shape)


def _read_bytes(path: Path) -> bytes:
    if path.suffix != ".gz":
        return path.read_bytes()
    try:
        with gzip.open(path, "rb") as handle:
            return handle.read()
    except (EOFError, gzip.BadGzipFile, OSError) as error:
        raise DataError(f"{path}: corrupt gzip data ({error})") from None


def find_idx(directory: Path, stem: str) -> Path:
    """The file `stem` or `stem.gz` in `directory` (the original names, as downloaded)."""
    for candidate in (directory / stem, directory / f"{stem}.gz"):
        if candidate.is_file():
            return candidate
    raise DataError(
        f"{directory}: missing {stem}(.gz); a data directory holds the four IDX files "
        + ", ".join(f"{name}(.gz)" for pair in IDX_FILES.values() for name in pair)
    )


_CACHE: dict[tuple, Arrays] = {}


def read_idx_directory(directory: Path) -> Arrays:
    """Read and cross-check the four IDX files of a directory (kept in memory while unchanged)."""
    if not directory.is_dir():
        raise DataError(f"{directory}: data directory does not exist")
    files = [find_idx(directory, stem) for pair in IDX_FILES.values() for stem in pair]
    key = tuple((str(path.resolve()), path.stat().st_mtime_ns, path.stat().st_size) for path in files)
    if key not in _CACHE:
        _CACHE.clear()
        _CACHE[key] = _read_checked(directory)
    return _CACHE[key]


def _read_checked(directory: Path) -> Arrays:
    split_arrays = []
    for split, (images_stem, labels_stem) in IDX_FILES.items():
        images_path, labels_path = find_idx(directory, images_stem), find_idx(directory, labels_stem)
        images, labels = read_idx(images_path), read_idx(labels_path)
        if images.ndim != 3 or images.shape[1:] != IMAGE_SIZE:
            raise DataError(f"{images_path}: expected images of shape (N, 28, 28), got {images.shape}")
        if labels.ndim != 1:
            raise DataError(f"{labels_path}: expected a vector of labels, got shape {labels.shape}")
        if len(images) != len(labels):
            raise DataError(
                f"{labels_path}: {len(labels):,} labels for {len(images):,} {split} images "
                f"in {images_path.name}"
            )
        if labels.size and labels.max() >= CLASSES:
            raise DataError(f"{labels_path}: label {labels.max()} out of range 0..{CLASSES - 1}")
        split_arrays.extend([images, labels])
    return Arrays(*split_arrays)


def resolve_data_dir(dataset: str, data_dir: str | Path | None) -> Path | None:
    """The IDX directory to read: the option, else $ARCHSPEC_DATA_DIR, else None (download).

    A directory may hold the four files directly, or one sub-folder per dataset
    (`mnist/`, `fashion_mnist/`); the sub-folder wins.
    """
    chosen = data_dir if data_dir is not None else os.environ.get(DATA_DIR_ENV) or None
    if chosen is None:
        return None
    directory = Path(chosen).expanduser()
    return directory / dataset if (directory / dataset).is_dir() else directory


def load_arrays(dataset: str, data_dir: str | Path | None = None) -> Arrays:
    """MNIST or Fashion-MNIST as uint8 arrays, from an IDX directory or Keras's download cache."""
    if dataset not in KERAS_LOADERS:
        raise DataError(f"unknown dataset '{dataset}'; expected one of {', '.join(KERAS_LOADERS)}")
    directory = resolve_data_dir(dataset, data_dir)
    if directory is not None:
        return read_idx_directory(directory)
    from archspec.keras.backend import import_keras

    loader = getattr(import_keras().datasets, KERAS_LOADERS[dataset])
    try:
        (x_train, y_train), (x_test, y_test) = loader.load_data()
    except Exception as error:  # network, proxy or cache trouble: say how to avoid the download
        raise DataError(
            f"could not download {dataset} through Keras ({error}); "
            f"give the IDX files' folder with --data-dir or ${DATA_DIR_ENV}"
        ) from None
    return Arrays(x_train, y_train, x_test, y_test)


# ---------------------------------------------------------------- tasks


def fit_images(images: np.ndarray, shape: tuple[int, ...], what: str) -> np.ndarray:
    """uint8 (N, 28, 28) -> float32 in [0, 1] of shape (N, *shape), e.g. (28, 28) or (28, 28, 1)."""
    if int(np.prod(shape)) != IMAGE_SIZE[0] * IMAGE_SIZE[1] or None in shape:
        raise DataError(
            f"the model's {what} shape {tuple(shape)} does not hold a 28x28 image; "
            "use (28, 28), (28, 28, 1) or (784,)"
        )
    return (images.astype(np.float32) / 255.0).reshape((len(images), *shape))


def add_noise_numpy(images: np.ndarray, noise: tuple[str, float], seed: int) -> np.ndarray:
    """A fixed noisy copy (validation and test sets), drawn from its own seeded generator."""
    kind, amount = noise
    rng = np.random.default_rng(seed)
    if kind == "gaussian":
        noisy = images + amount * rng.standard_normal(images.shape, dtype=np.float32)
        return np.clip(noisy, 0.0, 1.0).astype(np.float32)
    draw = rng.random(images.shape, dtype=np.float32)
    return np.where(draw < amount / 2, 0.0, np.where(draw > 1 - amount / 2, 1.0, images)).astype(
        np.float32
    )


def _targets_classify(arrays: Arrays, output_shape: tuple) -> dict:
    if tuple(output_shape)[-1:] != (CLASSES,):
        raise DataError(
            f"task 'classify' needs a model output of {CLASSES} class scores, "
            f"the model's output shape is {tuple(output_shape)}"
        )
    return {"train": arrays.y_train.astype(np.int32), "test": arrays.y_test.astype(np.int32)}


def _targets_images(arrays: Arrays, output_shape: tuple) -> dict:
    return {
        split: fit_images((arrays.x_train if split == "train" else arrays.x_test), output_shape, "output")
        for split in ("train", "test")
    }


TASK_TARGETS: dict[str, Callable[[Arrays, tuple], dict]] = {
    "classify": _targets_classify,
    "autoencode": _targets_images,
    "denoise": _targets_images,
}


def prepare(
    arrays: Arrays,
    task: str,
    input_shape: tuple[int, ...],
    output_shape: tuple[int, ...],
    *,
    noise: tuple[str, float] | None = None,
    validation_split: float = 0.1,
    subset: int | None = None,
) -> Prepared:
    """Shape the arrays for the model and the task; split off validation (the last fraction, as Keras)."""
    if task not in TASK_TARGETS:
        raise DataError(f"unknown task '{task}'; expected one of {', '.join(TASK_TARGETS)}")
    if task == "denoise" and noise is None:
        raise DataError("task 'denoise' needs noise, e.g. noise: {gaussian: 0.5} in train:")
    if subset is not None:
        arrays = Arrays(
            arrays.x_train[:subset], arrays.y_train[:subset],
            arrays.x_test[:subset], arrays.y_test[:subset],
        )
    images = {
        "train": fit_images(arrays.x_train, input_shape, "input"),
        "test": fit_images(arrays.x_test, input_shape, "input"),
    }
    targets = TASK_TARGETS[task](arrays, output_shape)
    n_val = round(len(images["train"]) * validation_split)
    n_train = len(images["train"]) - n_val
    if n_train < 1:
        raise DataError(f"no training examples left after a validation split of {validation_split}")
    x_train, x_val = images["train"][:n_train], images["train"][n_train:]
    y_train, y_val = targets["train"][:n_train], targets["train"][n_train:]
    train_noise = noise if task == "denoise" else None
    x_test = images["test"]
    if train_noise is not None:
        x_val = add_noise_numpy(x_val, train_noise, TEST_NOISE_SEED + 1)
        x_test = add_noise_numpy(x_test, train_noise, TEST_NOISE_SEED)
    return Prepared(
        task=task,
        x_train=x_train,
        y_train=y_train,
        x_val=x_val if n_val else None,
        y_val=y_val if n_val else None,
        x_test=x_test,
        y_test=targets["test"],
        clean_test=images["test"],
        noise=train_noise,
    )


# ---------------------------------------------------------------- the tf.data pipeline


def make_pipeline(
    x: np.ndarray,
    y: np.ndarray,
    batch_size: int,
    *,
    shuffle: bool,
    seed: int | None,
    noise: tuple[str, float] | None = None,
) -> Any:
    """A tf.data pipeline over in-memory arrays, built for speed on small models.

    The arrays become two constant tensors held once (the "cache"); what flows
    through the pipeline is batches of indices, gathered a whole batch at a time
    (batching single examples costs a Python-free but per-element op each).
    Shuffling happens on indices and differs each epoch; with noise, one seed
    pair per batch is drawn from a re-randomised random stream, so the noise is
    new each epoch and still reproducible from `seed`.
    """
    import tensorflow as tf

    x_all, y_all = tf.constant(x), tf.constant(y)
    indices = tf.data.Dataset.range(len(x))
    if shuffle:
        indices = indices.shuffle(len(x), seed=seed, reshuffle_each_iteration=True)
    batches = indices.batch(batch_size)

    def gather(index: Any) -> tuple[Any, Any]:
        return tf.gather(x_all, index), tf.gather(y_all, index)

    # Sequential maps and a one-batch prefetch: on a 2-core CPU, tf.data's AUTOTUNE thread pools
    # compete with the model's own compute threads (the CNN ran ~20% slower with them).
    dataset = batches.map(gather)
    if noise is not None:
        seeds = tf.data.Dataset.random(seed=seed, rerandomize_each_iteration=True).batch(2)
        add = NOISE_FUNCTIONS[noise[0]]
        amount = float(noise[1])
        dataset = tf.data.Dataset.zip((dataset, seeds)).map(
            lambda pair, pair_seed: (add(tf, pair[0], amount, pair_seed), pair[1])
        )
    # No autotuning either: it has nothing to tune here, and in TF 2.21 destroying an iterator waits
    # for its autotuning thread (IteratorResource::~IteratorResource -> LogicalThreadWrapper ->
    # WaitForNotification), up to ~2 s of idle time. Keras makes a new iterator every epoch, so
    # about every other epoch started with that stall (benchmarks/epoch_breakdown.py).
    options = tf.data.Options()
    options.autotune.enabled = False
    return dataset.prefetch(1).with_options(options)


def _gaussian_tf(tf: Any, images: Any, stddev: float, seed: Any) -> Any:
    noise = tf.random.stateless_normal(tf.shape(images), seed=seed, stddev=stddev)
    return tf.clip_by_value(images + noise, 0.0, 1.0)


def _salt_pepper_tf(tf: Any, images: Any, amount: float, seed: Any) -> Any:
    draw = tf.random.stateless_uniform(tf.shape(images), seed=seed)
    salted = tf.where(draw > 1.0 - amount / 2, tf.ones_like(images), images)
    return tf.where(draw < amount / 2, tf.zeros_like(images), salted)


NOISE_FUNCTIONS: dict[str, Callable[[Any, Any, float, Any], Any]] = {
    "gaussian": _gaussian_tf,
    "salt_pepper": _salt_pepper_tf,
}
