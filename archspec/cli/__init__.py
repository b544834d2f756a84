"""The `archspec` command. It only parses arguments and prints; the library does the work.

Library errors (ArchspecError) are printed as their message and exit 1;
a wrong command line exits 2 (typer/click's convention); `--debug` shows
the traceback of an error instead. Heavy imports (TensorFlow) happen inside
the commands that need them, so `--help`, `validate` and `summary` start fast.
`app.py` holds the application and the entry point; each `*_commands.py`
registers one family of commands on it.
"""

from archspec.cli import (  # (importing registers the commands)
    data_commands,
    editor_commands,
    model_commands,
    spec_commands,
    train_commands,
)
from archspec.cli.app import app, main, os_error_message

FAMILIES = (spec_commands.__name__, editor_commands.__name__, model_commands.__name__, data_commands.__name__,
            train_commands.__name__)
"""The order of `archspec --help`: what works on a spec (no TensorFlow), editing live, a model, data, training."""
app.registered_commands.sort(key=lambda command: FAMILIES.index(command.callback.__module__))

__all__ = ["app", "main", "os_error_message"]
