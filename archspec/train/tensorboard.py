"""TensorBoard event files in every run folder, so `tensorboard --logdir runs` compares runs without archspec.

The epoch scalars are the values of the run's history.csv row, taken from the
same Keras `logs` the run recorder reads, under `epoch/NAME`, at step = epoch
number; the training loss (and metrics) after each call into the compiled
graph go under `step/NAME`, at step = training steps done, so a one-epoch run
has a curve. The final samples.png goes in as the image `samples`, and on
TensorFlow the model's forward pass as a graph. tf.summary writes plain floats, so it works on every Keras
backend. Events go to RUN_DIR/tensorboard; a resumed run adds a file there
and continues the step numbers.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np

from archspec.keras.backend import current_backend, import_keras, import_tensorflow
from archspec.train import runs

keras = import_keras()
tf = import_tensorflow()

TENSORBOARD_DIR = "tensorboard"
SCALAR_METADATA = tf.compat.v1.SummaryMetadata(
    plugin_data=tf.compat.v1.SummaryMetadata.PluginData(plugin_name="scalars"))
"""What tf.summary.scalar attaches; written by hand because tf.summary.scalar needs the tensorboard
package installed, and writing logs should not (only viewing them does)."""
IMAGE_METADATA = tf.compat.v1.SummaryMetadata(
    plugin_data=tf.compat.v1.SummaryMetadata.PluginData(plugin_name="images"))
"""The images plugin reads a string tensor [width, height, png bytes] (what tf.summary.image writes)."""


class TensorBoardLogger(keras.callbacks.Callback):
    """Writes epoch and step scalars of a fit to RUN_DIR/tensorboard."""

    def __init__(self, run_dir: Path) -> None:
        super().__init__()
        self.folder = Path(run_dir) / TENSORBOARD_DIR
        runs.make_folder(self.folder)
        with writing(self.folder):
            self.writer = tf.summary.create_file_writer(str(self.folder))
        self.epoch = 0
        self.graph_written = False

    def on_train_begin(self, logs: dict | None = None) -> None:
        """Called once per epoch by the runner's fit loop (one fit call per epoch): the graph goes in once."""
        if current_backend().tf_graph and not self.graph_written:  # the forward pass, for the Graphs tab
            self.graph_written = True
            specs = [tf.TensorSpec(tensor.shape, tensor.dtype) for tensor in self.model.inputs]
            forward = tf.function(lambda *xs: self.model(xs[0] if len(xs) == 1 else list(xs), training=False))
            with self.writer.as_default():
                tf.summary.graph(forward.get_concrete_function(*specs).graph)

    def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
        self.epoch = epoch

    def on_train_batch_end(self, batch: int, logs: dict | None = None) -> None:
        steps = self.params.get("steps") or 0
        self._write("step", self.epoch * steps + batch + 1, logs)

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        self._write("epoch", epoch + 1, logs)
        with writing(self.folder):
            self.writer.flush()

    def on_train_end(self, logs: dict | None = None) -> None:
        with writing(self.folder):
            self.writer.flush()

    def close(self) -> None:
        """After the last epoch (the runner calls it: on_train_end comes once per fit call)."""
        with writing(self.folder):
            self.writer.close()

    def _write(self, prefix: str, step: int, logs: dict | None) -> None:
        with writing(self.folder), self.writer.as_default(step=step):
            for name, value in (logs or {}).items():
                tf.summary.write(f"{prefix}/{name}", tf.constant(float(np.asarray(value)), tf.float32),
                                 metadata=SCALAR_METADATA)


@contextmanager
def writing(folder: Path) -> Iterator[None]:
    """TensorFlow reports an OS error of its file writers as an OpError whose text names it
    ("...; Permission denied"): turn that into the run's one-line output error for `folder`."""
    try:
        yield
    except tf.errors.OpError as error:
        reason = runs.os_reason(str(error))
        if reason is None:
            raise
        raise runs.output_error(folder, reason) from None


def log_image(run_dir: Path, tag: str, png: Path, step: int) -> None:
    """Add a PNG written by the run (samples.png) to its event files, at `step` (the epoch)."""
    data = png.read_bytes()
    height, width = (int(size) for size in tf.image.decode_png(data).shape[:2])
    folder = Path(run_dir) / TENSORBOARD_DIR
    runs.make_folder(folder)
    with writing(folder):
        writer = tf.summary.create_file_writer(str(folder))
        with writer.as_default(step=step):
            tf.summary.write(tag, tf.constant([str(width).encode(), str(height).encode(), data]),
                             metadata=IMAGE_METADATA)
        writer.close()
