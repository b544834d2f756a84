"""Arrays: an .npz of named arrays (x, y or x_train, y_train, x_test, y_test), or a folder of .npy files.

Only the headers are read to scan the inputs (numpy's format header, never
pickles); the targets are read whole (they are small) to count classes.
Integer targets are class indices, floating targets are regression values.
uint8 inputs are scaled to [0, 1] as images are; other inputs are used as
stored.
"""

from __future__ import annotations

import zipfile
from pathlib import Path
from typing import Any

import numpy as np

from archspec.errors import DataError
from archspec.spec.data_spec import DataSpec
from archspec.train.userdata.sources.base import Scan, Source

NAME_SETS = ({"train": ("x_train", "y_train"), "test": ("x_test", "y_test")}, {"all": ("x", "y")})


class Arrays(Source):
    kind = "arrays"
    input_values = "arrays"

    def detect(self, path: Path) -> bool:
        return path.suffix == ".npz" or (path.is_dir() and any((path / f"{n}.npy").is_file() for n in ("x", "x_train")))

    def scan(self, path: Path, options: DataSpec, *, deep: bool = False, class_targets: bool = True) -> Scan:
        if path.suffix == ".npy":
            raise DataError(f"{path}: one .npy file holds no targets; give the folder of x.npy and y.npy, or an .npz "
                            "(or declare kind: tokens for token ids)")
        store = ArrayStore(path)
        names = next((names for names in NAME_SETS if all(x in store.names for x, _ in names.values())), None)
        if names is None:
            raise DataError(f"{path}: holds arrays {', '.join(sorted(store.names)) or '(none)'}; expected x and y, "
                            "or x_train, y_train, x_test and y_test")
        items: dict[str, list[Any]] = {}
        labels: dict[str, np.ndarray] = {}
        offset, shapes = 0, set()
        for split, (x_name, y_name) in names.items():
            x_shape, _ = store.header(x_name)
            if y_name not in store.names:
                raise DataError(f"{path}: has {x_name} but no {y_name} (the targets)")
            targets = store.load(y_name)
            if len(targets) != x_shape[0]:
                raise DataError(f"{path}: {y_name} has {len(targets):,} targets "
                                f"for {x_shape[0]:,} examples in {x_name}")
            items[split] = list(range(offset, offset + x_shape[0]))
            labels[split] = targets
            offset += x_shape[0]
            shapes.add(tuple(x_shape[1:]))
        if len(shapes) > 1:
            raise DataError(f"{path}: the splits' examples differ in shape: {sorted(shapes)}")
        every = np.concatenate(list(labels.values()))
        classes: tuple[str, ...] | None = None
        if not class_targets and np.issubdtype(every.dtype, np.number):
            labels = {split: values.astype(np.float32) for split, values in labels.items()}
        elif np.issubdtype(every.dtype, np.integer) and every.ndim == 1:
            if every.size and every.min() < 0:
                raise DataError(f"{path}: class index {every.min()} in the targets; classes are numbered from 0")
            classes = tuple(str(number) for number in range(int(every.max()) + 1 if every.size else 0))
        elif not np.issubdtype(every.dtype, np.floating):
            raise DataError(f"{path}: targets of dtype {every.dtype}; expected integer classes or float values")
        return Scan(kind=self.kind, path=path, items=items, labels=labels, example_shape=shapes.pop(),
                    classes=classes, target_shape=tuple(every.shape[1:]) or (1,),
                    facts={"arrays": {name: store.header(name) for name in sorted(store.names)}})

    def read(self, scan: Scan, items: list[Any], options: DataSpec, input_shape: tuple[int, ...],
             train_items: list[Any]) -> Any:
        store = ArrayStore(scan.path)
        x_names = [x for x, _ in next(n for n in NAME_SETS if all(x in store.names for x, _ in n.values())).values()]
        inputs = np.concatenate([store.load(name) for name in x_names])[np.asarray(items, dtype=np.int64)]
        scaled = inputs.astype(np.float32) / 255.0 if inputs.dtype == np.uint8 else inputs.astype(np.float32)
        return scaled.reshape((len(items), *input_shape))

    def input_problem(self, scan: Scan, shape: tuple[int | None, ...], options: DataSpec) -> tuple[str, str] | None:
        if None not in shape and int(np.prod(shape)) == int(np.prod(scan.example_shape)):
            return None
        return (f"{int(np.prod(scan.example_shape))} values per example, e.g. shape {list(scan.example_shape)}",
                f"give the input the shape of one example of x: {list(scan.example_shape)}")


class ArrayStore:
    """The arrays of an .npz file, of a folder of .npy files or of one .npy file, by name; headers without loading."""

    def __init__(self, path: Path) -> None:
        self.path = path
        if path.is_dir():
            self.files = {file.stem: file for file in sorted(path.glob("*.npy"))}
        elif path.suffix == ".npy":
            self.files = {path.stem: path}
        else:
            try:
                with zipfile.ZipFile(path) as archive:
                    names = archive.namelist()
                self.files = {name.removesuffix(".npy"): name for name in names if name.endswith(".npy")}
            except (OSError, zipfile.BadZipFile) as error:
                raise DataError(f"{path}: not a readable .npz file ({error})") from None
        self.names = set(self.files)

    def header(self, name: str) -> tuple[tuple[int, ...], str]:
        """(shape, dtype) from the array's header alone."""
        try:
            with self._open(name) as handle:
                major, _ = np.lib.format.read_magic(handle)
                read = np.lib.format.read_array_header_1_0 if major == 1 else np.lib.format.read_array_header_2_0
                shape, _, dtype = read(handle)
        except (OSError, ValueError, zipfile.BadZipFile) as error:
            raise DataError(f"{self.path}: array {name} has no readable .npy header ({error})") from None
        if not shape:
            raise DataError(f"{self.path}: array {name} is a scalar; expected one row per example")
        return tuple(shape), str(dtype)

    def load(self, name: str, *, mapped: bool = False) -> np.ndarray:
        """The whole array; `mapped`: an .npy file's memory-mapped (read as it is used, never all at once)."""
        try:
            if mapped and isinstance(self.files[name], Path):
                return np.load(self.files[name], mmap_mode="r", allow_pickle=False)
            with self._open(name) as handle:
                return np.lib.format.read_array(handle, allow_pickle=False)
        except (OSError, ValueError, EOFError, zipfile.BadZipFile) as error:
            raise DataError(f"{self.path}: array {name} is unreadable ({error})") from None

    def _open(self, name: str) -> Any:
        if isinstance(self.files[name], Path):
            return open(self.files[name], "rb")
        archive = zipfile.ZipFile(self.path)
        return archive.open(self.files[name])
