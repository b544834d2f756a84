"""Image files as a lazy array: what a run's inputs are when a folder is streamed instead of loaded.

`len()` is the number of files; indexing decodes only the files asked for
(samples.png needs ten), with the same TensorFlow decode and resize that
feeds training (stream.py), so a picture shows what the model saw. The
object itself holds only paths, so a folder larger than memory costs a list
of names until tf.data streams it.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np


@dataclass(frozen=True)
class ImageFiles:
    """Files under `root`, decoded to `shape` (height, width, channels) in [0, 1], `resize` as declared.

    Masks (`mask=True`) are class-index images: decoded to int32 (height,
    width), first channel, resized by nearest neighbour, never scaled.
    """

    root: Path
    items: tuple[str, ...]
    shape: tuple[int, ...]
    resize: str = "stretch"
    mask: bool = False
    png_or_jpeg: bool = False
    """Every file is a PNG or JPEG (the faster decode: see stream.decode_image)."""

    def __len__(self) -> int:
        return len(self.items)

    @property
    def paths(self) -> list[str]:
        return [str(self.root / item) for item in self.items]

    def __getitem__(self, index: Any) -> np.ndarray:
        chosen = self.items[index] if isinstance(index, slice) else tuple(self.items[i] for i in np.atleast_1d(index))
        return replace(self, items=chosen).decode_all()

    def decode_all(self) -> np.ndarray:
        """Every file decoded, as float32 (N, *shape) (masks int32): the cache: memory form, and samples."""
        from archspec.train.userdata.stream import decode_files  # TensorFlow, only when pixels are needed

        return decode_files(self)
