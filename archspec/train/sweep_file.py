"""The sweep file: which spec to vary, along which dimensions, toward which objective.

    archspec_sweep: 1
    spec: ../mnist_denoise_unet.yaml          # relative to this file
    objective: {metric: validation.loss, direction: minimize}
    fit: {epochs: 20}
    dimensions:
      skip:  {edges: [enc2 -> dec2, enc1 -> clean], kinds: [absent, concat-skip, add-residual, gate]}
      noise: {set: train.noise.gaussian, values: [0.3, 0.5, 0.7]}

A dimension is one of five shapes, told apart by its keys (sweep_dimensions:
`set`+`values`, `set`+`low`/`high`, `edges`+`kinds`, `node`+`choices`,
`specs`). The file is read with archspec's own positioned YAML loader, so
every mistake is reported at its line and column.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, ValidationError

from archspec.errors import SpecError, raise_collected
from archspec.spec.document import Document
from archspec.spec.loader import load_yaml
from archspec.spec.project_paths import check_project_file
from archspec.train.sweep_dimensions import DIMENSION_SHAPES, Dimension, SetRange, SetValues, SpecChoices, SweepModel

PLAIN_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*")
SAMPLERS = ("grid", "random", "tpe")
"""The samplers a sweep file may name (sweep_study.SAMPLERS makes each with Optuna)."""
PRUNERS = ("none", "median", "hyperband")
"""The pruners a sweep file may name (sweep_study.PRUNERS makes each with Optuna)."""
FIT_OPTIONS = ("epochs", "batch_size", "subset", "seed", "data_dir", "data")
MAX_GRID_VARIANTS = 10_000
"""Points of a grid sweep, counted before any is listed: each is a queued trial in the study."""


class SweepError(SpecError):
    """A sweep file, or a variant it makes, cannot be run (located like a spec error)."""


class Objective(SweepModel):
    """A figure of metrics.json by its dotted path (validation.loss, test.psnr, params) and a direction."""

    metric: str
    direction: Literal["minimize", "maximize"] = "minimize"


class Pruning(SweepModel):
    """Optuna's pruners, fed from history.csv after every epoch."""

    pruner: Literal[PRUNERS] = "none"  # type: ignore[valid-type]
    metric: str | None = None  # a history.csv column; default: the objective's val_ column
    warmup_epochs: int = Field(default=1, ge=0)


class FitOptions(SweepModel):
    """Options passed to every `archspec fit` of the sweep."""

    epochs: int | None = Field(default=None, ge=1)
    batch_size: int | None = Field(default=None, ge=1)
    subset: int | None = Field(default=None, ge=1)
    seed: int | None = None
    data_dir: str | None = None
    data: str | None = None
    """Data of one's own for every trial (archspec fit --data; docs/data.md)."""


class SweepFile(SweepModel):
    """The whole sweep file."""

    archspec_sweep: Literal[1]
    name: str | None = None
    doc: str = ""
    spec: str
    objective: Objective
    secondary: list[Objective] = Field(default_factory=list)
    sampler: Literal[SAMPLERS] | None = None  # type: ignore[valid-type]
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
        return "grid" if all(dim.count() is not None for dim in self.model.dimensions.values()) else "tpe"

    def variant_count(self, ends_of_ranges: bool = False) -> int | None:
        """Combinations of the dimensions' values, counted without listing any (None: a continuous
        range; with ends_of_ranges it counts as its two ends, as check_space checks it)."""
        total = 1
        for dim in self.model.dimensions.values():
            count = dim.count()
            if count is None and not ends_of_ranges:
                return None
            total *= 2 if count is None else count
        return total

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
    errors: list[SpecError] = _path_errors(sweep)
    if errors:
        return errors
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
            if dim.count() is None:
                errors.append(SweepError(f"dimension '{name}' is a continuous range, which a grid cannot list",
                                         location=sweep.locate("dimensions", name),
                                         hint="give it a step, or use sampler: tpe or random"))
        size = sweep.variant_count()
        if size is not None and size > MAX_GRID_VARIANTS:
            counts = " x ".join(f"{name} {_amount(dim.count() or 0)}" for name, dim in model.dimensions.items())
            errors.append(SweepError(f"the grid has {_amount(size)} points, more than a grid sweep runs",
                                     location=sweep.locate("dimensions", key=True),
                                     expected=f"at most {MAX_GRID_VARIANTS:,} points", got=counts,
                                     hint="use fewer values or a larger step, or sampler: tpe or random "
                                     "(which samples the space instead of listing it)"))
    if model.pruning.pruner != "none" and model.secondary:
        errors.append(SweepError("pruning needs a single objective (Optuna cannot prune multi-objective studies)",
                                 location=sweep.locate("pruning", "pruner"),
                                 hint="drop 'secondary', or set pruner: none"))
    if sum(isinstance(dim, SpecChoices) for dim in model.dimensions.values()) > 1:
        errors.append(SweepError("only one dimension may choose whole spec files",
                                 location=sweep.locate("dimensions")))
    return errors


def _amount(number: int) -> str:
    """A count as people read it: 1,000,000, or about 10^300 for the counts of a tiny step."""
    return f"{number:,}" if number < 10**15 else f"about 10^{len(str(number)) - 1}"


def _path_errors(sweep: Sweep) -> list[SpecError]:
    """A sweep file names a plain study name and spec files of its own project, never any path.

    The name becomes a folder under runs/sweeps/ (a path there would write the
    journal and report anywhere), and a spec file's values are echoed in
    errors (any file read would leak), so both obey the rule of `extends:`.
    """
    errors: list[SpecError] = []
    if not PLAIN_NAME.fullmatch(sweep.name):
        errors.append(SweepError("a sweep's name must be a plain name, not a path", got=repr(sweep.name),
                                 location=sweep.locate("name") if sweep.model.name is not None else sweep.locate(),
                                 expected="letters, digits, '_', '-' and '.', starting with a letter or digit",
                                 hint="name: skip_study (its folder is runs/sweeps/skip_study; --out picks another)"))
    references = [(sweep.model.spec, ("spec",))]
    for name, dim in sweep.model.dimensions.items():
        if isinstance(dim, SpecChoices):
            references += [(spec, ("dimensions", name, "specs", index)) for index, spec in enumerate(dim.specs)]
    for reference, where in references:
        try:
            check_project_file(reference, sweep.path.parent, sweep.locate(*where), key="spec", owner="sweep file",
                               error=SweepError)
        except SweepError as error:
            errors.append(error)
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
