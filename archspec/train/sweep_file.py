"""The sweep file: which spec to vary, along which dimensions, toward which objective.

    archspec_sweep: 1
    spec: ../mnist_denoise_unet.yaml          # relative to this file
    objective: {metric: validation.loss, direction: minimize}
    fit: {epochs: 20}
    dimensions:
      skip:  {edges: [enc2 -> dec2, enc1 -> clean], kinds: [absent, concat-skip, add-residual, gate]}
      noise: {set: train.noise.gaussian, values: [0.3, 0.5, 0.7]}

A dimension is one of five shapes, told apart by its keys (docs/sweeps.md):
`set`+`values` (a --set path over listed values), `set`+`low`/`high` (a
numeric range), `edges`+`kinds` (the kind of one or more edges, or `absent`),
`node`+`choices` (whole definitions of one node, e.g. different ops) and
`specs` (whole variant spec files). Each shape is one model class that says
its Optuna distribution, its grid and how a chosen value changes the spec, so
adding a shape touches this file only. The file is read with archspec's own
positioned YAML loader, so every mistake is reported at its line and column.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Annotated, Any, Literal

import optuna
from pydantic import BaseModel, ConfigDict, Discriminator, Field, Tag, ValidationError, model_validator

from archspec.errors import SpecError, raise_collected
from archspec.graph.connections import CONNECTIONS
from archspec.spec.document import Document, load_yaml

Scalar = str | int | float | bool
ABSENT = "absent"
SAMPLERS = ("grid", "random", "tpe")
PRUNERS = ("none", "median", "hyperband")
FIT_OPTIONS = ("epochs", "batch_size", "subset", "seed", "data_dir")


class SweepError(SpecError):
    """A sweep file, or a variant it makes, cannot be run (located like a spec error)."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class VariantPlan:
    """What one trial changes in the base spec; the dimensions fill it, sweep_space writes it out."""

    def __init__(self, base: Path, folder: Path) -> None:
        self.base = base
        self.folder = folder  # the sweep file's folder, which `specs:` paths are relative to
        self.overrides: list[str] = []
        self.nodes: dict[str, dict[str, Any]] = {}
        self.edge_kinds: dict[tuple[str, str], str] = {}


class SetValues(_Strict):
    """A --set path over listed values: `{set: vars.width, values: [16, 32, 64]}`."""

    set: str
    values: list[Scalar] = Field(min_length=1)

    def distribution(self) -> optuna.distributions.BaseDistribution:
        return optuna.distributions.CategoricalDistribution(self.values)

    def grid(self) -> list[Any] | None:
        return list(self.values)

    def apply(self, value: Any, plan: VariantPlan) -> None:
        plan.overrides.append(f"{self.set}={json.dumps(value) if isinstance(value, str) else value}")


class SetRange(_Strict):
    """A --set path over a numeric range: `{set: train.optimizer.adam.learning_rate, low: 1e-4, high: 1e-2, log: true}`.

    Integers when low, high (and step) are integers."""

    set: str
    low: int | float
    high: int | float
    step: int | float | None = None
    log: bool = False

    @model_validator(mode="after")
    def _ordered(self) -> SetRange:
        if self.low >= self.high:
            raise ValueError(f"low ({self.low}) must be below high ({self.high})")
        if self.log and (self.low <= 0 or self.step is not None):
            raise ValueError("a log range needs low > 0 and no step")
        return self

    def _integer(self) -> bool:
        return all(isinstance(v, int) for v in (self.low, self.high, self.step) if v is not None)

    def distribution(self) -> optuna.distributions.BaseDistribution:
        if self._integer():
            return optuna.distributions.IntDistribution(self.low, self.high, log=self.log, step=self.step or 1)
        return optuna.distributions.FloatDistribution(self.low, self.high, log=self.log, step=self.step)

    def grid(self) -> list[Any] | None:
        if self.step is None and not self._integer():
            return None
        step = self.step or 1
        count = round((self.high - self.low) / step) + 1
        return [self.low + index * step for index in range(count)]

    def apply(self, value: Any, plan: VariantPlan) -> None:
        plan.overrides.append(f"{self.set}={value}")


class EdgeKinds(_Strict):
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

    def grid(self) -> list[Any] | None:
        return list(self.kinds)

    def apply(self, value: Any, plan: VariantPlan) -> None:
        for link in self.links():
            plan.edge_kinds[link] = value


class NodeChoices(_Strict):
    """Whole definitions of one node, by label: `{node: mid, choices: {conv: {op: conv2d, ...}, ...}}`."""

    node: str
    choices: dict[str, dict[str, Any]] = Field(min_length=1)

    def distribution(self) -> optuna.distributions.BaseDistribution:
        return optuna.distributions.CategoricalDistribution(list(self.choices))

    def grid(self) -> list[Any] | None:
        return list(self.choices)

    def apply(self, value: Any, plan: VariantPlan) -> None:
        plan.nodes[self.node] = dict(self.choices[value])


class SpecChoices(_Strict):
    """Whole variant spec files (e.g. `extends:` variants), relative to the sweep file."""

    specs: list[str] = Field(min_length=1)

    def distribution(self) -> optuna.distributions.BaseDistribution:
        return optuna.distributions.CategoricalDistribution(self.specs)

    def grid(self) -> list[Any] | None:
        return list(self.specs)

    def apply(self, value: Any, plan: VariantPlan) -> None:
        plan.base = plan.folder / value


DIMENSION_SHAPES: dict[str, tuple[type[_Strict], tuple[str, ...]]] = {
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


class Objective(_Strict):
    """A figure of metrics.json by its dotted path (validation.loss, test.psnr, params) and a direction."""

    metric: str
    direction: Literal["minimize", "maximize"] = "minimize"


class Pruning(_Strict):
    """Optuna's pruners, fed from history.csv after every epoch."""

    pruner: Literal["none", "median", "hyperband"] = "none"
    metric: str | None = None  # a history.csv column; default: the objective's val_ column
    warmup_epochs: int = Field(default=1, ge=0)


class FitOptions(_Strict):
    """Options passed to every `archspec fit` of the sweep."""

    epochs: int | None = Field(default=None, ge=1)
    batch_size: int | None = Field(default=None, ge=1)
    subset: int | None = Field(default=None, ge=1)
    seed: int | None = None
    data_dir: str | None = None


class SweepFile(_Strict):
    """The whole sweep file."""

    archspec_sweep: Literal[1]
    name: str | None = None
    doc: str = ""
    spec: str
    objective: Objective
    secondary: list[Objective] = Field(default_factory=list)
    sampler: Literal["grid", "random", "tpe"] | None = None
    seed: int | None = None
    trials: int | None = Field(default=None, ge=1)
    fit: FitOptions = FitOptions()
    pruning: Pruning = Pruning()
    dimensions: dict[str, Dimension] = Field(min_length=1)


class Sweep:
    """A loaded sweep file: the validated model, its document (for locations) and its folder."""

    def __init__(self, model: SweepFile, document: Document) -> None:
        self.model = model
        self.document = document
        self.path = Path(document.file)
        self.name = model.name or self.path.stem
        self.base = self.path.parent / model.spec

    def locate(self, *path: str | int, key: bool = False) -> Any:
        return self.document.locate(tuple(path), key=key)

    @property
    def sampler(self) -> str:
        """Grid when every dimension is a finite list, TPE when any is a continuous range."""
        if self.model.sampler:
            return self.model.sampler
        return "grid" if all(dim.grid() is not None for dim in self.model.dimensions.values()) else "tpe"

    @property
    def directions(self) -> list[str]:
        return [self.model.objective.direction, *(goal.direction for goal in self.model.secondary)]

    def fingerprint(self) -> str:
        """Identifies the study's content; a resumed or shared study must come from the same sweep."""
        text = self.model.model_dump_json(exclude={"trials", "doc"})
        return hashlib.sha256(text.encode()).hexdigest()[:16]


def load_sweep(path: str | Path) -> Sweep:
    """Read and check a sweep file; raise SweepError(s) at the offending line."""
    document = load_yaml(path)
    try:
        model = SweepFile.model_validate(document.data)
    except ValidationError as error:
        raise_collected(_located(error, document))
        raise
    sweep = Sweep(model, document)
    raise_collected(_consistency_errors(sweep))
    return sweep


def _consistency_errors(sweep: Sweep) -> list[SpecError]:
    errors: list[SpecError] = []
    model = sweep.model
    if not sweep.base.is_file():
        errors.append(SweepError(f"base spec not found: {sweep.base}", location=sweep.locate("spec"),
                                 hint="the path is relative to the sweep file's folder"))
    swept = {dim.set for dim in model.dimensions.values() if isinstance(dim, SetValues | SetRange)}
    for option in FIT_OPTIONS:
        if getattr(model.fit, option) is not None and f"train.{option}" in swept:
            errors.append(SweepError(f"train.{option} is both swept and fixed by fit.{option}",
                                     location=sweep.locate("fit", option), hint=f"remove fit.{option}"))
    if sweep.sampler == "grid":
        for name, dim in model.dimensions.items():
            if dim.grid() is None:
                errors.append(SweepError(f"dimension '{name}' is a continuous range, which a grid cannot list",
                                         location=sweep.locate("dimensions", name),
                                         hint="give it a step, or use sampler: tpe or random"))
    if model.pruning.pruner != "none" and model.secondary:
        errors.append(SweepError("pruning needs a single objective (Optuna cannot prune multi-objective studies)",
                                 location=sweep.locate("pruning", "pruner"),
                                 hint="drop 'secondary', or set pruner: none"))
    if sum(isinstance(dim, SpecChoices) for dim in model.dimensions.values()) > 1:
        errors.append(SweepError("only one dimension may choose whole spec files",
                                 location=sweep.locate("dimensions")))
    return errors


def _located(error: ValidationError, document: Document) -> list[SpecError]:
    """pydantic's errors at the file positions of the values they are about."""
    found = []
    for item in error.errors(include_url=False):
        path = _data_path(document.data, item["loc"])
        found.append(SweepError(item["msg"].removeprefix("Value error, "), location=document.locate(path),
                                got=None if item["type"] == "missing" else repr(item.get("input"))[:80],
                                expected=".".join(map(str, path)) if item["type"] == "missing" else None))
    return found


def _data_path(data: Any, loc: tuple[Any, ...]) -> tuple[Any, ...]:
    """pydantic's location without the union tags it inserts, as a path in the data."""
    path: list[Any] = []
    for part in loc:
        if (isinstance(data, dict) and part in data) or (isinstance(data, list) and isinstance(part, int)
                                                         and part < len(data)):
            path.append(part)
            data = data[part]
        elif isinstance(data, dict) and part not in DIMENSION_SHAPES:
            path.append(part)  # a missing key: point at its mapping, naming the key
            break
    return tuple(path)


def sweep_schema() -> dict[str, Any]:
    """The JSON Schema of sweep files (for editors, like `archspec schema` for specs)."""
    schema = SweepFile.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "archspec sweep file"
    return schema
