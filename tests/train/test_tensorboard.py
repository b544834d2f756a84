"""Every run folder holds TensorBoard event files whose epoch scalars are history.csv's values."""

from __future__ import annotations

import numpy as np
import pytest

from archspec.train import runs
from tests.conftest import ROOT


def read_scalars(run_dir) -> dict[str, dict[int, float]]:
    """tag -> {step: value} of the scalars in a run folder's event files."""
    from tensorflow.core.util import event_pb2

    from archspec.keras.backend import import_tensorflow
    from archspec.train.tensorboard import TENSORBOARD_DIR

    tf = import_tensorflow()
    scalars: dict[str, dict[int, float]] = {}
    for path in sorted((run_dir / TENSORBOARD_DIR).glob("events.out.tfevents.*")):
        for record in tf.data.TFRecordDataset(str(path)):
            event = event_pb2.Event.FromString(record.numpy())
            for value in event.summary.value:
                if value.metadata.plugin_data.plugin_name == "scalars":
                    scalars.setdefault(value.tag, {})[event.step] = float(tf.make_ndarray(value.tensor))
    return scalars


@pytest.mark.slow
def test_event_file_scalars_equal_history_csv(tmp_path):
    from archspec.train.runner import fit_spec

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
    events = read_events(run_dir)
    (samples,) = [value for event in events for value in event.summary.value if value.tag == "samples"]
    assert samples.metadata.plugin_data.plugin_name == "images"
    width, height, png = samples.tensor.string_val
    assert png == (run_dir / runs.SAMPLES_FILE).read_bytes() and int(width) > 0 and int(height) > 0
    assert any(event.graph_def for event in events)  # the forward pass, for the Graphs tab


def read_events(run_dir):
    import tensorflow as tf
    from tensorflow.core.util import event_pb2

    return [event_pb2.Event.FromString(record.numpy())
            for path in sorted((run_dir / "tensorboard").glob("events.out.tfevents.*"))
            for record in tf.data.TFRecordDataset(str(path))]
