"""Whether two programs compute the same function: one sampling of inputs, one comparison, one tolerance.

`archspec export` checks the written artifact against the Keras model, and
`archspec import` the rebuilt spec against the original model, with these
functions, so an artifact and an import pass or fail by the same rule. numpy
only: the callers run the models.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

import numpy as np

TOLERANCE = 1e-4
"""Largest absolute difference accepted between two outputs. A NaN in either, or a different number
or shape of outputs, is a difference: a check that NaN passes proves nothing."""

OPEN_AXIS = 8
"""The length given to an axis the model leaves open (a sequence of any length)."""
OPEN_IMAGE_SIZE = 224
"""Height and width of an image input whose size the model leaves open (a keras.applications model
without its top): at 8x8 such a network's strided layers get inputs smaller than their kernels,
and TensorFlow then returns uninitialised memory rather than an error, so nothing could be compared."""


def sample_inputs(model: Any, *, seed: int = 0, batch: int = 4,
                  floats: Literal["uniform", "normal"] = "uniform") -> list[np.ndarray]:
    """A seeded random batch for each model input, in the model's order.

    Floats are uniform in [0, 1) (image-like, the default) or standard normal (both signs, for
    weights-only checks); integer inputs get 0 or 1 (valid token ids for any vocabulary). An axis
    the model leaves open is OPEN_AXIS long, the height and width of an image OPEN_IMAGE_SIZE.
    """
    rng = np.random.default_rng(seed)
    inputs = []
    for tensor in model.inputs:
        sizes = list(tensor.shape[1:])
        image = len(sizes) == 3 and sizes[0] is None and sizes[1] is None and sizes[2] is not None
        shape = (batch, *(size or (OPEN_IMAGE_SIZE if image and axis < 2 else OPEN_AXIS)
                          for axis, size in enumerate(sizes)))
        dtype = np.dtype(str(tensor.dtype))
        if np.issubdtype(dtype, np.integer):
            values = rng.integers(0, 2, size=shape)
        else:
            values = rng.random(shape) if floats == "uniform" else rng.normal(size=shape)
        inputs.append(values.astype(dtype))
    return inputs


def max_difference(expected: Sequence[Any], got: Sequence[Any]) -> float:
    """Largest absolute difference over all outputs; inf when their number or shapes differ or a NaN
    appears."""
    if len(expected) != len(got):
        return float("inf")
    worst = 0.0
    for want, have in zip(expected, got):
        want, have = np.asarray(want, dtype=np.float64), np.asarray(have, dtype=np.float64)
        if want.shape != have.shape or np.isnan(want).any() or np.isnan(have).any():
            return float("inf")
        worst = max(worst, float(np.max(np.abs(want - have), initial=0.0)))
    return worst


def outputs_agree(expected: Sequence[Any], got: Sequence[Any]) -> bool:
    """Whether two programs' outputs on the same inputs agree within TOLERANCE."""
    return max_difference(expected, got) <= TOLERANCE
