"""`archspec data`: what archspec sees in a dataset (no TensorFlow)."""

from __future__ import annotations

from pathlib import Path

import typer

from archspec.cli.app import app


@app.command()
def data(
    path: Path = typer.Argument(
        ..., help="A folder of class folders, images/ and masks/, an .npz or .npy, a .csv or .parquet, a .txt."),
    kind: str | None = typer.Option(
        None, "--kind", help="image_folder, segmentation, arrays, table, text or tokens (default: detected)."),
    target: str | None = typer.Option(None, "--target", help="A table's target column."),
    show: Path | None = typer.Option(None, "--show", help="Write a grid picture of examples to this PNG file."),
) -> None:
    """Show a dataset's layout, counts per split and class, shapes, value ranges and unusable files."""
    from archspec.spec.data_spec import SOURCE_KINDS, DataSpec
    from archspec.train.userdata.report import describe, write_grid
    from archspec.train.userdata.scan import scan_data

    if kind is not None and kind not in SOURCE_KINDS:
        raise typer.BadParameter(f"expected one of {', '.join(SOURCE_KINDS)}, got {kind!r}", param_hint="--kind")
    options = DataSpec(path=str(path), kind=kind, target=target)  # type: ignore[arg-type]
    _, scan = scan_data(options)
    typer.echo(describe(scan, detected=kind is None))
    if show is not None:
        typer.echo(f"wrote {write_grid(scan, show)}")
