"""Token ids for next_token (archspec.train.userdata.sources.tokens): streams and rows, checked before training."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import pytest

from archspec.errors import DataError
from archspec.spec.data_spec import DataSpec, SplitSpec
from archspec.train.userdata.scan import scan_data
from archspec.train.userdata.sources.tokens import BLOCK, windows
from archspec.train.userdata.split import make_split
from tests.cli_run import run_cli

LM = """\
archspec: 1
name: token_lm
inputs:
  tokens: {shape: [LENGTH], dtype: int32}
edges: tokens -> embedding(ROWS, 8) -> dense(SCORES, softmax)
train: {task: next_token, epochs: 1, batch_size: 16, seed: 0}
"""


def lm(write_spec, length=16, rows=40, scores=40, name="lm.yaml"):
    return write_spec(LM.replace("LENGTH", str(length)).replace("ROWS", str(rows)).replace("SCORES", str(scores)),
                      name)


@pytest.fixture
def stream(tmp_path):
    """20 blocks of ids counting 0..39 over and over."""
    path = tmp_path / "ids.npy"
    np.save(path, (np.arange(20 * BLOCK) % 40).astype(np.int32))
    return path


def test_a_stream_s_validation_and_test_parts_are_its_tail_and_windows_never_cross_a_gap(stream):
    source, scan = scan_data(DataSpec(path=str(stream)))
    assert source.kind == "tokens" and scan.token_ids == 40
    assert scan.items == {"train": list(range(16)), "val": [16, 17], "test": [18, 19]}
    assert source.fitted(scan, scan.items["train"]) == {"token_ids": 40, "block": BLOCK}
    cut = windows(scan, [18, 19], 16)  # one run of 512 ids: windows of 17 overlapping by one
    assert cut.shape == (31, 17) and cut.dtype == np.int32
    assert cut[0].tolist() == [(18 * BLOCK + n) % 40 for n in range(17)] and cut[1, 0] == cut[0, -1]
    assert windows(scan, [3, 1], 16).shape == (2 * ((BLOCK - 1) // 16), 17)  # two runs, none across the gap
    split = make_split(scan, SplitSpec(), seed=3)  # the parts are declared: the seed only orders train
    assert split.items["test"] == [18, 19] and sorted(split.items["train"]) == list(range(16))


def test_rows_are_split_by_seed_and_cut_within_each_row(tmp_path):
    path = tmp_path / "rows.npz"
    rows = np.arange(50 * 33).reshape(50, 33) % 50
    np.savez(path, tokens=rows)
    source, scan = scan_data(DataSpec(path=str(path)))
    assert scan.items == {"all": list(range(50))} and scan.example_shape == (33,) and scan.token_ids == 50
    assert windows(scan, [4], 32).tolist() == [rows[4].tolist()]
    assert windows(scan, [7, 2], 16).tolist() == [rows[2, :17].tolist(), rows[2, 16:].tolist(),
                                                  rows[7, :17].tolist(), rows[7, 16:].tolist()]
    assert source.input_problem(scan, (32,), scan_data(DataSpec(path=str(path)))[1]) is None
    assert source.input_problem(scan, (33,), DataSpec()) == (
        "a window of at most 32 ids: rows of 33 ids hold 32 to read and the next to learn",
        "give the input shape [32] (or shorter), or save longer rows")
    split = make_split(scan, SplitSpec(val=0.1, test=0.2), seed=1)
    assert [len(split.items[part]) for part in ("train", "val", "test")] == [35, 5, 10]


def test_declared_parts_are_kept_and_a_missing_one_is_cut_from_the_training_tail(tmp_path):
    path = tmp_path / "parts.npz"
    np.savez(path, tokens_train=np.arange(10 * BLOCK) % 7, tokens_test=np.arange(BLOCK + 1) % 7)
    _, scan = scan_data(DataSpec(path=str(path), split=SplitSpec(val=0.2)))
    assert scan.items == {"train": list(range(8)), "val": [8, 9], "test": [10, 11]}
    assert windows(scan, [10, 11], 16).tolist()[-1][-1] == BLOCK % 7  # the test array's last id, its own part


def test_an_out_of_range_id_is_refused_at_the_embedding_and_the_output(stream, write_spec, capsys):
    spec = lm(write_spec, rows=20, scores=30)
    code, _, err = run_cli(["validate", str(spec), "--data", str(stream)], capsys)
    assert code == 1
    assert err.splitlines()[:8] == [
        f"{spec}:5:18: node 'embedding_1': this embedding looks up every token id of {stream}",
        "  expected: input_dim 40 or more: ids 0..39 (id 39 at ids[39])",
        "  got:      input_dim 20",
        "  hint: give the embedding 40 rows: embedding(40, 8)",
        f"{spec}:5:38: node 'dense_1': task 'next_token' scores every token id of {stream} at every position",
        "  expected: (length, 40 or more): ids 0..39 (id 39 at ids[39])",
        "  got:      16x30",
        "  hint: end with a dense node of 40 units and softmax, applied at every position",
    ]


def test_rows_shorter_than_the_window_are_refused_at_the_input(tmp_path, write_spec, capsys):
    path = tmp_path / "rows.npy"
    np.save(path, np.zeros((10, 12), np.int16))
    spec = lm(write_spec)
    code, _, err = run_cli(["validate", str(spec), "--data", str(path)], capsys)
    assert code == 1
    assert err.splitlines()[:4] == [
        f"{spec}:4:3: input 'tokens': task 'next_token' feeds this input the token id windows of {path}",
        "  expected: a window of at most 11 ids: rows of 12 ids hold 11 to read and the next to learn",
        "  got:      16",
        "  hint: give the input shape [11] (or shorter), or save longer rows",
    ]


@pytest.mark.parametrize(("ids", "message"), [
    (np.arange(300.0), "{path}: array ids holds float64 values; token ids are integers\n"
                       "  hint: save the ids as an integer array, e.g. np.save('ids.npy', ids.astype(np.int32)) "
                       "(inputs and targets as arrays: an .npz of x and y, or a folder of x.npy, y.npy)"),
    (np.array([[3, 1, 4], [1, -1, 9]]), "{path}: token id -1 at ids[1, 1]; ids are numbered from 0\n"
                                        "  hint: shift them (ids - ids.min()) or replace the negative ones "
                                        "(a padding id of -1, say) with an id of the vocabulary"),
    (np.zeros((2, 3, 4), np.int32), "{path}: array ids has shape [2, 3, 4]; expected one stream of ids (1-D) "
                                    "or rows of ids (2-D), the same in every part\n"
                                    "  hint: flatten it to one stream (ids.ravel()) or reshape it to rows "
                                    "(ids.reshape(len(ids), -1))"),
])
def test_ids_that_are_not_token_ids_stop_before_anything_is_built(tmp_path, write_spec, capsys, ids, message):
    path = tmp_path / "ids.npy"
    np.save(path, ids)
    code, _, err = run_cli(["validate", str(lm(write_spec)), "--data", str(path)], capsys)
    assert code == 1 and err.splitlines() == [*message.format(path=path).splitlines(), "1 of 1 spec(s) invalid"]


def test_a_file_of_no_known_layout_names_the_layouts(tmp_path):
    path = tmp_path / "ids.json"
    path.write_text("[1, 2, 3]")
    with pytest.raises(DataError) as error:
        scan_data(DataSpec(path=str(path)))
    assert str(error.value).startswith(f"{path}: not a layout archspec reads (a folder of class folders, ")
    assert "an .npz or .npy;" in str(error.value)


def test_validate_reads_token_ids_without_tensorflow(stream, write_spec):
    spec = lm(write_spec)
    code = ("import sys; from archspec.cli import main\n"
            f"try: main(['validate', {str(spec)!r}, '--data', {str(stream)!r}])\n"
            "except SystemExit as e: assert not e.code, e.code\n"
            "assert 'tensorflow' not in sys.modules and 'keras' not in sys.modules\n")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=os.environ)
    assert result.returncode == 0, result.stderr


def test_data_command_describes_token_ids(stream, capsys):
    code, out, _ = run_cli(["data", str(stream)], capsys)
    assert code == 0 and out.splitlines() == [
        f"{stream}: tokens (detected)",
        "examples: 20 (train 16, val 2, test 2)",
        f"token ids: {20 * BLOCK:,} as one stream in blocks of {BLOCK}; ids 0..39 (id 39 at ids[39])",
        f"arrays: ids [{20 * BLOCK}] int32",
        "unusable: 0",
    ]


def test_a_token_model_trains_on_a_stream_and_evaluates_on_its_saved_split(stream, tmp_path, write_spec, capsys):
    run = tmp_path / "run"
    code, _, err = run_cli(["fit", str(lm(write_spec)), "--data", str(stream), "--out", str(run)], capsys)
    assert code == 0, err
    saved = json.loads((run / "data.json").read_text())
    assert saved["kind"] == "tokens" and saved["counts"] == {"train": 16, "val": 2, "test": 2}
    assert saved["token_ids"] == 40 and saved["block"] == BLOCK and saved["items"]["test"] == [18, 19]
    metrics = json.loads((run / "metrics.json").read_text())
    assert metrics["task"] == "next_token" and metrics["train_samples"] == (16 * BLOCK - 1) // 16
    assert 1.0 < metrics["test"]["perplexity"] < 40.0  # better than guessing among the 40 ids
    code, out, err = run_cli(["evaluate", str(run)], capsys)
    assert code == 0, err
    assert f"perplexity: {metrics['test']['perplexity']:.4f}" in out
