"""Segmentation: an images/ folder and a masks/ folder, paired by file name (masks as class-index PNGs).

An image and its mask share a stem (images/003.jpg, masks/003.png); each
pixel of a mask is its class number. Scanning reads both headers (a mask
whose size differs from its image, an image without a mask, are reported
and skippable) and the masks' largest value, which says how many classes
the output needs: that is the one decode a scan does, masks being small
single-channel files. Optional train/, val/, test/ folders may each hold
an images/ and masks/ pair.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from archspec.errors import DataError
from archspec.spec.data_spec import DataSpec
from archspec.train.userdata.image_files import ImageFiles
from archspec.train.userdata.sources.base import SPLITS, BadItem, Scan, Source
from archspec.train.userdata.sources.image_folder import GREY_MODES, ImageFolder, read_header

IMAGES, MASKS = "images", "masks"
MASK_MODES = {"L", "P", "I", "I;16", "1"}


class Masks(Source):
    kind = "segmentation"
    input_values = "images"

    def detect(self, path: Path) -> bool:
        return any((folder / IMAGES).is_dir() and (folder / MASKS).is_dir() for folder in (path, path / "train"))

    def scan(self, path: Path, options: DataSpec, *, deep: bool = False, class_targets: bool = True) -> Scan:
        parts = {part: path / part for part in SPLITS if (path / part / IMAGES).is_dir()} or {"all": path}
        bad: list[BadItem] = []
        items: dict[str, list[Any]] = {}
        sizes: Counter = Counter()
        modes: Counter = Counter()
        formats: Counter = Counter()
        largest, largest_in = 0, ""
        for part, folder in parts.items():
            items[part] = []
            for image_item, mask_item in _pairs(path, folder, bad):
                image = read_header(path / image_item, deep)
                mask, found = _read_mask(path / mask_item)
                problem = image if isinstance(image, str) else mask if isinstance(mask, str) else None
                if problem is None and image[:2] != mask:
                    problem = f"mask {mask_item} is {mask[0]}x{mask[1]}, its image {image[0]}x{image[1]}"
                if problem is not None:
                    bad.append(BadItem(str(path / image_item), problem))
                    continue
                items[part].append(image_item)
                sizes[image[:2]] += 1
                modes[image[2]] += 1
                formats[image[3]] += 1
                if found > largest or not largest_in:
                    largest, largest_in = found, mask_item
        if not any(items.values()):
            raise DataError(f"{path}: no image with a mask; a segmentation folder holds images/ and masks/ "
                            "with the same file names (masks as class-index PNGs)")
        channels = 3 if any(mode not in GREY_MODES for mode in modes) else 1
        (height, width), _ = sizes.most_common(1)[0]
        return Scan(kind=self.kind, path=path, items=items,
                    labels={part: np.arange(len(part_items)) for part, part_items in items.items()},
                    example_shape=(height, width, channels), classes=None, target_shape=(height, width),
                    bad=bad, sizes=sizes, pixel_classes=largest + 1,
                    facts={"modes": dict(modes), "formats": dict(formats), "largest_class_in": largest_in})

    def read(self, scan: Scan, items: list[Any], options: DataSpec, input_shape: tuple[int, ...],
             train_items: list[Any]) -> Any:
        plain = set(scan.facts["formats"]) <= {"PNG", "JPEG"}
        files = ImageFiles(scan.path, tuple(items), tuple(input_shape), options.resize, png_or_jpeg=plain)
        return files.decode_all() if options.cache == "memory" else files

    def targets(self, scan: Scan, items: list[Any], train_items: list[Any], output_shape: tuple[int, ...]) -> Any:
        """The masks of `items`, decoded when streamed at the output's height and width (nearest neighbour)."""
        return ImageFiles(scan.path, tuple(mask_of(item) for item in items), output_shape[:2], mask=True)

    def input_problem(self, scan: Scan, shape: tuple[int | None, ...], options: DataSpec) -> tuple[str, str] | None:
        return ImageFolder().input_problem(scan, shape, options)


def mask_of(image_item: str) -> str:
    """images/003.jpg -> masks/003.png (train/images/... -> train/masks/...)."""
    path = Path(image_item)
    return str(path.parent.parent / MASKS / f"{path.stem}.png")


def _pairs(root: Path, folder: Path, bad: list[BadItem]) -> list[tuple[str, str]]:
    images = sorted(file for file in (folder / IMAGES).iterdir() if file.is_file())
    if not (folder / MASKS).is_dir():
        raise DataError(f"{folder}: has {IMAGES}/ but no {MASKS}/ folder (one class-index PNG per image)")
    masks = {file.stem: file for file in (folder / MASKS).iterdir() if file.is_file()}
    pairs = []
    for image in images:
        mask = masks.get(image.stem)
        if mask is None or mask.suffix.lower() != ".png":
            bad.append(BadItem(str(image), f"no mask {folder / MASKS / (image.stem + '.png')}"))
            continue
        pairs.append((str(image.relative_to(root)), str(mask.relative_to(root))))
    return pairs


def _read_mask(path: Path) -> tuple[tuple[int, int] | str, int]:
    """((height, width), largest class) of a class-index mask, or why it is unusable."""
    header = read_header(path, deep=False)
    if isinstance(header, str):
        return header, 0
    if header[2] not in MASK_MODES:
        return f"mask {path.name} is {header[2]}; a mask holds one class number per pixel (a greyscale PNG)", 0
    with Image.open(path) as mask:
        return header[:2], int(mask.getextrema()[1]) if mask.mode != "P" else int(np.asarray(mask).max())
