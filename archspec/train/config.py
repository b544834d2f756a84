"""A run's settings, resolved once into a frozen, typed `RunConfig` and kept in config.json.

The spec's `train:` section is checked by pydantic (TrainSpec); the command
line's overrides go through the same model, then the task's defaults fill
loss and metrics. Everything after that reads attributes of one frozen
object, so a setting cannot be misspelt or changed behind a run's back;
`replace` makes the changed copy a resume needs. config.json keeps the keys
it always had (older run folders resume: missing keys get the defaults they
ran with, see `from_json`).
"""

from __future__ import annotations

import dataclasses
import random
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from archspec.errors import RunError
from archspec.spec.models import Spec, TrainSpec
from archspec.train.datasets import resolve_data_dir
from archspec.train.strategies import STRATEGIES
from archspec.train.tasks import get_task

DEFAULT_WORKER_TIMEOUT_S = 120.0


@dataclass(frozen=True)
class RunOptions:
    """What `archspec fit` (or a caller of `fit_spec`) sets for one run over the spec's `train:` section.

    Typed and frozen, so the command line's checked choices reach RunConfig as they are; None keeps
    the spec's value (or the default). A new option is one field here and its flag in the CLI.
    """

    epochs: int | None = None
    batch_size: int | None = None
    seed: int | None = None
    task: str | None = None
    noise: dict[str, float] | None = None
    subset: int | None = None
    data_dir: str | Path | None = None
    strategy: str = "default"
    worker_timeout_s: float | None = None
    data: str | Path | None = None  # the run's own data (docs/data.md); replaces train.data's path
    skip_bad: bool = False
    init_weights: str | Path | None = None  # a .weights.h5 file the new model starts from

    def train_overrides(self) -> dict[str, Any]:
        """The options given that replace keys of the spec's `train:` section."""
        return {name: getattr(self, name) for name in TrainSpec.model_fields
                if getattr(self, name, None) is not None}


@dataclass(frozen=True)
class RunConfig:
    """Every setting a run uses. Field names are config.json's keys."""

    spec: str
    spec_file: str
    dataset: str = "mnist"
    task: str = "classify"
    noise: tuple[str, float] | None = None
    loss: str = "sparse_categorical_crossentropy"
    optimizer: str | dict[str, dict[str, Any]] = "adam"
    metrics: tuple[str, ...] = ()
    batch_size: int = 128
    epochs: int = 10
    validation_split: float = 0.1
    seed: int | None = None
    data_seed: int = 0
    """Seeds the data order and the training noise; the run's seed, or drawn once and recorded."""
    subset: int | None = None
    data_dir: str | None = None
    data: dict[str, Any] | None = None
    """The model's own data (train.data / --data, path made absolute); None trains on `dataset`."""
    strategy: str = "default"
    worker_timeout_s: float = DEFAULT_WORKER_TIMEOUT_S
    steps_per_execution: int = 1
    jit_compile: str | bool = "auto"
    replicas: int = 1
    versions: dict[str, str] = field(default_factory=dict)
    init_weights: str | None = None
    """The .weights.h5 file the model started from (--init-weights, absolute), so a resume that has no
    complete epoch to load starts from it again rather than from fresh initialisers."""

    def replace(self, **changes: Any) -> RunConfig:
        return dataclasses.replace(self, **changes)

    def to_json(self) -> dict[str, Any]:
        data = dataclasses.asdict(self)
        data["noise"] = list(self.noise) if self.noise else None
        data["metrics"] = list(self.metrics)
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any], path: Path) -> RunConfig:
        """Read config.json, also of older runs: keys they lack take the values they ran with."""
        known = {item.name for item in dataclasses.fields(cls)}
        values = {key: value for key, value in data.items() if key in known}
        if "spec" not in values or "spec_file" not in values:
            raise RunError(f"{path}: not a config.json of `archspec fit` (no spec or spec_file)")
        if values.get("noise"):
            values["noise"] = (str(values["noise"][0]), float(values["noise"][1]))
        values["metrics"] = tuple(values.get("metrics") or ())
        values.setdefault("data_seed", values.get("seed") or 0)
        try:
            config = cls(**values)
        except TypeError as error:
            raise RunError(f"{path}: unreadable run configuration ({error})") from None
        return config


def resolve_config(
    spec: Spec, spec_file: Path, options: RunOptions = RunOptions(), versions: dict[str, str] | None = None,
) -> RunConfig:
    """The settings a run uses: the spec's `train:` section, then the options given for this run."""
    train = (spec.train or TrainSpec()).model_dump()
    overrides = options.train_overrides()
    if options.data is not None or options.skip_bad:
        overrides["data"] = _data_options(train["data"], options.data, options.skip_bad)
    try:
        checked = TrainSpec.model_validate({**train, **overrides})
    except ValidationError as error:
        problems = "; ".join(
            f"{'.'.join(map(str, item['loc']))}: {item['msg']}" for item in error.errors(include_url=False)
        )
        raise RunError(f"invalid training option ({problems})") from None
    strategy = options.strategy
    if strategy not in STRATEGIES:
        raise RunError(f"unknown strategy '{strategy}'; expected one of {', '.join(STRATEGIES)}")
    task = get_task(checked.task)
    noise = next(iter(checked.noise.items())) if checked.noise else None
    data_dir = resolve_data_dir(checked.dataset, options.data_dir)
    return RunConfig(
        spec=spec.name,
        spec_file=str(spec_file),
        dataset=checked.dataset,
        task=task.name,
        noise=(noise[0], float(noise[1])) if noise else None,
        loss=checked.loss or task.default_loss,
        optimizer=checked.optimizer,
        metrics=tuple(checked.metrics if checked.metrics is not None else task.default_metrics),
        batch_size=checked.batch_size,
        epochs=checked.epochs,
        validation_split=checked.validation_split,
        seed=checked.seed,
        data_seed=checked.seed if checked.seed is not None else random.randrange(2**31),
        subset=options.subset,
        data_dir=None if data_dir is None else str(data_dir),
        data=_absolute(checked.data.model_dump()) if checked.data is not None else None,
        strategy=strategy,
        worker_timeout_s=float(options.worker_timeout_s or DEFAULT_WORKER_TIMEOUT_S),
        versions=dict(versions or {}),
        init_weights=None if options.init_weights is None else str(Path(options.init_weights).expanduser().absolute()),
    )


def _data_options(spec_data: dict[str, Any] | None, path: Any, skip_bad: bool | None) -> dict[str, Any]:
    """train.data with --data's path and --skip-bad applied (the spec's other data options kept)."""
    if spec_data is None and path is None:
        raise RunError("--skip-bad applies to a run's own data: give --data PATH or train.data in the spec")
    options = dict(spec_data or {})
    if path is not None:
        options["path"] = str(path)
    if skip_bad:
        options["skip_bad"] = True
    return options


def _absolute(options: dict[str, Any]) -> dict[str, Any]:
    """The data path as an absolute path, so a resumed or evaluated run finds it from any folder."""
    if options["path"] is None:
        raise RunError("train.data names no path; give the data with --data PATH")
    return {**options, "path": str(Path(options["path"]).expanduser().absolute())}


def relocate_data(config: RunConfig, path: str | Path | None) -> RunConfig:
    """The run's own data found at `path` now (moved since the run began); its split still names the examples."""
    if path is None:
        return config
    if config.data is None:
        raise RunError(f"--data applies to runs on data of their own; this one trained on {config.dataset} "
                       "(give --data-dir for its IDX files)")
    return config.replace(data=_absolute({**config.data, "path": str(path)}))
