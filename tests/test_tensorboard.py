"""Every run folder holds TensorBoard event files whose epoch scalars are history.csv's values."""

from __future__ import annotations

import numpy as np
import pytest

from archspec.train import runs
from tests.conftest import ROOT


@pytest.mark.slow
def test_event_file_scalars_equal_history_csv(tmp_path):
    from archspec.train.runner import fit_spec
    from archspec.train.tensorboard import read_scalars

    run_dir = fit_spec(ROOT / "specs" / "mlp_sequential.yaml", out=tmp_path / "run", epochs=2, subset=512,
                       batch_size=64, seed=0, verbose=0)
    history = runs.read_history(run_dir / runs.HISTORY_FILE)
    scalars = read_scalars(run_dir)
    columns = [name for name in history[0] if name not in ("epoch", "time_s")]
    assert sorted(columns) == ["accuracy", "loss", "val_accuracy", "val_loss"]
    assert sorted(tag for tag in scalars if tag.startswith("epoch/")) == sorted(f"epoch/{c}" for c in columns)
    for name in columns:
        logged = scalars[f"epoch/{name}"]
        assert sorted(logged) == [1, 2]
        for row in history:  # event files hold float32; history.csv the same float32 value, printed in full
            assert np.float32(logged[row["epoch"]]) == np.float32(row[name]), (name, row["epoch"])
    steps = scalars["step/loss"]  # per-step training loss: a curve even within one epoch
    assert len(steps) >= 2 and max(steps) == 2 * 8  # 461 training examples / 64 = 8 steps an epoch
