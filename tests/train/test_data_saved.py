"""Hugging Face `save_to_disk` folders read as tables (sources/saved_dataset.py), written by `datasets` itself."""

from __future__ import annotations

import json

import numpy as np
import pytest

from archspec.errors import DataError
from archspec.spec.data_spec import DataSpec, SplitSpec
from archspec.train.userdata.scan import scan_data
from archspec.train.userdata.split import make_split
from tests.cli_run import run_cli

datasets = pytest.importorskip("datasets")

MLP = """\
archspec: 1
name: saved_mlp
inputs:
  row: [2]
nodes:
  hidden: {op: dense, units: 16, activation: relu}
  probs: {op: dense, units: UNITS, activation: softmax}
edges:
  - row -> hidden -> probs
outputs: [probs]
train: {epochs: 20, batch_size: 16, seed: 0, optimizer: {adam: {learning_rate: 0.05}}, data: {target: label}}
"""


def points(count: int, seed: int):
    """Two numeric columns, a text column, a list column and a ClassLabel whose id is the point's quadrant."""
    rng = np.random.default_rng(seed)
    xy = rng.uniform(-1, 1, size=(count, 2)).astype(np.float32)
    features = datasets.Features({
        "x": datasets.Value("float32"), "y": datasets.Value("float32"), "note": datasets.Value("string"),
        "extra": datasets.Sequence(datasets.Value("int32")),
        "label": datasets.ClassLabel(names=["north_east", "north_west", "south_west", "south_east"]),
    })
    quadrant = np.where(xy[:, 1] >= 0, np.where(xy[:, 0] >= 0, 0, 1), np.where(xy[:, 0] < 0, 2, 3))
    return datasets.Dataset.from_dict({
        "x": xy[:, 0], "y": xy[:, 1], "note": [f"p{n}" for n in range(count)], "extra": [[n] for n in range(count)],
        "label": quadrant.tolist()}, features=features)


@pytest.fixture
def saved(tmp_path):
    path = tmp_path / "quadrants"
    datasets.DatasetDict({"train": points(200, 0), "test": points(40, 1)}).save_to_disk(str(path))
    return path


def test_a_dataset_dict_keeps_its_splits_and_its_class_label_names_and_ids(saved):
    source, scan = scan_data(DataSpec(path=str(saved), target="label"))
    assert source.kind == "hf_dataset" and scan.classes == ("north_east", "north_west", "south_west", "south_east")
    assert scan.items == {"train": list(range(200)), "test": list(range(200, 240))}
    assert scan.facts["features"] == ["x", "y"] and scan.facts["text_columns"] == ["note"]
    assert scan.facts["not_read"] == ["extra"]
    expected = points(40, 1)["label"]
    assert scan.labels["test"].tolist() == expected  # the dataset's ids, not ranks of the ids seen
    split = make_split(scan, SplitSpec(val=0.1), seed=0)
    assert [len(split.items[part]) for part in ("train", "val", "test")] == [180, 20, 40]


def test_a_single_saved_dataset_is_split_by_seed_and_a_list_column_is_not_a_feature(tmp_path):
    points(50, 2).save_to_disk(str(tmp_path / "one"))
    _, scan = scan_data(DataSpec(path=str(tmp_path / "one"), target="label"))
    assert scan.items == {"all": list(range(50))}
    with pytest.raises(DataError) as error:
        scan_data(DataSpec(path=str(tmp_path / "one"), target="label", features=["x", "extra"]))
    kind = json.loads((tmp_path / "one" / "dataset_info.json").read_text())["features"]["extra"]["_type"]
    assert str(error.value) == (f"{tmp_path / 'one'}: column 'extra' is a {kind} feature; archspec reads a saved "
                                "dataset's Value and ClassLabel columns as a table")  # List, or Sequence before 4.0


def test_a_split_other_than_train_validation_test_is_named(tmp_path):
    datasets.DatasetDict({"train": points(10, 0), "unsupervised": points(10, 1)}).save_to_disk(str(tmp_path / "d"))
    with pytest.raises(DataError) as error:
        scan_data(DataSpec(path=str(tmp_path / "d"), target="label"))
    assert str(error.value).startswith(f"{tmp_path / 'd'}: split 'unsupervised' is none of train, validation, test")


def test_validate_holds_the_output_against_the_class_label_names(saved, write_spec, capsys):
    spec = write_spec(MLP.replace("UNITS", "3"))
    code, _, err = run_cli(["validate", str(spec), "--data", str(saved)], capsys)
    assert code == 1 and err.splitlines()[0] == (
        f"{spec}:7:3: node 'probs': task 'classify' compares this output with the 4 classes of {saved} "
        "(north_east, north_west, south_west, south_east)")


def test_a_classifier_trains_on_a_saved_dataset(saved, tmp_path, write_spec, capsys):
    spec, run = write_spec(MLP.replace("UNITS", "4")), tmp_path / "run"
    code, _, err = run_cli(["fit", str(spec), "--data", str(saved), "--out", str(run)], capsys)
    assert code == 0, err
    split = json.loads((run / "data.json").read_text())
    assert split["kind"] == "hf_dataset" and split["counts"] == {"train": 180, "val": 20, "test": 40}
    assert split["classes"] == ["north_east", "north_west", "south_west", "south_east"]
    assert json.loads((run / "metrics.json").read_text())["test"]["accuracy"] >= 0.8
