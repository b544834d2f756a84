"""Multi-worker streaming: each worker reads only its slice of every global batch of a streamed folder."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from archspec.train.userdata.image_files import ImageFiles
from archspec.train.userdata.shards import worker_share


@pytest.mark.parametrize("count", [1, 7, 64, 101])
@pytest.mark.parametrize("batch_size", [1, 3, 32])
@pytest.mark.parametrize("workers", [1, 2, 3, 5])
def test_the_workers_shares_are_disjoint_and_cover_every_batch_in_order(count, batch_size, workers):
    shares = [worker_share(count, batch_size, (index, workers)) for index in range(workers)]
    every = np.concatenate([share.positions for share in shares])
    assert sorted(every.tolist()) == list(range(count))  # each example read once, by one worker
    batches = -(-count // batch_size)
    for share in shares:  # every worker steps through the same number of batches
        assert sum(runs for runs, _, _ in share.runs) == batches
        assert sum(runs * rows for runs, rows, _ in share.runs) == len(share.positions)
    rows = [[rows for runs, rows, _ in share.runs for _ in range(runs)] for share in shares]
    starts = [np.cumsum([0, *worker_rows]) for worker_rows in rows]
    for number in range(batches):  # the workers' slices, in worker order, are the global batch
        joined = np.concatenate([share.positions[start[number]: start[number + 1]]
                                 for share, start in zip(shares, starts)])
        assert joined.tolist() == list(range(number * batch_size, min(count, (number + 1) * batch_size)))


def test_a_worker_keeps_the_rows_the_in_memory_pipeline_keeps():
    share = worker_share(10, 4, (1, 3))  # batches of 4, 4, 2; worker 1 keeps rows [4//3, 8//3) and [2//3, 4//3)
    assert share.positions.tolist() == [1, 5, 8] and share.runs == ((2, 1, 4), (1, 1, 2))
    assert worker_share(10, 4, (0, 3)).runs == ((2, 1, 4), (1, 0, 2))  # an empty slice of the last batch


@pytest.mark.parametrize("workers", [2, 3])
def test_streamed_worker_batches_are_slices_of_the_single_process_batches(tmp_path, workers):
    from archspec.train.userdata.stream import file_pipeline

    rng = np.random.default_rng(0)
    for number in range(7):
        Image.fromarray(rng.integers(0, 255, (10, 10, 3), dtype=np.uint8)).save(tmp_path / f"{number}.png")
    files = ImageFiles(tmp_path, tuple(f"{n}.png" for n in range(7)), (8, 8, 3), png_or_jpeg=True)
    labels = np.arange(7)  # each target names its file: the labels a worker sees are the files it read

    def batches(part=None):
        dataset = file_pipeline(files, labels, 3, shuffle=True, seed=4, epochs=range(2), part=part)
        return [[item.numpy() for item in batch] for batch in dataset]

    single = batches()
    shards = [batches((index, workers)) for index in range(workers)]
    assert all(len(shard) == len(single) == 6 for shard in shards)
    for number, (images, targets) in enumerate(single):
        assert np.concatenate([shard[number][1] for shard in shards]).tolist() == targets.tolist()
        np.testing.assert_array_equal(np.concatenate([shard[number][0] for shard in shards]), images)
        assert {int(shard[number][2]) for shard in shards} == {len(targets)}  # each knows the global size
    assert shards[0][2][0].shape == (0, 8, 8, 3) and shards[0][2][1].shape == (0,)  # 1 example, worker 0: none
