"""Finding a dataset's layout and reading what it holds, without TensorFlow (validate, data, fit)."""

from __future__ import annotations

from pathlib import Path

from archspec.errors import DataError
from archspec.spec.data_spec import DataSpec
from archspec.train.userdata.sources import SOURCES, Scan, Source


def find_source(options: DataSpec) -> tuple[Source, Path]:
    """The source that reads `options.path`: the declared kind, else the one layout that fits it."""
    if options.path is None:
        raise DataError("train.data names no path; give the data with --data PATH")
    path = Path(options.path).expanduser()
    if not path.exists():
        kind = "file" if path.suffix else "folder"
        raise DataError(f"{path}: no such {kind} (the data named by train.data or --data)")
    if options.kind is not None:
        return SOURCES[options.kind], path
    for source in SOURCES.values():
        if source.detect(path):
            return source, path
    raise DataError(f"{path}: not a layout archspec reads (a folder of class folders, of images/ and masks/ or "
                    "written by Hugging Face's save_to_disk; an .npz or .npy; a .csv, .tsv or .parquet table; a .txt); "
                    "declare it with data: {path: ..., kind: ...}")


def scan_data(options: DataSpec, *, deep: bool = False, class_targets: bool = True) -> tuple[Source, Scan]:
    """The source and what it holds; bad files are listed in the scan, not raised (see checks.bad_data)."""
    source, path = find_source(options)
    return source, source.scan(path, options, deep=deep, class_targets=class_targets)
