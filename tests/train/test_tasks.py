"""A spec's model must fit its training task's data: checked statically, at the input or output node."""

from __future__ import annotations

import numpy as np
import pytest

from archspec.train.tasks import TASKS
from tests.cli.test_cli import run_cli

CLASSIFIER = """\
archspec: 1
name: c
inputs:
  image: {shape: [28, 28, 1]}
nodes:
  flat: {op: flatten}
  probs: {op: dense, units: 10, activation: softmax}
edges:
  - image -> flat -> probs
outputs: [probs]
"""


def test_validate_checks_a_train_section_against_the_model(write_spec, capsys):
    path = write_spec(CLASSIFIER.replace("[28, 28, 1]", "[32, 32, 3]").replace("units: 10", "units: 100")
                      + "train: {task: classify}\n")
    code, out, err = run_cli(["validate", str(path)], capsys)
    assert code == 1 and out == ""
    assert err.splitlines() == [
        f"{path}:4:3: input 'image': task 'classify' feeds this input mnist's 28x28 greyscale images",
        "  expected: 784 values, e.g. 28x28x1, 28x28 or 784",
        "  got:      32x32x3",
        "  hint: give the input shape [28, 28, 1] (archspec fit trains on MNIST-sized images only)",
        f"{path}:7:3: node 'probs': task 'classify' compares this output with one of mnist's 10 classes",
        "  expected: 10 class scores (shape 10)",
        "  got:      100",
        "  hint: end with a dense node of 10 units and softmax (after a flatten), "
        "or train it with task: autoencode or denoise",
        "1 of 1 spec(s) invalid",
    ]


def test_without_a_train_section_validate_does_not_ask(write_spec, capsys):
    path = write_spec(CLASSIFIER.replace("[28, 28, 1]", "[32, 32, 3]"))
    code, out, _err = run_cli(["validate", str(path)], capsys)
    assert (code, out) == (0, f"ok  {path}  (2 nodes, 30,730 parameters)\n")


def test_any_784_value_input_holds_an_image_and_denoise_needs_an_image_output(write_spec, capsys):
    flat_input = CLASSIFIER.replace("[28, 28, 1]", "[784]").replace("flat: {op: flatten}", "flat: {op: identity}")
    path = write_spec(flat_input + "train: {task: denoise, noise: {gaussian: 0.5}}\n")
    code, _out, err = run_cli(["validate", str(path)], capsys)
    assert code == 1
    assert err.splitlines()[0] == (
        f"{path}:7:3: node 'probs': task 'denoise' compares this output with the clean 28x28 image")
    assert "input 'image'" not in err


def test_fit_needs_one_input_and_one_output(write_spec, capsys):
    two = CLASSIFIER.replace("  image: {shape: [28, 28, 1]}\n",
                             "  image: {shape: [28, 28, 1]}\n  extra: {shape: [10]}\n")
    two = two.replace("  probs: {op", "  both: {op: add}\n  probs: {op")
    two = two.replace("  - image -> flat -> probs\n", "  - image -> flat -> probs -> both\n  - extra -> both\n")
    two = two.replace("[probs]", "[both]")
    path = write_spec(two + "train: {task: classify}\n")
    code, _out, err = run_cli(["validate", str(path)], capsys)
    assert code == 1
    assert err.splitlines()[:3] == [
        f"{path}:5:3: input 'extra': `archspec fit` trains models with one input and one output",
        "  expected: 1 input and 1 output",
        "  got:      2 input(s) (image, extra) and 1 output(s) (both)",
    ]


def test_fit_refuses_before_building_and_task_overrides_are_checked_too(write_spec, capsys, tmp_path):
    path = write_spec(CLASSIFIER + "train: {task: classify}\n")
    out_dir = tmp_path / "run"
    code, out, err = run_cli(["fit", str(path), "--task", "autoencode", "--out", str(out_dir)], capsys)
    assert code == 1 and out == ""
    assert err.splitlines()[0] == (f"{path}:7:3: node 'probs': task 'autoencode' compares this output "
                                   "with the clean 28x28 image")
    assert not out_dir.exists()


SAMPLE_TEST_ARRAYS = {  # (predictions, targets) of a shape each task's test_figures takes
    "classify": (np.full((4, 10), 0.1), np.arange(4)),
    "autoencode": (np.full((4, 28, 28, 1), 0.5), np.full((4, 28, 28, 1), 0.25)),
    "denoise": (np.full((4, 28, 28, 1), 0.5), np.full((4, 28, 28, 1), 0.25)),
    "regress": (np.arange(4.0).reshape(4, 1), np.arange(4.0).reshape(4, 1) + 1),
    "multilabel": (np.full((4, 3), 0.7), np.eye(4, 3)),
    "segment": (np.full((4, 6, 6, 3), 1 / 3), np.zeros((4, 6, 6), np.int32)),
    "next_token": (np.full((4, 5, 7), 1 / 7), np.zeros((4, 5), np.int32)),
}


@pytest.mark.parametrize("name", list(TASKS))
def test_each_task_declares_the_test_figures_it_writes(name):
    """A sweep checks its objective against test_figure_names before training; they must be what test_figures
    returns, or a right objective is refused (or a wrong one let through)."""
    predictions, targets = SAMPLE_TEST_ARRAYS[name]
    assert set(TASKS[name].test_figures(predictions, targets)) == set(TASKS[name].test_figure_names)
