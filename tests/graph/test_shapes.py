"""archspec.graph.shapes directly: shapes a spec gets, and each mismatch against its SpecError fields."""

from __future__ import annotations

import pytest

from archspec.errors import ArchspecError, ShapeError, SpecError, flatten_errors
from archspec.graph.shapes import MAX_AXES, analyze, analyze_partial
from archspec.graph.tensor_limits import MAX_TENSOR_VALUES
from archspec.spec.frontend import loads_spec

IMAGE = "archspec: 1\nname: case\ninputs:\n  x: {shape: [28, 28, 8]}\n"


def errors_of(text: str) -> list[SpecError]:
    with pytest.raises(ArchspecError) as raised:
        analyze(loads_spec(IMAGE + text, "case.yaml"))
    return flatten_errors(raised.value)


def line_of(text: str, needle: str) -> int:
    return next(number for number, line in enumerate((IMAGE + text).splitlines(), 1) if needle in line)


def test_strided_residual_gets_the_resnet_fix_not_unet_advice():
    text = ("nodes:\n  a: {op: conv2d, filters: 16, strides: 2, padding: same}\n"
            "  b: {op: conv2d, filters: 16, padding: same}\n"
            "edges:\n  - x -> a -> b\n  - {from: x, to: b, kind: add-residual}\noutputs: [b]\n")
    [error] = errors_of(text)
    assert isinstance(error, ShapeError)
    assert (error.node, error.edge) == ("b", "add-residual x -> b")
    assert (error.location.line, error.location.column) == (line_of(text, "add-residual"), 5)
    assert error.expected == "14x14x16 from 'a'" and error.got == "28x28x8 from 'x'"
    assert error.hint == ("the branch is strided (28x28 -> 14x14): add a strided 1x1 projection on the "
                          "shortcut, a conv2d with kernel: 1, strides: 2, filters: 16, as ResNet does")


def test_residual_from_a_smaller_map_keeps_the_resize_hint():
    text = ("nodes:\n  a: {op: max_pool2d}\n  b: {op: upsample2d}\n  c: {op: identity}\n"
            "edges:\n  - x -> a -> b -> c\n  - {from: a, to: c, kind: add-residual}\noutputs: [c]\n")
    [error] = errors_of(text)
    assert error.edge == "add-residual a -> c"
    assert error.hint == ("spatial sizes must match: connect the skip to a decoder node after the "
                          "upsample2d that reaches the same size")


def test_every_failed_skip_of_a_chain_is_reported():
    """A failed concat-skip no longer hides the next one downstream: checking goes on with the intended shape."""
    text = ("nodes:\n  p1: {op: max_pool2d}\n  p2: {op: max_pool2d}\n  d1: {op: conv2d, filters: 4, padding: same}\n"
            "  d2: {op: conv2d, filters: 4, padding: same}\n"
            "edges:\n  - x -> p1 -> p2 -> d1 -> d2\n"
            "  - {from: x, to: d1, kind: concat-skip}\n  - {from: p1, to: d2, kind: concat-skip}\noutputs: [d2]\n")
    errors = errors_of(text)
    assert [(error.edge, error.location.line) for error in errors] == [
        ("concat-skip x -> d1", line_of(text, "from: x, to: d1")),
        ("concat-skip p1 -> d2", line_of(text, "from: p1, to: d2")),
    ]
    assert errors[0].expected == "7x7x8 from 'p2'" and errors[0].got == "28x28x8 from 'x'"
    assert errors[1].message.startswith("p1 is 14x14x8 but d2's main input (d1) is 7x7x4")


def test_op_errors_are_located_at_the_node_and_stop_it():
    text = ("nodes:\n  f: {op: dense, units: 4}\n  g: {op: conv2d, filters: 2}\n"
            "edges:\n  - x -> f -> g\noutputs: [g]\n")
    graph, errors = analyze_partial(loads_spec(IMAGE + text, "case.yaml"))
    assert errors == []
    text = ("nodes:\n  f: {op: flatten}\n  g: {op: conv2d, filters: 2}\n  h: {op: identity}\n"
            "edges:\n  - x -> f -> g -> h\noutputs: [h]\n")
    graph, errors = analyze_partial(loads_spec(IMAGE + text, "case.yaml"))
    [error] = errors
    assert error.node == "g" and error.location.line == line_of(text, "g: {op: conv2d")
    assert error.got == "6272 (rank 1)" and error.hint == "add a reshape or flatten node before it"
    assert "shape" not in graph.nodes["g"] and "shape" not in graph.nodes["h"]


def test_per_position_sigmoid_gate_keeps_the_main_shape():
    text = ("nodes:\n  g: {op: conv2d, filters: 1, kernel: 1}\n  y: {op: identity}\n"
            "edges:\n  - x -> y\n  - x -> g\n  - {from: g, to: y, kind: gate}\noutputs: [y]\n")
    graph = analyze(loads_spec(IMAGE + text))
    assert graph.nodes["y"]["input_shape"] == graph.nodes["y"]["shape"] == (28, 28, 8)


def test_a_tensor_may_have_as_many_axes_as_the_backend_allows_and_no_more():
    def reshaped(axes: int) -> str:
        ones = ", ".join(["1"] * (axes - 1))
        return f"archspec: 1\nname: r\ninputs: {{x: [8]}}\nedges:\n  - x -> reshape([{ones}, 8]) -> flatten\n"

    assert analyze(loads_spec(reshaped(MAX_AXES))).nodes["reshape_1"]["shape"] == (1,) * (MAX_AXES - 1) + (8,)
    with pytest.raises(ShapeError) as raised:
        analyze(loads_spec(reshaped(MAX_AXES + 1)))
    error = raised.value
    assert error.message == "the output has 254 axes, more than a tensor may have" and error.node == "reshape_1"


def test_a_tensor_may_hold_as_many_values_as_the_backend_can_describe_and_no_more():
    def spec(shape: int, step: str) -> str:
        return f"archspec: 1\nname: t\ninputs: {{x: [{shape}]}}\nedges:\n  - x -> {step}\n"

    assert analyze(loads_spec(spec(MAX_TENSOR_VALUES, "relu"))).nodes["x"]["shape"] == (MAX_TENSOR_VALUES,)
    with pytest.raises(ShapeError) as raised:
        analyze(loads_spec(spec(MAX_TENSOR_VALUES + 1, "relu")))
    assert raised.value.node == "x" and raised.value.got == "2,305,843,009,213,693,952 values = 2^63 bytes".replace(
        "2^63", f"{2**63:,}")
    at_limit = analyze(loads_spec(spec(2**30, f"dense({2**31 - 2})")))  # kernel 2^61 - 2^31, bias 2^31 - 2
    assert at_limit.nodes["dense_1"]["shape"] == (2**31 - 2,)
    with pytest.raises(ShapeError) as raised:
        analyze(loads_spec(spec(2**30, f"dense({2**31})")))
    assert raised.value.node == "dense_1"
    assert raised.value.message == "its weights hold 2,305,843,011,361,177,600 values, more than any tensor may hold"
