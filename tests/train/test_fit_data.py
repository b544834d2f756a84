"""`archspec fit` on data of one's own: image folders streamed, tables, arrays; splits kept; bad files stop or skip."""

from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image

from archspec.train.userdata.image_files import ImageFiles
from tests.cli_run import run_cli
from tests.conftest import HAVE_MNIST, SHARED_MNIST, needs_mnist
from tests.data_maker import mnist_digits, write_image_folder, write_segmentation_folder, write_table

CNN = """\
archspec: 1
name: folder_cnn
inputs:
  image: [24, 24, 3]
nodes:
  conv: {op: conv2d, filters: 4, kernel: 3, activation: relu}
  flat: {op: flatten}
  probs: {op: dense, units: 10, activation: softmax}
edges:
  - image -> conv -> flat -> probs
outputs: [probs]
train: {epochs: 1, batch_size: 32, seed: 5}
"""

REGRESSOR = """\
archspec: 1
name: table_reg
inputs:
  row: [3]
nodes:
  value: {op: dense, units: 1}
edges:
  - row -> value
outputs: [value]
train: {task: regress, epochs: 30, batch_size: 16, seed: 1, optimizer: {adam: {learning_rate: 0.05}},
        data: {path: TABLE, target: price}}
"""


@pytest.fixture(scope="module")
def digits():
    if not HAVE_MNIST:
        pytest.skip("needs MNIST")
    return mnist_digits(SHARED_MNIST, 160)


@pytest.fixture
def folder(tmp_path, digits):
    return write_image_folder(tmp_path / "digits", *digits, size=32)


def listing(folder):
    return sorted((str(p), p.stat().st_mtime_ns, p.stat().st_size) for p in folder.rglob("*"))


@pytest.mark.slow
@needs_mnist
def test_an_image_folder_trains_resumes_and_evaluates_on_its_saved_split(folder, tmp_path, write_spec, capsys):
    spec, run = write_spec(CNN), tmp_path / "run"
    before = listing(folder)
    code, out, err = run_cli(["fit", str(spec), "--data", str(folder), "--out", str(run)], capsys)
    assert code == 0, err
    split = json.loads((run / "data.json").read_text())
    assert split["kind"] == "image_folder" and split["counts"] == {"train": 128, "val": 16, "test": 16}
    assert split["classes"] == [f"digit_{n}" for n in range(10)]
    metrics = json.loads((run / "metrics.json").read_text())
    assert metrics["train_samples"] == 128
    code, out, _ = run_cli(["evaluate", str(run)], capsys)
    assert code == 0 and out.splitlines()[0] == f"accuracy: {metrics['test']['accuracy']:.4f}"
    code, _, err = run_cli(["fit", "--resume", str(run), "--epochs", "2"], capsys)
    assert code == 0, err
    assert json.loads((run / "data.json").read_text()) == split  # the same examples
    assert json.loads((run / "metrics.json").read_text())["epochs"] == 2
    assert listing(folder) == before  # nothing written into the data folder
    moved = folder.rename(tmp_path / "moved")
    code, _, err = run_cli(["evaluate", str(run)], capsys)
    assert code == 1 and err.strip() == f"{folder}: no such folder (the data named by train.data or --data)"
    code, out, _ = run_cli(["evaluate", str(run), "--data", str(moved)], capsys)
    assert code == 0 and out.startswith("accuracy: ")


@needs_mnist
def test_a_truncated_image_stops_the_run_before_training_or_is_skipped(folder, tmp_path, write_spec, capsys):
    victim = sorted((folder / "digit_3").iterdir())[0]
    victim.write_bytes(victim.read_bytes()[:200])
    spec = write_spec(CNN)
    code, _, err = run_cli(["fit", str(spec), "--data", str(folder), "--out", str(tmp_path / "a")], capsys)
    assert code == 1
    assert err.splitlines()[:2] == [f"{folder}: 1 unusable file(s) or row(s):",
                                    f"  {victim}: unreadable image (image file is truncated)"]
    assert not (tmp_path / "a").exists()
    code, _, err = run_cli(["fit", str(spec), "--data", str(folder), "--skip-bad", "--out", str(tmp_path / "b")],
                           capsys)
    assert code == 0, err
    split = json.loads((tmp_path / "b" / "data.json").read_text())
    assert split["skipped"] == [f"{victim}: unreadable image (image file is truncated)"]
    assert sum(split["counts"].values()) == 159


def test_a_table_regressor_reports_r2_and_draws_predictions(tmp_path, write_spec, capsys):
    table = write_table(tmp_path / "t.csv", rows=200)
    run = tmp_path / "run"
    code, _, err = run_cli(["fit", str(write_spec(REGRESSOR.replace("TABLE", str(table)))), "--out", str(run)], capsys)
    assert code == 0, err
    metrics = json.loads((run / "metrics.json").read_text())
    assert metrics["task"] == "regress" and metrics["test"]["r2"] > 0.9  # a linear target, a linear model
    with Image.open(run / "samples.png") as picture:
        assert picture.size == (400, 400)


def test_an_npz_classifier_trains_on_its_own_train_and_test_arrays(tmp_path, write_spec, capsys):
    rng = np.random.default_rng(0)
    x = rng.integers(0, 255, size=(90, 6), dtype=np.uint8)
    y = (x[:, 0] > 127).astype(np.int64)
    np.savez(tmp_path / "d.npz", x_train=x[:70], y_train=y[:70], x_test=x[70:], y_test=y[70:])
    spec = write_spec("archspec: 1\nname: npz_mlp\ninputs:\n  x: [6]\nnodes:\n  p: {op: dense, units: 2, "
                      "activation: softmax}\nedges:\n  - x -> p\noutputs: [p]\ntrain: {epochs: 1, seed: 0}\n")
    code, _, err = run_cli(["fit", str(spec), "--data", str(tmp_path / "d.npz"), "--out", str(tmp_path / "r")], capsys)
    assert code == 0, err
    split = json.loads((tmp_path / "r" / "data.json").read_text())
    assert split["items"]["test"] == list(range(70, 90)) and split["counts"] == {"train": 63, "val": 7, "test": 20}


@pytest.mark.parametrize("resize", ["stretch", "crop", "pad"])
def test_streamed_batches_equal_the_decoded_files(tmp_path, resize):
    from archspec.train.userdata.stream import file_pipeline

    rng = np.random.default_rng(1)
    for number in range(5):
        mode = "L" if number % 2 else "RGBA"
        size = (20 + 4 * number, 12)
        pixels = rng.integers(0, 255, size=(size[1], size[0], 1 if mode == "L" else 4), dtype=np.uint8)
        Image.fromarray(pixels.squeeze(), mode).save(tmp_path / f"{number}.png")
    files = ImageFiles(tmp_path, tuple(f"{n}.png" for n in range(5)), (16, 16, 3), resize)
    decoded = files.decode_all()
    assert decoded.shape == (5, 16, 16, 3) and decoded.dtype == np.float32
    assert decoded.min() >= 0.0 and decoded.max() <= 1.0
    batches = file_pipeline(files, np.arange(5), 2, shuffle=True, seed=3, epochs=range(2))
    seen = [(x.numpy(), y.numpy()) for x, y in batches]
    assert [len(y) for _, y in seen] == [2, 2, 1, 2, 2, 1]  # batches never cross an epoch
    for images, labels in seen:
        np.testing.assert_allclose(images, decoded[labels], atol=1e-6)
    np.testing.assert_allclose(files[1:3], decoded[1:3], atol=1e-6)


@needs_mnist
def test_a_segmenter_trains_on_images_and_masks_and_reports_mean_iou(tmp_path, digits, write_spec, capsys):
    folder = write_segmentation_folder(tmp_path / "seg", digits[0][:100])
    spec = write_spec("archspec: 1\nname: seg\ninputs:\n  image: [16, 16, 3]\nnodes:\n"
                      "  c1: {op: conv2d, filters: 4, kernel: 3, padding: same, activation: relu}\n"
                      "  out: {op: conv2d, filters: 2, kernel: 1, activation: softmax}\n"
                      "edges:\n  - image -> c1 -> out\noutputs: [out]\n"
                      "train: {task: segment, epochs: 2, batch_size: 16, seed: 0}\n")
    code, _, err = run_cli(["fit", str(spec), "--data", str(folder), "--out", str(tmp_path / "r")], capsys)
    assert code == 0, err
    metrics = json.loads((tmp_path / "r" / "metrics.json").read_text())
    assert metrics["task"] == "segment" and 0.0 < metrics["test"]["mean_iou"] <= 1.0
    assert json.loads((tmp_path / "r" / "data.json").read_text())["counts"] == {"train": 80, "val": 10, "test": 10}


def test_a_character_model_trains_on_a_text_file_and_keeps_its_vocabulary(tmp_path, write_spec, capsys):
    text = tmp_path / "t.txt"
    text.write_text("".join(f"line {n} says {'ab' * (n % 5)}\n" for n in range(120)))
    spec = write_spec("archspec: 1\nname: char_lm\ninputs:\n  chars: {shape: [16], dtype: int32}\n"
                      "edges: chars -> embedding(32, 8) -> dense(32, softmax)\n"
                      "train: {task: next_token, epochs: 1, batch_size: 16, seed: 0}\n")
    code, _, err = run_cli(["fit", str(spec), "--data", str(text), "--out", str(tmp_path / "r")], capsys)
    assert code == 0, err
    metrics = json.loads((tmp_path / "r" / "metrics.json").read_text())
    assert metrics["task"] == "next_token" and 1.0 < metrics["test"]["perplexity"] < 32.0
    saved = json.loads((tmp_path / "r" / "data.json").read_text())
    assert saved["vocabulary"][:3] == ["\n", " ", "0"] and saved["counts"] == {"train": 96, "val": 12, "test": 12}


@needs_mnist
def test_cache_memory_decodes_the_folder_once_into_the_streamed_values(folder):
    from archspec.spec.data_spec import DataSpec
    from archspec.train.userdata.scan import scan_data
    from archspec.train.userdata.sources.image_folder import ImageFolder

    options = DataSpec(path=str(folder))
    _, scan = scan_data(options)
    items = scan.items["all"][:20]
    streamed = ImageFolder().read(scan, items, options, (24, 24, 3), items)
    cached = ImageFolder().read(scan, items, options.model_copy(update={"cache": "memory"}), (24, 24, 3), items)
    assert isinstance(streamed, ImageFiles) and isinstance(cached, np.ndarray)
    np.testing.assert_array_equal(cached, streamed.decode_all())
    assert cached.shape == (20, 24, 24, 3)


def test_a_multilabel_table_trains_and_reports_exact_match_and_f1(tmp_path, write_spec, capsys):
    rng = np.random.default_rng(0)
    values = rng.normal(size=(120, 2))
    table = tmp_path / "t.csv"
    table.write_text("a,b,pos_a,pos_b\n" + "".join(f"{a:.3f},{b:.3f},{int(a > 0)},{int(b > 0)}\n" for a, b in values))
    spec = write_spec("archspec: 1\nname: tags\ninputs:\n  row: [2]\nedges: row -> dense(2, sigmoid)\n"
                      "train: {task: multilabel, epochs: 2, batch_size: 16, seed: 0, "
                      "data: {target: [pos_a, pos_b]}}\n")
    code, _, err = run_cli(["fit", str(spec), "--data", str(table), "--out", str(tmp_path / "r")], capsys)
    assert code == 0, err
    test = json.loads((tmp_path / "r" / "metrics.json").read_text())["test"]
    assert set(test) == {"loss", "binary_accuracy", "exact_match", "f1"} and 0.0 <= test["f1"] <= 1.0


@pytest.mark.slow
def test_a_sweep_trains_every_variant_on_the_sweep_s_own_data(tmp_path, capsys):
    import subprocess
    import sys

    table = write_table(tmp_path / "t.csv", rows=80)
    (tmp_path / "reg.yaml").write_text(
        "# a regressor\narchspec: 1\nname: reg\ninputs:\n  row: [3]\nnodes:\n  hidden: {op: dense, units: 4}\n"
        "  value: {op: dense, units: 1}\nedges:\n  - row -> hidden -> value\noutputs: [value]\n"
        "train: {task: regress, data: {target: price}}\n")
    (tmp_path / "sweep.yaml").write_text(
        "archspec_sweep: 1\nname: widths\nspec: reg.yaml\nobjective: {metric: validation.loss}\n"
        f"fit: {{epochs: 1, seed: 0, data: {table}}}\n"
        "dimensions:\n  width: {set: nodes.hidden.units, values: [4, 8]}\n")
    result = subprocess.run([sys.executable, "-m", "archspec.cli", "sweep", str(tmp_path / "sweep.yaml"), "--out",
                             str(tmp_path / "out")], capture_output=True, text=True, cwd=tmp_path, timeout=900)
    assert result.returncode == 0, result.stderr
    splits = [json.loads(path.read_text()) for path in sorted((tmp_path / "out" / "trials").glob("*/data.json"))]
    assert len(splits) == 2 and splits[0]["items"] == splits[1]["items"]  # one seed, one split for every trial
