"""Refuse, before Keras allocates anything, a model that cannot fit this machine's memory.

A typo such as `units: 1000000000` validates (the spec is well-formed) but
would make TensorFlow fail deep inside weight initialisation with an
out-of-memory error that names a tensor, not the node. The static parameter
count is known before any TensorFlow import, so the check is exact and free.
The activations (every node's output, which training keeps for the backward
pass) are counted too, at a batch size: a model with no weights can still need
more memory than any machine has (an upsample with a typo in its size).
`compile_model` counts one example (the model cannot run at all otherwise;
predicting or training with smaller batches stays possible), `fit` counts the
batch size it will use. Gradients and optimizer state come on top, so passing
these checks does not promise that training fits.
"""

from __future__ import annotations

import math
import os
import re

import networkx as nx

from archspec.errors import SpecError
from archspec.graph.ir import node_of
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
    raise SpecError(
        f"the model's weights do not fit in this machine's memory; this node alone has "
        f"{node_params(graph, largest):,} parameters",
        location=node_of(graph, largest).location,
        node=largest,
        expected=f"at most {format_bytes(available)} of weights (this machine's memory)",
        got=f"{total:,} parameters = {format_bytes(needed)} as float32",
        hint="check the sizes of this node and its input (units, filters, kernel) for a typo such as an extra zero; "
        "`archspec summary SPEC` lists every node's parameter count",
    )


def activation_values(graph: nx.MultiDiGraph, name: str) -> int:
    """Values in one example of a node's output; a variable-length axis counts as 1 (a lower bound)."""
    shape = node_of(graph, name).shape or ()
    return math.prod(size or 1 for size in shape)


def check_activations_fit(graph: nx.MultiDiGraph, batch_size: int, available: int | None = None) -> None:
    """Raise a SpecError at the node with the largest output when weights plus activations exceed memory.

    `batch_size` examples of every node's output are counted, as training keeps them for the
    backward pass; the weights are counted once.
    """
    available = physical_memory() if available is None else available
    if available is None:
        return
    per_example = {name: activation_values(graph, name) for name in graph.nodes}
    activations = batch_size * sum(per_example.values())
    weights = total_params(graph)
    needed = (weights + activations) * BYTES_PER_PARAM
    if needed <= available:
        return
    largest = max(per_example, key=per_example.__getitem__)
    examples = "one example" if batch_size == 1 else f"a batch of {batch_size:,} examples"
    raise SpecError(
        f"the model's activations for {examples} do not fit in this machine's memory; this node "
        f"alone outputs {per_example[largest]:,} values per example",
        location=node_of(graph, largest).location,
        node=largest,
        expected=f"at most {format_bytes(available)} of weights and activations (this machine's memory)",
        got=f"{weights:,} parameters + {batch_size:,} x {sum(per_example.values()):,} activation values "
        f"= {format_bytes(needed)} as float32",
        hint="check the sizes of this node and the nodes before it (upsample size, padding, units) for "
        "a typo such as an extra zero"
        + ("; or train with a smaller --batch-size" if batch_size > 1 else "")
        + "; `archspec summary SPEC` shows every node's output shape",
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
