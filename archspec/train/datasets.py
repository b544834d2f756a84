"""MNIST-like datasets: reading and checking the IDX files, or Keras's download cache.

The IDX files are read and checked here (magic number, dimensions, sizes), so
that a corrupt, truncated or missing file ends in one DataError naming the
file and what is wrong with it, instead of a numpy traceback. Without a data
directory, Keras's own downloader and cache are used (what a user with
internet gets); tests always point ARCHSPEC_DATA_DIR at a local copy.
numpy only; TensorFlow only for the download.
"""

from __future__ import annotations

import gzip
import os
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from archspec.errors import DataError
from archspec.train.task_base import CLASSES, DATASETS, IMAGE_SIZE

DATA_DIR_ENV = "ARCHSPEC_DATA_DIR"

# IDX element types (the third byte of the magic number) that MNIST-like files may use
IDX_TYPES = {0x08: np.uint8}

# split -> (images file, labels file); the names are those of the original distribution
IDX_FILES = {
    "train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}


@dataclass(frozen=True)
class Arrays:
    """A dataset as uint8 arrays: images (N, 28, 28) and labels (N,)."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray


# ---------------------------------------------------------------- reading IDX files


IDX_ROLES = {1: "labels", 3: "images"}
"""The number of dimensions of each MNIST file's role, the last byte of its magic number."""


def read_idx(path: Path, expected_ndim: int | None = None) -> np.ndarray:
    """Read one IDX file (gzipped or not) and check its header against its size (and, given `ndim`,
    its role: a labels file's 1 dimension, an images file's 3), before any size is read from it."""
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
    if expected_ndim is not None and ndim != expected_ndim:
        role, other = IDX_ROLES.get(expected_ndim, "data"), IDX_ROLES.get(ndim, f"{ndim}-dimensional data")
        raise DataError(
            f"{path}: holds {other}, not {role}: magic number 0x{raw[:4].hex()}, expected "
            f"0x{expected_ndim + 0x800:08x} for {role} (are two files swapped or misnamed?)"
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
    except (EOFError, gzip.BadGzipFile, zlib.error, OSError) as error:
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
        images, labels = read_idx(images_path, 3), read_idx(labels_path, 1)
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
    if dataset not in DATASETS:
        raise DataError(f"unknown dataset '{dataset}'; expected one of {', '.join(DATASETS)}")
    directory = resolve_data_dir(dataset, data_dir)
    if directory is not None:
        return read_idx_directory(directory)
    from archspec.keras.backend import import_keras

    loader = getattr(import_keras().datasets, dataset)  # each name is a keras.datasets loader
    try:
        (x_train, y_train), (x_test, y_test) = loader.load_data()
    except Exception as error:  # network, proxy or cache trouble: say how to avoid the download
        raise DataError(
            f"could not download {dataset} through Keras ({error}); "
            f"give the IDX files' folder with --data-dir or ${DATA_DIR_ENV}"
        ) from None
    return Arrays(x_train, y_train, x_test, y_test)
