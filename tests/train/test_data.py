"""archspec.train.data: reading and checking IDX files, the tasks, and the noise pipeline."""

from __future__ import annotations

import gzip
import shutil

import numpy as np
import pytest

from archspec.errors import DataError
from archspec.train.data import (
    Arrays,
    add_noise_numpy,
    fit_images,
    load_arrays,
    prepare,
    read_idx,
    resolve_data_dir,
)
from tests.conftest import SHARED_MNIST, needs_mnist

pytestmark = needs_mnist

NAMES = ["train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte",
         "t10k-labels-idx1-ubyte"]


def make_pipeline(*args, **kwargs):
    """The tf.data pipeline, imported by the tests that use it: this module itself loads no TensorFlow."""
    from archspec.train.pipeline import make_pipeline as make

    return make(*args, **kwargs)


@pytest.fixture(scope="module")
def mnist() -> Arrays:
    return load_arrays("mnist", SHARED_MNIST)


@pytest.fixture
def small_idx_dir(tmp_path, mnist):
    """A data directory of small, valid, uncompressed IDX files (100 train, 50 test examples)."""
    arrays = {NAMES[0]: mnist.x_train[:100], NAMES[1]: mnist.y_train[:100],
              NAMES[2]: mnist.x_test[:50], NAMES[3]: mnist.y_test[:50]}
    for name, array in arrays.items():
        write_idx(tmp_path / name, array)
    return tmp_path


def write_idx(path, array, dtype_code=0x08):
    header = bytes([0, 0, dtype_code, array.ndim]) + b"".join(
        int(size).to_bytes(4, "big") for size in array.shape
    )
    path.write_bytes(header + array.astype(np.uint8).tobytes())


def test_reads_the_shared_gzipped_mnist(mnist):
    assert mnist.x_train.shape == (60000, 28, 28) and mnist.x_train.dtype == np.uint8
    assert mnist.x_test.shape == (10000, 28, 28)
    assert mnist.y_train[:10].tolist() == [5, 0, 4, 1, 9, 2, 1, 3, 1, 4]
    assert mnist.y_test[:5].tolist() == [7, 2, 1, 0, 4]
    assert int(mnist.x_train.max()) == 255


def test_reads_uncompressed_files(small_idx_dir, mnist):
    arrays = load_arrays("mnist", small_idx_dir)
    assert np.array_equal(arrays.x_train, mnist.x_train[:100])
    assert np.array_equal(arrays.y_test, mnist.y_test[:50])


def test_a_dataset_subfolder_wins_over_the_directory(tmp_path, small_idx_dir):
    (tmp_path / "fashion_mnist").mkdir()
    assert resolve_data_dir("fashion_mnist", tmp_path) == tmp_path / "fashion_mnist"
    assert resolve_data_dir("mnist", tmp_path) == tmp_path


def test_option_beats_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("ARCHSPEC_DATA_DIR", "/somewhere/else")
    assert resolve_data_dir("mnist", tmp_path) == tmp_path
    monkeypatch.delenv("ARCHSPEC_DATA_DIR")
    assert resolve_data_dir("mnist", None) is None  # -> Keras download


def test_missing_file(small_idx_dir):
    (small_idx_dir / NAMES[3]).unlink()
    with pytest.raises(DataError) as caught:
        load_arrays("mnist", small_idx_dir)
    assert str(caught.value).startswith(f"{small_idx_dir}: missing t10k-labels-idx1-ubyte(.gz)")


def test_truncated_file(small_idx_dir):
    path = small_idx_dir / NAMES[2]
    path.write_bytes(path.read_bytes()[:1000])
    with pytest.raises(DataError) as caught:
        load_arrays("mnist", small_idx_dir)
    assert str(caught.value) == (
        f"{path}: truncated: the header promises (50, 28, 28) = 39,216 bytes "
        "with the header, the file has 1,000"
    )


def test_wrong_magic_number(small_idx_dir):
    path = small_idx_dir / NAMES[0]
    path.write_bytes(b"\x1f\x8b\x08\x00" + path.read_bytes()[4:])
    with pytest.raises(DataError) as caught:
        read_idx(path)
    assert str(caught.value) == (
        f"{path}: not an IDX file of unsigned bytes: magic number 0x1f8b0800, "
        "expected 0x00000801 (labels) or 0x00000803 (images)"
    )


def test_corrupt_gzip(tmp_path):
    path = tmp_path / "train-images-idx3-ubyte.gz"
    payload = np.random.default_rng(0).integers(0, 256, 5000, dtype=np.uint8).tobytes()
    path.write_bytes(gzip.compress(payload)[:2000])
    with pytest.raises(DataError) as caught:
        read_idx(path)
    assert str(caught.value) == (
        f"{path}: corrupt gzip data (Compressed file ended before the end-of-stream marker was reached)"
    )


def test_labels_and_images_disagree(small_idx_dir, mnist):
    write_idx(small_idx_dir / NAMES[1], mnist.y_train[:99])
    with pytest.raises(DataError) as caught:
        load_arrays("mnist", small_idx_dir)
    assert str(caught.value) == (
        f"{small_idx_dir / NAMES[1]}: 99 labels for 100 train images in train-images-idx3-ubyte"
    )


def test_images_of_the_wrong_size(small_idx_dir):
    write_idx(small_idx_dir / NAMES[0], np.zeros((100, 32, 32)))
    with pytest.raises(DataError, match=r"expected images of shape \(N, 28, 28\), got \(100, 32, 32\)"):
        load_arrays("mnist", small_idx_dir)


def test_gzipped_and_plain_files_mix(small_idx_dir, mnist):
    plain = small_idx_dir / NAMES[0]
    with plain.open("rb") as source, gzip.open(f"{plain}.gz", "wb") as target:
        shutil.copyfileobj(source, target)
    plain.unlink()
    arrays = load_arrays("mnist", small_idx_dir)
    assert np.array_equal(arrays.x_train, mnist.x_train[:100])


@pytest.mark.parametrize("shape", [(28, 28), (28, 28, 1), (784,)])
def test_images_take_the_models_input_shape(mnist, shape):
    images = fit_images(mnist.x_test[:3], shape, "input")
    assert images.shape == (3, *shape) and images.dtype == np.float32
    assert images.max() == 1.0 and images.min() == 0.0


def test_an_input_that_is_no_mnist_image(mnist):
    with pytest.raises(DataError) as caught:
        fit_images(mnist.x_test[:3], (32, 32, 1), "input")
    assert str(caught.value) == (
        "the model's input shape (32, 32, 1) does not hold a 28x28 image; "
        "use (28, 28), (28, 28, 1) or (784,)"
    )


def test_classify_splits_off_the_last_tenth_for_validation(mnist):
    data = prepare(mnist, "classify", (28, 28), (10,), validation_split=0.1, subset=1000)
    assert data.x_train.shape == (900, 28, 28) and data.x_val.shape == (100, 28, 28)
    assert data.y_val.tolist() == mnist.y_train[900:1000].tolist()
    assert data.x_test.shape == (1000, 28, 28)


def test_classify_needs_ten_outputs(mnist):
    with pytest.raises(DataError, match=r"needs a model output of 10 class scores.*\(28, 28, 1\)"):
        prepare(mnist, "classify", (28, 28, 1), (28, 28, 1), subset=10)


def test_denoise_has_a_fixed_noisy_test_set(mnist):
    noise = ("gaussian", 0.5)
    first = prepare(mnist, "denoise", (28, 28, 1), (28, 28, 1), noise=noise, subset=200)
    second = prepare(mnist, "denoise", (28, 28, 1), (28, 28, 1), noise=noise, subset=200)
    assert np.array_equal(first.x_test, second.x_test)
    assert np.array_equal(first.y_test, first.clean_test)
    assert not np.array_equal(first.x_test, first.y_test)
    assert first.x_test.min() >= 0.0 and first.x_test.max() <= 1.0
    assert np.array_equal(first.x_train, first.y_train)  # noise is added by the pipeline, per epoch


def test_denoise_without_noise_is_an_error(mnist):
    with pytest.raises(DataError, match=r"task 'denoise' needs noise"):
        prepare(mnist, "denoise", (28, 28, 1), (28, 28, 1), subset=10)


def test_salt_and_pepper_flips_the_given_fraction():
    images = np.full((200, 28, 28), 0.5, dtype=np.float32)
    noisy = add_noise_numpy(images, ("salt_pepper", 0.2), seed=1)
    assert abs(np.mean(noisy == 0.0) - 0.1) < 0.005
    assert abs(np.mean(noisy == 1.0) - 0.1) < 0.005


@pytest.mark.parametrize("kind", ["gaussian", "salt_pepper"])
def test_pipeline_noise_is_new_each_epoch_and_reproducible(kind):
    clean = np.full((256, 28, 28, 1), 0.5, dtype=np.float32)

    def epochs(seed, numbers):
        dataset = make_pipeline(clean, clean, 64, shuffle=True, seed=seed, noise=(kind, 0.3), epochs=numbers)
        batches = np.concatenate([x.numpy() for x, _ in dataset])
        return np.split(batches, len(numbers))

    first, second = epochs(7, range(2)), epochs(7, range(2))
    assert not np.array_equal(first[0], first[1])           # afresh each epoch
    assert np.array_equal(first[0], second[0]) and np.array_equal(first[1], second[1])
    assert not np.array_equal(first[0], clean)
    (resumed,) = epochs(7, range(1, 2))                     # a run resumed at epoch 2 sees epoch 2's noise
    assert np.array_equal(resumed, first[1])


def test_each_epoch_order_is_a_function_of_seed_and_epoch():
    values = np.arange(100, dtype=np.float32)

    def order(seed, epoch):
        dataset = make_pipeline(values, values, 32, shuffle=True, seed=seed, epochs=range(epoch, epoch + 1))
        return np.concatenate([x.numpy() for x, _ in dataset])

    assert sorted(order(1, 0)) == values.tolist()
    assert np.array_equal(order(1, 3), order(1, 3))
    assert not np.array_equal(order(1, 0), order(1, 1)) and not np.array_equal(order(1, 0), order(2, 0))


def test_a_workers_part_of_each_batch():
    values = np.arange(10, dtype=np.float32)
    parts = [list(make_pipeline(values, values, 5, part=(index, 2))) for index in range(2)]
    assert [x.numpy().tolist() for x, _, _ in parts[0]] == [[0, 1], [5, 6]]
    assert [x.numpy().tolist() for x, _, _ in parts[1]] == [[2, 3, 4], [7, 8, 9]]
    assert {int(size) for part in parts for _, _, size in part} == {5}


def test_garbage_inside_a_gzip_is_one_line_naming_the_file(tmp_path):
    """A valid gzip header followed by bytes that are no deflate stream: zlib.error, caught."""
    path = tmp_path / "train-images-idx3-ubyte.gz"
    path.write_bytes(gzip.compress(b"")[:10] + b"\xff" * 100)
    with pytest.raises(DataError) as caught:
        read_idx(path)
    assert str(caught.value) == f"{path}: corrupt gzip data (Error -3 while decompressing data: invalid block type)"


def test_a_labels_file_holding_images_is_named_as_such_not_truncated(small_idx_dir, mnist):
    write_idx(small_idx_dir / NAMES[1], mnist.x_train[:100])
    with pytest.raises(DataError) as caught:
        load_arrays("mnist", small_idx_dir)
    assert str(caught.value) == (
        f"{small_idx_dir / NAMES[1]}: holds images, not labels: magic number 0x00000803, expected 0x00000801 "
        "for labels (are two files swapped or misnamed?)")
