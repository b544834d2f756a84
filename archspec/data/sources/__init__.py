"""The data sources, one module per layout; `SOURCES` is the one registry (a new layout is one file and one entry)."""

from __future__ import annotations

from archspec.data.sources.arrays import Arrays
from archspec.data.sources.base import SPLITS, BadItem, Scan, Source
from archspec.data.sources.image_folder import ImageFolder
from archspec.data.sources.masks import Masks
from archspec.data.sources.table import Table
from archspec.data.sources.text import Text

SOURCES: dict[str, Source] = {source.kind: source for source in (Table(), Text(), Arrays(), Masks(), ImageFolder())}
"""Detection tries them in this order: a file's extension first, a folder of class folders last."""

__all__ = ["SOURCES", "SPLITS", "BadItem", "Scan", "Source"]
