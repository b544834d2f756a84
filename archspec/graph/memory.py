"""Refuse, before Keras allocates anything, a model that cannot fit this machine's memory.

A typo such as `units: 1000000000` validates (the spec is well-formed) but
would make TensorFlow fail deep inside weight initialisation with an
out-of-memory error that names a tensor, not the node. The static parameter
count is known before any TensorFlow import, so the check is exact and free.
Only the weights are counted: activations, gradients and optimizer state
come on top, so passing this check does not promise that training fits.
"""

from __future__ import annotations

import os
import re

import networkx as nx

from archspec.errors import SpecError
from archspec.graph.summary import node_params, total_params

BYTES_PER_PARAM = 4  # float32, Keras's default dtype


def physical_memory() -> int | None:
    """Bytes of RAM on this machine, or None where the OS does not say (then nothing is checked)."""
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (AttributeError, ValueError, OSError):
        return None


def format_bytes(count: float) -> str:
    for unit in ("bytes", "KiB", "MiB", "GiB", "TiB"):
        if count < 1024 or unit == "TiB":
            return f"{count:,.0f} {unit}" if unit == "bytes" else f"{count:,.1f} {unit}"
        count /= 1024
    raise AssertionError("unreachable")


def check_weights_fit(graph: nx.MultiDiGraph, available: int | None = None) -> None:
    """Raise a SpecError at the largest node when the weights alone exceed the machine's memory."""
    available = physical_memory() if available is None else available
    total = total_params(graph)
    needed = total * BYTES_PER_PARAM
    if available is None or needed <= available:
        return
    largest = max(graph.nodes, key=lambda name: node_params(graph, name))
    data = graph.nodes[largest]
    raise SpecError(
        f"the model's weights do not fit in this machine's memory; this node alone has "
        f"{node_params(graph, largest):,} parameters",
        location=data["location"],
        node=largest,
        expected=f"at most {format_bytes(available)} of weights (this machine's memory)",
        got=f"{total:,} parameters = {format_bytes(needed)} as float32",
        hint="check the sizes of this node and its input (units, filters, kernel) for a typo such as an extra zero; "
        "`archspec summary SPEC` lists every node's parameter count",
    )


def out_of_memory_message(error: BaseException) -> str:
    """What the CLI says for MemoryError or TensorFlow's ResourceExhaustedError: the tensor, and a hint."""
    text = str(error).strip()
    found = re.search(r"OOM when allocating tensor with shape\[[^\]]*\]", text)
    detail = found.group(0) if found else (text.splitlines()[0][:300] if text else type(error).__name__)
    return (
        f"archspec: out of memory ({detail})\n"
        "  hint: use a smaller --batch-size or fewer units/filters; "
        "`archspec summary SPEC` shows each node's parameter count"
    )


def is_out_of_memory(error: BaseException) -> bool:
    """MemoryError, or TensorFlow's ResourceExhaustedError (recognised without importing TensorFlow)."""
    return isinstance(error, MemoryError) or any(
        cls.__name__ == "ResourceExhaustedError" for cls in type(error).__mro__
    )
