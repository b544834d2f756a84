"""What `fit` says when the chosen backend is known to train a model family slower than TensorFlow on a CPU.

The figures are docs/results.md's ("Backends: JAX and PyTorch against
TensorFlow", benchmarks/backends.py), by family: a model with any convolution
is "convolutional", any other "dense". A user who picks `--backend jax` for a
CNN learns in one line that TensorFlow trains it several times faster, and
why, instead of finding out from the clock. No line on TensorFlow, nor for a
family where the backend keeps pace.
"""

from __future__ import annotations

import networkx as nx

from archspec.keras.backend import import_keras

CONVOLUTIONS = ("conv",)
"""Op names containing one of these make a model convolutional (conv2d, conv1d, depthwise-conv2d, ...)."""

SLOWER_ON_CPU: dict[tuple[str, str], str] = {
    ("jax", "convolutional"): "XLA's CPU convolutions (0.07-0.62x)",
    ("torch", "dense"): "one training step per call, which Keras's torch trainer requires (about 0.5x)",
    ("torch", "convolutional"): "one step per call and slower CPU convolutions (0.04-0.51x)",
}
"""(backend, family) -> why that backend trains that family slower than TensorFlow on a CPU, measured."""


def model_family(graph: nx.MultiDiGraph) -> str:
    """'convolutional' when any node is a convolution, else 'dense'."""
    ops = (data.op for _, data in graph.nodes(data=True))
    return "convolutional" if any(part in op for op in ops for part in CONVOLUTIONS) else "dense"


def runs_on_cpu() -> bool:
    """Keras's backend has no accelerator here (Keras has no device list for torch: ask torch)."""
    keras = import_keras()
    try:
        devices = keras.distribution.list_devices()
    except AttributeError:  # torch: keras.distribution's backend library is None
        import torch

        return not torch.cuda.is_available()
    return all(device.startswith("cpu") for device in devices)


def pace_note(backend: str, graph: nx.MultiDiGraph) -> str | None:
    """One line for a backend that trains this model's family slower than TensorFlow on a CPU; else None."""
    family = model_family(graph)
    why = SLOWER_ON_CPU.get((backend, family))
    if why is None:
        return None
    return (f"archspec: note: on a CPU the {backend} backend trains {family} models slower than TensorFlow: "
            f"{why}; --backend tensorflow is faster here (docs/results.md, \"Backends\")")
