"""`--strategy multiworker`: two worker processes on 127.0.0.1 train one model; a lone worker gives up."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys

import pytest

from archspec.train import runs
from tests.conftest import ROOT, needs_mnist

pytestmark = [pytest.mark.slow, needs_mnist]

MLP = str(ROOT / "specs" / "mlp_sequential.yaml")
ARGS = ["--epochs", "2", "--subset", "512", "--seed", "0", "--batch-size", "64"]


def free_ports(count: int) -> list[int]:
    sockets = [socket.socket() for _ in range(count)]
    for item in sockets:
        item.bind(("127.0.0.1", 0))
    ports = [item.getsockname()[1] for item in sockets]
    for item in sockets:
        item.close()
    return ports


def archspec(args: list[str], cwd, tf_config: dict | None = None) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    env.pop("TF_CONFIG", None)
    if tf_config is not None:
        env["TF_CONFIG"] = json.dumps(tf_config)
    return subprocess.Popen([sys.executable, "-m", "archspec.cli", *args], cwd=cwd, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def cluster(ports: list[int], index: int) -> dict:
    return {"cluster": {"worker": [f"127.0.0.1:{port}" for port in ports]},
            "task": {"type": "worker", "index": index}}


def test_two_workers_train_one_run_equal_to_one_process(tmp_path):
    """1,843 training examples in batches of 32: 58 steps an epoch, run 3 per graph call (the last
    call of an epoch runs 1), in the workers' step loop as in the single process's fit."""
    ports = free_ports(2)
    args = [*ARGS, "--subset", "2048", "--batch-size", "32"]
    workers = [archspec(["fit", MLP, "--strategy", "multiworker", *args], tmp_path, cluster(ports, index))
               for index in (1, 0)]
    results = [worker.communicate(timeout=600) for worker in workers]
    for worker, (_out, err) in zip(workers, results):
        assert worker.returncode == 0, err[-3000:]
    (run_dir,) = (tmp_path / "runs").iterdir()  # the chief alone wrote a run folder
    assert sorted(path.name for path in tmp_path.iterdir()) == ["runs"]
    config = runs.read_json(run_dir / runs.CONFIG_FILE)
    assert config["strategy"] == "multiworker" and config["replicas"] == 2
    assert config["steps_per_execution"] == 3
    assert [row["step"] for row in runs.read_history(run_dir / runs.STEPS_FILE)][:2] == [3, 6]
    history = runs.read_history(run_dir / runs.HISTORY_FILE)
    assert [row["epoch"] for row in history] == [1, 2]
    assert history[1]["loss"] < history[0]["loss"]

    single = archspec(["fit", MLP, *args, "--out", str(tmp_path / "single")], tmp_path)
    _out, err = single.communicate(timeout=600)
    assert single.returncode == 0, err[-3000:]
    alone = runs.read_history(tmp_path / "single" / runs.HISTORY_FILE)
    for together_row, alone_row in zip(history, alone):
        for key in ("loss", "accuracy", "val_loss", "val_accuracy"):
            assert together_row[key] == pytest.approx(alone_row[key], rel=1e-4, abs=1e-6), key
    together_test = runs.read_json(run_dir / runs.METRICS_FILE)["test"]
    alone_test = runs.read_json(tmp_path / "single" / runs.METRICS_FILE)["test"]
    assert together_test == pytest.approx(alone_test, rel=1e-4)


def test_a_worker_whose_peer_never_starts_gives_up_with_one_line(tmp_path):
    ports = free_ports(2)
    worker = archspec(["fit", MLP, "--strategy", "multiworker", *ARGS, "--worker-timeout", "5",
                       "--out", str(tmp_path / "run")], tmp_path, cluster(ports, 0))
    out, err = worker.communicate(timeout=300)
    assert worker.returncode == 1
    assert out == ""
    assert err.strip().splitlines() == [
        f"worker 0 of 2 (127.0.0.1:{ports[0]}) waited 5 s for its peers (127.0.0.1:{ports[1]}) and gives up; "
        "start every worker of $TF_CONFIG within --worker-timeout seconds of each other"
    ]
    assert not (tmp_path / "run").exists()


@pytest.mark.parametrize("signal_name", ["SIGTERM", "SIGINT"])
def test_a_waiting_worker_obeys_sigterm_and_sigint(tmp_path, signal_name):
    import signal
    import time

    ports = free_ports(2)
    worker = archspec(["fit", MLP, "--strategy", "multiworker", *ARGS, "--out", str(tmp_path / "run")],
                      tmp_path, cluster(ports, 0))
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline:  # until it listens for its peers
        try:
            socket.create_connection(("127.0.0.1", ports[0]), timeout=0.5).close()
            break
        except OSError:
            time.sleep(0.5)
    number = getattr(signal, signal_name)
    worker.send_signal(number)
    _out, err = worker.communicate(timeout=60)
    assert worker.returncode == 128 + number
    assert err.strip().splitlines() == [
        f"archspec: worker 0 of 2 (127.0.0.1:{ports[0]}) stopped by {signal_name}; "
        "the run folder keeps every complete epoch; continue with --resume"
    ]


def test_a_peer_killed_mid_training_ends_the_chief_with_one_line(tmp_path):
    """Both workers name the same --out (each checks it is free before they meet; the chief alone
    creates and writes it); worker 1 is SIGKILLed once the first epoch is saved."""
    import signal
    import time

    ports = free_ports(2)
    out = tmp_path / "run"
    args = ["fit", MLP, "--strategy", "multiworker", *ARGS, "--epochs", "20", "--out", str(out)]
    peer, chief = (archspec(args, tmp_path, cluster(ports, index)) for index in (1, 0))
    first = runs.checkpoint_path(out, 1)
    deadline = time.monotonic() + 300
    while not first.exists() and chief.poll() is None and peer.poll() is None and time.monotonic() < deadline:
        time.sleep(0.1)
    assert first.exists(), (chief.poll(), peer.poll())
    peer.send_signal(signal.SIGKILL)
    peer.communicate(timeout=60)
    _out, err = chief.communicate(timeout=300)
    assert chief.returncode == 1, err[-3000:]
    assert err.strip().splitlines() == [
        f"worker 0 of 2 (127.0.0.1:{ports[0]}) lost worker 1 (127.0.0.1:{ports[1]}): it stopped answering "
        f"during training (killed, crashed or unreachable); {out} keeps every complete epoch: start every "
        f"worker again with `archspec fit --resume {out}` and the same TF_CONFIG"
    ]
    done = runs.completed_checkpoints(out)  # resumable: each checkpoint has its history row
    assert done and [row["epoch"] for row in runs.read_history(out / runs.HISTORY_FILE)] == done
    assert not list(out.rglob(".*tmp*"))


def test_a_multiworker_run_resumes_on_every_worker_and_equals_one_process(tmp_path):
    """Two workers train epoch 1; both are started again with `--resume --epochs 2` and the same
    TF_CONFIG. The strategy starts before any checkpoint is loaded (loading first made every worker
    fail: "Collective ops must be configured at program startup"); the history goes on as one
    process's would, to float rounding."""
    ports = free_ports(2)
    out = tmp_path / "run"
    first = [archspec(["fit", MLP, "--strategy", "multiworker", *ARGS, "--epochs", "1", "--out", str(out)],
                      tmp_path, cluster(ports, index)) for index in (1, 0)]
    for worker in first:
        _out, err = worker.communicate(timeout=600)
        assert worker.returncode == 0, err[-3000:]
    resumed = [archspec(["fit", "--resume", str(out), "--epochs", "2"], tmp_path, cluster(ports, index))
               for index in (1, 0)]
    results = [worker.communicate(timeout=600) for worker in resumed]
    for worker, (_out, err) in zip(resumed, results):
        assert worker.returncode == 0, err[-3000:]
    assert f"archspec: resuming {out} after epoch 1 of 2" in results[1][1]
    history = runs.read_history(out / runs.HISTORY_FILE)
    assert [row["epoch"] for row in history] == [1, 2]

    single = archspec(["fit", MLP, *ARGS, "--out", str(tmp_path / "single")], tmp_path)
    _out, err = single.communicate(timeout=600)
    assert single.returncode == 0, err[-3000:]
    alone = runs.read_history(tmp_path / "single" / runs.HISTORY_FILE)
    for together_row, alone_row in zip(history, alone, strict=True):
        for key in ("loss", "accuracy", "val_loss", "val_accuracy"):
            assert together_row[key] == pytest.approx(alone_row[key], rel=1e-4, abs=1e-6), key


def test_a_run_whose_peer_was_killed_mid_training_is_finished_by_resume_and_equals_one_process(tmp_path):
    """Worker 1 is SIGKILLed as soon as epoch 1 is saved; the chief stops with its one line, keeping every
    complete epoch; both workers started again with `--resume` and the same TF_CONFIG train the rest.
    The history and test figures equal one process's uninterrupted run to the tolerance two workers
    have against one process anyway (float rounding of the all-reduce), as the resume test above."""
    import signal
    import time

    ports = free_ports(2)
    out = tmp_path / "run"
    args = [*ARGS, "--epochs", "4", "--subset", "1024"]
    peer, chief = (archspec(["fit", MLP, "--strategy", "multiworker", *args, "--out", str(out)], tmp_path,
                            cluster(ports, index)) for index in (1, 0))
    deadline = time.monotonic() + 300
    while not runs.checkpoint_path(out, 1).exists() and chief.poll() is None and time.monotonic() < deadline:
        time.sleep(0.01)
    peer.send_signal(signal.SIGKILL)
    peer.communicate(timeout=60)
    _out, err = chief.communicate(timeout=300)
    assert chief.returncode == 1, err[-3000:]
    assert f"lost worker 1 (127.0.0.1:{ports[1]})" in err and f"archspec fit --resume {out}" in err
    done = runs.completed_checkpoints(out)
    assert 1 <= len(done) < 4, done

    resumed = [archspec(["fit", "--resume", str(out)], tmp_path, cluster(ports, index)) for index in (1, 0)]
    results = [worker.communicate(timeout=600) for worker in resumed]
    for worker, (_out, err) in zip(resumed, results):
        assert worker.returncode == 0, err[-3000:]
    assert f"archspec: resuming {out} after epoch {len(done)} of 4" in results[1][1]

    single = archspec(["fit", MLP, *args, "--out", str(tmp_path / "single")], tmp_path)
    _out, err = single.communicate(timeout=600)
    assert single.returncode == 0, err[-3000:]
    history, alone = (runs.read_history(folder / runs.HISTORY_FILE) for folder in (out, tmp_path / "single"))
    assert [row["epoch"] for row in history] == [1, 2, 3, 4]
    for together_row, alone_row in zip(history, alone, strict=True):
        for key in ("loss", "accuracy", "val_loss", "val_accuracy"):
            assert together_row[key] == pytest.approx(alone_row[key], rel=1e-4, abs=1e-6), (together_row["epoch"], key)
    tests = [runs.read_json(folder / runs.METRICS_FILE)["test"] for folder in (out, tmp_path / "single")]
    assert tests[0] == pytest.approx(tests[1], rel=1e-4)
