"""What every data source gives: a `Scan` (what is there, read from headers) and arrays or files to train on.

A source never writes into the data folder and never imports TensorFlow. Its
`scan` reads only what checking needs (image headers, array headers, a
table's cells); `deep=True` (before training) also decodes every image, so
a truncated file is found before the first epoch, not in the middle of one.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from archspec.spec.data_spec import DataSpec

SPLITS = ("train", "val", "test")


@dataclass(frozen=True)
class BadItem:
    """A file or row that cannot be used, and why (reported, or skipped with skip_bad)."""

    where: str
    reason: str

    def __str__(self) -> str:
        return f"{self.where}: {self.reason}"


@dataclass
class Scan:
    """What a source holds, as read from headers: enough to check it against a spec and to split it.

    `items` are the examples' identities (relative file paths, row numbers)
    and `labels` their targets, per split the data itself declares ("all"
    when it declares none). `example_shape` is one input example's shape as
    stored ((H, W, C) of the commonest image size; an array's or a table's
    row); `classes` names the target classes (None for numeric targets).
    """

    kind: str
    path: Path
    items: dict[str, list[Any]]
    labels: dict[str, np.ndarray]
    example_shape: tuple[int, ...]
    classes: tuple[str, ...] | None
    target_shape: tuple[int, ...] = ()
    bad: list[BadItem] = field(default_factory=list)
    facts: dict[str, Any] = field(default_factory=dict)
    """What `archspec data` shows beyond counts: image sizes, modes, value ranges, columns."""
    sizes: Counter = field(default_factory=Counter)
    pixel_classes: int = 0
    """Segmentation: the classes the masks hold (their largest value + 1); 0 for other layouts."""
    token_ids: int = 0
    """Token sequences: the ids the examples may hold (a text's characters + the unseen id, an id array's
    largest + 1), what the output must score and an embedding look up; 0 for other layouts. `facts` says
    in words what they are (`token_ids_hold`) and what one is (`token`)."""

    def count(self) -> int:
        return sum(len(items) for items in self.items.values())

    def class_counts(self) -> dict[str, dict[str, int]]:
        """Examples per class in each declared split (empty for numeric targets)."""
        if self.classes is None:
            return {}
        return {
            split: {self.classes[index]: int(total) for index, total in
                    enumerate(np.bincount(labels.astype(np.int64), minlength=len(self.classes)))}
            for split, labels in self.labels.items()
        }


class Source:
    """One data layout: how to detect it, scan it and read the examples of a split."""

    kind: ClassVar[str]
    input_values: ClassVar[str]
    """What the model's input receives, for messages ("images", "feature columns")."""

    def detect(self, path: Path) -> bool:
        """True when `path` is unambiguously this layout."""
        raise NotImplementedError

    def scan(self, path: Path, options: DataSpec, *, deep: bool = False, class_targets: bool = True) -> Scan:
        """What is there; `class_targets` False reads numeric targets as values (regression), not classes."""
        raise NotImplementedError

    def read(self, scan: Scan, items: list[Any], options: DataSpec, input_shape: tuple[int, ...],
             train_items: list[Any]) -> Any:
        """The inputs of `items`, shaped for the model: an array, or lazily decoded files.

        `train_items` are the training split's: a source that normalises
        (tables) fits its statistics on them only.
        """
        raise NotImplementedError

    def fitted(self, scan: Scan, train_items: list[Any]) -> dict[str, Any]:
        """What the source fits on the training split (a vocabulary), kept in the run folder's data.json."""
        return {}

    def targets(self, scan: Scan, items: list[Any], train_items: list[Any], output_shape: tuple[int, ...]) -> Any:
        """The targets of `items` (class indices or values; mask files, next-token windows at the output's size)."""
        label_of = {item: label for part, part_items in scan.items.items()
                    for item, label in zip(part_items, scan.labels[part])}
        return np.array([label_of[item] for item in items])

    def input_problem(self, scan: Scan, shape: tuple[int | None, ...], options: DataSpec) -> tuple[str, str] | None:
        """(expected, hint) when a model input of `shape` cannot take this data's examples, else None."""
        raise NotImplementedError
