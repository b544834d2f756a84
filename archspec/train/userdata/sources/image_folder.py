"""An image folder: one sub-folder per class (or train/, val/, test/ folders of class folders).

Scanning opens each file with Pillow, which reads the size and mode from
the header without decoding the pixels; `deep` scans decode every file too,
so a truncated image is reported before training. Pillow's decompression
bomb limit (Image.MAX_IMAGE_PIXELS) is enforced, as an error, not a
warning. Folders are walked through symbolic links, but never twice (a link
back to a parent is a reported loop, not an endless walk).
"""

from __future__ import annotations

import os
import warnings
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image, UnidentifiedImageError

from archspec.errors import DataError
from archspec.spec.data_spec import DataSpec
from archspec.train.userdata.image_files import ImageFiles
from archspec.train.userdata.sources.base import SPLITS, BadItem, Scan, Source

EXTENSIONS = {".png", ".jpg", ".jpeg", ".bmp", ".gif"}
FORMATS = {"PNG", "JPEG", "BMP", "GIF", "MPO"}
SPLIT_FOLDERS = {"train": "train", "val": "val", "validation": "val", "test": "test"}
GREY_MODES = {"1", "L", "LA", "I", "I;16", "I;16B", "I;16L", "F"}
SCAN_THREADS = 8


class ImageFolder(Source):
    kind = "image_folder"
    input_values = "images"

    def detect(self, path: Path) -> bool:
        return path.is_dir()

    def scan(self, path: Path, options: DataSpec, *, deep: bool = False, class_targets: bool = True) -> Scan:
        split_dirs = _split_folders(path)
        bad: list[BadItem] = []
        per_split = {split: _class_files(folder, path, bad) for split, folder in split_dirs.items()}
        classes = sorted({name for files in per_split.values() for name in files})
        empty = sorted({name for files in per_split.values() for name, found in files.items() if not found})
        for name in empty:
            bad.append(BadItem(f"{path / name}", "empty class folder (no PNG, JPEG, BMP or GIF file)"))
        classes = [name for name in classes if name not in empty]
        if not classes:
            raise DataError(f"{path}: no class folders with images; an image folder holds one sub-folder per "
                            "class (e.g. cats/001.png, dogs/002.png), optionally inside train/, val/, test/")
        index = {name: number for number, name in enumerate(classes)}
        items: dict[str, list[Any]] = {}
        labels: dict[str, np.ndarray] = {}
        for split, files in per_split.items():
            pairs = [(relative, index[name]) for name in classes for relative in files.get(name, [])]
            items[split] = [relative for relative, _ in pairs]
            labels[split] = np.array([label for _, label in pairs], dtype=np.int32)
        headers = _read_headers(path, [item for split in items.values() for item in split], deep)
        unusable = {item for item, header in headers.items() if isinstance(header, str)}
        bad.extend(BadItem(str(path / item), headers[item]) for item in sorted(unusable))
        for split in items:
            keep = [position for position, item in enumerate(items[split]) if item not in unusable]
            items[split] = [items[split][position] for position in keep]
            labels[split] = labels[split][keep]
        good = [header for header in headers.values() if not isinstance(header, str)]
        sizes = Counter((height, width) for height, width, _, _ in good)
        modes = Counter(mode for _, _, mode, _ in good)
        channels = 3 if any(mode not in GREY_MODES for mode in modes) else 1
        (height, width), _ = sizes.most_common(1)[0] if sizes else ((0, 0), 0)
        return Scan(
            kind=self.kind, path=path, items=items, labels=labels, example_shape=(height, width, channels),
            classes=tuple(classes), bad=bad, sizes=sizes,
            facts={"modes": dict(modes), "formats": dict(Counter(fmt for *_, fmt in good))},
        )

    def read(self, scan: Scan, items: list[Any], options: DataSpec, input_shape: tuple[int, ...],
             train_items: list[Any]) -> Any:
        plain = set(scan.facts["formats"]) <= {"PNG", "JPEG"}
        files = ImageFiles(scan.path, tuple(items), tuple(input_shape), options.resize, png_or_jpeg=plain)
        return files.decode_all() if options.cache == "memory" else files

    def input_problem(self, scan: Scan, shape: tuple[int | None, ...], options: DataSpec) -> tuple[str, str] | None:
        channels = {"keep": scan.example_shape[2], "grey": 1, "rgb": 3}[options.color]
        if len(shape) != 3 or None in shape[:2]:
            return (f"an image input (height, width, {channels}), e.g. [64, 64, {channels}]",
                    "give the input a fixed height, width and channels; images are resized to it")
        if shape[2] != channels:
            colour = "RGB" if channels == 3 else "greyscale"
            want = "grey" if shape[2] == 1 else "rgb"
            return (f"{channels} channel(s): the images are {colour}",
                    f"give the input {channels} channel(s), or convert the images with data: "
                    f"{{path: ..., color: {want}}}")
        return None


def _split_folders(path: Path) -> dict[str, Path]:
    """{"train": path/train, ...} when path holds split folders, else {"all": path}."""
    if not path.is_dir():
        raise DataError(f"{path}: not a folder")
    children = [child for child in path.iterdir() if child.is_dir()]
    named = {SPLIT_FOLDERS[child.name.lower()]: child for child in children if child.name.lower() in SPLIT_FOLDERS}
    if named and "train" in named:
        return dict(sorted(named.items(), key=lambda pair: SPLITS.index(pair[0])))
    if named:
        raise DataError(f"{path}: has {', '.join(sorted(c.name for c in children if c.name.lower() in SPLIT_FOLDERS))}"
                        " folder(s) but no train/ folder; put the training images in train/<class>/")
    return {"all": path}


def _class_files(folder: Path, root: Path, bad: list[BadItem]) -> dict[str, list[str]]:
    """Class name -> image files (relative to root, sorted), walking each class folder's sub-folders once."""
    loose = sorted(child.name for child in folder.iterdir() if child.is_file() and child.suffix.lower() in EXTENSIONS)
    if loose:
        raise DataError(f"{folder / loose[0]}: image files directly in {folder}; an image folder holds one "
                        "sub-folder per class, the class being the folder's name")
    classes: dict[str, list[str]] = {}
    for child in sorted(folder.iterdir()):
        if child.is_dir():
            classes[child.name] = _walk_images(child, root, bad)
    return classes


def _walk_images(top: Path, root: Path, bad: list[BadItem]) -> list[str]:
    found: list[str] = []
    seen: set[str] = set()
    prefix = os.path.join(root, "")  # entries below root start with it: slicing is 10x cheaper than relpath
    pending = [top]
    while pending:
        folder = pending.pop()
        real = os.path.realpath(folder)
        if real in seen:
            bad.append(BadItem(str(folder), "symbolic link loop (this folder was already read); not followed"))
            continue
        seen.add(real)
        try:
            entries = sorted(os.scandir(folder), key=lambda entry: entry.name)
        except OSError as error:
            bad.append(BadItem(str(folder), f"cannot list the folder ({error.strerror or error})"))
            continue
        for entry in entries:  # strings, not Paths: pathlib costs more than the walk (20,000 files)
            if entry.is_dir():
                pending.append(Path(entry.path))
            elif os.path.splitext(entry.name)[1].lower() in EXTENSIONS:
                if entry.is_file():
                    found.append(entry.path[len(prefix):])
                else:
                    bad.append(BadItem(entry.path, "broken link or not a regular file"))
    return sorted(found)


def _read_headers(root: Path, items: list[str], deep: bool) -> dict[str, Any]:
    """item -> (height, width, mode, format), or the reason it cannot be used.

    Headers are read in one thread (threads only add their hand-over cost to a 29-byte read);
    full decodes (deep) in several, as Pillow's decoders release the GIL.
    """
    if not deep:
        return {item: read_header(os.path.join(root, item)) for item in items}
    with ThreadPoolExecutor(SCAN_THREADS) as pool:
        return dict(zip(items, pool.map(lambda item: read_header(root / item, deep), items)))


PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
PNG_MODES = {0: "L", 2: "RGB", 3: "P", 4: "LA", 6: "RGBA"}
"""PNG colour types as Pillow names their modes."""


def read_header(path: Path | str, deep: bool = False) -> tuple[int, int, str, str] | str:
    """(height, width, mode, format) from the header (and a full decode when deep), or why it is unusable.

    A PNG's header is read directly (its IHDR chunk sits at a fixed place): Pillow's open costs
    ~10x more, and `validate` reads every header of a folder of tens of thousands.
    """
    if not deep:
        found = _png_header(path)
        if found is not None:
            return found
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(path) as image:
                if image.format not in FORMATS:
                    return f"a {image.format} image; expected PNG, JPEG, BMP or GIF"
                if deep:
                    image.load()
                return image.height, image.width, image.mode, image.format
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        return BOMB.format(limit=Image.MAX_IMAGE_PIXELS)
    except UnidentifiedImageError:
        return f"not an image, whatever its extension ({Path(path).suffix}) says"
    except OSError as error:  # truncated or corrupt data, unreadable file
        return f"unreadable image ({error})"
    except (ValueError, SyntaxError, EOFError) as error:  # Pillow's plugins raise these on bad headers
        return f"corrupt image header ({error})"


BOMB = ("more pixels than Pillow's limit of {limit:,} (a decompression bomb?); "
        "raise PIL.Image.MAX_IMAGE_PIXELS only for files you trust")


def _png_header(path: Path | str) -> tuple[int, int, str, str] | str | None:
    """A PNG's (height, width, mode, "PNG") from its IHDR chunk; None when it is not a plain PNG (Pillow decides)."""
    try:
        with open(path, "rb") as handle:
            head = handle.read(29)
    except OSError:
        return None  # Pillow names the error
    if len(head) < 29 or not head.startswith(PNG_SIGNATURE) or head[12:16] != b"IHDR":
        return None
    width, height = int.from_bytes(head[16:20], "big"), int.from_bytes(head[20:24], "big")
    mode = PNG_MODES.get(head[25])
    if mode is None or not width or not height:
        return None
    if Image.MAX_IMAGE_PIXELS and width * height > Image.MAX_IMAGE_PIXELS:
        return BOMB.format(limit=Image.MAX_IMAGE_PIXELS)
    return height, width, "I;16" if mode == "L" and head[24] == 16 else mode, "PNG"
