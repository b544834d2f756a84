"""The data sources, one module per layout; `SOURCES` is the one registry (a new layout is one file and one entry)."""

from __future__ import annotations

from archspec.train.userdata.sources.arrays import Arrays
from archspec.train.userdata.sources.base import SPLITS, BadItem, Scan, Source
from archspec.train.userdata.sources.image_folder import ImageFolder
from archspec.train.userdata.sources.masks import Masks
from archspec.train.userdata.sources.saved_dataset import SavedDataset
from archspec.train.userdata.sources.table import Table
from archspec.train.userdata.sources.text import Text
from archspec.train.userdata.sources.tokens import Tokens

SOURCES: dict[str, Source] = {
    source.kind: source for source in (Table(), Text(), Tokens(), Arrays(), SavedDataset(), Masks(), ImageFolder())}
"""Detection tries them in this order: a file's extension first, a folder of class folders last."""

__all__ = ["SOURCES", "SPLITS", "BadItem", "Scan", "Source"]
