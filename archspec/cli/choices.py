"""Command-line options that pick a name from a registry take their choices from that registry.

Each is an Enum built from the registry's keys, which typer turns into a
click.Choice: a wrong name exits 2 listing the registry's names, `--help`
shows them, shell completion offers them, and nothing types the list twice.
The registries imported here need no TensorFlow.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable

from archspec.keras.backend import BACKENDS
from archspec.train.strategies import STRATEGIES
from archspec.train.tasks import TASKS


def registry_choice(name: str, names: Iterable[str]) -> type[enum.Enum]:
    """An Enum whose members are the registry's names (member.value is the name)."""
    return enum.Enum(name, {choice: choice for choice in names})  # type: ignore[return-value]


def chosen(value: enum.Enum | None) -> str | None:
    """The name an option chose, or None when it was not given."""
    return None if value is None else value.value


Task = registry_choice("Task", TASKS)
Strategy = registry_choice("Strategy", STRATEGIES)
Backend = registry_choice("Backend", BACKENDS)
