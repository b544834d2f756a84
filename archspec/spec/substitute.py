"""`${...}` in values: evaluated against `vars:` (and a block's params), with positions and bounds.

A string that is one expression (`${width}`) takes the expression's value and
type; `${...}` inside a longer string is replaced by its text. A value that is
exactly a variable takes the variable's position too, so a bad value set in
`vars:` is reported once, at the variable, not once per use.

Substitution is bounded: vars that refer to each other can double a string or
a list at each step (`b: "${a}${a}"`), so the characters of a string built by
substitution and the values of everything expanded are counted, and the
expansion stops with a located error before memory runs out.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from archspec.errors import Location, SchemaError
from archspec.spec.arith import ArithError, evaluate
from archspec.spec.composer import MAX_YAML_VALUES
from archspec.spec.document import Positions
from archspec.spec.shape_expr import bind_known, is_deferred
from archspec.spec.syntax import CHAIN_ARROW, split_steps

EXPRESSION = re.compile(r"\$\{([^}]*)\}")
MAX_STRING_CHARS = 100_000
"""Longest string that `${...}` substitution may build (a spec's longest real string is a doc line)."""
MAX_EXPANDED_VALUES = MAX_YAML_VALUES
"""Most values the whole expansion may produce, each use of a list or mapping var counting as a copy."""
_HINT = ("write ${name} or arithmetic such as ${width * 2} on numbers and names from 'vars:' "
         "(or the block's params)")


def has_expression(value: Any) -> bool:
    """True if some string inside `value` holds `${`."""
    if isinstance(value, dict):
        return any(has_expression(item) for item in value.values())
    if isinstance(value, list):
        return any(has_expression(item) for item in value)
    return isinstance(value, str) and "${" in value


@dataclass
class Binding:
    """A name usable in `${...}`: its value, how many values it holds, and where it was written."""

    value: Any
    size: int
    positions: Positions | None = None


@dataclass
class Substituter:
    """Evaluates `${...}` in values, counting what it builds against MAX_EXPANDED_VALUES."""

    total: int = 0
    budget: int = MAX_EXPANDED_VALUES
    _seen: set[int] = field(default_factory=set)

    def resolve(self, value: Any, env: dict[str, Binding], at: Location,
                positions: Positions | None = None) -> Any:
        """`value` with every `${expression}` evaluated.

        `at` locates errors; `positions`, the copied positions of `value`, get
        a variable's own positions where a value is exactly `${name}`.
        """
        resolved, size = self._resolve(value, env, at, positions)
        self._spend(size, at)
        return resolved

    def bind(self, value: Any, env: dict[str, Binding], at: Location, positions: Positions | None) -> Binding:
        """A new name's binding: its value resolved in `env`, with its size and positions."""
        resolved, size = self._resolve(value, env, at, positions)
        self._spend(size, at)
        return Binding(resolved, size, positions)

    def _spend(self, size: int, at: Location) -> None:
        self.total += size
        if self.total > self.budget:
            raise SchemaError("the spec expands to too many values (vars, blocks and repeats multiply)",
                              location=at, expected=f"at most {self.budget:,} values after expansion",
                              hint="a var that refers to another var twice doubles at each step; "
                              "see docs/security.md")

    def _resolve(self, value: Any, env: dict[str, Binding], at: Location,
                 positions: Positions | None) -> tuple[Any, int]:
        if isinstance(value, dict):
            result, size = {}, 1
            for key, item in value.items():
                result[key], used = self._resolve(item, env, at, _child(positions, key))
                size += used
            return result, size
        if isinstance(value, list):
            items, size = [], 1
            for index, item in enumerate(value):
                resolved, used = self._resolve(item, env, at, _child(positions, index))
                items.append(resolved)
                size += used
            return items, size
        if not isinstance(value, str) or "${" not in value:
            return value, 1
        located = _located(at, positions)
        whole = EXPRESSION.fullmatch(value.strip())
        if whole and whole.group(1).strip() in env:
            binding = env[whole.group(1).strip()]
            if positions is not None and binding.positions is not None:
                _adopt(positions, binding.positions)
            return binding.value, binding.size
        names = _Values(env)
        try:
            if whole and is_deferred(whole.group(1)):  # in.channels: known at shape inference (shape_expr)
                return "${" + bind_known(whole.group(1), names) + "}", 1
            if any(is_deferred(match.group(1)) for match in EXPRESSION.finditer(value)):
                raise ArithError("an expression over 'in' (the node's input) must be the whole value",
                                 hint="write the parameter as filters: ${in.channels // 2}")
            if whole:
                return evaluate(whole.group(1), names), 1
            text = EXPRESSION.sub(lambda match: str(evaluate(match.group(1), names)), value)
        except ArithError as error:
            raise SchemaError(f"cannot evaluate {value!r}: {error}", location=located,
                              hint=error.hint or _HINT) from None
        if "${" in text:
            raise SchemaError(f"'${{' without a closing '}}' in {value!r}", location=located,
                              hint="close the expression: ${name}")
        if len(text) > MAX_STRING_CHARS:
            raise SchemaError("`${...}` substitution builds a string that is too long", location=located,
                              expected=f"at most {MAX_STRING_CHARS:,} characters",
                              got=f"{len(text):,} characters",
                              hint="a var that refers to another var twice doubles at each step")
        return text, 1 + len(text) // 64


class _Values(Mapping[str, Any]):
    """The values of the bindings, as arith.evaluate reads names (no copy per expression)."""

    def __init__(self, env: dict[str, Binding]) -> None:
        self.env = env

    def __getitem__(self, name: str) -> Any:
        return self.env[name].value

    def __iter__(self) -> Iterator[str]:
        return iter(self.env)

    def __len__(self) -> int:
        return len(self.env)


def _child(positions: Positions | None, part: str | int) -> Positions | None:
    return positions.children.get(part) if positions is not None else None


def _located(at: Location, positions: Positions | None) -> Location:
    """Where the value being resolved was written (its copied position, with its use context), else `at`."""
    found = (positions.value or positions.key) if positions is not None else None
    return found or at


def _adopt(target: Positions, source: Positions) -> None:
    """Give `target` (a value that is exactly `${name}`) the positions `name` was written at.

    The var's positions are shared, not copied (as its value is): nothing
    changes positions once expanded, and a var that doubles at each step must
    cost nothing until the value limit refuses it. No use context is added,
    so every use has the var's location and the error is reported once
    (errors.raise_collected).
    """
    target.value, target.children = source.value, source.children


def check_spliced_chain(raw: Any, chain: Any, location: Location) -> None:
    """A chain whose `${...}` gave steps, not a name: chains are read before vars are substituted, so
    `x -> ${head}` with head = 'dense(4) -> relu' cannot make nodes (it was an unknown 'dense(4)', 'did you
    mean dense_1?'). Say so where the chain is written."""
    if not (isinstance(raw, str) and isinstance(chain, str) and "${" in raw):
        return
    steps = [step for step, _ in split_steps(chain) or []]
    spliced = [step for step in steps if "(" in step or "=" in step or " " in step]
    if chain.count(CHAIN_ARROW) == raw.count(CHAIN_ARROW) and not spliced:
        return
    raise SchemaError(f"`${{...}}` in the chain {raw!r} gives steps ({chain!r}), but a var in a chain can only "
                      "name a node", location=location,
                      hint="chains are read before vars; write the steps in the chain, or make them a block "
                      "(blocks: {head: x -> dense(4) -> relu}) and use it as a step")
