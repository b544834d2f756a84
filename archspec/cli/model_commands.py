"""Commands that build Keras models: build, codegen, import, export."""

from __future__ import annotations

from pathlib import Path

import typer

from archspec.cli.app import BackendOption, SetOption, SpecArgument, _load, _use_backend, app
from archspec.cli.choices import Backend, chosen


@app.command()
def build(
    spec: Path = SpecArgument,
    output: Path = typer.Option(None, "-o", "--output", help="Where to save (default: SPEC.keras)."),
    overrides: list[str] = SetOption,
    backend: Backend | None = BackendOption,
) -> None:
    """Compile a spec to a Keras model and save it as a .keras file."""
    _use_backend(backend)
    from archspec.keras.compiler import compile_model

    model = compile_model(_load(spec, overrides))
    target = output or spec.with_suffix(".keras")
    if target.suffix != ".keras":
        raise typer.BadParameter(f"the output must end in .keras, got {target}", param_hint="--output")
    model.save(target)
    typer.echo(f"saved {target} ({model.count_params():,} parameters)")


@app.command()
def codegen(spec: Path = SpecArgument, overrides: list[str] = SetOption,
            backend: Backend | None = BackendOption) -> None:
    """Print the equivalent hand-written Keras Functional API code (--backend: code that selects it)."""
    _use_backend(backend)
    from archspec.keras.codegen import generate_code

    typer.echo(generate_code(_load(spec, overrides), backend=chosen(backend)), nl=False)


@app.command("import")
def import_(
    source: str = typer.Argument(..., help="A .keras file, keras.applications.NAME, or an .onnx file.",
                                 show_default=False),
    output: Path = typer.Option(None, "-o", "--output",
                                help="Write the spec here instead of stdout (ONNX: its weights beside it)."),
) -> None:
    """Turn a Keras Functional model or an ONNX graph into a spec (Add -> add-residual, Concatenate -> concat-skip)."""
    if source.endswith(".onnx"):
        from archspec.keras.importer.onnx import import_onnx, weights_path

        result = import_onnx(Path(source))
        text, note = result.text, f"; matches onnxruntime within {result.max_difference:.1e}"
        if output is not None:
            result.model.save_weights(weights_path(output))
            note = f" and {weights_path(output)}{note}"
    else:
        from archspec.keras.importer import import_model, load_model_to_import

        text, note = import_model(load_model_to_import(source), source), ""
    if output is None:
        typer.echo(text, nl=False)
    else:
        output.write_text(text)
        typer.echo(f"wrote {output}{note}")


@app.command()
def export(
    source: Path = typer.Argument(..., help="A run folder, a .keras file or a spec (.yaml).", show_default=False),
    format: str = typer.Option(..., "--format", "-f", help="savedmodel, onnx or litert."),
    output: Path | None = typer.Option(
        None, "-o", "--output", help="Where to write (default: RUN_DIR/model.EXT, or beside the file)."),
    backend: Backend | None = BackendOption,
) -> None:
    """Export through Keras's model.export; the artifact is loaded back and checked against the model first."""
    _use_backend(backend)
    from archspec.keras.export import FORMATS, default_path, export_model, load_source
    from archspec.train.runs import final_model_file

    if format not in FORMATS:
        raise typer.BadParameter(f"use one of {', '.join(FORMATS)}; got {format!r}", param_hint="--format")
    model = load_source(final_model_file(source) if source.is_dir() else source)  # a run folder: its final model
    report = export_model(model, output or default_path(source, format), format)
    typer.echo(f"wrote {report.path} ({format}, {report.backend} backend); outputs match the Keras model "
               f"within {report.max_difference:.1e}")


