"""The `defaults:` section: parameters per op that every node of that op gets unless it says otherwise.

Read once per file before chains become nodes (archspec.spec.chains applies
them); each op and parameter is checked where it was written.
"""

from __future__ import annotations

from typing import Any

from archspec.catalogue.ops import OPS
from archspec.errors import SchemaError, did_you_mean
from archspec.spec.document import Document

DEFAULTS_KEY = "defaults"


def read_defaults(document: Document, raw: Any) -> dict[str, dict[str, Any]]:
    """The `defaults:` mapping, each op and parameter checked where it was written."""
    if not isinstance(raw, dict):
        raise SchemaError("'defaults' must be a mapping of op names to parameters",
                          location=document.locate((DEFAULTS_KEY,)), hint="defaults: {conv2d: {padding: valid}}")
    for op, params in raw.items():
        if op not in OPS:
            raise SchemaError(f"unknown op '{op}' in defaults", location=document.locate((DEFAULTS_KEY, op), key=True),
                              expected="an op: " + ", ".join(sorted(OPS)), hint=did_you_mean(str(op), OPS))
        if not isinstance(params, dict):
            raise SchemaError(f"defaults for '{op}' must be a mapping of its parameters",
                              location=document.locate((DEFAULTS_KEY, op)), hint=f"{op}: {{use_bias: false}}")
        fields = OPS[op].Params.model_fields
        for key in params:
            if key not in fields:
                raise SchemaError(f"op '{op}' has no parameter '{key}'",
                                  location=document.locate((DEFAULTS_KEY, op, key), key=True),
                                  expected="one of " + (", ".join(fields) or "(no parameters)"),
                                  hint=did_you_mean(str(key), fields))
    return raw
