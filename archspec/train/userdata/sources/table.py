"""A table: feature columns and a target column by name; CSV read with the standard csv module,
Parquet with pyarrow (the `parquet` extra), whose cells then go through the same checks, a row's
place standing for its line.

Every cell is read once when scanning (a table is text: its dtypes are only
known by reading it), so text in a numeric column and a ragged row are
found, with their line, before anything is built. Feature columns are
standardised with the mean and standard deviation of the training rows
only. A `split_column` of train/val/test values declares the split.
"""

from __future__ import annotations

import csv
import difflib
from pathlib import Path
from typing import Any

import numpy as np

from archspec.errors import DataError
from archspec.spec.data_spec import DataSpec
from archspec.train.userdata.sources.base import SPLITS, BadItem, Scan, Source

SPLIT_NAMES = {"train": "train", "val": "val", "validation": "val", "test": "test"}
MAX_FIELD_CHARS = 1 << 20


class Table(Source):
    kind = "table"
    input_values = "feature columns"

    def detect(self, path: Path) -> bool:
        return path.suffix.lower() in {".csv", ".tsv", ".parquet"}

    def scan(self, path: Path, options: DataSpec, *, deep: bool = False, class_targets: bool = True) -> Scan:
        header, rows, bad = _read_parquet(path) if path.suffix.lower() == ".parquet" else _read_rows(path)
        return self.scan_rows(path, header, rows, bad, options, class_targets)

    def scan_rows(self, path: Path, header: list[str], rows: list[tuple[int, list[str]]], bad: list[BadItem],
                  options: DataSpec, class_targets: bool, split_of: list[str] | None = None) -> Scan:
        """The scan of a table's cells (the header, (line, cells) per row); `split_of` names each row's split
        where the source declares them (else the split column, else "all")."""
        named = options.target if isinstance(options.target, list) else [options.target]
        targets = [_column(path, header, name, "target") for name in named]
        split_column = _column(path, header, options.split_column, "split_column") if options.split_column else None
        others = [name for name in header if name not in {*targets, split_column}]
        text_columns = [name for name in others if not any(_is_number(cells[header.index(name)]) for _, cells in rows)]
        features = options.features or [name for name in others if name not in text_columns]
        for name in features:
            _column(path, header, name, "features")
        feature_index = [header.index(name) for name in features]
        values = np.zeros((len(rows), len(features)), np.float32)
        for position, (line, cells) in enumerate(rows):
            for column, cell_index in enumerate(feature_index):
                values[position, column] = _number(path, line, features[column], cells[cell_index])
        if isinstance(options.target, list):  # several 0/1 columns: multi-label targets
            classes, labels = None, _label_columns(path, header, targets, rows)
        else:
            target_cells = [cells[header.index(targets[0])] for _, cells in rows]
            classes, labels = _targets(path, targets[0], target_cells, rows, class_targets)
        split_of = split_of or ["all"] * len(rows)
        if split_column is not None:
            column = header.index(split_column)
            split_of = [_split_name(path, line, split_column, cells[column]) for line, cells in rows]
        order = [split for split in (*SPLITS, "all") if split in split_of]
        items = {split: [row for row in range(len(rows)) if split_of[row] == split] for split in order}
        facts = {"columns": header, "features": features, "target": ", ".join(targets), "text_columns": text_columns,
                 "lines": [line for line, _ in rows], "values": values}
        return Scan(kind=self.kind, path=path, items=items,
                    labels={split: labels[rows_of] for split, rows_of in items.items()},
                    example_shape=(len(features),), classes=classes, target_shape=(len(targets),), bad=bad,
                    facts={**facts, "label_columns": targets if isinstance(options.target, list) else None})

    def read(self, scan: Scan, items: list[Any], options: DataSpec, input_shape: tuple[int, ...],
             train_items: list[Any]) -> Any:
        values = scan.facts["values"]
        train = values[np.asarray(train_items, dtype=np.int64)]
        mean, std = train.mean(axis=0), train.std(axis=0)
        std[std == 0] = 1.0
        return ((values[np.asarray(items, dtype=np.int64)] - mean) / std).astype(np.float32)

    def input_problem(self, scan: Scan, shape: tuple[int | None, ...], options: DataSpec) -> tuple[str, str] | None:
        if tuple(shape) == scan.example_shape:
            return None
        count = scan.example_shape[0]
        return (f"{count} feature column(s) ({', '.join(scan.facts['features'])})",
                f"give the input shape [{count}], or choose the columns with data: {{features: [...]}}")


def _read_rows(path: Path) -> tuple[list[str], list[tuple[int, list[str]]], list[BadItem]]:
    """The header, the (line, cells) of each full row, and the ragged rows."""
    csv.field_size_limit(MAX_FIELD_CHARS)
    delimiter = "\t" if path.suffix.lower() == ".tsv" else ","
    try:
        with open(path, newline="", encoding="utf-8") as handle:
            reader = csv.reader(handle, delimiter=delimiter)
            header = next(reader, None)
            if not header:
                raise DataError(f"{path}: empty table (no header row)")
            rows, bad = [], []
            for cells in reader:
                if not cells:
                    continue
                if len(cells) != len(header):
                    bad.append(BadItem(f"{path}:{reader.line_num}",
                                       f"ragged row: {len(cells)} cells, the header has {len(header)}"))
                    continue
                rows.append((reader.line_num, cells))
    except UnicodeDecodeError as error:
        raise DataError(f"{path}: not UTF-8 text ({error.reason} at byte {error.start}); is it a CSV file?") from None
    except csv.Error as error:
        raise DataError(f"{path}: unreadable CSV ({error})") from None
    if not rows:
        raise DataError(f"{path}: no data rows under the header")
    return [name.strip() for name in header], rows, bad


def _read_parquet(path: Path) -> tuple[list[str], list[tuple[int, list[str]]], list[BadItem]]:
    """A Parquet file's columns as the CSV reader gives them: the header, then (row number, cells)."""
    try:
        import pyarrow.parquet as parquet
    except ImportError:
        raise DataError(f"{path}: reading Parquet needs pyarrow: pip install 'archspec[parquet]'") from None
    try:
        table = parquet.read_table(path)
    except (OSError, ValueError) as error:  # pyarrow's ArrowInvalid is a ValueError
        raise DataError(f"{path}: not a readable Parquet file ({error})") from None
    columns = [["" if value is None else str(value) for value in column.to_pylist()] for column in table.columns]
    rows = [(number + 1, [column[number] for column in columns]) for number in range(table.num_rows)]
    if not rows:
        raise DataError(f"{path}: no rows")
    return list(table.column_names), rows, []


def _column(path: Path, header: list[str], name: str | None, key: str) -> str:
    if name is None:
        raise DataError(f"{path}: a table needs its target column named: data: {{path: {path}, target: COLUMN}} "
                        f"(columns: {', '.join(header)})")
    if name not in header:
        close = difflib.get_close_matches(name, header, n=1)
        hint = f"; did you mean '{close[0]}'?" if close else f"; the columns are {', '.join(header)}"
        raise DataError(f"{path}: no column '{name}' ({key}){hint}")
    return name


def _number(path: Path, line: int, column: str, cell: str) -> float:
    try:
        return float(cell)
    except ValueError:
        raise DataError(f"{path}:{line}: column '{column}' holds text {cell[:40]!r} where a number belongs; "
                        "a feature column must be numeric (choose the columns with data: {features: [...]})") from None


def _label_columns(path: Path, header: list[str], names: list[str], rows: list[tuple[int, list[str]]]) -> np.ndarray:
    """(rows, labels) of 0/1 from several target columns; any other value names its line and column."""
    labels = np.zeros((len(rows), len(names)), np.float32)
    for position, (line, cells) in enumerate(rows):
        for column, name in enumerate(names):
            cell = cells[header.index(name)].strip()
            if cell not in {"0", "1"}:
                raise DataError(f"{path}:{line}: label column '{name}' holds {cell[:40]!r}; a label column of "
                                "a multi-label target holds 0 or 1")
            labels[position, column] = float(cell)
    return labels


def _is_number(cell: str) -> bool:
    try:
        float(cell)
    except ValueError:
        return False
    return True


def _targets(path: Path, target: str, cells: list[str], rows: list[tuple[int, list[str]]],
             class_targets: bool) -> tuple[tuple[str, ...] | None, np.ndarray]:
    numeric = all(_is_number(cell) for cell in cells)
    if class_targets and not (numeric and any(not float(cell).is_integer() for cell in cells)):
        names = sorted(set(cells), key=lambda cell: (float(cell), cell) if numeric else (0.0, cell))
        index = {name: number for number, name in enumerate(names)}
        return tuple(names), np.array([index[cell] for cell in cells], np.int32)
    return None, np.array([_number(path, line, target, cell) for (line, _), cell in zip(rows, cells)], np.float32)


def _split_name(path: Path, line: int, column: str, cell: str) -> str:
    name = SPLIT_NAMES.get(cell.strip().lower())
    if name is None:
        raise DataError(f"{path}:{line}: split column '{column}' holds {cell[:40]!r}; expected train, val or test")
    return name
