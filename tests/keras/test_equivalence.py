"""One rule for "the same function": the sampling and the tolerance export and import verification share."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pytest

from archspec.keras.equivalence import (
    OPEN_AXIS,
    OPEN_IMAGE_SIZE,
    TOLERANCE,
    max_difference,
    outputs_agree,
    sample_inputs,
)


@dataclass
class Tensor:
    shape: tuple
    dtype: str


@dataclass
class Model:
    inputs: list


def test_inputs_are_seeded_and_fill_open_axes():
    model = Model([Tensor((None, None, None, 3), "float32"), Tensor((None, None), "int32"),
                   Tensor((None, 5), "float32")])
    image, tokens, rows = sample_inputs(model, seed=1, batch=2)
    assert image.shape == (2, OPEN_IMAGE_SIZE, OPEN_IMAGE_SIZE, 3) and image.dtype == np.float32
    assert tokens.shape == (2, OPEN_AXIS) and tokens.dtype == np.int32 and set(np.unique(tokens)) <= {0, 1}
    assert rows.shape == (2, 5) and rows.min() >= 0.0 and rows.max() < 1.0
    assert np.array_equal(sample_inputs(model, seed=1, batch=2)[2], rows)
    normal = sample_inputs(model, seed=1, batch=2, floats="normal")[2]
    assert normal.min() < 0.0 < normal.max()


@pytest.mark.parametrize(("got", "difference"), [
    ([np.ones((2, 3)) + 1e-5], 1e-5),
    ([np.ones((2, 3)) + 2e-4], 2e-4),
    ([np.ones((2, 4))], float("inf")),          # another shape
    ([], float("inf")),                         # another number of outputs
    ([np.full((2, 3), np.nan)], float("inf")),  # a NaN proves nothing
])
def test_the_difference_is_absolute_and_anything_else_is_infinite(got, difference):
    assert max_difference([np.ones((2, 3))], got) == pytest.approx(difference, rel=1e-3)


def test_one_tolerance_decides():
    assert TOLERANCE == 1e-4
    assert outputs_agree([np.zeros(3)], [np.full(3, 0.9e-4)])
    assert not outputs_agree([np.zeros(3)], [np.full(3, 1.1e-4)])
    assert not outputs_agree([np.full(3, 1000.0)], [np.full(3, 1000.0 + 2e-4)])  # no slack for large outputs
    nan = np.array([np.nan, 1.0])
    assert not outputs_agree([nan], [nan])
