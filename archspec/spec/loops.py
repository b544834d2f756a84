"""Index loops in `edges:`: `{for: i in range(4), do: [chains...]}` unrolled into plain entries.

Runs before the inline steps are read (archspec.spec.frontend), on the top
level and on every block definition, so a loop's named steps (`x${i}=conv2d(8)`)
become nodes like any other step and everything after sees plain chains. A
loop's body is a list of edge entries (chains, mappings, loops); each is copied
once per value of the index, every `${...}` that names an index getting its
value: `${2 ** i}` is 8 where i is 3, and `conv2d(${f * 2 ** i})` inside a
block keeps `${f * 2 ** (3)}` for the expander, which knows `f`.

Bounds are known statically: numbers, `vars:` given as numbers (or `${...}`
over them), and the indices of enclosing loops; never a block's params, which
are bound later. A generated entry keeps the position of the body entry it
copies, with an `in:` line naming the iteration (`for i = 3, the loop at
spec.yaml:9:5`), and all loops of a spec make at most MAX_LOOP_ENTRIES entries.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from archspec.errors import Location, SchemaError, did_you_mean
from archspec.spec.arith import ArithError, evaluate
from archspec.spec.branches import WHEN_KEYS, arms, is_branch
from archspec.spec.document import Document, Path_, Positions, with_context
from archspec.spec.substitute import EXPRESSION

LOOP_KEYS = ("for", "do")
MAX_LOOP_ENTRIES = 10_000
"""The most edge entries all the loops of one spec may generate (a node limit of its own, docs/security.md)."""
_HEADER = re.compile(r"\s*([A-Za-z_][A-Za-z0-9_]*)\s+in\s+range\s*\((.*)\)\s*", re.DOTALL)
_NAME = re.compile(r"(?<![\w.])([A-Za-z_][A-Za-z0-9_]*)")
_HEADER_HINT = "write for: i in range(4), or range(1, n + 1), or range(0, n, 2)"


def unroll_loops(document: Document) -> Document:
    """The document with every loop in `edges:` (top level and blocks) unrolled; unchanged if it has none."""
    data = document.data
    if not isinstance(data, dict) or not _has_loop(data):
        return document
    data = dict(data)
    result = Document(data=data, file=document.file, text=document.text, positions=document.positions,
                      block_uses=document.block_uses)
    unroller = _Unroller(result, _numbers(data.get("vars")))
    if isinstance(data.get("edges"), list):
        data["edges"] = unroller.edges(("edges",), data["edges"])
    if isinstance(data.get("blocks"), dict):
        data["blocks"] = blocks = dict(data["blocks"])
        for name, block in blocks.items():
            if isinstance(block, dict) and isinstance(block.get("edges"), list):
                blocks[name] = {**block, "edges": unroller.edges(("blocks", name, "edges"), block["edges"])}
    return result


def _is_loop(entry: Any) -> bool:
    return isinstance(entry, dict) and "for" in entry


def _has_loop(data: dict[str, Any]) -> bool:
    blocks = data.get("blocks")
    lists = [data.get("edges")] + ([block.get("edges") for block in blocks.values() if isinstance(block, dict)]
                                   if isinstance(blocks, dict) else [])
    return any(isinstance(edges, list) and any(map(_is_loop, edges)) for edges in lists)


def _numbers(raw: Any) -> dict[str, Any]:
    """The vars a loop bound may read: numbers, or `${...}` over the numbers before them (others are left out;
    the expander reports a bad var where it is written)."""
    found: dict[str, Any] = {}
    for name, value in (raw or {}).items() if isinstance(raw, dict) else ():
        whole = EXPRESSION.fullmatch(value.strip()) if isinstance(value, str) else None
        if whole:
            try:
                value = evaluate(whole.group(1), found)
            except ArithError:
                continue
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            found[str(name)] = value
    return found


class _Unroller:
    def __init__(self, document: Document, numbers: dict[str, Any]) -> None:
        self.document, self.numbers, self.made = document, numbers, 0

    def edges(self, path: Path_, entries: list[Any]) -> list[Any]:
        """The list at `path` with its loops unrolled, and its positions renumbered to match."""
        if not any(map(_is_loop, entries)):
            return entries
        old = self.document.section(path)
        new = Positions(old.key, old.value)
        result: list[Any] = []
        for index, entry in enumerate(entries):
            for item, positions in self._entries(entry, path + (index,), {}, None):
                new.children[len(result)] = positions
                result.append(item)
        self.document.positions.put(path, new)
        return result

    def _entries(self, entry: Any, path: Path_, env: dict[str, int], context: str | None) \
            -> Iterator[tuple[Any, Positions]]:
        """(entry, positions) for one entry written at `path`: itself with the indices in `env` filled in, or,
        for a loop, every entry of its body once per value of its index."""
        decided = _decided(entry, env, self.document.locate(path))
        if decided is not None:  # `when:` over loop indices only: its arm, for this iteration
            for key, item, item_path in arms(entry, path):
                if (key == "do") == decided:
                    yield from self._entries(item, item_path, env, context)
            return
        if not _is_loop(entry):
            at = with_context(self.document.locate(path), context, inner=True)
            yield _fill(entry, env, at), self.document.section(path, context, inner=True)
            return
        name, values, body = self._loop(entry, path, env)
        at = self.document.locate(path)
        where = Location(at.file, at.line, at.column)
        for value in values:
            inner = f"for {name} = {value}, the loop at {where}"
            for item, item_path in body:
                self.made += 1
                if self.made > MAX_LOOP_ENTRIES:
                    raise SchemaError(f"the loops of this spec make more than {MAX_LOOP_ENTRIES:,} edge entries",
                                      location=at, expected=f"at most {MAX_LOOP_ENTRIES:,}",
                                      hint="lower a range; nested loops multiply")
                yield from self._entries(item, item_path, {**env, name: value},
                                         inner if context is None else f"{inner}; {context}")

    def _loop(self, entry: dict[str, Any], path: Path_, env: dict[str, int]) \
            -> tuple[str, range, list[tuple[Any, Path_]]]:
        """The index name, its values and the body (entries and their paths) of a loop entry, each checked where
        it is written. A body may be one chain, a string, as `edges:` may."""
        for key in entry:
            if key not in LOOP_KEYS:
                raise SchemaError(f"unknown key '{key}' in a loop", location=self.document.locate(path + (key,),
                                                                                                 key=True),
                                  expected="for: i in range(N) and do: [edges]", hint=did_you_mean(str(key), LOOP_KEYS))
        body = entry.get("do")
        if isinstance(body, str):
            body = [body]
        if not isinstance(body, list) or not body:
            raise SchemaError("a loop needs 'do:', a chain or a list of the edges it repeats",
                              location=self.document.locate(path + ("do",) if "do" in entry else path),
                              hint="for: i in range(3)\n        do:\n          - x${i} -> conv2d(8)")
        header = entry["for"]
        at = self.document.locate(path + ("for",))
        match = _HEADER.fullmatch(header) if isinstance(header, str) else None
        if match is None:
            raise SchemaError(f"cannot read the loop {header!r}", location=at, expected="NAME in range(...)",
                              hint=_HEADER_HINT)
        name = match.group(1)
        if name in self.numbers or name in env or name in ("index", "in"):
            raise SchemaError(f"loop index '{name}' hides {'a var' if name in self.numbers else 'another name'} "
                              "of that name", location=at, hint="name the index otherwise, e.g. i, j or k")
        names = {**self.numbers, **env}
        try:
            bounds = [evaluate(part, names) for part in _arguments(match.group(2))]
        except ArithError as error:
            raise SchemaError(f"cannot evaluate the range of loop '{name}': {error}", location=at,
                              hint="a range is known before blocks expand: numbers, vars and the indices of "
                              "outer loops; a block's params are bound later (use a var, or repeat with "
                              "${index})") from None
        if not 1 <= len(bounds) <= 3 or not all(isinstance(b, int) and not isinstance(b, bool) for b in bounds) \
                or (len(bounds) == 3 and bounds[2] == 0):
            raise SchemaError(f"the range of loop '{name}' takes one to three whole numbers (the step not 0)",
                              location=at, got=repr(bounds), hint="'/' makes a fraction; use '//'. " + _HEADER_HINT)
        values = range(*bounds)
        if len(values) * len(body) > MAX_LOOP_ENTRIES:
            raise SchemaError(f"loop '{name}' would make {len(values) * len(body):,} edge entries", location=at,
                              expected=f"at most {MAX_LOOP_ENTRIES:,}", hint="lower the range")
        if isinstance(entry["do"], str):
            return name, values, [(entry["do"], path + ("do",))]
        return name, values, [(item, path + ("do", offset)) for offset, item in enumerate(body)]


def _decided(entry: Any, env: dict[str, int], at: Location) -> bool | None:
    """The condition of a well-formed conditional once the loop indices are filled in, if that decides it."""
    if not env or not is_branch(entry) or "do" not in entry or set(entry) - set(WHEN_KEYS):
        return None
    condition = _fill(entry["when"], env, at)
    return condition if isinstance(condition, bool) else None


def _arguments(text: str) -> list[str]:
    """The comma-separated arguments of `range(...)` (arithmetic has no commas of its own)."""
    return [part.strip() for part in text.split(",")] if text.strip() else []


def _fill(value: Any, env: dict[str, int], at: Location) -> Any:
    """`value` with every `${...}` that names a loop index given its value (see the module's docstring)."""
    if not env:
        return value
    if isinstance(value, dict):
        return {key: _fill(item, env, at) for key, item in value.items()}
    if isinstance(value, list):
        return [_fill(item, env, at) for item in value]
    if not isinstance(value, str) or "${" not in value:
        return value
    whole = EXPRESSION.fullmatch(value.strip())
    if whole:
        return _fill_expression(whole.group(1), env, at)
    return EXPRESSION.sub(lambda match: str(_fill_expression(match.group(1), env, at)), value)


def _fill_expression(expression: str, env: dict[str, int], at: Location) -> Any:
    """An expression with the indices replaced by their values: evaluated if nothing else is named in it,
    else kept as `${...}` for the expander (a var, a block param, `in.channels`)."""
    names = set(_NAME.findall(expression))
    if not names & set(env):
        return "${" + expression + "}"
    filled = _NAME.sub(lambda match: f"({env[match.group(1)]})" if match.group(1) in env else match.group(1),
                       expression)
    if names - set(env):
        return "${" + filled + "}"
    try:
        value = evaluate(filled, {})
    except ArithError as error:
        raise SchemaError(f"cannot evaluate '${{{expression}}}': {error}", location=at,
                          hint=error.hint or "loop indices are whole numbers: write ${2 ** i}, x${i}_${j}") from None
    return value

