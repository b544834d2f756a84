"""Token ids for next-token models: integer arrays already tokenized, as one long stream or as rows.

A `.npy` file of ids, or an `.npz` holding `tokens` (or `tokens_train`,
`tokens_val`, `tokens_test`). A 1-D array is one stream: its examples are
blocks of `BLOCK` ids, and a part the data does not declare is the
stream's tail (validation, then test), not random blocks, so a part is one
contiguous run. A 2-D array is rows (sequences): its rows are the examples
and are split by seed. Windows of the input's length plus one are cut end
to end from each contiguous run or row, never across a gap or a row's end:
the model reads a window's first T ids and learns the next T.

The ids are checked before anything is built: integers only, none
negative, and the largest (with where it is) held against the output's
scores and an embedding's `input_dim` (checks.py).
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np

from archspec.errors import DataError
from archspec.spec.data_spec import DataSpec
from archspec.train.userdata.sources.arrays import ArrayStore
from archspec.train.userdata.sources.base import SPLITS, Scan, Source

BLOCK = 256
"""Ids a stream's example: the unit its split is kept in (data.json lists block numbers)."""
PART_NAMES = {"tokens": "all", **{f"tokens_{part}": part for part in SPLITS}}
SAVE_HINT = "hint: save the ids as an integer array, e.g. np.save('ids.npy', ids.astype(np.int32))"


class Tokens(Source):
    kind = "tokens"
    input_values = "token id windows"

    def detect(self, path: Path) -> bool:
        if path.is_dir():
            return any((path / f"{name}.npy").is_file() for name in ("tokens", "tokens_train"))
        if path.suffix == ".npy":
            return True
        return path.suffix == ".npz" and bool(set(PART_NAMES) & _names(path))

    def scan(self, path: Path, options: DataSpec, *, deep: bool = False, class_targets: bool = True) -> Scan:
        store = ArrayStore(path)
        parts = _part_arrays(store, path)
        headers = {name: store.header(name) for name in parts.values()}
        dimensions = {len(shape) for shape, _ in headers.values()}
        for name, (shape, dtype) in headers.items():
            if np.dtype(dtype).kind not in "iu":
                raise DataError(f"{path}: array {name} holds {dtype} values; token ids are integers\n  {SAVE_HINT} "
                                "(inputs and targets as arrays: an .npz of x and y, or a folder of x.npy, y.npy)")
            if len(shape) not in (1, 2) or dimensions != {len(shape)}:
                raise DataError(f"{path}: array {name} has shape {list(shape)}; expected one stream of ids (1-D) "
                                "or rows of ids (2-D), the same in every part\n  hint: flatten it to one stream "
                                "(ids.ravel()) or reshape it to rows (ids.reshape(len(ids), -1))")
        arrays = {part: store.load(name, mapped=True) for part, name in parts.items()}
        if not any(array.size for array in arrays.values()):
            raise DataError(f"{path}: holds no token ids ({', '.join(parts.values())} empty)")
        smallest = min((array.min(), part) for part, array in arrays.items() if array.size)
        largest = max((array.max(), part) for part, array in arrays.items() if array.size)
        if smallest[0] < 0:
            where = _where(arrays[smallest[1]], parts[smallest[1]], "min")
            raise DataError(f"{path}: token id {smallest[0]} at {where}; ids are numbered from 0\n  hint: shift "
                            "them (ids - ids.min()) or replace the negative ones (a padding id of -1, say) "
                            "with an id of the vocabulary")
        stream = dimensions == {1}
        items = _stream_parts(arrays, options) if stream else _row_parts(arrays)
        ids = int(largest[0]) + 1
        return Scan(
            kind=self.kind, path=path, items=items, labels={}, classes=None,
            example_shape=(BLOCK,) if stream else tuple(headers[parts[next(iter(parts))]][0][1:]),
            target_shape=(ids,), token_ids=ids,
            facts={"arrays": headers, "token": "token id", "stream": stream, "parts": parts,
                   "tokens": sum(array.size for array in arrays.values()),
                   "token_ids_hold": f"ids 0..{ids - 1} (id {ids - 1} at "
                                     f"{_where(arrays[largest[1]], parts[largest[1]], 'max')})"},
        )

    def fitted(self, scan: Scan, train_items: list[Any]) -> dict[str, Any]:
        return {"token_ids": scan.token_ids, **({"block": BLOCK} if scan.facts["stream"] else {})}

    def read(self, scan: Scan, items: list[Any], options: DataSpec, input_shape: tuple[int, ...],
             train_items: list[Any]) -> Any:
        return windows(scan, items, input_shape[0])[:, :-1]

    def targets(self, scan: Scan, items: list[Any], train_items: list[Any], output_shape: tuple[int, ...]) -> Any:
        return windows(scan, items, output_shape[0])[:, 1:]

    def input_problem(self, scan: Scan, shape: tuple[int | None, ...], options: DataSpec) -> tuple[str, str] | None:
        if len(shape) != 1 or shape[0] is None:
            return ("a window of T token ids, e.g. [64] with dtype int32",
                    "give the input one fixed length, e.g. inputs: {tokens: {shape: [64], dtype: int32}}")
        if scan.facts["stream"] or shape[0] < scan.example_shape[0]:
            return None
        row = scan.example_shape[0]
        return (f"a window of at most {row - 1} ids: rows of {row} ids hold {row - 1} to read and the next to learn",
                f"give the input shape [{row - 1}] (or shorter), or save longer rows")


def windows(scan: Scan, items: list[Any], length: int) -> np.ndarray:
    """(N, length + 1) int32 ids: windows cut end to end (overlapping by one id) from each run or row of `items`."""
    cut = [_cut(sequence, length) for sequence in _sequences(scan, items)]
    found = sum(len(part) for part in cut)
    if not found:
        unit = "blocks" if scan.facts["stream"] else "rows"
        raise DataError(f"{scan.path}: {len(items)} {unit} in a split hold fewer than one window of {length + 1} ids; "
                        "give more ids or a shorter input")
    return np.concatenate([part for part in cut if len(part)]).astype(np.int32)


def _sequences(scan: Scan, items: list[Any]) -> list[np.ndarray]:
    """The contiguous id sequences of `items`: a stream's runs of consecutive blocks, or rows."""
    store = ArrayStore(scan.path)
    parts = scan.facts["parts"]
    arrays = [store.load(parts[part], mapped=True) for part in parts]
    if not scan.facts["stream"]:
        rows = np.concatenate(arrays) if len(arrays) > 1 else arrays[0]
        return list(rows[np.sort(np.asarray(items, dtype=np.int64))])
    starts = np.cumsum([0] + [math.ceil(len(array) / BLOCK) for array in arrays])
    sequences = []
    for number, run in _runs(sorted(items), starts):
        first = (run[0] - starts[number]) * BLOCK
        sequences.append(np.asarray(arrays[number][first: first + len(run) * BLOCK]))
    return sequences


def _runs(blocks: list[int], starts: np.ndarray) -> list[tuple[int, list[int]]]:
    """Consecutive block numbers of one array grouped, with the array's number: [1, 2, 3, 7] -> [1, 2, 3], [7]."""
    runs: list[tuple[int, list[int]]] = []
    for block in blocks:
        number = int(np.searchsorted(starts, block, side="right")) - 1
        if runs and runs[-1][0] == number and block == runs[-1][1][-1] + 1:
            runs[-1][1].append(block)
        else:
            runs.append((number, [block]))
    return runs


def _cut(sequence: np.ndarray, length: int) -> np.ndarray:
    count = (len(sequence) - 1) // length
    if count < 1:
        return np.zeros((0, length + 1), np.int32)
    return np.lib.stride_tricks.sliding_window_view(sequence, length + 1)[: count * length: length]


def _stream_parts(arrays: dict[str, np.ndarray], options: DataSpec) -> dict[str, list[Any]]:
    """Block numbers per part; a part the data lacks is cut from the end of the training stream."""
    items, offset = {}, 0
    for part, array in arrays.items():
        count = math.ceil(len(array) / BLOCK)
        items[part], offset = list(range(offset, offset + count)), offset + count
    train = items.pop("all", items.pop("train", []))
    for part in ("test", "val"):
        if part not in items:
            count = round(len(train) * getattr(options.split, part))
            items[part], train = train[len(train) - count:], train[: len(train) - count]
    return {"train": train, "val": items["val"], "test": items["test"]}


def _row_parts(arrays: dict[str, np.ndarray]) -> dict[str, list[Any]]:
    """Row numbers per part, numbered on across the parts; undeclared parts are cut by the split's seed."""
    items, offset = {}, 0
    for part, array in arrays.items():
        items[part], offset = list(range(offset, offset + len(array))), offset + len(array)
    return items


def _part_arrays(store: ArrayStore, path: Path) -> dict[str, str]:
    """{part: array name}: tokens (all), tokens_train/_val/_test, or the file's one array."""
    found = {PART_NAMES[name]: name for name in sorted(store.names) if name in PART_NAMES}
    if "all" in found and len(found) > 1:
        raise DataError(f"{path}: holds both tokens and {', '.join(sorted(store.names - {'tokens'}))}; "
                        "give one stream or its parts, not both")
    if found and "all" not in found and "train" not in found:
        raise DataError(f"{path}: holds {', '.join(sorted(found.values()))} but no tokens_train")
    if found:
        return {part: found[part] for part in ("all", *SPLITS) if part in found}
    if len(store.names) == 1:
        return {"all": next(iter(store.names))}
    raise DataError(f"{path}: holds arrays {', '.join(sorted(store.names)) or '(none)'}; expected tokens, "
                    "or tokens_train and tokens_test (and tokens_val)")


def _where(array: np.ndarray, name: str, which: str) -> str:
    """Where an array's smallest or largest id is, as an index: 'ids[1234]' or 'tokens[3, 7]'."""
    flat = int(np.argmin(array) if which == "min" else np.argmax(array))
    return f"{name}[{', '.join(str(int(i)) for i in np.unravel_index(flat, array.shape))}]"


def _names(path: Path) -> set[str]:
    try:
        return ArrayStore(path).names
    except DataError:
        return set()
