"""Scalars read the way people write them: the YAML 1.2 core schema, not PyYAML's YAML 1.1.

PyYAML resolves plain scalars by YAML 1.1, where `1e-6` is a string (a float
needs a dot), `3:3` is the base-60 integer 183, `012` is octal and
`yes`/`no`/`on`/`off` are booleans. A spec means what a reader sees, so a plain
scalar is, by YAML 1.2's core schema:

- null: empty, `~`, `null`, `Null`, `NULL`;
- a boolean: `true`/`false` (also `True`, `TRUE`, `False`, `FALSE`) and nothing else;
- an integer: `-12`, `+3`, `0o17`, `0x1F`;
- a float: `1.5`, `1e-6`, `.5`, `-2.`, `.inf`, `.nan`;
- otherwise a string (`yes`, `3:3`, `1_000`, `2024-01-01`).

Quoted scalars are always strings. Explicit tags (`!!int "4"`) apply the same
rules and refuse values they cannot hold (`!!bool maybe`, `!!int ""`).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from archspec.spec.syntax import type_word_of

TAG_PREFIX = "tag:yaml.org,2002:"
NULL, BOOL, INT, FLOAT, STR = (TAG_PREFIX + name for name in ("null", "bool", "int", "float", "str"))
SCALAR_TAGS = frozenset((NULL, BOOL, INT, FLOAT, STR))

_NULL = re.compile(r"~|null|Null|NULL|")
_TRUE = re.compile(r"true|True|TRUE")
_FALSE = re.compile(r"false|False|FALSE")
_DECIMAL = re.compile(r"[-+]?[0-9]+")
_OCTAL = re.compile(r"0o([0-7]+)")
_HEX = re.compile(r"0x([0-9a-fA-F]+)")
_FLOAT = re.compile(r"[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?")
_INFINITY = re.compile(r"([-+]?)\.(inf|Inf|INF)")
_NAN = re.compile(r"\.nan|\.NaN|\.NAN")

TAG_WORDS = {tag: type_word_of(kind) for tag, kind in
             ((NULL, type(None)), (BOOL, bool), (INT, int), (FLOAT, float), (STR, str))}
"""What each tag reads a scalar as, in the words of syntax.py (for 'cannot read ... as an integer')."""


def resolve(value: str) -> str:
    """The tag of a plain (unquoted, untagged) scalar under the core schema."""
    if _NULL.fullmatch(value):
        return NULL
    if _TRUE.fullmatch(value) or _FALSE.fullmatch(value):
        return BOOL
    if _DECIMAL.fullmatch(value) or _OCTAL.fullmatch(value) or _HEX.fullmatch(value):
        return INT
    if _FLOAT.fullmatch(value) or _INFINITY.fullmatch(value) or _NAN.fullmatch(value):
        return FLOAT
    return STR


def reads_as_string(text: str) -> bool:
    """True if `text`, written unquoted, reads back as the same string (so a writer need not quote it)."""
    return resolve(text) == STR


def construct(tag: str, value: str) -> Any:
    """The Python value of `value` read as `tag`; ValueError says why it cannot be."""
    return _CONSTRUCTORS[tag](value)


def _null(value: str) -> None:
    if not _NULL.fullmatch(value):
        raise ValueError("null is written as null, ~ or nothing")


def _bool(value: str) -> bool:
    if _TRUE.fullmatch(value):
        return True
    if _FALSE.fullmatch(value):
        return False
    raise ValueError("a boolean is true or false")


def _int(value: str) -> int:
    if _DECIMAL.fullmatch(value):
        return int(value, 10)  # ValueError past Python's 4,300-digit limit
    for pattern, base in ((_OCTAL, 8), (_HEX, 16)):
        match = pattern.fullmatch(value)
        if match:
            if len(match.group(1)) > 4300:
                raise ValueError("too many digits")
            return int(match.group(1), base)
    raise ValueError("an integer is digits with an optional sign, or 0o17, or 0x1F")


def _float(value: str) -> float:
    if _FLOAT.fullmatch(value) or _DECIMAL.fullmatch(value):
        return float(value)
    infinity = _INFINITY.fullmatch(value)
    if infinity:
        return float(infinity.group(1) + "inf")
    if _NAN.fullmatch(value):
        return float("nan")
    raise ValueError("a number is written like 0.5, 1e-6 or 3")


def _str(value: str) -> str:
    return value


_CONSTRUCTORS: dict[str, Callable[[str], Any]] = {NULL: _null, BOOL: _bool, INT: _int, FLOAT: _float, STR: _str}
