"""`archspec data PATH`: what archspec sees in a dataset, as text, and a grid picture of examples.

Layout, examples per split and class, class balance, image sizes and modes,
a table's columns and value ranges, and the files or rows it cannot use:
read from headers (the table's cells), without TensorFlow. The picture is
drawn with Pillow into a file the user names, never into the data folder.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

from archspec.errors import DataError
from archspec.train.userdata.sources import Scan

MAX_CLASSES_LISTED = 20
THUMB = 64
PER_CLASS = 8
MAX_ROWS = 10


def describe(scan: Scan, detected: bool) -> str:
    lines = [f"{scan.path}: {scan.kind} ({'detected' if detected else 'declared'})"]
    parts = ", ".join(f"{part} {len(items):,}" for part, items in scan.items.items())
    lines.append(f"examples: {scan.count():,} ({parts})")
    counts = scan.class_counts()
    if counts:
        total = {name: sum(split[name] for split in counts.values()) for name in scan.classes or ()}
        shown = list(total.items())[:MAX_CLASSES_LISTED]
        more = f", ... ({len(total) - len(shown)} more)" if len(total) > len(shown) else ""
        lines.append(f"classes: {len(total)}: " + ", ".join(f"{name} {count:,}" for name, count in shown) + more)
        if total and max(total.values()):
            lines.append(f"balance: smallest / largest class = {min(total.values()) / max(total.values()):.2f}")
    elif scan.pixel_classes:
        lines.append(f"mask classes: {scan.pixel_classes} (0..{scan.pixel_classes - 1}; "
                     f"{scan.pixel_classes - 1} in {scan.facts['largest_class_in']})")
    elif scan.labels:
        every = np.concatenate(list(scan.labels.values())).astype(np.float64)
        if every.size:
            lines.append(f"target: numeric, {every.min():.4g} .. {every.max():.4g} (mean {every.mean():.4g})")
    lines.extend(_kind_facts(scan))
    lines.append(f"unusable: {len(scan.bad)}")
    lines.extend(f"  {item}" for item in scan.bad[:MAX_CLASSES_LISTED])
    return "\n".join(lines)


def _kind_facts(scan: Scan) -> list[str]:
    lines = []
    if scan.sizes:
        sizes = ", ".join(f"{h}x{w} ({n:,})" for (h, w), n in scan.sizes.most_common(5))
        lines.append(f"image sizes (height x width): {sizes}" + (", ..." if len(scan.sizes) > 5 else ""))
        lines.append("modes: " + ", ".join(f"{mode} ({n:,})" for mode, n in scan.facts["modes"].items()))
        lines.append(f"input: {'x'.join(map(str, scan.example_shape))} (the commonest size; values scaled to 0..1)")
    if "features" in scan.facts:
        values = scan.facts["values"]
        lines.append(f"target column: {scan.facts['target']}")
        if scan.facts["text_columns"]:
            lines.append(f"text columns (not features): {', '.join(scan.facts['text_columns'])}")
        ranges = [f"{name} {column.min():.4g}..{column.max():.4g}"
                  for name, column in zip(scan.facts["features"], values.T)]
        lines.append("features: " + ", ".join(ranges))
        if scan.facts.get("not_read"):
            lines.append(f"columns not read (images, audio, lists): {', '.join(scan.facts['not_read'])}")
    if "vocabulary" in scan.facts:
        characters = "".join(scan.facts["vocabulary"])
        lines.append(f"characters: {scan.facts['characters']:,}; vocabulary: {len(scan.facts['vocabulary'])} "
                     f"characters + 1 id for unseen ones: {characters[:80]!r}")
    if scan.token_ids and "stream" in scan.facts:
        layout = (f"one stream in blocks of {scan.example_shape[0]}" if scan.facts["stream"]
                  else f"rows of {scan.example_shape[0]}")
        lines.append(f"token ids: {scan.facts['tokens']:,} as {layout}; {scan.facts['token_ids_hold']}")
    if "arrays" in scan.facts:
        lines.append("arrays: " + ", ".join(f"{name} {list(shape)} {dtype}"
                                            for name, (shape, dtype) in scan.facts["arrays"].items()))
    return lines


def write_grid(scan: Scan, out: Path) -> Path:
    """Up to 8 examples of each of the first 10 classes, one row per class; for masks, images over their masks."""
    if not scan.sizes:
        raise DataError(f"{scan.path}: --show draws image folders and masks; this is a {scan.kind}")
    part = next(iter(scan.items))
    if scan.pixel_classes:
        return _mask_grid(scan, scan.items[part][:PER_CLASS], out)
    rows = []
    for number, name in enumerate((scan.classes or ())[:MAX_ROWS]):
        chosen = [item for item, label in zip(scan.items[part], scan.labels[part]) if label == number][:PER_CLASS]
        rows.append((name, chosen))
    label_width = 90
    grid = Image.new("RGB", (label_width + PER_CLASS * THUMB, len(rows) * THUMB), "white")
    draw = ImageDraw.Draw(grid)
    for row, (name, items) in enumerate(rows):
        draw.text((4, row * THUMB + THUMB // 2 - 6), name[:14], fill="black")
        for column, item in enumerate(items):
            with Image.open(scan.path / item) as image:
                grid.paste(image.convert("RGB").resize((THUMB, THUMB)), (label_width + column * THUMB, row * THUMB))
    grid.save(out)
    return out


def _mask_grid(scan: Scan, items: list[str], out: Path) -> Path:
    """Images in the top row, the same images with their masks overlaid (class > 0 tinted) below."""
    from archspec.train.userdata.sources.masks import mask_of

    grid = Image.new("RGB", (len(items) * THUMB, 2 * THUMB), "white")
    top = max(scan.pixel_classes - 1, 1)
    for column, item in enumerate(items):
        with Image.open(scan.path / item) as image, Image.open(scan.path / mask_of(item)) as mask:
            picture = image.convert("RGB").resize((THUMB, THUMB))
            classes = np.asarray(mask.resize((THUMB, THUMB), Image.NEAREST), dtype=np.float32)
        tint = np.zeros((THUMB, THUMB, 3), np.float32)
        tint[..., 0] = 255.0 * classes / top  # red, brighter for higher classes
        shown = np.asarray(picture, np.float32)
        overlay = np.where(classes[..., None] > 0, 0.5 * shown + 0.5 * tint, shown)
        grid.paste(picture, (column * THUMB, 0))
        grid.paste(Image.fromarray(overlay.astype(np.uint8)), (column * THUMB, THUMB))
    grid.save(out)
    return out
