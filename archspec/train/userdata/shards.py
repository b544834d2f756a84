"""Which examples of an epoch one worker of a multi-worker run reads: its slice of every global batch.

Every worker orders an epoch the same way (a permutation of (seed, epoch))
and cuts it into the same global batches; worker i of n keeps the rows
`size * i // n` to `size * (i + 1) // n` of each batch, as the in-memory
pipeline does (pipeline.make_pipeline's `part`). So a streamed folder's
files are read once an epoch in all, each by one worker, and a step is the
single-process step on the whole batch. Pure numpy: the positions are
tested without TensorFlow or a second worker.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class WorkerShare:
    """One worker's part of an epoch of `count` examples in batches of `batch_size`."""

    positions: np.ndarray
    """Positions in the epoch's order that this worker reads, batch after batch."""
    runs: tuple[tuple[int, int, int], ...]
    """(batches, rows this worker keeps of each, the global batch's size): the full batches, then the last."""


def worker_share(count: int, batch_size: int, part: tuple[int, int]) -> WorkerShare:
    """The positions worker `part[0]` of `part[1]` reads: its contiguous slice of each global batch."""
    index, workers = part
    full, rest = divmod(count, batch_size)
    positions, runs = [], []
    for batches, size, start in ((full, batch_size, 0), (int(rest > 0), rest, full * batch_size)):
        if not batches:
            continue
        low, high = size * index // workers, size * (index + 1) // workers
        firsts = start + size * np.arange(batches, dtype=np.int64)[:, None]  # (batches, 1)
        positions.append((firsts + np.arange(low, high, dtype=np.int64)[None, :]).ravel())  # (batches * rows,)
        runs.append((batches, high - low, size))
    return WorkerShare(np.concatenate(positions) if positions else np.zeros(0, np.int64), tuple(runs))
