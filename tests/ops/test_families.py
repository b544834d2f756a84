"""Op families on shared bases: each rule and field group written once, each op's field order as before."""

from __future__ import annotations

import pytest

from archspec.catalogue.ops import OPS
from archspec.catalogue.ops.base import OpParams, fields_after
from archspec.catalogue.ops.windows import IMAGE, SEQUENCE, Convolution, GlobalPooling, Pooling

KERNEL_TAIL = ["activation", "use_bias", "kernel_init", "bias_init", "kernel_reg", "bias_reg"]
NORM_TAIL = ["center", "scale", "gamma_init", "beta_init", "gamma_reg", "beta_reg"]


@pytest.mark.parametrize(("op", "fields"), [
    ("dense", ["units", *KERNEL_TAIL]),
    ("conv1d", ["filters", "kernel", "strides", "padding", "dilation", "groups", *KERNEL_TAIL]),
    ("conv2d", ["filters", "kernel", "strides", "padding", "dilation", *KERNEL_TAIL, "groups"]),
    ("conv2d_transpose", ["filters", "kernel", "strides", "padding", *KERNEL_TAIL]),
    ("depthwise_conv2d", ["kernel", "strides", "padding", "depth_multiplier", "dilation", *KERNEL_TAIL]),
    ("batch_norm", ["axis", "momentum", "epsilon", *NORM_TAIL]),
    ("layer_norm", ["axis", "epsilon", *NORM_TAIL]),
    ("group_norm", ["groups", "axis", "epsilon", *NORM_TAIL]),
])
def test_a_shared_field_group_comes_after_the_ops_own_fields(op, fields):
    # the order every user-visible list follows: schema, `unknown parameter` messages, completion
    assert list(OPS[op].Params.model_fields) == fields


def test_fields_after_appends_the_groups_and_keeps_the_class_validators():
    class Tail(OpParams):
        last: int = 0

    @fields_after(Tail)
    class Composed(OpParams):
        """A doc."""

        first: int

    assert list(Composed.model_fields) == ["first", "last"]
    assert (Composed.__name__, Composed.__doc__) == ("Composed", "A doc.")
    with pytest.raises(ValueError, match="Extra inputs"):
        Composed(first=1, other=2)  # OpParams' rules hold: unknown keys are errors


def test_each_window_family_serves_both_layouts():
    for family in (Convolution, Pooling, GlobalPooling):
        layouts = {op.layout for op in OPS.values() if isinstance(op, family) and type(op).__mro__[1] is family}
        assert layouts == {SEQUENCE, IMAGE}, family
    assert {op.name: op.min_rank for op in OPS.values() if isinstance(op, GlobalPooling)} == {
        "global_avg_pool1d": 2, "global_max_pool1d": 2, "global_avg_pool2d": 3, "global_max_pool2d": 3}
    assert OPS["max_pool1d"].keras_classes == ("MaxPooling1D",)


def test_a_1d_global_pool_keeps_its_steps_axis_when_asked():
    op = OPS["global_avg_pool1d"]
    assert op.infer_shape(op.Params(keepdims=True), [(7, 3)]) == (1, 3)
    assert op.infer_shape(op.Params(), [(7, 3)]) == (3,)


def test_every_normalisation_reads_the_list_axis_of_a_reloaded_keras_config():
    for name in ("batch_norm", "layer_norm", "group_norm", "rms_norm", "unit_norm"):
        assert OPS[name].from_keras({"axis": [3]})["axis"] == 3, name


def test_a_unit_norm_has_no_weights_to_count_even_on_a_variable_axis():
    op = OPS["unit_norm"]
    assert op.count_params(op.Params(), [(None,)], (None,)) == 0
    assert OPS["rms_norm"].count_params(OPS["rms_norm"].Params(), [(5, 8)], (5, 8)) == 8
    assert OPS["batch_norm"].count_params(OPS["batch_norm"].Params(center=False), [(5, 8)], (5, 8)) == 24


def test_the_dropouts_share_their_keras_arguments():
    calls = {name: OPS[name].layer(OPS[name].Params(rate=0.25, seed=3), [(4, 4, 2)])
             for name in ("dropout", "spatial_dropout2d", "drop_path")}
    assert {name: (call.cls, call.kwargs, call.module) for name, call in calls.items()} == {
        "dropout": ("Dropout", {"rate": 0.25, "seed": 3}, "keras.layers"),
        "spatial_dropout2d": ("SpatialDropout2D", {"rate": 0.25, "seed": 3}, "keras.layers"),
        "drop_path": ("DropPath", {"rate": 0.25, "seed": 3}, "archspec.keras.layers"),
    }
    assert OPS["dropout"].layer(OPS["dropout"].Params(rate=0.5), [(3,)]).kwargs == {"rate": 0.5}
