"""curves.png has the training loss after every logged step (steps.csv): a one-epoch run has a curve."""

from __future__ import annotations

import shutil

import numpy as np
import pytest

from archspec.train import runs
from archspec.train.plots import _pyplot, curves_figure
from tests.conftest import ROOT, needs_mnist
from tests.train.test_train import run_cli

pytestmark = [pytest.mark.slow, needs_mnist]


@pytest.fixture(scope="module")
def one_epoch(tmp_path_factory):
    from archspec.train.runner import fit_spec

    return fit_spec(ROOT / "specs" / "mlp_sequential.yaml", out=tmp_path_factory.mktemp("curves") / "run",
                    epochs=1, subset=512, batch_size=64, seed=0, verbose=0)


def loss_lines(figure):
    (axis,) = [axis for axis in figure.axes if axis.get_title() == "loss"]
    return axis.get_lines()


def step_line(figure, label):
    (line,) = [line for line in loss_lines(figure) if line.get_label() == f"{label} train per step"]
    return line


def test_a_one_epoch_run_has_one_curve_point_per_logged_step(one_epoch):
    steps = runs.read_history(one_epoch / runs.STEPS_FILE)
    history = runs.read_history(one_epoch / runs.HISTORY_FILE)
    assert runs.read_json(one_epoch / runs.CONFIG_FILE)["steps_per_execution"] == 1  # 8 steps: each one logged
    assert [row["step"] for row in steps] == list(range(1, 9))  # 461 training examples / 64 = 8 steps
    assert {row["epoch"] for row in steps} == {1}
    assert steps[-1]["loss"] == pytest.approx(history[0]["loss"], rel=1e-6)  # the epoch's mean, as Keras logs it
    assert steps[0]["loss"] != pytest.approx(steps[-1]["loss"])

    plt = _pyplot()
    figure = curves_figure(plt, {"mlp": history}, {"mlp": steps})
    line = step_line(figure, "mlp")
    np.testing.assert_allclose(line.get_xdata(), np.arange(1, 9) / 8)  # on the epoch axis, ending at epoch 1
    np.testing.assert_allclose(line.get_ydata(), [row["loss"] for row in steps])
    plt.close(figure)


def test_compare_overlays_step_curves_and_older_runs_without_them(one_epoch, tmp_path, capsys):
    older = shutil.copytree(one_epoch, tmp_path / "older")
    (older / runs.STEPS_FILE).unlink()  # a run folder from before steps.csv
    code, _out, err = run_cli(["compare", str(one_epoch), str(older), "--out", str(tmp_path / "cmp")], capsys)
    assert code == 0, err
    assert (tmp_path / "cmp" / "compare_curves.png").is_file()
    plt = _pyplot()
    figure = curves_figure(plt, {"new": runs.read_history(one_epoch / runs.HISTORY_FILE),
                                 "old": runs.read_history(older / runs.HISTORY_FILE)},
                           {"new": runs.read_history(one_epoch / runs.STEPS_FILE), "old": []})
    assert len(step_line(figure, "new").get_xdata()) == 8
    assert [line.get_label() for line in loss_lines(figure)].count("old train") == 1
    plt.close(figure)
