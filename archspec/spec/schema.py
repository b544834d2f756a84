"""The JSON Schema of the spec format, for editors (YAML language server) and other tools.

Built from the same pydantic models that validate specs: one node model per
op in archspec.catalogue.ops.OPS, tagged by a Literal `op` and joined in a discriminated
union, so an editor reports only the parameters of the op a node names.
Values may also be `${...}` expressions (archspec.spec.expand), so every op
parameter also accepts such a string.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal, Union

from pydantic import BaseModel, ConfigDict, Field, PositiveInt, create_model

from archspec.catalogue.connections import CONNECTIONS
from archspec.catalogue.ops import OPS
from archspec.spec.models import CHAIN_ARROW, FORMAT_VERSION, InputSpec, TrainSpec

SCHEMA_ID = "https://archspec.dev/schema/spec-v1.json"
EXPRESSION = {"type": "string", "pattern": r"^\s*\$\{[^}]*\}\s*$",
              "description": "an expression such as ${width * 2} (see vars:)"}


class _Open(BaseModel):
    model_config = ConfigDict(extra="allow")


class BlockUse(_Open):
    """A node that stands for a copy (or `repeat` copies) of a block; other keys are its params."""

    block: str
    repeat: int | str | None = None
    start: int | str | None = None
    shares: str | None = None


class SharingNode(BaseModel):
    """A node that calls another node's layer again (`shares: NODE`), or a use that shares another use."""

    model_config = ConfigDict(extra="forbid")
    shares: str
    op: str | None = None


class EdgeMapping(_Open):
    """An edge with a kind; other keys are the kind's parameters (e.g. axis for concat-skip)."""

    from_: str = Field(alias="from")
    to: str
    kind: Literal[tuple(CONNECTIONS)] = "plain"  # type: ignore[valid-type]


Edge = Annotated[str, Field(pattern=rf".+{CHAIN_ARROW}.+")] | EdgeMapping


def node_models() -> dict[str, type[BaseModel]]:
    """One model per op: the op's Params plus `op: Literal[name]`, by op name."""
    return {
        name: create_model(
            f"{type(op).__name__}Node",
            __base__=op.Params,
            __doc__=op.doc or None,
            op=(Literal[name], ...),  # type: ignore[valid-type]
        )
        for name, op in OPS.items()
    }


def spec_schema() -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of a spec file, as a dict."""
    models = tuple(node_models().values())
    OpNode = Annotated[Union[models], Field(discriminator="op")]  # type: ignore[valid-type]  # noqa: UP007
    Node = OpNode | BlockUse | SharingNode
    Block = create_model(
        "Block",
        __config__=ConfigDict(extra="forbid"),
        doc=(str, ""),
        params=(list[str] | dict[str, Any], Field(default_factory=dict)),
        inputs=(list[str] | str, None),  # default [x] (archspec.spec.shorthand)
        outputs=(list[str] | str, None),  # default: the block's one sink
        nodes=(dict[str, Node], None),  # optional when inline chain steps make every node
        edges=(list[Edge], ...),
    )
    Shape = Annotated[list[PositiveInt | None], Field(min_length=1)]  # inputs: {image: [28, 28, 1]}
    Remove = create_model(
        "Remove",
        __config__=ConfigDict(extra="forbid"),
        **{key: (list[Edge] if key == "edges" else list[str], Field(default_factory=list))
           for key in ("nodes", "edges", "inputs", "outputs")},
    )
    Defaults = create_model(  # defaults: {op: {param: value}} (archspec.spec.chains)
        "Defaults",
        __config__=ConfigDict(extra="forbid"),
        **{name: (dict[str, Any] | None, None) for name in OPS},  # type: ignore[call-overload]
    )
    SpecSchema = create_model(
        "Spec",
        __config__=ConfigDict(extra="forbid", title="archspec spec"),
        archspec=(Literal[FORMAT_VERSION], ...),  # type: ignore[valid-type]
        extends=(str | None, None),
        remove=(Remove | None, None),
        name=(str, None),
        doc=(str, ""),
        vars=(dict[str, float | int | str | bool], Field(default_factory=dict)),
        defaults=(Defaults | None, None),
        inputs=(dict[str, InputSpec | Shape], None),
        blocks=(dict[str, Block | list[Edge] | str], Field(default_factory=dict)),  # a key may be a signature f(a, b=1)
        nodes=(dict[str, Node], None),
        edges=(list[Edge] | str, None),  # a str: one chain (archspec.spec.shorthand)
        outputs=(list[str] | str, None),
        train=(TrainSpec | None, None),
    )
    schema = SpecSchema.model_json_schema(by_alias=True)
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["$id"] = SCHEMA_ID
    schema["description"] = "A neural-network architecture as a YAML graph (docs/spec.md)."
    schema["if"] = {"not": {"required": ["extends"]}}
    schema["then"] = {"required": ["archspec", "inputs", "edges"]}  # name, nodes and outputs have defaults
    definitions = schema["$defs"]
    definitions["Expression"] = EXPRESSION
    nested: set[str] = set()
    for model in models:
        _allow_expressions(definitions[model.__name__])
        nested.update(_references(definitions[model.__name__]))
    for name in sorted(nested - {model.__name__ for model in models} - {"Expression"}):
        _allow_expressions(definitions[name])  # parameter groups inside a parameter: expr's learnable tensors
    return schema


def _references(fragment: Any) -> set[str]:
    """The names of the definitions `fragment` refers to (`$ref: #/$defs/NAME`), at any depth."""
    if isinstance(fragment, dict):
        found = {fragment["$ref"].rsplit("/", 1)[-1]} if isinstance(fragment.get("$ref"), str) else set()
        return found.union(*(_references(value) for value in fragment.values()))
    if isinstance(fragment, list):
        return set().union(*(_references(value) for value in fragment))
    return set()


def _allow_expressions(definition: dict[str, Any]) -> None:
    """Let every op parameter (not `op` itself) be a `${...}` expression as well as its value."""
    for name, prop in definition.get("properties", {}).items():
        if name == "op":
            continue
        rest = {key: value for key, value in prop.items() if key in ("title", "description", "default")}
        value = {key: value for key, value in prop.items() if key not in rest}
        definition["properties"][name] = {**rest, "anyOf": [_items_may_be_expressions(value),
                                                             {"$ref": "#/$defs/Expression"}]}


def _items_may_be_expressions(fragment: dict[str, Any]) -> dict[str, Any]:
    """`fragment` with each item of an array (at any depth) also allowed to be `${...}`: `[1, 1, "${dim}"]`."""
    result = dict(fragment)
    if isinstance(result.get("items"), dict):
        result["items"] = {"anyOf": [_items_may_be_expressions(result["items"]), {"$ref": "#/$defs/Expression"}]}
    if isinstance(result.get("prefixItems"), list):
        result["prefixItems"] = [{"anyOf": [_items_may_be_expressions(item), {"$ref": "#/$defs/Expression"}]}
                                 for item in result["prefixItems"]]
    for key in ("anyOf", "oneOf"):
        if isinstance(result.get(key), list):
            result[key] = [_items_may_be_expressions(item) if isinstance(item, dict) else item
                           for item in result[key]]
    return result
