"""What `archspec fmt` proves before it returns a layout: the same meaning, every comment, and a fixed point.

The meaning is the data archspec's own loader reads, with one allowance: an
edge chain means its steps, so `x  ->  dense(8)` and `x -> dense(8)` (a chain
folded over lines reads back with single spaces) are the same chain. Comments
are found line by line (a `#` at a line's start or after a space, outside
quotes); every one must be in the result, as many as before.
"""

from __future__ import annotations

import re
from typing import Any

from archspec.spec.loader import parse_yaml
from archspec.spec.syntax import join_chain, split_steps

_DOCUMENT_END = re.compile(r"^\.\.\.(?:[ \t]|$)", re.MULTILINE)
_TAB_BEFORE_COMMENT = re.compile(r"[ \t]*\t[ \t]*(?=#)")


def split_document_end(text: str) -> tuple[str, str]:
    """The text before a `...` line, and that line with what follows (comments), which fmt keeps verbatim."""
    match = _DOCUMENT_END.search(text)
    return (text, "") if match is None else (text[:match.start()], text[match.start():])


def untab(text: str) -> str:
    """Tabs before a trailing comment as spaces: YAML allows them there, ruamel.yaml's scanner does not."""
    return _TAB_BEFORE_COMMENT.sub(lambda match: " " * len(match.group()), text)


def meaning(data: Any) -> Any:
    """The spec's data with each edge chain as its steps (whitespace around arrows is not meaning)."""
    if not isinstance(data, dict):
        return data
    result = dict(data)
    if "edges" in result:
        result["edges"] = _chains(result["edges"])
    if isinstance(result.get("blocks"), dict):
        result["blocks"] = {name: ({**body, "edges": _chains(body["edges"])} if isinstance(body, dict)
                                   and "edges" in body else _chains(body))
                            for name, body in result["blocks"].items()}
    return result


def _chains(value: Any) -> Any:
    if isinstance(value, str):
        steps = split_steps(value)
        return value if steps is None else join_chain([step for step, _ in steps])
    if isinstance(value, list):
        return [_chains(item) for item in value]
    return value


def comments(text: str) -> list[str]:
    """The comments of YAML text, one per line that has one (a `#` inside quotes is not one)."""
    found = []
    for line in text.split("\n"):
        quote = ""
        for index, char in enumerate(line):
            if quote:
                quote = "" if char == quote else quote
            elif char in "'\"" and (index == 0 or line[index - 1] in " \t[{,:-"):
                quote = char
            elif char == "#" and (index == 0 or line[index - 1] in " \t"):
                found.append(line[index:].strip())
                break
    return found


def proven(before: str, result: str, again: str, name: str, max_entries: int | None) -> bool:
    """True if `result` (the layout of `before`, and `again` the layout of `result`) means what `before`
    means, keeps each of its comments, and is its own layout."""
    if again != result:
        return False
    kept, written = comments(before), comments(result)
    if len(kept) != len(written) or any(comment not in result for comment in kept):
        return False
    return meaning(parse_yaml(result, name, max_entries=max_entries).data) == \
        meaning(parse_yaml(before, name, max_entries=max_entries).data)
