"""Small datasets written at test time from MNIST: image folders (PNG, RGB or grey, any size), .npz, CSV."""

from __future__ import annotations

import struct
import zlib
from pathlib import Path

import numpy as np
from PIL import Image

from archspec.train.datasets import read_idx_directory


def mnist_digits(mnist_dir: Path, count: int) -> tuple[np.ndarray, np.ndarray]:
    arrays = read_idx_directory(mnist_dir)
    return arrays.x_train[:count], arrays.y_train[:count]


def write_image_folder(root: Path, images: np.ndarray, labels: np.ndarray, *, size: int = 32, rgb: bool = True,
                       classes: int | None = None, fmt: str = "png") -> Path:
    """One sub-folder per digit (digit_0, ...), each image resized to size x size, RGB or grey."""
    for number, (image, label) in enumerate(zip(images, labels)):
        if classes is not None and label >= classes:
            continue
        picture = Image.fromarray(image).resize((size, size))
        if rgb:
            picture = picture.convert("RGB")
        folder = root / f"digit_{label}"
        folder.mkdir(parents=True, exist_ok=True)
        picture.save(folder / f"{number:05d}.{fmt}")
    return root


def png_bomb(path: Path, width: int = 50_000, height: int = 50_000) -> Path:
    """A PNG whose header claims width x height pixels (a decompression bomb) with almost no data."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\0" * 16))
                     + chunk(b"IEND", b""))
    return path


def write_table(path: Path, rows: int = 120, seed: int = 0) -> Path:
    """A CSV with three numeric features, a numeric target (a linear mix plus noise) and a class column."""
    rng = np.random.default_rng(seed)
    features = rng.normal(size=(rows, 3))
    target = features @ np.array([1.5, -2.0, 0.5]) + 0.1 * rng.normal(size=rows)
    lines = ["width,height,depth,price,kind"]
    for values, value in zip(features, target):
        lines.append(",".join(f"{v:.4f}" for v in values) + f",{value:.4f},{'big' if value > 0 else 'small'}")
    path.write_text("\n".join(lines) + "\n")
    return path


def write_segmentation_folder(root: Path, images: np.ndarray, *, size: int = 32, classes: int = 2) -> Path:
    """images/NNNNN.png (RGB) and masks/NNNNN.png: 0 background, digit pixels class 1 (or 1..classes-1 by ink)."""
    (root / "images").mkdir(parents=True, exist_ok=True)
    (root / "masks").mkdir(parents=True, exist_ok=True)
    for number, image in enumerate(images):
        picture = Image.fromarray(image).resize((size, size))
        picture.convert("RGB").save(root / "images" / f"{number:05d}.png")
        ink = np.asarray(picture)
        mask = np.where(ink > 127, 1 + (ink.astype(np.int32) * (classes - 1) // 256), 0).clip(0, classes - 1)
        Image.fromarray(mask.astype(np.uint8), "L").save(root / "masks" / f"{number:05d}.png")
    return root
