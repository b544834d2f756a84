"""Text for next-token models: a UTF-8 file of one text a line, as characters.

The lines are the examples a split divides; each part's lines are joined
(with their newlines) into one character stream cut into windows of the
input's length plus one: the model reads a window's first T characters and
learns the next T. The vocabulary (id 0: a character unseen in training) is
fitted on the training lines only and saved in the run folder's data.json.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from archspec.errors import DataError
from archspec.spec.data_spec import DataSpec
from archspec.train.userdata.sources.base import Scan, Source

UNKNOWN = 0


class Text(Source):
    kind = "text"
    input_values = "character windows"

    def detect(self, path: Path) -> bool:
        return path.suffix.lower() == ".txt"

    def scan(self, path: Path, options: DataSpec, *, deep: bool = False, class_targets: bool = True) -> Scan:
        try:
            lines = [line for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
        except UnicodeDecodeError as error:
            raise DataError(f"{path}: not UTF-8 text ({error.reason} at byte {error.start})") from None
        if not lines:
            raise DataError(f"{path}: no text (a text file holds one text a line)")
        characters = sorted({char for line in lines for char in line} | {"\n"})
        return Scan(kind=self.kind, path=path, items={"all": list(range(len(lines)))},
                    labels={}, example_shape=(0,), classes=None,
                    target_shape=(len(characters) + 1,), token_ids=len(characters) + 1,
                    facts={"lines": lines, "characters": sum(map(len, lines)), "vocabulary": characters,
                           "token": "character", "token_ids_hold": f"{len(characters)} characters and one id "
                           "for unseen ones"})

    def fitted(self, scan: Scan, train_items: list[Any]) -> dict[str, Any]:
        return {"vocabulary": vocabulary(scan, train_items)}

    def read(self, scan: Scan, items: list[Any], options: DataSpec, input_shape: tuple[int, ...],
             train_items: list[Any]) -> Any:
        return windows(scan, items, input_shape[0], train_items)[:, :-1]

    def targets(self, scan: Scan, items: list[Any], train_items: list[Any], output_shape: tuple[int, ...]) -> Any:
        return windows(scan, items, output_shape[0], train_items)[:, 1:]

    def input_problem(self, scan: Scan, shape: tuple[int | None, ...], options: DataSpec) -> tuple[str, str] | None:
        if len(shape) == 1 and shape[0] is not None:
            return None
        return ("a window of T character ids, e.g. [64] with dtype int32",
                "give the input one fixed length, e.g. inputs: {chars: {shape: [64], dtype: int32}}")


def vocabulary(scan: Scan, train_items: list[Any]) -> list[str]:
    lines = scan.facts["lines"]
    return sorted({char for item in train_items for char in lines[item]} | {"\n"})


def windows(scan: Scan, items: list[Any], length: int, train_items: list[Any]) -> np.ndarray:
    """(N, length + 1) character ids of the items' lines, joined and cut end to end."""
    ids = {char: number for number, char in enumerate(vocabulary(scan, train_items), start=1)}
    stream = np.array([ids.get(char, UNKNOWN) for item in items for char in scan.facts["lines"][item] + "\n"],
                      dtype=np.int32)
    count = (len(stream) - 1) // length
    if count < 1:
        raise DataError(f"{scan.path}: {len(stream)} characters in a split, fewer than one window of {length + 1}; "
                        "give more text or a shorter input")
    return np.stack([stream[i * length: i * length + length + 1] for i in range(count)])
