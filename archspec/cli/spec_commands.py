"""Commands that read specs without TensorFlow: validate, summary, diff, same, schema, fmt, expand, render."""

from __future__ import annotations

from pathlib import Path

import typer

from archspec.cli.app import BackendOption, SetOption, SpecArgument, _load, _use_backend, app, os_error_message
from archspec.errors import ArchspecError


@app.command()
def validate(
    specs: list[str] = typer.Argument(..., help="Spec files to check."),  # str: a NUL in a name is our error (exit 1)
    overrides: list[str] = SetOption,
    data: Path | None = typer.Option(None, "--data", help="Check the specs against this data (headers only)."),
) -> None:
    """Check specs (schema, graph, shapes) without TensorFlow; exit 1 if any is invalid."""
    from archspec.graph.summary import total_params
    from archspec.train.userdata.spec_data import check_training_fits

    failed = 0
    for path in specs:
        try:
            graph = _load(path, overrides)
            check_training_fits(graph, data)  # its own data (headers only), else the task's dataset
        except ArchspecError as error:
            failed += 1
            typer.echo(str(error), err=True)
            continue
        except OSError as error:  # a path the OS refuses: say so for this file, check the others
            failed += 1
            typer.echo(os_error_message(error), err=True)
            continue
        nodes = graph.number_of_nodes() - sum(1 for _, d in graph.nodes(data=True) if d.is_input)
        typer.echo(f"ok  {path}  ({nodes} nodes, {total_params(graph):,} parameters)")
    if failed:
        typer.echo(f"{failed} of {len(specs)} spec(s) invalid", err=True)
        raise typer.Exit(1)


@app.command()
def summary(spec: Path = SpecArgument, overrides: list[str] = SetOption) -> None:
    """Print a table of nodes, ops, shapes and parameter counts (static: no TensorFlow)."""
    from archspec.graph.summary import summary_table

    typer.echo(summary_table(_load(spec, overrides)))


@app.command()
def diff(
    before: Path = typer.Argument(..., help="The first spec.", show_default=False),
    after: Path = typer.Argument(..., help="The second spec.", show_default=False),
) -> None:
    """Print the architectural difference of two specs: nodes, edges and parameter count."""
    from archspec.graph.diff import diff_specs, format_diff

    typer.echo(format_diff(diff_specs(before, after)))


@app.command()
def same(
    first: Path = typer.Argument(..., help="The first spec.", show_default=False),
    second: Path = typer.Argument(..., help="The second spec.", show_default=False),
    outputs: bool = typer.Option(
        False, "--outputs", help="Also compile both (TensorFlow) and compare outputs on shared weights."),
    backend: str | None = BackendOption,
) -> None:
    """Exit 0 if two specs are the same model (same graph up to names, same parameters and input order),
    else print the first difference and exit 1."""
    from archspec.graph.matching import match_graphs
    from archspec.graph.summary import total_params

    graphs = _load(first, []), _load(second, [])
    matching = match_graphs(*graphs)
    if not matching.same:
        typer.echo(str(matching.difference))
        raise typer.Exit(1)
    report = f"same model: {len(matching.mapping)} nodes, {total_params(graphs[0]):,} parameters"
    if outputs:
        _use_backend(backend)
        from archspec.keras.equivalence import TOLERANCE
        from archspec.keras.same_outputs import outputs_difference

        difference = outputs_difference(*graphs, matching.mapping)
        if difference > TOLERANCE:
            typer.echo(f"{first} and {second} have the same graph but other outputs on shared weights "
                       f"(they differ by {difference:.1e}, relative)")
            raise typer.Exit(1)
        report += f"; outputs on shared weights agree within {difference:.1e}"
    typer.echo(report)


@app.command()
def schema(
    output: Path = typer.Option(None, "-o", "--output", help="Write to this file instead of stdout."),
) -> None:
    """Print the JSON Schema of the spec format (for editors: see the README)."""
    import json

    from archspec.spec.schema import spec_schema

    text = json.dumps(spec_schema(), indent=2) + "\n"
    if output is None:
        typer.echo(text, nl=False)
    else:
        output.write_text(text)
        typer.echo(f"wrote {output}")


@app.command("fmt")
def fmt(
    specs: list[Path] = typer.Argument(..., help="Spec files to format.", show_default=False),
    write: bool = typer.Option(False, "--write", "-w", help="Rewrite the files in place instead of printing."),
    check: bool = typer.Option(False, "--check", help=(
        "Write nothing; name each file not in canonical layout ('would reformat FILE', on stderr) "
        "and exit 1 if any.")),
) -> None:
    """Print specs in canonical layout (key order, indentation, aligned nodes); comments are kept."""
    from archspec.spec.fmt import format_spec

    unformatted = 0
    for path in specs:
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as error:
            raise ArchspecError(f"{path}: cannot read: {error}") from None
        result = format_spec(text, str(path))
        if check:
            if result != text:
                unformatted += 1
                typer.echo(f"would reformat {path}", err=True)
        elif write:
            if result != text:
                path.write_text(result, encoding="utf-8")
        else:
            typer.echo(result, nl=False)
    if unformatted:
        raise typer.Exit(1)


@app.command("expand")
def expand_(spec: Path = SpecArgument, overrides: list[str] = SetOption) -> None:
    """Print the spec fully expanded: every node and edge explicit (inline steps, defaults, blocks, vars)."""
    from archspec.spec.composer import MAX_YAML_VALUES
    from archspec.spec.fmt import format_spec
    from archspec.spec.frontend import load_spec

    # its own output is bounded by the spec's limits already; a problem laying it out is archspec's, not a line
    # of the user's file, so it is named as the expanded text
    typer.echo(format_spec(load_spec(spec, overrides).resolved_yaml(), f"<{spec} expanded>",
                           max_entries=MAX_YAML_VALUES), nl=False)


@app.command()
def render(
    spec: Path = SpecArgument,
    output: Path | None = typer.Option(
        None, "-o", "--output",
        help="Where to write (default: the spec's name with the format's suffix, in the working directory)."),
    format: str | None = typer.Option(
        None, "--format", "-f", help="svg, png, pdf or dot (default: from --output, else svg)."),
    rankdir: str = typer.Option("TB", "--rankdir", help="TB (top to bottom) or LR (left to right)."),
    no_shapes: bool = typer.Option(False, "--no-shapes", help="Leave tensor shapes out."),
    params: bool = typer.Option(False, "--params", help="Show parameter counts per node and in total."),
    highlight: list[str] = typer.Option(
        [], "--highlight", help="Nodes to mark (repeat the option, or separate names by commas)."),
    compact: bool = typer.Option(
        False, "--compact", help="Fold chains of activation/batch_norm/dropout/identity into the node before."),
    fold: bool = typer.Option(
        False, "--fold", help="Draw each block use as one box (a repeat as one box marked xN)."),
    expand: list[str] = typer.Option(
        [], "--expand", help="Fold, but open this block use, repeat or copy (repeat, or separate by commas)."),
) -> None:
    """Draw a spec as a diagram with graphviz (no TensorFlow); an invalid spec is drawn with its errors in red."""
    from archspec.draw.diagram import FORMATS, RenderOptions, build_diagram, write_diagram

    suffix = output.suffix.lstrip(".") if output else ""
    format = format or (suffix if suffix in FORMATS else "svg")
    if format not in FORMATS:
        raise typer.BadParameter(f"use one of {', '.join(FORMATS)}; got {format!r}", param_hint="--format")
    if suffix in FORMATS and suffix != format:
        raise typer.BadParameter(f"{output} would hold {format}, not {suffix}", param_hint="--format")
    if rankdir not in ("TB", "LR"):
        raise typer.BadParameter(f"use TB or LR; got {rankdir!r}", param_hint="--rankdir")
    names = tuple(name for value in highlight for name in value.split(",") if name)
    opened = tuple(name for value in expand for name in value.split(",") if name)
    options = RenderOptions(rankdir=rankdir, shapes=not no_shapes, params=params, highlight=names,
                            compact=compact, fold=fold, expand=opened)
    diagram = build_diagram(spec, options)
    # by default into the working directory, as a compiler writes its output: never into the specs' folder
    target = write_diagram(diagram.digraph, output or Path(f"{spec.stem}.{format}"), format)
    if diagram.errors:
        for error in diagram.errors:
            typer.echo(str(error), err=True)
        typer.echo(f"wrote {target}, with the {len(diagram.errors)} problem(s) above marked in red",
                   err=True)
        raise typer.Exit(1)
    typer.echo(f"wrote {target}")


