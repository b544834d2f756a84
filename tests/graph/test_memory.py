"""Models too big for the machine: refused at the node before Keras allocates, and OOM is a message."""

from __future__ import annotations

import pytest

from archspec.errors import SpecError
from archspec.graph.memory import check_weights_fit, format_bytes
from archspec.graph.shapes import analyze
from tests.cli.test_cli import UNET, run_cli

HUGE = """\
archspec: 1
name: huge
inputs:
  x: {shape: [784]}
nodes:
  small: {op: dense, units: 10}
  h: {op: dense, units: 1000000000000}  # 10^12: more than any machine holds
  y: {op: dense, units: 10}
edges:
  - x -> small -> h -> y
outputs: [y]
"""


def test_build_refuses_weights_larger_than_memory_at_the_largest_node(write_spec, capsys):
    path = write_spec(HUGE)
    code, out, err = run_cli(["build", str(path), "-o", str(path.with_suffix(".keras"))], capsys)
    assert code == 1 and out == ""
    lines = err.splitlines()
    assert lines[0] == (f"{path}:7:3: node 'h': the model's weights do not fit in this machine's memory; "
                        "this node alone has 11,000,000,000,000 parameters")
    assert lines[2] == "  got:      21,000,000,007,860 parameters = 76.4 TiB as float32"
    assert lines[3].startswith("  hint: check the sizes of this node")
    assert not path.with_suffix(".keras").exists()


def test_the_limit_is_the_memory_given(write_spec):
    graph = analyze(write_spec(HUGE.replace("1000000000000", "1000")))  # 7,850 + 11,000 + 10,010 parameters
    check_weights_fit(graph, available=28_860 * 4)  # exactly fits
    with pytest.raises(SpecError) as caught:
        check_weights_fit(graph, available=28_860 * 4 - 1)
    assert (caught.value.node, caught.value.line) == ("h", 7)
    assert caught.value.expected == "at most 112.7 KiB of weights (this machine's memory)"


def test_format_bytes():
    assert [format_bytes(n) for n in (0, 1023, 1024, 3 * 2**30, 5 * 2**50)] == [
        "0 bytes", "1,023 bytes", "1.0 KiB", "3.0 GiB", "5,120.0 TiB"]


class ResourceExhaustedError(Exception):
    """Stands in for tf.errors.ResourceExhaustedError (recognised by name, without TensorFlow)."""


def test_out_of_memory_while_building_is_a_message_with_exit_1(monkeypatch, capsys):
    import archspec.keras.compiler

    def exhausted(spec):
        raise ResourceExhaustedError(
            "{{function_node __wrapped__StatelessRandomUniformV2}} OOM when allocating tensor with "
            "shape[784,1000000000] and type float on /job:localhost/replica:0/task:0/device:CPU:0")

    monkeypatch.setattr(archspec.keras.compiler, "compile_model", exhausted)
    code, out, err = run_cli(["build", UNET, "-o", "never.keras"], capsys)
    assert code == 1 and out == ""
    assert err.splitlines() == [
        "archspec: out of memory (OOM when allocating tensor with shape[784,1000000000])",
        "  hint: use a smaller --batch-size or fewer units/filters; "
        "`archspec summary SPEC` shows each node's parameter count",
    ]
