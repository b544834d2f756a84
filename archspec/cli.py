"""The `archspec` command. It only parses arguments and prints; the library does the work.

Library errors (ArchspecError) are printed as their message and exit 1;
a wrong command line exits 2 (typer/click's convention); `--debug` shows
the traceback of an error instead. Heavy imports (TensorFlow) happen inside
the commands that need them, so `--help`, `validate` and `summary` start fast.
"""

from __future__ import annotations

import errno
import sys
from pathlib import Path

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


BackendOption = typer.Option(
    None, "--backend", help="Keras backend: tensorflow, jax or torch (default: $KERAS_BACKEND, else tensorflow).")


def _use_backend(name: str | None) -> None:
    """Fix Keras's backend before anything imports Keras."""
    from archspec.keras.backend import use_backend

    use_backend(name)


SpecArgument = typer.Argument(..., help="A spec file (.yaml).", show_default=False)
SetOption = typer.Option(
    [], "--set", metavar="KEY=VALUE",
    help="Override a value of the spec, e.g. --set vars.width=32 --set train.epochs=3 (repeatable).",
)


def _load(path: Path | str, overrides: list[str]) -> object:
    """The analysed graph of a spec file with its --set overrides applied."""
    from archspec.graph.shapes import analyze
    from archspec.spec.frontend import load_spec

    return analyze(load_spec(path, overrides))


@app.command()
def validate(
    specs: list[str] = typer.Argument(..., help="Spec files to check."),  # str: a NUL in a name is our error (exit 1)
    overrides: list[str] = SetOption,
) -> None:
    """Check specs (schema, graph, shapes) without TensorFlow; exit 1 if any is invalid."""
    from archspec.graph.summary import total_params

    failed = 0
    for path in specs:
        try:
            graph = _load(path, overrides)
            train = graph.graph["train"]
            if train is not None:  # a spec that says how to train it must fit that task's data
                from archspec.train.tasks import check_task_fits

                check_task_fits(graph, train.task, train.dataset)
        except ArchspecError as error:
            failed += 1
            typer.echo(str(error), err=True)
            continue
        except OSError as error:  # a path the OS refuses: say so for this file, check the others
            failed += 1
            typer.echo(os_error_message(error), err=True)
            continue
        nodes = graph.number_of_nodes() - sum(1 for _, d in graph.nodes(data=True) if d["kind"] == "input")
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
def build(
    spec: Path = SpecArgument,
    output: Path = typer.Option(None, "-o", "--output", help="Where to save (default: SPEC.keras)."),
    overrides: list[str] = SetOption,
    backend: str | None = BackendOption,
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
            backend: str | None = BackendOption) -> None:
    """Print the equivalent hand-written Keras Functional API code (--backend: code that selects it)."""
    _use_backend(backend)
    from archspec.keras.codegen import generate_code

    typer.echo(generate_code(_load(spec, overrides), backend=backend), nl=False)


@app.command()
def diff(
    before: Path = typer.Argument(..., help="The first spec.", show_default=False),
    after: Path = typer.Argument(..., help="The second spec.", show_default=False),
) -> None:
    """Print the architectural difference of two specs: nodes, edges and parameter count."""
    from archspec.graph.diff import diff_specs, format_diff

    typer.echo(format_diff(diff_specs(before, after)))


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


@app.command("import")
def import_(
    source: str = typer.Argument(..., help="A .keras file, or keras.applications.NAME.",
                                 show_default=False),
    output: Path = typer.Option(None, "-o", "--output", help="Write the spec here instead of stdout."),
) -> None:
    """Turn a Keras Functional model into a spec (Add -> add-residual, Concatenate -> concat-skip)."""
    from archspec.keras.importer import import_model, load_keras_model

    text = import_model(load_keras_model(source), source)
    if output is None:
        typer.echo(text, nl=False)
    else:
        output.write_text(text)
        typer.echo(f"wrote {output}")


@app.command()
def render(
    spec: Path = SpecArgument,
    output: Path | None = typer.Option(
        None, "-o", "--output", help="Where to write (default: SPEC with the format's suffix)."),
    format: str | None = typer.Option(
        None, "--format", "-f", help="svg, png, pdf or dot (default: from --output, else svg)."),
    rankdir: str = typer.Option("TB", "--rankdir", help="TB (top to bottom) or LR (left to right)."),
    no_shapes: bool = typer.Option(False, "--no-shapes", help="Leave tensor shapes out."),
    params: bool = typer.Option(False, "--params", help="Show parameter counts per node and in total."),
    highlight: list[str] = typer.Option(
        [], "--highlight", help="Nodes to mark (repeat the option, or separate names by commas)."),
    compact: bool = typer.Option(
        False, "--compact", help="Fold chains of activation/batch_norm/dropout/identity into the node before."),
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
    options = RenderOptions(rankdir=rankdir, shapes=not no_shapes, params=params, highlight=names,
                            compact=compact)
    diagram = build_diagram(spec, options)
    target = write_diagram(diagram.digraph, output or spec.with_suffix(f".{format}"), format)
    if diagram.errors:
        for error in diagram.errors:
            typer.echo(str(error), err=True)
        typer.echo(f"wrote {target}, with the {len(diagram.errors)} problem(s) above marked in red",
                   err=True)
        raise typer.Exit(1)
    typer.echo(f"wrote {target}")


STRATEGY_HELP = "default (one device), mirrored (all local devices) or multiworker (TF_CONFIG)."


@app.command()
def fit(
    spec: Path | None = typer.Argument(None, help="A spec file (.yaml); omit with --resume."),
    epochs: int | None = typer.Option(None, "--epochs", min=1, help="Epochs (total, with --resume)."),
    batch_size: int | None = typer.Option(None, "--batch-size", min=1),
    subset: int | None = typer.Option(None, "--subset", min=1, help="Use the first N train and test examples."),
    out: Path | None = typer.Option(None, "--out", help="Run folder (default runs/<spec>-<time>)."),
    seed: int | None = typer.Option(None, "--seed", help="Seed for weights, shuffling and noise."),
    task: str | None = typer.Option(None, "--task", help="classify, autoencode or denoise."),
    noise: str | None = typer.Option(None, "--noise", help="KIND:AMOUNT, e.g. gaussian:0.5 or salt_pepper:0.2."),
    data_dir: Path | None = typer.Option(
        None, "--data-dir", help="Folder of the IDX files (else $ARCHSPEC_DATA_DIR, else download)."),
    strategy: str = typer.Option("default", "--strategy", help=STRATEGY_HELP),
    resume: Path | None = typer.Option(None, "--resume", help="Continue this run folder from its last complete epoch."),
    overrides: list[str] = SetOption,
    worker_timeout: float | None = typer.Option(
        None, "--worker-timeout", min=1, help="multiworker: seconds to wait for the peers (default 120)."),
    backend: str | None = BackendOption,
) -> None:
    """Train a spec on its dataset and task; write a run folder (checkpoints, history, metrics, plots)."""
    _use_backend(backend)
    from archspec.train import runner as train

    if resume is not None:
        if overrides or spec is not None:
            raise typer.BadParameter("a resumed run keeps its own spec; give --resume RUN_DIR alone "
                                     "(with --epochs or --data-dir)", param_hint="--resume")
        run_dir = train.resume_run(resume, epochs=epochs, data_dir=data_dir)
    elif spec is None:
        raise typer.BadParameter("give a SPEC to train, or --resume RUN_DIR", param_hint="SPEC")
    else:
        run_dir = train.fit_spec(
            spec, spec_overrides=overrides, out=out, epochs=epochs, batch_size=batch_size, subset=subset, seed=seed,
            task=task, noise=_parse_noise(noise), data_dir=data_dir, strategy=strategy,
            worker_timeout_s=worker_timeout,
        )
    if run_dir is None:  # a multi-worker run's other workers: the chief writes the run folder
        typer.echo("trained as a worker of a multi-worker run; the chief (worker 0) writes the run folder")
        return
    typer.echo(f"run folder: {run_dir}")
    typer.echo((run_dir / "metrics.json").read_text().rstrip())


def _parse_noise(text: str | None) -> dict[str, float] | None:
    if text is None:
        return None
    kind, _, amount = text.partition(":")
    try:
        return {kind: float(amount)}
    except ValueError:
        raise typer.BadParameter(f"expected KIND:AMOUNT such as gaussian:0.5, got {text!r}",
                                 param_hint="--noise") from None


@app.command()
def evaluate(
    run_dir: Path = typer.Argument(..., help="A run folder of `archspec fit`."),
    data_dir: Path | None = typer.Option(None, "--data-dir"),
    backend: str | None = BackendOption,
) -> None:
    """Evaluate a run's final model on its test set (the same fixed noisy copy when denoising)."""
    _use_backend(backend)
    from archspec.train.runner import evaluate_run

    for name, value in evaluate_run(run_dir, data_dir).items():
        typer.echo(f"{name}: {value:.4f}")


@app.command()
def export(
    source: Path = typer.Argument(..., help="A run folder, a .keras file or a spec (.yaml).", show_default=False),
    format: str = typer.Option(..., "--format", "-f", help="savedmodel, onnx or litert."),
    output: Path | None = typer.Option(
        None, "-o", "--output", help="Where to write (default: RUN_DIR/model.EXT, or beside the file)."),
    backend: str | None = BackendOption,
) -> None:
    """Export through Keras's model.export; the artifact is loaded back and checked against the model first."""
    _use_backend(backend)
    from archspec.keras.export import FORMATS, default_path, export_model, load_source

    if format not in FORMATS:
        raise typer.BadParameter(f"use one of {', '.join(FORMATS)}; got {format!r}", param_hint="--format")
    report = export_model(load_source(source), output or default_path(source, format), format)
    typer.echo(f"wrote {report.path} ({format}, {report.backend} backend); outputs match the Keras model "
               f"within {report.max_difference:.1e}")


@app.command()
def compare(
    run_dirs: list[Path] = typer.Argument(..., help="Run folders to compare."),
    out: Path = typer.Option(Path("runs/compare"), "--out", help="Where the two comparison images go."),
) -> None:
    """Print a table of finished runs; write their curves overlaid and their samples side by side."""
    from archspec.train.compare import compare_runs

    typer.echo(compare_runs(run_dirs, out))
    typer.echo(f"wrote {out / 'compare_curves.png'} and {out / 'compare_samples.png'}")


@app.command()
def sweep(
    sweep_file: Path | None = typer.Argument(None, help="A sweep file (.yaml); see docs/sweeps.md."),
    trials: int | None = typer.Option(None, "--trials", min=1,
                                      help="Trials the study should have (default: the file's, or the grid)."),
    workers: int = typer.Option(1, "--workers", min=1, help="Trials trained at once on this machine."),
    threads: int | None = typer.Option(None, "--threads", min=1,
                                       help="CPU threads per worker (default: an equal share of the cores)."),
    storage: str | None = typer.Option(
        None, "--storage", help="Optuna storage: a database URL or a journal file (default OUT/study.journal)."),
    out: Path | None = typer.Option(None, "--out", help="Sweep folder (default runs/sweeps/<name>)."),
    pin: bool = typer.Option(False, "--pin", help="Also bind each worker to its CPUs (for a machine of your own)."),
    schema: bool = typer.Option(False, "--schema", help="Print the JSON Schema of sweep files and exit."),
) -> None:
    """Train variants of a spec (topology, ops, settings) as an Optuna study; resumable, shareable."""
    if schema:
        import json

        from archspec.train.sweep_file import sweep_schema

        typer.echo(json.dumps(sweep_schema(), indent=2))
        return
    if sweep_file is None:
        raise typer.BadParameter("give a SWEEP file (or --schema)", param_hint="SWEEP_FILE")
    from archspec.train.sweep import run_sweep

    result = run_sweep(sweep_file, trials=trials, workers=workers, threads=threads, storage=storage, out=out,
                       pin=pin, progress=typer.echo)
    counts = ", ".join(f"{count} {state}" for state, count in sorted(result.counts.items()))
    typer.echo(f"ran {len(result.ran)} trial(s) here; the study has {counts}")
    typer.echo(f"report: {result.report}")


def main(argv: list[str] | None = None) -> None:
    """Entry point of the console script: run the app, turning library errors into messages.

    In standalone mode click already turns usage errors into exit 2 and
    Ctrl-C into "Aborted!"; our own errors propagate to here.
    """
    args = sys.argv[1:] if argv is None else argv
    for position, arg in enumerate(args, start=1):
        if "\x00" in arg:  # only reachable through main([...]): no OS passes NUL in argv
            typer.echo(f"archspec: argument {position} ({arg!r}) contains a NUL character, which no "
                       "file name or option can hold", err=True)
            sys.exit(1)
    try:
        app(args=args, prog_name="archspec")
    except ArchspecError as error:
        if _state["debug"]:
            raise
        typer.echo(str(error), err=True)
        sys.exit(1)
    except OSError as error:  # the OS refused a path (too long, no such folder, no permission)
        if _state["debug"]:
            raise
        typer.echo(os_error_message(error), err=True)
        sys.exit(1)
    except Exception as error:  # a bug of ours: say so in one line, keep the traceback for --debug
        if _state["debug"]:
            raise
        from archspec.graph.memory import is_out_of_memory, out_of_memory_message

        if is_out_of_memory(error):  # the model or batch is too big for this machine: not a bug
            typer.echo(out_of_memory_message(error), err=True)
            sys.exit(1)
        typer.echo(
            f"archspec: internal error ({type(error).__name__}: {error}); this is a bug in archspec, "
            "not in your spec. Rerun with --debug for the traceback and please report it.",
            err=True,
        )
        sys.exit(3)


def os_error_message(error: OSError) -> str:
    """One line for a path the OS refused, naming the path (shortened) and the OS's reason."""
    name = str(error.filename) if error.filename is not None else ""
    shown = repr(name) if len(name) <= 80 else f"'{name[:60]}...' ({len(name):,} characters)"
    reason = error.strerror or str(error)
    message = f"archspec: cannot use the path {shown}: {reason}" if name else f"archspec: {reason}"
    if error.errno == errno.ENAMETOOLONG:
        message += "\n  hint: most file systems allow at most 255 bytes in one file or folder name"
    return message


if __name__ == "__main__":
    main()
