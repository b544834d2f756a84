"""The spec file format as pydantic models, and the validated `Spec` the rest of archspec reads.

The top level, inputs, edges and `train:` are validated here; each node's
parameters are validated by its op's own model (archspec.graph.ops), and each edge's
extra parameters by its connection kind (archspec.graph.connections), so that an
error names only what the chosen op or kind accepts.
"""

from __future__ import annotations

import difflib
import itertools
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, PositiveInt, ValidationError, field_validator

from archspec.errors import Location, SchemaError, SpecError, did_you_mean, raise_collected
from archspec.spec.document import Document, Path_, load_yaml, parse_yaml

NAME_PATTERN = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
MAX_NAME_LENGTH = 100
CHAIN_ARROW = "->"
FORMAT_VERSION = 1


class StrictModel(BaseModel):
    """Unknown keys are errors: a misspelt parameter must never be silently ignored."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class InputSpec(StrictModel):
    """A model input: its shape without the batch axis (null for a variable length)."""

    shape: list[PositiveInt | None] = Field(min_length=1)
    dtype: Literal["float32", "int32"] = "float32"


class TrainSpec(StrictModel):
    """How `archspec fit` trains the model; every key can be overridden on the command line."""

    dataset: Literal["mnist", "fashion_mnist"] = "mnist"
    task: Literal["classify", "autoencode", "denoise"] = "classify"
    noise: dict[Literal["gaussian", "salt_pepper"], float] | None = None
    loss: str | None = None
    optimizer: str | dict[str, dict[str, float | int | str | bool]] = "adam"
    metrics: list[str] | None = None
    batch_size: PositiveInt = 128
    epochs: PositiveInt = 10
    validation_split: float = Field(default=0.1, ge=0.0, lt=1.0)
    seed: int | None = None

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

    def _repr_svg_(self) -> str:
        """Jupyter shows a spec as its diagram."""
        from archspec.notebook import spec_svg  # notebook -> draw -> spec: imported here, not at the top

        return spec_svg(self)

    def resolved_yaml(self) -> str:
        """The spec as validated, self-contained: extends, vars, blocks and --set already applied.

        A run folder keeps this text, so the run can be resumed or rebuilt even
        when the original file named a base spec beside it or was changed since.
        """
        header = (f"# {self.name}: resolved from {self.file} (extends, vars, blocks and --set "
                  "applied)\n")
        return header + yaml.safe_dump(self.document.data, sort_keys=False, allow_unicode=True,
                                       default_flow_style=None, width=100)


def load_spec(path: str | Path, overrides: Sequence[str] = ()) -> Spec:
    """Load and validate a spec file; raise SpecError(s) that point into the file.

    `overrides` are `--set key=value` strings; vars, blocks and `extends:` are
    expanded first (archspec.spec.expand), so validation sees a flat spec.
    """
    from archspec.spec.expand import expand_document

    return validate_document(expand_document(load_yaml(path), overrides))


def loads_spec(text: str, name: str = "<string>") -> Spec:
    """Validate spec text (for tests and the Python API)."""
    from archspec.spec.expand import expand_document

    return validate_document(expand_document(parse_yaml(text, name)))


def validate_document(document: Document) -> Spec:
    """Check a loaded document against the format, collecting every error it can find."""
    data = document.data
    if not isinstance(data, dict):
        raise SchemaError(
            "a spec must be a mapping of keys (archspec, name, inputs, nodes, edges, outputs)",
            location=document.locate(()),
            got=_type_name(data),
        )
    try:
        top = SpecFile.model_validate(data)
    except ValidationError as error:
        raise_collected(pydantic_errors(error, document, ()))
        raise AssertionError("unreachable") from None
    errors: list[SpecError] = coercion_errors(data, top, document, ())
    names: dict[str, str] = {}
    input_locations = {}
    for name in top.inputs:
        input_locations[name] = document.locate(("inputs", name), key=True)
        errors.extend(_check_name(name, "input", document, ("inputs", name), names))
    nodes = {}
    for name, raw in top.nodes.items():
        errors.extend(_check_name(name, "node", document, ("nodes", name), names))
        try:
            nodes[name] = validate_node(name, raw, document)
        except SpecError as error:
            errors.append(error)
        except _Collected as collected:
            errors.extend(collected.errors)
    edges = []
    for index, raw in enumerate(top.edges):
        try:
            edges.extend(validate_edge(raw, index, len(edges), document))
        except SpecError as error:
            errors.append(error)
        except _Collected as collected:
            errors.extend(collected.errors)
    output_locations = {
        name: document.locate(("outputs", index)) for index, name in enumerate(top.outputs)
    }
    if len(set(top.outputs)) != len(top.outputs):
        duplicate = next(n for n in top.outputs if top.outputs.count(n) > 1)
        errors.append(
            SchemaError(
                f"output '{duplicate}' is listed twice",
                location=output_locations[duplicate],
                hint="list each output once",
            )
        )
    raise_collected(errors)
    return Spec(
        name=top.name,
        doc=top.doc,
        inputs=dict(top.inputs),
        input_locations=input_locations,
        nodes=nodes,
        edges=edges,
        outputs=list(top.outputs),
        output_locations=output_locations,
        train=top.train,
        document=document,
    )


class _Collected(Exception):
    def __init__(self, errors: list[SpecError]) -> None:
        self.errors = errors


def _check_name(
    name: str, what: str, document: Document, path: Path_, seen: dict[str, str]
) -> list[SpecError]:
    errors = []
    location = document.locate(path, key=True)
    if len(name) > MAX_NAME_LENGTH:
        errors.append(
            SchemaError(
                f"{what} name is too long ({len(name):,} characters)",
                location=location,
                expected=f"at most {MAX_NAME_LENGTH} characters",
                hint="names become Keras layer names and Python variables; keep them short",
            )
        )
    elif not NAME_PATTERN.fullmatch(name):
        errors.append(
            SchemaError(
                f"{what} name {name!r} is not a valid identifier",
                location=location,
                expected="letters, digits and underscores, not starting with a digit",
                got=repr(name),
                hint="names become Keras layer names; use snake_case such as 'enc1' or 'block1_conv'",
            )
        )
    if name in seen:
        errors.append(
            SchemaError(
                f"'{name}' is both an input and a node",
                location=location,
                hint="inputs and nodes share one namespace; rename one of them",
            )
        )
    seen[name] = what
    return errors


def validate_node(name: str, raw: Any, document: Document) -> NodeSpec:
    """Validate one node mapping against its op's params model."""
    from archspec.graph.ops import OPS

    path: Path_ = ("nodes", name)
    location = document.locate(path, key=True)
    if not isinstance(raw, dict):
        raise SchemaError(
            "must be a mapping with an 'op'",
            location=document.locate(path),
            node=name,
            got=_type_name(raw),
            hint="write it as  name: {op: dense, units: 32}",
        )
    if "op" not in raw:
        raise SchemaError(
            "has no 'op'",
            location=location,
            node=name,
            expected="op: one of " + ", ".join(sorted(OPS)),
        )
    op_name = raw["op"]
    if not isinstance(op_name, str) or op_name not in OPS:
        hint = did_you_mean(str(op_name), OPS) or "see docs/spec.md for the list of ops"
        raise SchemaError(
            f"unknown op {op_name!r}",
            location=document.locate(path + ("op",)),
            node=name,
            expected="one of " + ", ".join(sorted(OPS)),
            got=repr(op_name),
            hint=hint,
        )
    op = OPS[op_name]
    params = {key: value for key, value in raw.items() if key != "op"}
    try:
        validated = op.Params.model_validate(params)
    except ValidationError as error:
        raise _Collected(pydantic_errors(error, document, path, node=name, what=f"for op {op_name}")) from None
    coerced = coercion_errors(params, validated, document, path, node=name)
    if coerced:
        raise _Collected(coerced)
    return NodeSpec(name=name, op=op_name, params=validated, location=location)


def validate_edge(raw: Any, index: int, first_id: int, document: Document) -> list[EdgeSpec]:
    """Validate one entry of `edges:`: a chain string `a -> b -> c` or a mapping with from/to/kind."""
    from archspec.graph.connections import CONNECTIONS

    path: Path_ = ("edges", index)
    location = document.locate(path)
    if isinstance(raw, str):
        parts = [part.strip() for part in raw.split(CHAIN_ARROW)]
        if len(parts) < 2 or not all(parts):
            raise SchemaError(
                f"edge chain {raw!r} is not of the form 'a -> b -> c'",
                location=location,
                hint="separate node names with '->'",
            )
        plain = CONNECTIONS["plain"].Params()
        return [
            EdgeSpec(source, target, "plain", plain, location, first_id + offset)
            for offset, (source, target) in enumerate(itertools.pairwise(parts))
        ]
    if not isinstance(raw, dict):
        raise SchemaError(
            "an edge must be a chain string 'a -> b' or a mapping {from: a, to: b, kind: ...}",
            location=location,
            got=_type_name(raw),
        )
    missing = [key for key in ("from", "to") if key not in raw]
    if missing:
        raise SchemaError(
            f"edge has no '{missing[0]}'",
            location=location,
            expected="{from: SOURCE, to: TARGET, kind: " + "|".join(CONNECTIONS) + "}",
        )
    for key in ("from", "to"):
        if not isinstance(raw[key], str):
            raise SchemaError(
                f"edge '{key}' must be a node name",
                location=document.locate(path + (key,)),
                got=_type_name(raw[key]),
            )
    kind = raw.get("kind", "plain")
    if not isinstance(kind, str) or kind not in CONNECTIONS:
        raise SchemaError(
            f"unknown edge kind {kind!r}",
            location=document.locate(path + ("kind",)),
            expected="one of " + ", ".join(CONNECTIONS),
            got=repr(kind),
            hint=did_you_mean(str(kind), CONNECTIONS) or "see docs/spec.md, 'Edges'",
        )
    params = {key: value for key, value in raw.items() if key not in ("from", "to", "kind")}
    try:
        validated = CONNECTIONS[kind].Params.model_validate(params)
    except ValidationError as error:
        raise _Collected(pydantic_errors(error, document, path, what=f"for {_article(kind)} edge")) from None
    coerced = coercion_errors(params, validated, document, path)
    if coerced:
        raise _Collected(coerced)
    return [EdgeSpec(raw["from"], raw["to"], kind, validated, location, first_id)]


def pydantic_errors(
    error: ValidationError,
    document: Document,
    prefix: Path_,
    *,
    node: str | None = None,
    what: str | None = None,
) -> list[SpecError]:
    """Translate pydantic's errors into SpecErrors located at the offending key or value.

    pydantic reports one error per union member tried (kernel: 0 fails both as
    an int and as a pair); we keep the member whose type fitted the input, so a
    person reads one message. A missing field that a misspelt key was meant to
    be ('unit' for 'units') is left to the unknown-key message that names it.
    """
    items = _one_error_per_union(error.errors(include_url=False))
    result: list[SpecError] = []
    misspelt = _misspelt_fields(items, error)
    for item in items:
        loc = tuple(part for part in item["loc"] if not _is_union_branch(part))
        path = prefix + loc
        field_name = str(loc[-1]) if loc else ""
        where = what or _section(prefix + loc[:-1])
        if item["type"] == "extra_forbidden":
            allowed = _allowed_fields(error, loc[:-1])
            result.append(SchemaError(
                f"unknown {_key_word(what)} '{field_name}' {where}",
                location=document.locate(path, key=True),
                node=node,
                expected=("one of " + ", ".join(allowed)) if allowed else None,
                hint=did_you_mean(field_name, allowed) or "see docs/spec.md for the keys it takes",
            ))
        elif item["type"] == "missing" and (tuple(item["loc"][:-1]), field_name) in misspelt:
            continue  # the unknown-key error already says "did you mean '<field>'?"
        elif item["type"] == "missing":
            result.append(SchemaError(
                f"missing required {_key_word(what)} '{field_name}' {where}",
                location=document.locate(prefix + loc[:-1], key=bool(loc[:-1]) or bool(prefix)),
                node=node,
                hint=f"add '{field_name}: ...'",
            ))
        elif not loc:  # a check of the whole model (e.g. strides with dilation)
            result.append(SchemaError(
                f"invalid parameters {where}: {_clean_message(item['msg'])}",
                location=document.locate(prefix, key=bool(prefix)),
                node=node,
            ))
        else:
            dotted = ".".join(str(part) for part in loc)
            result.append(SchemaError(
                f"invalid value for '{dotted}': {_clean_message(item['msg'])}",
                location=document.locate(path),
                node=node,
                got=_show(item.get("input")),
                hint=_choice_hint(item),
            ))
    return result


def coercion_errors(raw: Any, validated: Any, document: Document, path: Path_, *,
                    node: str | None = None) -> list[SpecError]:
    """Values pydantic would silently convert across types: `units: true` (1) or `units: "32"`.

    A spec means what it says: a boolean is not a number and a quoted string
    is not one either, so these are errors rather than quiet conversions.
    """
    if isinstance(raw, dict):
        pairs = []
        for key, value in raw.items():
            if isinstance(validated, dict) and key in validated:
                pairs.append((key, value, validated[key]))
            elif isinstance(validated, BaseModel) and key in type(validated).model_fields:
                pairs.append((key, value, getattr(validated, key)))
        errors = []
        for key, value, result in pairs:
            errors.extend(coercion_errors(value, result, document, path + (key,), node=node))
        return errors
    if isinstance(raw, list) and isinstance(validated, (list, tuple)) and len(raw) == len(validated):
        errors = []
        for index, (value, result) in enumerate(zip(raw, validated)):
            errors.extend(coercion_errors(value, result, document, path + (index,), node=node))
        return errors
    number = (int, float)
    converted = (
        (isinstance(raw, bool) and not isinstance(validated, bool))
        or (isinstance(raw, str) and isinstance(validated, number) and not isinstance(validated, bool))
        or (isinstance(raw, number) and not isinstance(raw, bool) and isinstance(validated, (bool, str)))
    )
    if not converted:
        return []
    names = {bool: "a boolean", int: "an integer", float: "a number", str: "a string"}
    wanted, written = (names.get(type(value), type(value).__name__) for value in (validated, raw))
    return [SchemaError(
        f"invalid value for '{path[-1]}': expected {wanted}, got {written}",
        location=document.locate(path),
        node=node,
        got=repr(raw),
        hint=f"write it as {validated!r}" if not isinstance(raw, bool) else None,
    )]


def _one_error_per_union(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Of the errors pydantic gives for the members of one union, keep those of the member that fits."""
    groups: dict[tuple, list[dict[str, Any]]] = {}
    order: list[tuple] = []
    for item in items:
        loc = item["loc"]
        branch = next((i for i, part in enumerate(loc) if _is_union_branch(part)), None)
        key = loc[:branch] if branch is not None else ("", *loc)
        if key not in groups:
            order.append(key)
        groups.setdefault(key, []).append(item)
    result = []
    for key in order:
        group = groups[key]
        if len(group) == 1 or key[:1] == ("",):
            result.extend(group)
            continue
        fitting = [item for item in group
                   if not item["type"].endswith("_type") and item["type"] != "none_required"]
        if fitting:
            result.extend(fitting)
        else:
            kinds = [_clean_message(item["msg"]).removeprefix("Input should be ") for item in group]
            merged = dict(group[0])
            merged["msg"] = "Input should be " + " or ".join(dict.fromkeys(kinds))
            result.append(merged)
    return result


def _section(path: Path_) -> str:
    """Where a key sits, in words: 'at the top level', "for input 'image'", "in 'train'"."""
    if not path:
        return "at the top level"
    if path[0] == "inputs" and len(path) == 2:
        return f"for input '{path[1]}'"
    return "in '" + ".".join(str(part) for part in path) + "'"


def _key_word(what: str | None) -> str:
    return "parameter" if what else "key"


def _choice_hint(item: dict[str, Any]) -> str | None:
    """For a value outside a fixed set of choices ('rleu'), the closest choices."""
    if item["type"] != "literal_error" or not isinstance(item.get("input"), str):
        return None
    choices = re.findall(r"'([^']*)'", str(item.get("ctx", {}).get("expected", "")))
    return did_you_mean(item["input"], choices)


def _show(value: Any) -> str:
    """A value as the person wrote it, cut short: a whole section repeated back helps nobody."""
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _misspelt_fields(items: list, error: ValidationError) -> set[tuple[tuple, str]]:
    """(parent, field) pairs that are missing but also suggested for an unknown key beside them."""
    missing = {
        (tuple(item["loc"][:-1]), str(item["loc"][-1])) for item in items if item["type"] == "missing"
    }
    found = set()
    for item in items:
        if item["type"] == "extra_forbidden":
            parent = tuple(item["loc"][:-1])
            for candidate in difflib.get_close_matches(str(item["loc"][-1]),
                                                       [name for p, name in missing if p == parent],
                                                       n=1, cutoff=0.6):
                found.add((parent, candidate))
    return found


def _is_union_branch(part: Any) -> bool:
    """pydantic puts the tried union member in the location (e.g. 'list[...]', 'int'); drop it."""
    return (isinstance(part, str) and (
        "[" in part or part in {"int", "float", "str", "bool", "list", "dict", "none", "function-after"}
    )) or (isinstance(part, str) and part.startswith(("function-", "literal[", "constrained-")))


def _allowed_fields(error: ValidationError, parent: tuple) -> list[str]:
    from archspec.graph.connections import CONNECTIONS
    from archspec.graph.ops import OPS

    models: dict[str, type[BaseModel]] = {
        "SpecFile": SpecFile,
        "InputSpec": InputSpec,
        "TrainSpec": TrainSpec,
    }
    for op in OPS.values():
        models[op.Params.__name__] = op.Params
    for connection in CONNECTIONS.values():
        models[connection.Params.__name__] = connection.Params
    model = models.get(error.title)
    if model is None:
        return []
    for part in parent:
        if isinstance(part, int):
            continue
        annotation = model.model_fields.get(str(part))
        if annotation is None:
            # a key of a dict field (an input name): step into the dict's value model
            continue
        inner = _model_in(annotation.annotation)
        if inner is None:
            return []
        model = inner
    return [name if info.alias is None else info.alias for name, info in model.model_fields.items()]


def _model_in(annotation: Any) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in getattr(annotation, "__args__", ()) or ():
        found = _model_in(arg)
        if found is not None:
            return found
    return None


def _article(word: str) -> str:
    return ("an " if word[:1] in "aeiou" else "a ") + word


def _clean_message(message: str) -> str:
    return message.replace("Value error, ", "")


def _type_name(value: Any) -> str:
    return {
        dict: "a mapping",
        list: "a list",
        str: "a string",
        int: "a number",
        float: "a number",
        bool: "a boolean",
        type(None): "nothing (null)",
    }.get(type(value), type(value).__name__)
