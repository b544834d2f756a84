"""The spec file format as pydantic models, and the validated `Spec` the rest of archspec reads.

These models say what the top level, an input and `train:` may hold; each
node's parameters are described by its op's own model (archspec.catalogue.ops) and
each edge's extra parameters by its connection kind (archspec.catalogue.connections),
so that an error names only what the chosen op or kind accepts. The checking
itself is archspec.spec.validate; turning pydantic's errors into located
messages is archspec.spec.messages.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, PositiveInt, field_validator

from archspec.catalogue.primitives import INPUT_DTYPES
from archspec.catalogue.training import DatasetName, NoiseName, TaskName
from archspec.errors import Location
from archspec.spec.data_spec import DataSpec
from archspec.spec.document import Document
from archspec.spec.scalars import STR, reads_as_string
from archspec.spec.syntax import (
    CHAIN_ARROW,
    FORMAT_VERSION,
    MAX_MODEL_NAME_LENGTH,
    MAX_NAME_LENGTH,
    MODEL_NAME_PATTERN,
    NAME_PATTERN,
)

__all__ = [
    "CHAIN_ARROW", "FORMAT_VERSION", "MAX_NAME_LENGTH", "NAME_PATTERN", "EdgeSpec", "InputSpec", "NodeSpec",
    "Spec", "SpecFile", "StrictModel", "TrainSpec",
]


class StrictModel(BaseModel):
    """Unknown keys are errors: a misspelt parameter must never be silently ignored."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class InputSpec(StrictModel):
    """A model input: its shape without the batch axis (null for a variable length)."""

    shape: list[PositiveInt | None] = Field(min_length=1)
    dtype: Literal[INPUT_DTYPES] = "float32"  # type: ignore[valid-type]


class TrainSpec(StrictModel):
    """How `archspec fit` trains the model; every key can be overridden on the command line.

    The names a dataset, task or noise may take are declared once, in archspec.catalogue.training,
    below both this format and train/'s registries (DATASETS, TASKS, NOISES), which are checked
    against them (tests/test_registries.py).
    """

    dataset: DatasetName = "mnist"
    task: TaskName = "classify"
    noise: dict[NoiseName, float] | None = None
    loss: str | None = None
    optimizer: str | dict[str, dict[str, float | int | str | bool]] = "adam"
    metrics: list[str] | None = None
    batch_size: PositiveInt = 128
    epochs: PositiveInt = 10
    validation_split: float = Field(default=0.1, ge=0.0, lt=1.0)
    seed: int | None = None
    data: DataSpec | None = None
    """The model's own data (archspec.train.userdata); None trains on `dataset`."""

    @field_validator("data", mode="before")
    @classmethod
    def _path_alone(cls, value: object) -> object:
        return {"path": value} if isinstance(value, str) else value

    @field_validator("noise")
    @classmethod
    def _one_noise(cls, value: dict[str, float] | None) -> dict[str, float] | None:
        if value is not None:
            if len(value) != 1:
                raise ValueError("give exactly one noise kind, e.g. {gaussian: 0.5}")
            (amount,) = value.values()
            if not 0.0 <= amount <= 1.0:
                raise ValueError(f"noise amount must be between 0 and 1, got {amount}")
        return value


class SpecFile(StrictModel):
    """The top level of a spec file (nodes and edges are checked in detail elsewhere)."""

    archspec: Literal[1]
    name: str = Field(min_length=1)
    doc: str = ""
    inputs: dict[str, InputSpec] = Field(min_length=1)
    nodes: dict[str, Any]
    edges: list[Any] = Field(min_length=1)
    outputs: list[str] = Field(min_length=1)
    train: TrainSpec | None = None

    @field_validator("name")
    @classmethod
    def _usable_name(cls, value: str) -> str:
        """The name becomes the Keras model's name, its TensorFlow scope and a run folder's name."""
        if len(value) > MAX_MODEL_NAME_LENGTH:
            raise ValueError(f"a model name has at most {MAX_MODEL_NAME_LENGTH} characters (it names the run "
                             f"folder), this one has {len(value):,}")
        if not MODEL_NAME_PATTERN.fullmatch(value):
            raise ValueError(f"{value!r} is not a model name Keras and TensorFlow accept: use ASCII letters, "
                             "digits and _ . - (no spaces, '/' or '\\'), starting with a letter or digit, "
                             "e.g. 'mnist_cnn'")
        return value

    @field_validator("outputs", mode="before")
    @classmethod
    def _one_output_as_list(cls, value: Any) -> Any:
        return [value] if isinstance(value, str) else value


@dataclass(frozen=True)
class NodeSpec:
    """A validated node: its op name, its op's params model instance, and where it was written."""

    name: str
    op: str
    params: Any
    location: Location
    text_location: Location | None = None
    """Where an op's text parameter (an expr's expression) starts: its errors point at a token of it."""
    deferred: dict[str, tuple[str, Location]] = field(default_factory=dict)
    """Parameters written as shape-aware `${in...}`: their text and place, resolved by archspec.graph.deferred."""
    shares: str | None = None
    """The node whose layer (and so weights) this node calls again: `shares: a` (a Siamese twin)."""


@dataclass(frozen=True)
class EdgeSpec:
    """A validated edge; `index` is its position in the file, which orders a node's inputs."""

    source: str
    target: str
    kind: str
    params: Any
    location: Location
    index: int


@dataclass
class Spec:
    """A spec whose every part has been validated; the input of `build_graph`."""

    name: str
    doc: str
    inputs: dict[str, InputSpec]
    input_locations: dict[str, Location]
    nodes: dict[str, NodeSpec]
    edges: list[EdgeSpec]
    outputs: list[str]
    output_locations: dict[str, Location]
    train: TrainSpec | None
    document: Document = field(repr=False)

    @property
    def file(self) -> str:
        return self.document.file

    display_svg: ClassVar[Callable[[Spec], str] | None] = None
    """How Jupyter draws a spec; archspec.notebook installs it (drawing is layers above the spec)."""

    def _repr_svg_(self) -> str | None:
        """Jupyter shows a spec as its diagram once archspec.notebook is imported; None: the text repr."""
        return None if Spec.display_svg is None else Spec.display_svg(self)

    def resolved_yaml(self) -> str:
        """The spec as validated, self-contained: extends, vars, blocks and --set already applied.

        A run folder keeps this text, so the run can be resumed or rebuilt even
        when the original file named a base spec beside it or was changed since.
        """
        header = (f"# {self.name}: resolved from {self.file} (extends, --set, inline steps, defaults, vars "
                  "and blocks applied)\n")
        return header + yaml.dump(self.document.data, Dumper=_Dumper, sort_keys=False, allow_unicode=True,
                                  default_flow_style=None, width=100)


class _Dumper(yaml.SafeDumper):
    """PyYAML's safe dumper, quoting every string archspec's YAML 1.2 loader would read as another type.

    PyYAML quotes by YAML 1.1 rules, so it would write the string '0o17' plain,
    which reads back as the integer 15.
    """


def _represent_str(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    return dumper.represent_scalar(STR, value, style=None if reads_as_string(value) else "'")


_Dumper.add_representer(str, _represent_str)

