"""Image files to tf.data: the decode, colour and resize of every streamed image, in parallel, prefetched.

The epoch's order is the same stateless permutation of (seed, epoch) that
the in-memory pipeline uses (pipeline.py), so a resumed run sees the same
batches; the files are read and decoded in parallel (`num_parallel_calls`)
and batches are prefetched, so only a few batches are ever in memory.
Colour is brought to the model input's channels (alpha dropped, grey to RGB
or RGB to grey); the size by `resize`: stretch, crop (central crop to the
input's aspect ratio, then resize) or pad (resize inside, pad with zeros).
"""

from __future__ import annotations

import os
from typing import Any, Protocol

import numpy as np

from archspec.keras.backend import import_keras, import_tensorflow
from archspec.train.userdata.shards import worker_share


class ImageFiles(Protocol):
    """What decoding reads of an image_files.ImageFiles (declared here: that module imports this one to decode)."""

    shape: tuple[int, ...]
    resize: str
    mask: bool
    png_or_jpeg: bool

    @property
    def paths(self) -> list[str]: ...

    def __len__(self) -> int: ...

import_keras()
tf = import_tensorflow()

DECODERS = 4 * (os.cpu_count() or 1)
"""Files decoded at once. A fixed count, not AUTOTUNE: in TF 2.21 destroying an iterator waits for its
autotuning thread (up to ~2 s, pipeline.py), and the runner makes one iterator per epoch."""
PREFETCH_BATCHES = 2


def decode_image(path: Any, shape: tuple[int, ...], resize: str, png_or_jpeg: bool = False) -> Any:
    """One file -> float32 (height, width, channels) in [0, 1].

    PNG and JPEG decoders convert channels themselves (grey, RGB, alpha dropped); BMP and GIF do not,
    so a folder holding any is decoded as stored and converted here.
    """
    height, width, channels = shape
    data = tf.io.read_file(path)
    if png_or_jpeg:
        image = tf.io.decode_image(data, channels=channels, expand_animations=False)
    else:
        image = _channels(tf.io.decode_image(data, channels=0, expand_animations=False), channels)
    if resize == "pad":
        image = tf.image.resize_with_pad(image, height, width)
    else:
        if resize == "crop":
            image = _crop_to_aspect(image, height / width)
        image = tf.image.resize(image, (height, width))  # float32, 0..255 (bilinear never overshoots)
    return tf.ensure_shape(image * (1.0 / 255.0), (height, width, channels))


def _channels(image: Any, wanted: int) -> Any:
    found = tf.shape(image)[-1]
    image = tf.cond(found >= 3, lambda: image[..., :3], lambda: image[..., :1])  # drop alpha
    if wanted == 1:
        return tf.cond(tf.shape(image)[-1] == 3, lambda: tf.image.rgb_to_grayscale(image), lambda: image)
    return tf.cond(tf.shape(image)[-1] == 1, lambda: tf.image.grayscale_to_rgb(image), lambda: image)


def _crop_to_aspect(image: Any, aspect: float) -> Any:
    """The largest central crop with height / width == aspect."""
    size = tf.cast(tf.shape(image)[:2], tf.float32)
    crop_height = tf.minimum(size[0], size[1] * aspect)
    crop_width = tf.minimum(size[1], size[0] / aspect)
    top = tf.cast((size[0] - crop_height) / 2, tf.int32)
    left = tf.cast((size[1] - crop_width) / 2, tf.int32)
    return tf.image.crop_to_bounding_box(
        image, top, left, tf.maximum(tf.cast(crop_height, tf.int32), 1), tf.maximum(tf.cast(crop_width, tf.int32), 1))


def decode_mask(path: Any, shape: tuple[int, ...], resize: str) -> Any:
    """One class-index mask -> int32 (height, width): first channel, nearest-neighbour size, no scaling."""
    height, width = shape[:2]
    mask = tf.io.decode_image(tf.io.read_file(path), channels=0, expand_animations=False)[..., :1]
    if resize == "pad":
        mask = tf.image.resize_with_pad(mask, height, width, method="nearest")
    else:
        if resize == "crop":
            mask = _crop_to_aspect(mask, height / width)
        mask = tf.image.resize(mask, (height, width), method="nearest")
    return tf.ensure_shape(tf.cast(mask[..., 0], tf.int32), (height, width))


def decoder(files: ImageFiles) -> Any:
    """The function that decodes one path of `files` (an image, or a mask)."""
    if files.mask:
        return lambda path: decode_mask(path, files.shape, files.resize)
    return lambda path: decode_image(path, files.shape, files.resize, files.png_or_jpeg)


def decode_files(files: ImageFiles) -> np.ndarray:
    """Every file of `files`, decoded in parallel into one array (N, *shape)."""
    if not len(files):
        return np.zeros((0, *files.shape[: 2 if files.mask else 3]), np.int32 if files.mask else np.float32)
    dataset = tf.data.Dataset.from_tensor_slices(files.paths).map(
        decoder(files), num_parallel_calls=DECODERS, deterministic=True)
    return np.concatenate([batch.numpy() for batch in dataset.batch(256)])


def file_pipeline(
    files: ImageFiles, targets: np.ndarray, batch_size: int, *, shuffle: bool, seed: int, epochs: range,
    part: tuple[int, int] | None = None,
) -> Any:
    """Batches of (images, targets) for the given epochs back to back, decoded from the files.

    `targets` is an array (labels, values) or ImageFiles of masks, decoded beside their images.
    part=(index, count): a worker of a multi-worker run reads only its slice of each global batch
    (shards.py) and adds the batch's full size as a third element, as make_pipeline does.
    """
    paths, count = tf.constant(files.paths), len(files)
    decode = decoder(files)
    masks = not isinstance(targets, np.ndarray)  # ImageFiles of masks
    wanted = tf.constant(targets.paths) if masks else tf.constant(targets)
    decode_target = decoder(targets) if masks else tf.identity

    def load(path: Any, target: Any) -> Any:
        return decode(path), decode_target(target)

    def batches(order: Any, size: int) -> Any:
        examples = tf.data.Dataset.from_tensor_slices((tf.gather(paths, order), tf.gather(wanted, order)))
        return examples.map(load, num_parallel_calls=DECODERS, deterministic=True).batch(size)

    def one_epoch(epoch: int) -> Any:  # built eagerly: a map inside flat_map decoded ~3x slower
        order = tf.range(count, dtype=tf.int64)
        if shuffle:
            order = tf.argsort(tf.random.stateless_uniform([count], seed=tf.constant([seed, epoch], tf.int64)))
        return batches(order, batch_size) if part is None else _worker_batches(order, batch_size, part, batches,
                                                                               _empty_batch(files, targets))

    dataset = one_epoch(epochs[0]) if epochs else one_epoch(0).take(0)
    for epoch in epochs[1:]:
        dataset = dataset.concatenate(one_epoch(epoch))
    options = tf.data.Options()
    options.autotune.enabled = False
    return dataset.prefetch(PREFETCH_BATCHES).with_options(options)


def _worker_batches(order: Any, batch_size: int, part: tuple[int, int], batches: Any, empty: Any) -> Any:
    """This worker's slices of an epoch's global batches, each with the global batch's size."""
    share = worker_share(int(order.shape[0]), batch_size, part)
    mine = tf.gather(order, share.positions)
    dataset, start = None, 0
    for count, rows, size in share.runs:
        run = batches(mine[start: start + count * rows], rows) if rows else empty.repeat(count)
        run = run.map(lambda images, targets, size=size: (images, targets, tf.constant(size)))
        dataset, start = run if dataset is None else dataset.concatenate(run), start + count * rows
    return dataset if dataset is not None else empty.take(0).map(lambda images, targets: (images, targets, 0))


def _empty_batch(files: ImageFiles, targets: Any) -> Any:
    """One batch of no examples: a worker's slice of a global batch smaller than the count of workers."""
    target = (tf.zeros((0, *targets.shape[:2]), tf.int32) if not isinstance(targets, np.ndarray)
              else tf.zeros((0, *targets.shape[1:]), tf.as_dtype(targets.dtype)))
    return tf.data.Dataset.from_tensors((tf.zeros((0, *files.shape), tf.float32), target))
