"""pydantic's validation errors turned into SpecErrors that point at the key or value a person wrote.

Each function is given the model that failed (an op's Params, an edge kind's
Params, the top-level SpecFile) and reads the allowed keys from that model
and the models nested in it. Looking a model up again by its class name made
two models of one name (the attention op's AttentionParams and the attention
edge kind's) shadow each other, so one of them lost its `expected:` line and
its did-you-mean.
"""

from __future__ import annotations

import difflib
import math
import re
from typing import Any

from pydantic import BaseModel, ValidationError

from archspec.errors import SchemaError, SpecError, did_you_mean
from archspec.spec.document import Document, Path_
from archspec.spec.syntax import type_word

_UNION_BRANCHES = {"int", "float", "str", "bool", "list", "dict", "none", "function-after"}


def pydantic_errors(
    error: ValidationError,
    model: type[BaseModel],
    document: Document,
    prefix: Path_,
    *,
    node: str | None = None,
    what: str | None = None,
) -> list[SpecError]:
    """Translate pydantic's errors for `model` into SpecErrors located at the offending key or value.

    pydantic reports one error per union member tried (kernel: 0 fails both as
    an int and as a pair); we keep the member whose type fitted the input, so a
    person reads one message. A missing field that a misspelt key was meant to
    be ('unit' for 'units') is left to the unknown-key message that names it.
    """
    items = _one_error_per_union(error.errors(include_url=False))
    result: list[SpecError] = []
    misspelt = _misspelt_fields(items)
    short_lists: dict[Path_, int] = {}
    for item in items:
        loc = tuple(part for part in item["loc"] if not _is_union_branch(part))
        path = prefix + loc
        field_name = str(loc[-1]) if loc else ""
        where = what or _section(prefix + loc[:-1])
        if item["type"] == "extra_forbidden":
            allowed = allowed_fields(model, loc[:-1])
            result.append(SchemaError(
                f"unknown {_key_word(what)} '{field_name}' {where}",
                location=document.locate(path, key=True),
                node=node,
                expected=("one of " + ", ".join(allowed)) if allowed else None,
                hint=did_you_mean(field_name, allowed) or "see docs/spec.md for the keys it takes",
            ))
        elif item["type"] == "missing" and loc and isinstance(loc[-1], int):
            if loc[:-1] not in short_lists:  # a list too short for a pair: report the list once
                result.append(_short_list(item, loc[:-1], prefix, document, node, items))
            short_lists[loc[:-1]] = loc[-1]
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
            result.append(SchemaError(
                f"invalid value for '{_dotted(loc)}': {_clean_message(item['msg'])}",
                location=document.locate(path),
                node=node,
                got=_show(item.get("input")),
                hint=_choice_hint(item),
            ))
    return result


def _short_list(item: dict[str, Any], loc: Path_, prefix: Path_, document: Document, node: str | None,
                items: list[dict[str, Any]]) -> SchemaError:
    """`kernel: []` or a ragged `padding: [[1, 1], [1]]`: the list has too few items for its pair."""
    value = item.get("input")
    needed = 1 + max(part[-1] for part in (tuple(p for p in other["loc"] if not _is_union_branch(p))
                                           for other in items if other["type"] == "missing")
                     if part[:-1] == loc and isinstance(part[-1], int))
    count = len(value) if isinstance(value, (list, tuple)) else 0
    return SchemaError(
        f"invalid value for '{_dotted(loc)}': a list of {count} item{'s' if count != 1 else ''} "
        f"where {needed} are needed",
        location=document.locate(prefix + loc),
        node=node,
        expected=f"{needed} items (or one number for all of them, where the parameter allows it)",
        got=_show(value),
    )


def coercion_errors(raw: Any, validated: Any, document: Document, path: Path_, *,
                    node: str | None = None) -> list[SpecError]:
    """Values pydantic would silently convert across types.

    A spec means what it says: `units: true` is not 1, `units: "32"` is not 32,
    and `center: "false"` is not False.
    """
    if isinstance(raw, dict):
        errors = []
        for key, value in raw.items():
            if isinstance(validated, dict) and key in validated:
                result = validated[key]
            elif isinstance(validated, BaseModel) and key in type(validated).model_fields:
                result = getattr(validated, key)
            else:
                continue
            errors.extend(coercion_errors(value, result, document, path + (key,), node=node))
        return errors
    if isinstance(raw, list) and isinstance(validated, (list, tuple)) and len(raw) == len(validated):
        errors = []
        for index, (value, result) in enumerate(zip(raw, validated, strict=True)):
            errors.extend(coercion_errors(value, result, document, path + (index,), node=node))
        return errors
    number = (int, float)
    converted = (
        (isinstance(raw, bool) and not isinstance(validated, bool))
        or (isinstance(raw, str) and isinstance(validated, (*number, bool)))
        or (isinstance(raw, number) and not isinstance(raw, bool) and isinstance(validated, (bool, str)))
    )
    if not converted:
        return []
    wanted, written = type_word(validated), type_word(raw)
    return [SchemaError(
        f"invalid value for '{path[-1]}': expected {wanted}, got {written}",
        location=document.locate(path),
        node=node,
        got=repr(raw),
        hint=f"write it as {_yaml_text(validated)}" if not isinstance(raw, bool) else None,
    )]


def nonfinite_errors(raw: Any, document: Document, path: Path_, *, node: str | None = None) -> list[SpecError]:
    """Numbers that are not finite (`.nan`, `.inf`, `1e999`): never a sensible epsilon, rate or slope.

    Checked before the model, whose own bounds would say "greater than 0" of a NaN.
    """
    errors: list[SpecError] = []
    stack: list[tuple[Any, Path_]] = [(raw, path)]
    while stack:
        value, where = stack.pop()
        if isinstance(value, dict):
            stack.extend((item, where + (key,)) for key, item in value.items())
        elif isinstance(value, list):
            stack.extend((item, where + (index,)) for index, item in enumerate(value))
        elif isinstance(value, float) and not math.isfinite(value):
            errors.append(SchemaError(
                f"invalid value for '{_dotted(where[len(path):])}': {value!r} is not a finite number",
                location=document.locate(where), node=node, expected="a finite number",
                hint="YAML reads .nan, .inf and numbers beyond about 1e308 as not finite",
            ))
    return errors[::-1]


def _yaml_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return repr(value)


def allowed_fields(model: type[BaseModel], parent: Path_) -> list[str]:
    """The keys `model` (or the model nested in it at `parent`) accepts, as a spec spells them."""
    for part in parent:
        if isinstance(part, int):
            continue
        annotation = model.model_fields.get(str(part))
        if annotation is None:
            continue  # a key of a dict field (an input name): step into the dict's value model
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


def _one_error_per_union(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Of the errors pydantic gives for the members of one union, keep those of the member that fits."""
    groups: dict[tuple, list[dict[str, Any]]] = {}
    for item in items:
        loc = item["loc"]
        branch = next((i for i, part in enumerate(loc) if _is_union_branch(part)), None)
        key = loc[:branch] if branch is not None else ("", *loc)
        groups.setdefault(key, []).append(item)
    result = []
    for key, group in groups.items():
        if len(group) == 1 or key[:1] == ("",):
            result.extend(group)
            continue
        fitting = [item for item in group
                   if not item["type"].endswith("_type") and item["type"] != "none_required"]
        names = [item for item in fitting if item["type"] == "literal_error"]
        if len(names) == 1 and all(item in names or item["type"].endswith("_parsing") for item in fitting):
            # a misspelt name ('foo' for an initialiser): the names, and what else the union accepts
            others = list(dict.fromkeys(_FORMS[form] for item in group if item is not names[0]
                                        and (form := item["type"].split("_")[0]) in _FORMS))
            also = f", or {' or '.join(others)}" if others else ""
            result.append({**names[0], "msg": names[0]["msg"] + also})
        elif fitting:
            result.extend(fitting)
        else:
            kinds = [_clean_message(item["msg"]).removeprefix("Input should be ") for item in group]
            merged = dict(group[0])
            merged["msg"] = "Input should be " + " or ".join(dict.fromkeys(kinds))
            result.append(merged)
    return result


_FORMS = {"float": "a number", "int": "an integer", "model": "a mapping", "dict": "a mapping", "list": "a list"}
"""What a union member that did not fit accepts, in words, by pydantic's error type prefix."""


def _misspelt_fields(items: list[dict[str, Any]]) -> set[tuple[tuple, str]]:
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
    return isinstance(part, str) and (
        "[" in part or part in _UNION_BRANCHES or part.startswith(("function-", "literal[", "constrained-"))
    )


def _section(path: Path_) -> str:
    """Where a key sits, in words: 'at the top level', "for input 'image'", "in 'train'"."""
    if not path:
        return "at the top level"
    if path[0] == "inputs" and len(path) == 2:
        return f"for input '{path[1]}'"
    return "in '" + _dotted(path) + "'"


def _dotted(path: Path_) -> str:
    return ".".join(str(part) for part in path)


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


def _clean_message(message: str) -> str:
    return message.replace("Value error, ", "")
