"""The lexical rules of a spec, written once: names (catalogue.names), edge chains, line breaks, type words.

Every stage (loader, expansion, validation, graph checks, plugins, the Keras
importer) reads names and chains by these rules, so a name the validator
accepts is one the importer writes and a chain the expander splits is one the
validator splits the same way.
"""

from __future__ import annotations

import itertools
import re
from typing import Any

from archspec.catalogue.names import NAME_PATTERN, NAME_RULE, is_name  # noqa: F401 (the name rule, re-exported)

MAX_NAME_LENGTH = 100
CHAIN_ARROW = "->"
SHARES = "shares"
"""The key that makes a node call another node's layer again, or a block use another use's layers."""
FORMAT_VERSION = 1

LINE_BREAK = re.compile("\r\n|[\r\n\x85\u2028\u2029]")
"""What YAML counts as the end of a line (a lone CR too), so line numbers agree with the parser's."""

_TYPE_WORDS: dict[type, str] = {
    bool: "a boolean",
    int: "an integer",
    float: "a number",
    str: "a string",
    list: "a list",
    tuple: "a list",
    dict: "a mapping",
    type(None): "null",
}


INDEX_FIELD = "{index}"
"""In a block's node name, the number of the use (`conv_dw_{index}_bn` -> `conv_dw_3_bn`), for layer
names that carry the unit's number inside them rather than as a prefix (Keras's MobileNet, NASNet)."""


def is_name_template(text: Any) -> bool:
    """True if `text` holds INDEX_FIELD and is a valid name once it is filled in."""
    return isinstance(text, str) and INDEX_FIELD in text and is_name(text.replace(INDEX_FIELD, "0"))


def type_word(value: Any) -> str:
    """What a value is, in words with its article: 'an integer', 'a mapping', 'null'."""
    return _TYPE_WORDS.get(type(value), article(type(value).__name__))


def type_word_of(kind: type) -> str:
    """The same words for a type: type_word_of(int) == 'an integer'."""
    return _TYPE_WORDS.get(kind, article(kind.__name__))


def article(word: str) -> str:
    """'a dense', 'an attention': the word with its indefinite article."""
    return ("an " if word[:1].lower() in "aeiou" else "a ") + word


def split_chain(text: str) -> list[str] | None:
    """The names of a chain 'a -> b -> c', or None if it is not one (fewer than two, or an empty name)."""
    parts = [part.strip() for part in text.split(CHAIN_ARROW)]
    if len(parts) < 2 or not all(parts):
        return None
    return parts


def chain_links(text: str) -> list[tuple[str, str]] | None:
    """The (source, target) links of a chain 'a -> b -> c', or None if it is not a chain."""
    parts = split_chain(text)
    return None if parts is None else list(itertools.pairwise(parts))


def join_chain(names: list[str] | tuple[str, ...]) -> str:
    """The chain text for names: join_chain(['a', 'b']) == 'a -> b'."""
    return f" {CHAIN_ARROW} ".join(names)

MODEL_NAME_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*")
"""A model name: TensorFlow's rule for a root name scope (`fit` opens one named after the model), less
'/' (Keras refuses it in any name), '\\' and '>' (graphviz and file names)."""
MAX_MODEL_NAME_LENGTH = 200
"""A run's folder is named `<model name>-<timestamp>`, and a file name has at most 255 bytes."""

_OPENERS = {"(": ")", "[": "]", "{": "}"}


def split_steps(text: str) -> list[tuple[str, int]] | None:
    """The steps of a chain with the offset each starts at in `text`; None if it is not a chain.

    Unlike split_chain, an arrow inside brackets, `${...}` or quotes does not
    split (`conv2d(64, kernel=[3, 3]) -> relu`), so a step may carry arguments.
    """
    steps = _all_steps(text)
    if len(steps) < 2 or not all(step for step, _ in steps):
        return None
    return steps


def chain_problem(text: str) -> tuple[str, int, str] | None:
    """Why `text` is no chain `a -> b -> c`, as (message, offset of the fault, hint); None if it is one."""
    steps = _all_steps(text)
    if len(steps) < 2:
        return f"edge chain {text!r} is not of the form 'a -> b -> c'", 0, "separate node names with '->'"
    empty = next((offset for step, offset in steps if not step), None)
    if empty is not None:
        return ("a chain step is empty: two arrows in a row, or an arrow at an end", empty,
                "remove the extra '->' or put a step between the arrows")
    return None


def _all_steps(text: str) -> list[tuple[str, int]]:
    """The text split at each arrow outside brackets and quotes, empty steps included."""
    steps: list[tuple[str, int]] = []
    depth: list[str] = []
    quote = ""
    start = index = 0
    while index < len(text):
        char = text[index]
        if quote:
            quote = "" if char == quote else quote
        elif char in "'\"":
            quote = char
        elif char in _OPENERS:
            depth.append(_OPENERS[char])
        elif depth and char == depth[-1]:
            depth.pop()
        elif not depth and text.startswith(CHAIN_ARROW, index):
            steps.append(_stripped(text, start, index))
            start = index + len(CHAIN_ARROW)
            index = start
            continue
        index += 1
    steps.append(_stripped(text, start, len(text)))
    return steps


def _stripped(text: str, start: int, end: int) -> tuple[str, int]:
    part = text[start:end]
    return part.strip(), start + len(part) - len(part.lstrip())
