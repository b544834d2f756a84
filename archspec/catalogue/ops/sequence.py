"""Ops on sequences (steps, features): 1-D convolution (causal, dilated, grouped) and 1-D pooling.

Each is its family's rule (windows.py) with the SEQUENCE layout; conv.py declares their 2-D twins.
"""

from __future__ import annotations

from typing import Literal

from archspec.catalogue.ops.base import fields_after
from archspec.catalogue.ops.weights import KernelWeights
from archspec.catalogue.ops.windows import (  # noqa: F401 (check_groups, check_window, single_values: re-exported)
    SEQUENCE,
    Convolution,
    ConvWindow,
    GlobalPooling,
    Groups,
    Pool1DParams,
    Pooling,
    check_groups,
    check_window,
    single_values,
)
from archspec.catalogue.primitives import FLOAT_DTYPES

CausalPadding = Literal["same", "valid", "causal"]


@fields_after(Groups, KernelWeights)
class Conv1DParams(ConvWindow):
    padding: CausalPadding = "same"


class Conv1D(Convolution):
    name = "conv1d"
    input_dtypes = FLOAT_DTYPES
    layout = SEQUENCE
    keras_class = "Conv1D"
    Params = Conv1DParams
    doc = ("1-D convolution over the steps of a (steps, features) sequence; padding 'causal' pads on the left "
           "only, so step t sees steps <= t (TCN, WaveNet); `groups` splits the features into groups.")


class MaxPool1D(Pooling):
    name = "max_pool1d"
    output_dtype = None
    layout = SEQUENCE
    keras_class = "MaxPooling1D"
    Params = Pool1DParams
    doc = "Maximum over windows of `pool` steps (2 by default), stepping by `strides` (= pool)."


class AvgPool1D(Pooling):
    name = "avg_pool1d"
    input_dtypes = FLOAT_DTYPES
    layout = SEQUENCE
    keras_class = "AveragePooling1D"
    Params = Pool1DParams
    doc = "Average over windows of `pool` steps (2 by default), stepping by `strides` (= pool)."


class GlobalAvgPool1D(GlobalPooling):
    name = "global_avg_pool1d"
    layout = SEQUENCE
    keras_class = "GlobalAveragePooling1D"
    doc = "Averages each feature over the steps: (steps, features) -> (features,)."


class GlobalMaxPool1D(GlobalPooling):
    name = "global_max_pool1d"
    output_dtype = None
    layout = SEQUENCE
    keras_class = "GlobalMaxPooling1D"
    doc = "Maximum of each feature over the steps: (steps, features) -> (features,)."
