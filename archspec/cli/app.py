"""The `archspec` application: options shared by every command, and the entry point that turns errors into messages.

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

from archspec.cli.choices import Backend, chosen
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
    from archspec.catalogue.plugins import load_entry_points, load_plugin

    load_entry_points()
    for reference in plugin:
        load_plugin(reference)


BackendOption = typer.Option(
    None, "--backend", help="Keras backend (default: $KERAS_BACKEND, else tensorflow).")


def _use_backend(name: Backend | None) -> None:
    """Fix Keras's backend before anything imports Keras."""
    from archspec.keras.backend import use_backend

    use_backend(chosen(name))


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
        sys.exit(getattr(error, "exit_status", 1))  # a run stopped by a signal: 128 + its number
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
