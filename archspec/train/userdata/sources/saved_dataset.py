"""A Hugging Face dataset saved with `save_to_disk` (a Dataset, or a DatasetDict of splits), read as a table.

The folder's Arrow files are read with pyarrow, which `datasets` writes them
with (the `parquet` extra; `datasets` itself is not imported): `state.json`
names a split's files, `dataset_info.json` its features. A DatasetDict's
train / validation / test splits are the data's own split. Value columns
(numbers, strings, booleans) are cells as in a CSV; a ClassLabel target keeps
the dataset's names and ids, so the model's output index is the label id.
Image, audio and list columns are not read (naming one is an error).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from archspec.errors import DataError
from archspec.spec.data_spec import DataSpec
from archspec.train.userdata.sources.base import Scan
from archspec.train.userdata.sources.table import SPLIT_NAMES, Table

DICT_FILE, STATE_FILE, INFO_FILE = "dataset_dict.json", "state.json", "dataset_info.json"
READ_TYPES = {"Value", "ClassLabel"}


class SavedDataset(Table):
    kind = "hf_dataset"
    input_values = "feature columns"

    def detect(self, path: Path) -> bool:
        return path.is_dir() and ((path / DICT_FILE).is_file() or (path / STATE_FILE).is_file())

    def scan(self, path: Path, options: DataSpec, *, deep: bool = False, class_targets: bool = True) -> Scan:
        header, rows, split_of, features = [], [], [], {}
        for split, folder in _split_folders(path).items():
            names, cells, features = _read_split(folder)
            if header and names != header:
                raise DataError(f"{folder}: columns {', '.join(names)} differ from the other splits' "
                                f"({', '.join(header)})")
            header = names
            rows.extend((len(rows) + number + 1, row) for number, row in enumerate(cells))
            split_of.extend([split] * len(cells))
        skipped = {name: kind for name, kind in features.items() if kind.get("_type") not in READ_TYPES}
        named = [options.target] if isinstance(options.target, str) else list(options.target or [])
        for name in [*named, *(options.features or [])]:
            if name in skipped:
                raise DataError(f"{path}: column '{name}' is a {skipped[name].get('_type')} feature; archspec reads "
                                "a saved dataset's Value and ClassLabel columns as a table")
        if not rows:
            raise DataError(f"{path}: no rows")
        scan = self.scan_rows(path, header, rows, [], options, class_targets, split_of)
        label = features.get(options.target) if isinstance(options.target, str) else None
        if class_targets and label and label.get("_type") == "ClassLabel":  # the dataset's names, in id order
            ids = [int(cells[header.index(options.target)]) for _, cells in rows]
            scan.classes = tuple(label["names"])
            scan.labels = {part: _ids_of(ids, items) for part, items in scan.items.items()}
        scan.facts["not_read"] = sorted(skipped)
        return scan


def _ids_of(ids: list[int], items: list[Any]) -> np.ndarray:
    return np.array([ids[row] for row in items], np.int32)


def _split_folders(path: Path) -> dict[str, Path]:
    """{"train": folder, "val": ..., "test": ...} of a DatasetDict, or {"all": path} of one Dataset."""
    if not (path / DICT_FILE).is_file():
        return {"all": path}
    try:
        splits = json.loads((path / DICT_FILE).read_text())["splits"]
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise DataError(f"{path / DICT_FILE}: unreadable ({error})") from None
    unknown = [name for name in splits if name.lower() not in SPLIT_NAMES]
    if unknown:
        raise DataError(f"{path}: split '{unknown[0]}' is none of train, validation, test; save only those "
                        "(DatasetDict({'train': ..., 'test': ...}).save_to_disk(...))")
    if "train" not in [name.lower() for name in splits]:
        raise DataError(f"{path}: splits {', '.join(splits)} but no train split")
    return {SPLIT_NAMES[name.lower()]: path / name for name in splits}


def _read_split(folder: Path) -> tuple[list[str], list[list[str]], dict[str, Any]]:
    """A saved split's header, its rows' cells as text (the Value and ClassLabel columns), and its features."""
    try:
        import pyarrow as arrow
    except ImportError:
        raise DataError(f"{folder}: reading a saved dataset needs pyarrow: pip install 'archspec[parquet]'") from None
    try:
        state = json.loads((folder / STATE_FILE).read_text())
        features = json.loads((folder / INFO_FILE).read_text()).get("features") or {}
        tables = []
        for entry in state["_data_files"]:
            with arrow.memory_map(str(folder / entry["filename"])) as source:
                tables.append(arrow.ipc.open_stream(source).read_all())
    except (OSError, ValueError, KeyError, TypeError) as error:  # pyarrow's ArrowInvalid is a ValueError
        raise DataError(f"{folder}: not a readable saved dataset ({error})") from None
    table = arrow.concat_tables(tables) if len(tables) > 1 else tables[0]
    names = [name for name in table.column_names
             if features.get(name, {"_type": "Value"}).get("_type") in READ_TYPES]
    columns = [["" if value is None else str(value) for value in table.column(name).to_pylist()] for name in names]
    return names, [[column[number] for column in columns] for number in range(table.num_rows)], features
