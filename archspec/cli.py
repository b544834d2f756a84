"""The `archspec` command. It only parses arguments and prints; the library does the work.

Library errors (ArchspecError) are printed as their message and exit 1;
a wrong command line exits 2 (typer/click's convention); `--debug` shows
the traceback of an error instead. Heavy imports (TensorFlow) happen inside
the commands that need them, so `--help`, `validate` and `summary` start fast.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Optional

import typer

from archspec.errors import ArchspecError

app = typer.Typer(
    name="archspec",
    help="Neural-network architectures as YAML graphs: validate, summarise, compile, render, train.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)

_state = {"debug": False}


@app.callback()
def _options(
    debug: bool = typer.Option(False, "--debug", help="Show Python tracebacks for errors."),
    plugin: list[str] = typer.Option(
        [], "--plugin", metavar="MODULE:OPCLASS",
        help="Register a custom op class (repeatable). Installed 'archspec.ops' entry points load too.",
    ),
) -> None:
    _state["debug"] = debug
    from archspec.plugins import load_entry_points, load_plugin

    load_entry_points()
    for reference in plugin:
        load_plugin(reference)


SpecArgument = typer.Argument(..., help="A spec file (.yaml).", show_default=False)


@app.command()
def validate(specs: list[Path] = typer.Argument(..., help="Spec files to check.")) -> None:
    """Check specs (schema, graph, shapes) without TensorFlow; exit 1 if any is invalid."""
    from archspec.shapes import analyze
    from archspec.summary import total_params

    failed = 0
    for path in specs:
        try:
            graph = analyze(path)
        except ArchspecError as error:
            failed += 1
            typer.echo(str(error), err=True)
            continue
        nodes = graph.number_of_nodes() - sum(1 for _, d in graph.nodes(data=True) if d["kind"] == "input")
        typer.echo(f"ok  {path}  ({nodes} nodes, {total_params(graph):,} parameters)")
    if failed:
        typer.echo(f"{failed} of {len(specs)} spec(s) invalid", err=True)
        raise typer.Exit(1)


@app.command()
def summary(spec: Path = SpecArgument) -> None:
    """Print a table of nodes, ops, shapes and parameter counts (static: no TensorFlow)."""
    from archspec.shapes import analyze
    from archspec.summary import summary_table

    typer.echo(summary_table(analyze(spec)))


@app.command()
def build(
    spec: Path = SpecArgument,
    output: Path = typer.Option(None, "-o", "--output", help="Where to save (default: SPEC.keras)."),
) -> None:
    """Compile a spec to a Keras model and save it as a .keras file."""
    from archspec.compiler import compile_model

    model = compile_model(spec)
    target = output or spec.with_suffix(".keras")
    if target.suffix != ".keras":
        raise typer.BadParameter(f"the output must end in .keras, got {target}", param_hint="--output")
    model.save(target)
    typer.echo(f"saved {target} ({model.count_params():,} parameters)")


@app.command()
def codegen(spec: Path = SpecArgument) -> None:
    """Print the equivalent hand-written Keras Functional API code."""
    from archspec.codegen import generate_code

    typer.echo(generate_code(spec), nl=False)


def main(argv: Optional[list[str]] = None) -> None:
    """Entry point of the console script: run the app, turning library errors into messages.

    In standalone mode click already turns usage errors into exit 2 and
    Ctrl-C into "Aborted!"; our own errors propagate to here.
    """
    args = sys.argv[1:] if argv is None else argv
    try:
        app(args=args, prog_name="archspec")
    except ArchspecError as error:
        if _state["debug"]:
            raise
        typer.echo(str(error), err=True)
        sys.exit(1)


if __name__ == "__main__":
    main()
