"""The front end, in the order docs/architecture.md gives: load YAML -> merge base -> overrides -> loops
-> desugar -> expand -> validate (desugar is the short forms, inline steps and defaults, and block outputs; the
spec's own outputs default after expanding, from the flat graph).

Each stage takes a positioned Document and returns one, and no stage calls
the stages before it (except that `merge_base` reads each base file's short
forms as this file's are read, before merging), so this file is the whole flow of a spec from text to
a validated `Spec`.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from archspec.spec.chain_colons import check_chains_read_as_mappings
from archspec.spec.chains import desugar
from archspec.spec.document import Document
from archspec.spec.expand import expand
from archspec.spec.extends import merge_base
from archspec.spec.loader import load_yaml, parse_yaml
from archspec.spec.loops import unroll_loops
from archspec.spec.models import Spec
from archspec.spec.overrides import apply_overrides
from archspec.spec.shorthand import block_outputs, default_name, model_outputs, read_short_forms
from archspec.spec.validate import validate_document


def load_spec(path: str | Path, overrides: Sequence[str] = ()) -> Spec:
    """Load and validate a spec file; raise SpecError(s) that point into the file (or the --set argument).

    `overrides` are `--set key=value` strings.
    """
    return front_end(load_yaml(path), overrides)


def loads_spec(text: str, name: str = "<string>", overrides: Sequence[str] = ()) -> Spec:
    """Validate spec text (for tests and the Python API); `name` is the file name errors show."""
    return front_end(parse_yaml(text, name), overrides)


def front_end(document: Document, overrides: Sequence[str] = ()) -> Spec:
    """A loaded document through the remaining stages, in order."""
    document = read_short_forms(document)  # inputs: {x: [shape]}, block signatures (each base's too)
    document = merge_base(document)  # extends: base.yaml, with remove:
    check_chains_read_as_mappings(document)  # - x -> dense(4, activation: relu): a chain YAML made a mapping
    document = default_name(document)  # name: the file's stem
    document = apply_overrides(document, overrides)  # --set key=value
    document = unroll_loops(document)  # for: i in range(n), do: [...]
    document = desugar(document)  # inline chain steps, defaults:
    document = block_outputs(document)  # a block's outputs: its one sink
    document = expand(document)  # vars, ${...}, blocks and repeat
    document = model_outputs(document)  # the spec's outputs: the graph's one sink
    return validate_document(document)  # the format, each node's op, each edge's kind
