"""The dimensions of a sweep: one model class per shape, each knowing its Optuna distribution,
its grid and how a chosen value changes the spec.

Told apart by their keys (docs/sweeps.md): `set`+`values`, `set`+`low`/`high`,
`edges`+`kinds`, `node`+`choices`, `specs`. Adding a shape means one class here
and one line in DIMENSION_SHAPES; nothing else switches on the shape.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Annotated, Any

import optuna
from pydantic import (
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    Tag,
    ValidationInfo,
    field_validator,
    model_validator,
)

from archspec.catalogue.connections import CONNECTIONS

Scalar = str | int | float | bool
ABSENT = "absent"


class SweepModel(BaseModel):
    """Sweep file models: unknown keys are errors (a misspelt key must not be silently ignored)."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class VariantPlan:
    """What one trial changes in the base spec; the dimensions fill it, sweep_space writes it out."""

    def __init__(self, base: Path, folder: Path) -> None:
        self.base = base
        self.folder = folder  # the sweep file's folder, which `specs:` paths are relative to
        self.overrides: list[str] = []
        self.nodes: dict[str, dict[str, Any]] = {}
        self.edge_kinds: dict[tuple[str, str], str] = {}


class SetValues(SweepModel):
    """A --set path over listed values: `{set: vars.width, values: [16, 32, 64]}`."""

    set: str
    values: list[Scalar] = Field(min_length=1)

    def distribution(self) -> optuna.distributions.BaseDistribution:
        return optuna.distributions.CategoricalDistribution(self.values)

    def count(self) -> int | None:
        return len(self.values)

    def grid(self) -> list[Any] | None:
        return list(self.values)

    def apply(self, value: Any, plan: VariantPlan) -> None:
        plan.overrides.append(f"{self.set}={json.dumps(value) if isinstance(value, str) else value}")


class SetRange(SweepModel):
    """A --set path over a numeric range: `{set: train.optimizer.adam.learning_rate, low: 1e-4, high: 1e-2, log: true}`.

    Integers when low, high (and step) are integers."""

    set: str
    low: int | float
    high: int | float
    step: int | float | None = None
    log: bool = False

    @field_validator("low", "high", "step")
    @classmethod
    def _finite(cls, value: int | float | None, info: ValidationInfo) -> int | float | None:
        if value is not None and not math.isfinite(value):
            raise ValueError(f"{info.field_name} must be a finite number, got {value}")
        if info.field_name == "step" and value is not None and value <= 0:
            raise ValueError(f"step must be above 0, got {value} (a range goes from low up to high)")
        return value

    @model_validator(mode="after")
    def _ordered(self) -> SetRange:
        if self.low >= self.high:
            raise ValueError(f"low ({self.low}) must be below high ({self.high})")
        if not math.isfinite(self.high - self.low):
            raise ValueError(f"the span from low ({self.low}) to high ({self.high}) is not a finite number")
        if self.log and (self.low <= 0 or self.step is not None):
            raise ValueError("a log range needs low > 0 and no step")
        return self

    def _integer(self) -> bool:
        return all(isinstance(v, int) for v in (self.low, self.high, self.step) if v is not None)

    def _step(self) -> int | float:
        return self.step if self.step is not None else 1

    def distribution(self) -> optuna.distributions.BaseDistribution:
        if self._integer():
            return optuna.distributions.IntDistribution(self.low, self.high, log=self.log, step=self._step())
        return optuna.distributions.FloatDistribution(self.low, self.high, log=self.log, step=self.step)

    def count(self) -> int | None:
        """Values of the grid (low, low + step, ... up to high), counted without listing them;
        None for a continuous range."""
        if self.step is None and not self._integer():
            return None
        if self._integer():
            return (self.high - self.low) // self._step() + 1  # type: ignore[operator]
        return math.floor((self.high - self.low) / self._step() + 1e-9) + 1

    def grid(self) -> list[Any] | None:
        count = self.count()
        if count is None:
            return None
        return [self.low + index * self._step() for index in range(count)]

    def apply(self, value: Any, plan: VariantPlan) -> None:
        plan.overrides.append(f"{self.set}={value}")


class EdgeKinds(SweepModel):
    """The kind of one or more edges, `absent` for none: `{edges: [enc2 -> dec2], kinds: [absent, gate]}`."""

    edges: list[str] = Field(min_length=1)
    kinds: list[str] = Field(min_length=1)

    @model_validator(mode="after")
    def _known(self) -> EdgeKinds:
        known = [ABSENT, *CONNECTIONS]
        for kind in self.kinds:
            if kind not in known:
                raise ValueError(f"unknown edge kind {kind!r}; expected one of {', '.join(known)}")
        for edge in self.edges:
            if edge.count("->") != 1 or not all(part.strip() for part in edge.split("->")):
                raise ValueError(f"write each edge as 'source -> target', got {edge!r}")
        return self

    def links(self) -> list[tuple[str, str]]:
        return [tuple(part.strip() for part in edge.split("->")) for edge in self.edges]  # type: ignore[misc]

    def distribution(self) -> optuna.distributions.BaseDistribution:
        return optuna.distributions.CategoricalDistribution(self.kinds)

    def count(self) -> int | None:
        return len(self.kinds)

    def grid(self) -> list[Any] | None:
        return list(self.kinds)

    def apply(self, value: Any, plan: VariantPlan) -> None:
        for link in self.links():
            plan.edge_kinds[link] = value


class NodeChoices(SweepModel):
    """Whole definitions of one node, by label: `{node: mid, choices: {conv: {op: conv2d, ...}, ...}}`."""

    node: str
    choices: dict[str, dict[str, Any]] = Field(min_length=1)

    def distribution(self) -> optuna.distributions.BaseDistribution:
        return optuna.distributions.CategoricalDistribution(list(self.choices))

    def count(self) -> int | None:
        return len(self.choices)

    def grid(self) -> list[Any] | None:
        return list(self.choices)

    def apply(self, value: Any, plan: VariantPlan) -> None:
        plan.nodes[self.node] = dict(self.choices[value])


class SpecChoices(SweepModel):
    """Whole variant spec files (e.g. `extends:` variants), relative to the sweep file."""

    specs: list[str] = Field(min_length=1)

    def distribution(self) -> optuna.distributions.BaseDistribution:
        return optuna.distributions.CategoricalDistribution(self.specs)

    def count(self) -> int | None:
        return len(self.specs)

    def grid(self) -> list[Any] | None:
        return list(self.specs)

    def apply(self, value: Any, plan: VariantPlan) -> None:
        plan.base = plan.folder / value


DIMENSION_SHAPES: dict[str, tuple[type[SweepModel], tuple[str, ...]]] = {
    "values": (SetValues, ("set", "values")),
    "range": (SetRange, ("set", "low")),
    "edges": (EdgeKinds, ("edges",)),
    "node": (NodeChoices, ("node",)),
    "specs": (SpecChoices, ("specs",)),
}
"""Each dimension shape and the keys that identify it in the file."""


def _shape_of(raw: Any) -> str | None:
    if isinstance(raw, BaseModel):
        return next(tag for tag, (cls, _) in DIMENSION_SHAPES.items() if isinstance(raw, cls))
    if not isinstance(raw, dict):
        return None
    for tag, (_, keys) in DIMENSION_SHAPES.items():
        if all(key in raw for key in keys):
            return tag
    return None


Dimension = Annotated[
    Annotated[SetValues, Tag("values")] | Annotated[SetRange, Tag("range")] | Annotated[EdgeKinds, Tag("edges")]
    | Annotated[NodeChoices, Tag("node")] | Annotated[SpecChoices, Tag("specs")],
    Discriminator(
        _shape_of,
        custom_error_type="dimension_shape",
        custom_error_message="a dimension needs set+values, set+low+high, edges+kinds, node+choices or specs",
    ),
]
