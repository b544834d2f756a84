"""What `archspec fit` prints while training (train/progress.py) and the exact step counts of steps.csv."""

from __future__ import annotations

import csv
import io

import pytest

from tests.cli.test_cli import run_cli
from tests.conftest import ROOT, needs_mnist


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_the_header_comes_first_and_the_bar_stops_at_the_epochs_steps(keras):
    from archspec.train.progress import Progress

    screen = Terminal()
    progress = Progress(epochs=3, steps=37, stream=screen)
    progress.on_epoch_begin(0)
    assert screen.getvalue() == "Epoch 1/3\n"  # before any step
    progress.on_train_batch_end(1, {"loss": 2.0})
    progress.on_train_batch_end(37, {"loss": 1.5})  # Keras: the last call of 2 steps "ended" at step 38
    progress.on_epoch_end(0, {"loss": 1.5, "val_loss": 1.25})
    frames = screen.getvalue().split("\r")
    assert frames[1].startswith(" 2/37 [=>")
    assert frames[2].startswith("37/37 [==============================] ")
    assert frames[3].endswith(" - loss: 1.5000 - val_loss: 1.2500\n")


def test_off_a_terminal_only_the_header_and_one_line_an_epoch(keras):
    from archspec.train.progress import Progress

    log = io.StringIO()
    progress = Progress(epochs=2, steps=5, stream=log)
    progress.on_epoch_begin(1)
    progress.on_train_batch_end(4, {"loss": 1.0})
    progress.on_epoch_end(1, {"loss": 1.0})
    lines = log.getvalue().splitlines()
    assert lines[0] == "Epoch 2/2"
    assert lines[1].startswith("5/5 [") and lines[1].endswith("s - loss: 1.0000")
    assert len(lines) == 2


@needs_mnist
@pytest.mark.slow
def test_fit_prints_epoch_1_of_n_first_and_steps_csv_ends_at_the_last_step(tmp_path, capsys):
    # 1,300 examples: 1,170 to train on in 37 batches of 32, two steps a call: the last call runs one step
    code, out, err = run_cli(["fit", str(ROOT / "specs" / "mlp_sequential.yaml"), "--subset", "1300",
                              "--batch-size", "32", "--epochs", "2", "--out", str(tmp_path / "run")], capsys)
    assert code == 0, err
    assert out.splitlines()[0] == "Epoch 1/2"
    assert [line for line in out.splitlines() if line.startswith("Epoch")] == ["Epoch 1/2", "Epoch 2/2"]
    assert "37/37 [" in out and "38/37" not in out
    with open(tmp_path / "run" / "steps.csv") as rows:
        steps = [int(row["step"]) for row in csv.DictReader(rows)]
    assert steps[-1] == 74 and steps[len(steps) // 2 - 1] == 37
