"""archspec.train.userdata without TensorFlow: each layout scanned, checks against a spec, bad files, splits, `data`."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from archspec.errors import DataError
from archspec.spec.data_spec import SOURCE_KINDS, DataSpec, SplitSpec
from archspec.train.userdata.checks import check_bad_items
from archspec.train.userdata.scan import scan_data
from archspec.train.userdata.sources import SOURCES
from archspec.train.userdata.split import make_split
from tests.cli_run import run_cli
from tests.conftest import HAVE_MNIST, SHARED_MNIST, needs_mnist
from tests.data_maker import mnist_digits, png_bomb, write_image_folder, write_segmentation_folder, write_table

CNN = """\
archspec: 1
name: folder_cnn
inputs:
  image: [32, 32, CHANNELS]
nodes:
  conv: {op: conv2d, filters: 4, kernel: 3, activation: relu}
  flat: {op: flatten}
  probs: {op: dense, units: CLASSES, activation: softmax}
edges:
  - image -> conv -> flat -> probs
outputs: [probs]
"""

REGRESSOR = """\
archspec: 1
name: table_reg
inputs:
  row: [3]
nodes:
  hidden: {op: dense, units: 8, activation: relu}
  value: {op: dense, units: 1}
edges:
  - row -> hidden -> value
outputs: [value]
train: {task: regress, data: {path: TABLE, target: TARGET}}
"""


def cnn(write_spec, channels: int = 3, classes: int = 10) -> Path:
    return write_spec(CNN.replace("CHANNELS", str(channels)).replace("CLASSES", str(classes)))


@pytest.fixture(scope="module")
def digits():
    if not HAVE_MNIST:
        pytest.skip("needs MNIST")
    return mnist_digits(SHARED_MNIST, 200)


@pytest.fixture
def folder(tmp_path, digits):
    return write_image_folder(tmp_path / "digits", *digits)


def test_the_schema_names_the_registry_s_sources():
    assert set(SOURCE_KINDS) == set(SOURCES)


@needs_mnist
def test_an_image_folder_is_scanned_from_headers(folder, digits):
    source, scan = scan_data(DataSpec(path=str(folder)))
    assert source.kind == "image_folder"
    assert scan.classes == tuple(f"digit_{n}" for n in range(10))
    assert scan.example_shape == (32, 32, 3)
    assert scan.count() == 200 and scan.bad == []
    counts = scan.class_counts()["all"]
    assert counts == {f"digit_{n}": int((digits[1] == n).sum()) for n in range(10)}


@needs_mnist
def test_validate_with_data_passes_a_fitting_spec_without_tensorflow(folder, write_spec):
    spec = cnn(write_spec)
    code = ("import sys; from archspec.cli import main\n"
            f"try: main(['validate', {str(spec)!r}, '--data', {str(folder)!r}])\n"
            "except SystemExit as e: assert not e.code, e.code\n"
            "assert 'tensorflow' not in sys.modules and 'keras' not in sys.modules\n")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=os.environ)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(f"ok  {spec}  (3 nodes,")


@needs_mnist
def test_a_10_way_softmax_on_12_class_folders_is_refused_at_the_output(folder, write_spec, capsys):
    for extra in ("extra_a", "extra_b"):
        (folder / extra).mkdir()
        Image.new("RGB", (32, 32)).save(folder / extra / "one.png")
    spec = cnn(write_spec)
    code, out, err = run_cli(["validate", str(spec), "--data", str(folder)], capsys)
    assert code == 1 and out == ""
    assert err.splitlines()[:4] == [
        f"{spec}:8:3: node 'probs': task 'classify' compares this output with the 12 classes of {folder} "
        "(digit_0, digit_1, digit_2, digit_3, digit_4, digit_5, digit_6, digit_7, digit_8, digit_9, extra_a, extra_b)",
        "  expected: 12 class scores (shape 12)",
        "  got:      10",
        "  hint: end with a dense node of 12 units and softmax",
    ]


@needs_mnist
def test_a_1_channel_input_on_rgb_images_is_refused_at_the_input(folder, write_spec, capsys):
    spec = cnn(write_spec, channels=1)
    code, _, err = run_cli(["validate", str(spec), "--data", str(folder)], capsys)
    assert code == 1
    assert err.splitlines()[:4] == [
        f"{spec}:4:3: input 'image': task 'classify' feeds this input the images of {folder}",
        "  expected: 3 channel(s): the images are RGB",
        "  got:      32x32x1",
        "  hint: give the input 3 channel(s), or convert the images with data: {path: ..., color: grey}",
    ]
    spec_grey = write_spec(CNN.replace("CHANNELS", "1").replace("CLASSES", "10")
                           + f"train: {{data: {{path: {folder}, color: grey}}}}\n", "grey.yaml")
    assert run_cli(["validate", str(spec_grey)], capsys)[0] == 0


def test_a_missing_target_column_gets_a_did_you_mean(tmp_path, write_spec, capsys):
    table = write_table(tmp_path / "t.csv")
    spec = write_spec(REGRESSOR.replace("TABLE", str(table)).replace("TARGET", "prise"))
    code, _, err = run_cli(["validate", str(spec)], capsys)
    assert code == 1
    assert err.splitlines()[0] == f"{table}: no column 'prise' (target); did you mean 'price'?"


def test_text_in_a_numeric_column_names_the_line_and_column(tmp_path, write_spec, capsys):
    table = write_table(tmp_path / "t.csv")
    lines = table.read_text().splitlines()
    lines[5] = "0.1,oops,0.3,1.0,big"
    table.write_text("\n".join(lines) + "\n")
    spec = write_spec(REGRESSOR.replace("TABLE", str(table)).replace("TARGET", "price"))
    code, _, err = run_cli(["validate", str(spec)], capsys)
    assert code == 1
    assert err.splitlines()[0] == (
        f"{table}:6: column 'height' holds text 'oops' where a number belongs; a feature column must be numeric "
        "(choose the columns with data: {features: [...]})")


def test_a_table_with_the_wrong_feature_count_is_refused_at_the_input(tmp_path, write_spec, capsys):
    table = write_table(tmp_path / "t.csv")
    spec = write_spec(REGRESSOR.replace("TABLE", str(table)).replace("TARGET", "price").replace("[3]", "[5]"))
    code, _, err = run_cli(["validate", str(spec)], capsys)
    assert code == 1
    assert err.splitlines()[:3] == [
        f"{spec}:4:3: input 'row': task 'regress' feeds this input the feature columns of {table}",
        "  expected: 3 feature column(s) (width, height, depth)",
        "  got:      5",
    ]


def test_classify_on_a_numeric_target_says_to_regress(tmp_path, write_spec, capsys):
    table = write_table(tmp_path / "t.csv")
    spec = write_spec(REGRESSOR.replace("TABLE", str(table)).replace("TARGET", "price")
                      .replace("task: regress", "task: classify"))
    code, _, err = run_cli(["validate", str(spec)], capsys)
    assert code == 1
    assert err.splitlines()[0] == (
        f"{spec}:7:3: node 'value': task 'classify' needs classes, and the targets of {table} are numbers")
    assert err.splitlines()[-2] == "  hint: train it with task: regress"


def test_a_table_splits_by_a_declared_column_and_by_seed(tmp_path):
    table = tmp_path / "t.csv"
    table.write_text("a,b,y,part\n" + "".join(
        f"{i},{i * 2},{i % 3},{'test' if i % 5 == 0 else 'train'}\n" for i in range(40)))
    _, scan = scan_data(DataSpec(path=str(table), target="y", split_column="part"))
    assert scan.facts["features"] == ["a", "b"]
    split = make_split(scan, SplitSpec(val=0.25, test=0.1), seed=3)
    assert split.items["test"] == list(range(0, 40, 5))
    assert len(split.items["val"]) == 8 and len(split.items["train"]) == 24
    assert make_split(scan, SplitSpec(val=0.25), seed=3) == split
    assert make_split(scan, SplitSpec(val=0.25), seed=4).items["val"] != split.items["val"]


@needs_mnist
def test_train_and_test_folders_are_honoured(tmp_path, digits):
    images, labels = digits
    write_image_folder(tmp_path / "data" / "train", images[:150], labels[:150])
    write_image_folder(tmp_path / "data" / "test", images[150:], labels[150:])
    _, scan = scan_data(DataSpec(path=str(tmp_path / "data")))
    assert list(scan.items) == ["train", "test"]
    split = make_split(scan, SplitSpec(val=0.2), seed=0)
    assert sorted(split.items["test"]) == sorted(scan.items["test"])
    assert all(item.startswith("test/") for item in split.items["test"])
    assert len(split.items["val"]) == 30 and len(split.items["train"]) == 120


def test_arrays_in_an_npz_are_read_from_their_headers(tmp_path):
    path = tmp_path / "d.npz"
    np.savez(path, x_train=np.zeros((30, 8, 8), np.uint8), y_train=np.arange(30) % 4,
             x_test=np.zeros((10, 8, 8), np.uint8), y_test=np.arange(10) % 4)
    source, scan = scan_data(DataSpec(path=str(path)))
    assert source.kind == "arrays" and scan.example_shape == (8, 8) and scan.classes == ("0", "1", "2", "3")
    assert list(scan.items) == ["train", "test"] and scan.items["test"] == list(range(30, 40))
    options = DataSpec(path=str(path))
    assert source.input_problem(scan, (64,), options) is None
    assert source.input_problem(scan, (8, 8, 2), options)[0] == "64 values per example, e.g. shape [8, 8]"


# ---------------------------------------------------------------- bad data


def bad_message(folder: Path, deep: bool = False) -> str:
    _, scan = scan_data(DataSpec(path=str(folder)), deep=deep)
    with pytest.raises(DataError) as error:
        check_bad_items(scan, DataSpec(path=str(folder)))
    assert scan.bad, "expected an unusable file"
    check_bad_items(scan, DataSpec(path=str(folder), skip_bad=True))  # skipped: no error
    return str(error.value)


def bad_header(folder: Path, item: str) -> str:
    return (f"{folder}: 1 unusable file(s) or row(s):\n  {folder / item}: ")


@needs_mnist
def test_a_truncated_image_is_found_by_the_deep_scan_before_training(folder):
    victim = sorted((folder / "digit_3").iterdir())[0]
    victim.write_bytes(victim.read_bytes()[:200])
    _, shallow = scan_data(DataSpec(path=str(folder)))
    assert shallow.bad == []  # the header is intact: validate reads only headers
    message = bad_message(folder, deep=True)
    assert message.startswith(bad_header(folder, victim.relative_to(folder)) + "unreadable image (")
    assert message.endswith("hint: fix or remove them, or skip them with --skip-bad "
                            "(they are listed in the run folder's data.json)")


@needs_mnist
def test_a_file_that_is_not_what_its_extension_says(folder):
    (folder / "digit_1" / "notes.png").write_text("not a picture")
    assert bad_message(folder).splitlines()[1] == (
        f"  {folder / 'digit_1' / 'notes.png'}: not an image, whatever its extension (.png) says")


@needs_mnist
def test_a_decompression_bomb_is_refused_from_its_header(folder):
    png_bomb(folder / "digit_2" / "bomb.png")
    assert bad_message(folder).splitlines()[1] == (
        f"  {folder / 'digit_2' / 'bomb.png'}: more pixels than Pillow's limit of {Image.MAX_IMAGE_PIXELS:,} "
        "(a decompression bomb?); raise PIL.Image.MAX_IMAGE_PIXELS only for files you trust")


@needs_mnist
def test_an_empty_class_folder_is_named(folder):
    (folder / "digit_10").mkdir()
    assert bad_message(folder).splitlines()[1] == (
        f"  {folder / 'digit_10'}: empty class folder (no PNG, JPEG, BMP or GIF file)")
    _, scan = scan_data(DataSpec(path=str(folder), skip_bad=True))
    assert len(scan.classes) == 10  # skipped: the empty class is no class


@needs_mnist
def test_a_symlink_loop_is_walked_once(folder):
    os.symlink(folder / "digit_4", folder / "digit_4" / "again")
    assert bad_message(folder).splitlines()[1] == (
        f"  {folder / 'digit_4' / 'again'}: symbolic link loop (this folder was already read); not followed")


def test_a_ragged_csv_row_is_named_by_line(tmp_path, write_spec, capsys):
    table = write_table(tmp_path / "t.csv")
    with table.open("a") as handle:
        handle.write("1.0,2.0\n")
    spec = write_spec(REGRESSOR.replace("TABLE", str(table)).replace("TARGET", "price"))
    code, _, err = run_cli(["validate", str(spec)], capsys)
    assert code == 1
    assert err.splitlines()[:2] == [f"{table}: 1 unusable file(s) or row(s):",
                                    f"  {table}:122: ragged row: 2 cells, the header has 5"]


@needs_mnist
def test_scanning_writes_nothing_into_the_data_folder(folder):
    before = {(p, p.stat().st_mtime_ns) for p in folder.rglob("*")}
    scan_data(DataSpec(path=str(folder)), deep=True)
    assert {(p, p.stat().st_mtime_ns) for p in folder.rglob("*")} == before


# ---------------------------------------------------------------- archspec data


@needs_mnist
def test_data_command_describes_an_image_folder_and_draws_a_grid(folder, tmp_path, capsys):
    picture = tmp_path / "grid.png"
    code, out, _ = run_cli(["data", str(folder), "--show", str(picture)], capsys)
    assert code == 0
    lines = out.splitlines()
    assert lines[:2] == [f"{folder}: image_folder (detected)", "examples: 200 (all 200)"]
    assert lines[2].startswith("classes: 10: digit_0 ")
    assert "image sizes (height x width): 32x32 (200)" in lines
    assert lines[-2:] == ["unusable: 0", f"wrote {picture}"]
    with Image.open(picture) as grid:
        assert grid.size == (90 + 8 * 64, 10 * 64)


def test_data_command_describes_a_table(tmp_path, capsys):
    table = write_table(tmp_path / "t.csv")
    code, out, _ = run_cli(["data", str(table), "--target", "kind"], capsys)
    assert code == 0
    assert out.splitlines()[:5] == [
        f"{table}: table (detected)", "examples: 120 (all 120)", "classes: 2: big 62, small 58",
        "balance: smallest / largest class = 0.94", "target column: kind"]


def test_data_command_on_a_missing_path_exits_1(tmp_path, capsys):
    code, _, err = run_cli(["data", str(tmp_path / "nowhere")], capsys)
    assert code == 1
    assert err.strip() == f"{tmp_path / 'nowhere'}: no such folder (the data named by train.data or --data)"


# ---------------------------------------------------------------- segmentation

SEGMENTER = """\
archspec: 1
name: seg
inputs:
  image: [32, 32, 3]
nodes:
  c1: {op: conv2d, filters: 4, kernel: 3, padding: same, activation: relu}
  out: {op: conv2d, filters: CLASSES, kernel: 1, activation: softmax}
edges:
  - image -> c1 -> out
outputs: [out]
train: {task: segment}
"""


@pytest.fixture
def seg_folder(tmp_path, digits):
    return write_segmentation_folder(tmp_path / "seg", digits[0][:20], classes=7)


@needs_mnist
def test_mask_classes_beyond_the_output_are_refused_at_the_output(seg_folder, write_spec, capsys):
    _, scan = scan_data(DataSpec(path=str(seg_folder)))
    assert scan.kind == "segmentation" and scan.pixel_classes == 7 and scan.count() == 20
    biggest = scan.facts["largest_class_in"]
    spec = write_spec(SEGMENTER.replace("CLASSES", "5"))
    code, _, err = run_cli(["validate", str(spec), "--data", str(seg_folder)], capsys)
    assert code == 1
    assert err.splitlines()[:3] == [
        f"{spec}:7:3: node 'out': task 'segment' compares this output with the masks of {seg_folder}, "
        f"whose pixels hold classes 0..6 (class 6 in {biggest})",
        "  expected: (height, width, 7 or more): a class score a pixel for each of classes 0..6",
        "  got:      32x32x5",
    ]
    assert run_cli(["validate", str(write_spec(SEGMENTER.replace("CLASSES", "7"), "ok.yaml")),
                    "--data", str(seg_folder)], capsys)[0] == 0


@needs_mnist
def test_a_mask_of_another_size_and_an_image_without_mask_are_named(seg_folder):
    Image.new("L", (16, 16)).save(seg_folder / "masks" / "00003.png")
    (seg_folder / "masks" / "00004.png").unlink()
    _, scan = scan_data(DataSpec(path=str(seg_folder)))
    assert [str(item) for item in scan.bad] == [
        f"{seg_folder / 'images' / '00004.png'}: no mask {seg_folder / 'masks' / '00004.png'}",
        f"{seg_folder / 'images' / '00003.png'}: mask masks/00003.png is 16x16, its image 32x32",
    ]
    assert scan.count() == 18


# ---------------------------------------------------------------- text

GPT = """\
archspec: 1
name: char_lm
inputs:
  chars: {shape: [16], dtype: int32}
edges: chars -> embedding(32, 8) -> dense(VOCAB, softmax)
train: {task: next_token}
"""


def test_a_text_file_is_windows_of_characters_with_a_training_vocabulary(tmp_path, write_spec, capsys):
    text = tmp_path / "t.txt"
    text.write_text("abc abc\n\nzzz\nab\n")
    source, scan = scan_data(DataSpec(path=str(text)))
    assert source.kind == "text" and scan.items == {"all": [0, 1, 2]}
    assert scan.facts["vocabulary"] == ["\n", " ", "a", "b", "c", "z"] and scan.target_shape == (7,)
    assert source.fitted(scan, [0, 2]) == {"vocabulary": ["\n", " ", "a", "b", "c"]}  # training lines only
    from archspec.train.userdata.sources.text import windows

    # "abc abc\nab\n" cut into windows of 3 + 1 that overlap by the one character each predicts next
    assert windows(scan, [0, 2], 3, [0, 2]).tolist() == [[3, 4, 5, 2], [2, 3, 4, 5], [5, 1, 3, 4]]
    assert windows(scan, [1], 3, [0, 2]).tolist() == [[0, 0, 0, 1]]  # z is unseen in training: id 0
    code, _, err = run_cli(["validate", str(write_spec(GPT.replace("VOCAB", "5"))), "--data", str(text)], capsys)
    assert code == 1
    assert err.splitlines()[1:3] == ["  expected: (length, 7 or more): 6 characters and one id for unseen ones",
                                     "  got:      16x5"]
    assert run_cli(["validate", str(write_spec(GPT.replace("VOCAB", "7"), "ok.yaml")), "--data", str(text)],
                   capsys)[0] == 0


@needs_mnist
def test_data_command_draws_images_over_their_masks(seg_folder, tmp_path, capsys):
    picture = tmp_path / "masks.png"
    code, out, _ = run_cli(["data", str(seg_folder), "--show", str(picture)], capsys)
    assert code == 0
    biggest = scan_data(DataSpec(path=str(seg_folder)))[1].facts["largest_class_in"]
    assert out.splitlines()[2] == f"mask classes: 7 (0..6; 6 in {biggest})"
    with Image.open(picture) as grid:
        assert grid.size == (8 * 64, 2 * 64)
        top, bottom = np.asarray(grid)[:64].astype(int), np.asarray(grid)[64:].astype(int)
    tinted = (bottom != top).any(axis=-1)
    assert tinted.any() and (bottom[..., 1] <= top[..., 1]).all()
    assert (bottom[tinted][:, 0] > bottom[tinted][:, 1]).all()  # the masked digits turn red


# ---------------------------------------------------------------- multi-label tables

MULTILABEL = """\
archspec: 1
name: tags
inputs:
  row: [2]
edges: row -> dense(LABELS, sigmoid)
train: {task: multilabel, data: {target: [red, round, big]}}
"""


def labelled_table(path: Path, bad_cell: str | None = None) -> Path:
    rows = ["a,b,red,round,big"] + [f"{i},{i % 7},{i % 2},{i % 3 == 0:d},{i > 10:d}" for i in range(20)]
    if bad_cell is not None:
        rows[4] = f"3,3,1,{bad_cell},0"
    path.write_text("\n".join(rows) + "\n")
    return path


def test_multilabel_targets_are_0_1_columns_held_against_the_output(tmp_path, write_spec, capsys):
    table = labelled_table(tmp_path / "t.csv")
    _, scan = scan_data(DataSpec(path=str(table), target=["red", "round", "big"]), class_targets=False)
    assert scan.facts["features"] == ["a", "b"] and scan.labels["all"].shape == (20, 3)
    assert scan.labels["all"][11].tolist() == [1.0, 0.0, 1.0]
    spec = write_spec(MULTILABEL.replace("LABELS", "2"))
    code, _, err = run_cli(["validate", str(spec), "--data", str(table)], capsys)
    assert code == 1
    assert err.splitlines()[:3] == [
        f"{spec}:5:15: node 'dense_1': task 'multilabel' compares this output with the labels red, round, big "
        f"of {table}", "  expected: 3 label scores (shape 3)", "  got:      2"]
    assert run_cli(["validate", str(write_spec(MULTILABEL.replace("LABELS", "3"), "ok.yaml")),
                    "--data", str(table)], capsys)[0] == 0


def test_a_label_cell_other_than_0_or_1_is_named(tmp_path):
    table = labelled_table(tmp_path / "t.csv", bad_cell="yes")
    with pytest.raises(DataError) as error:
        scan_data(DataSpec(path=str(table), target=["red", "round", "big"]))
    assert str(error.value) == (f"{table}:5: label column 'round' holds 'yes'; a label column of a multi-label "
                                "target holds 0 or 1")


def test_a_parquet_table_reads_as_its_csv_does(tmp_path):
    parquet = pytest.importorskip("pyarrow.parquet")
    import pyarrow.csv as arrow_csv

    table = write_table(tmp_path / "t.csv")
    parquet.write_table(arrow_csv.read_csv(table), tmp_path / "t.parquet")
    options = {"target": "price"}
    _, from_csv = scan_data(DataSpec(path=str(table), **options), class_targets=False)
    source, from_parquet = scan_data(DataSpec(path=str(tmp_path / "t.parquet"), **options), class_targets=False)
    assert source.kind == "table" and from_parquet.facts["features"] == from_csv.facts["features"]
    np.testing.assert_allclose(from_parquet.facts["values"], from_csv.facts["values"], rtol=1e-6)
    np.testing.assert_allclose(from_parquet.labels["all"], from_csv.labels["all"], rtol=1e-6)
