"""The tf.data pipeline over in-memory arrays, built for speed on small models and for exact resumes.

The arrays become two constant tensors held once (the "cache"); what flows
through the pipeline is batches of indices, gathered a whole batch at a time.
Every epoch's order and every batch's noise are a pure function of
(seed, epoch, batch): the shuffle is a stateless random permutation seeded
with (seed, epoch), the noise a stateless draw seeded with (seed, epoch,
batch). So a run resumed at epoch k sees exactly the batches the
uninterrupted run saw, and every worker of a multi-worker run builds the same
global batches and takes its own slice of each (`part`).

The epochs to train are one dataset, back to back, so Keras keeps one
iterator for the whole fit (`steps_per_epoch`) instead of making one per epoch.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from archspec.keras.backend import import_keras, import_tensorflow
from archspec.train.userdata.image_files import ImageFiles
from archspec.train.userdata.stream import file_pipeline

import_keras()
tf = import_tensorflow()  # tf.data feeds every backend; tf.distribute only TensorFlow's

NOISE_STREAM = 0x6E6F6973  # keeps the noise seeds apart from the shuffle seeds of the same epoch
BATCHES_PER_EPOCH_LIMIT = 1 << 31


def make_pipeline(
    x: np.ndarray,
    y: np.ndarray,
    batch_size: int,
    *,
    shuffle: bool = False,
    seed: int = 0,
    noise: tuple[str, float] | None = None,
    epochs: range = range(1),
    part: tuple[int, int] | None = None,
) -> Any:
    """Batches of (x, y) for the given (0-based) epochs back to back.

    part=(index, count): keep the index-th of count contiguous slices of each
    batch and add the batch's full size as a third element (a worker's share of
    a global batch, and what it must divide its summed loss by).
    """
    if isinstance(x, ImageFiles):  # a streamed image folder: decoded from its files, batch by batch
        return file_pipeline(x, y, batch_size, shuffle=shuffle, seed=seed, epochs=epochs, part=part)
    x_all, y_all = tf.constant(x), tf.constant(y)
    count = len(x)
    seed64 = tf.constant(seed, tf.int64)

    def one_epoch(epoch: Any) -> Any:
        if shuffle:
            order = tf.argsort(tf.random.stateless_uniform([count], seed=tf.stack([seed64, epoch])))
            indices = tf.data.Dataset.from_tensor_slices(tf.cast(order, tf.int64))
        else:
            indices = tf.data.Dataset.range(count)
        batches = indices.batch(batch_size).enumerate()
        return batches.map(lambda number, index: (epoch, number, index))

    # Sequential maps and a one-batch prefetch: on a 2-core CPU, tf.data's AUTOTUNE thread pools
    # compete with the model's own compute threads (the CNN ran ~20% slower with them).
    numbers = tf.data.Dataset.from_tensor_slices(tf.constant(list(epochs) or [0], tf.int64))
    if not epochs:
        numbers = numbers.take(0)
    dataset = numbers.flat_map(one_epoch)
    add = NOISE_FUNCTIONS[noise[0]] if noise is not None else None
    amount = float(noise[1]) if noise is not None else 0.0

    def gather(epoch: Any, number: Any, index: Any) -> Any:
        images, targets = tf.gather(x_all, index), tf.gather(y_all, index)
        if add is not None:
            batch_seed = tf.stack([seed64 + NOISE_STREAM, epoch * BATCHES_PER_EPOCH_LIMIT + number])
            images = add(images, amount, batch_seed)
        if part is None:
            return images, targets
        size = tf.shape(index)[0]
        low, high = size * part[0] // part[1], size * (part[0] + 1) // part[1]
        return images[low:high], targets[low:high], size

    batches_per_epoch = -(-count // batch_size)
    dataset = dataset.map(gather).apply(tf.data.experimental.assert_cardinality(batches_per_epoch * len(epochs)))
    # No autotuning either: it has nothing to tune here, and in TF 2.21 destroying an iterator waits
    # for its autotuning thread (IteratorResource::~IteratorResource -> LogicalThreadWrapper ->
    # WaitForNotification), up to ~2 s of idle time (benchmarks/epoch_breakdown.py).
    options = tf.data.Options()
    options.autotune.enabled = False
    return dataset.prefetch(1).with_options(options)


def _gaussian(images: Any, stddev: float, seed: Any) -> Any:
    noise = tf.random.stateless_normal(tf.shape(images), seed=seed, stddev=stddev)
    return tf.clip_by_value(images + noise, 0.0, 1.0)


def _salt_pepper(images: Any, amount: float, seed: Any) -> Any:
    draw = tf.random.stateless_uniform(tf.shape(images), seed=seed)
    salted = tf.where(draw > 1.0 - amount / 2, tf.ones_like(images), images)
    return tf.where(draw < amount / 2, tf.zeros_like(images), salted)


NOISE_FUNCTIONS: dict[str, Callable[[Any, float, Any], Any]] = {
    "gaussian": _gaussian,
    "salt_pepper": _salt_pepper,
}
"""The TensorFlow twin of each kind in archspec.train.data.NOISES (tests/test_registries.py checks the names)."""
