"""The name rule, below the spec format: a node, input, variable, block, op or output-part name.

The catalogue needs it (an op's name, a `split` op's part names) and so does every spec stage;
`archspec.spec.syntax` re-exports it with the other lexical rules.
"""

from __future__ import annotations

import re
from typing import Any

NAME_PATTERN = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
"""A node, input, variable or block name: a Python identifier in ASCII (it becomes a Keras name)."""
NAME_RULE = "letters, digits and underscores, not starting with a digit"


def is_name(text: Any) -> bool:
    """True if `text` is a valid name (see NAME_PATTERN)."""
    return isinstance(text, str) and NAME_PATTERN.fullmatch(text) is not None
