"""Samples per second of `archspec fit --strategy multiworker`: 2 workers x 1 thread vs 1 process x 2 threads.

Both sides run the `archspec fit` command on the same spec, data subset, global
batch and seed (so they train the same model on the same batches: see
tests/train/test_multiworker.py). The two workers talk over 127.0.0.1 through
TF_CONFIG; each is held to one TensorFlow thread (TF_NUM_INTRAOP_THREADS and
TF_NUM_INTEROP_THREADS), the single process to two. Throughput = training
examples / epoch time, over epochs 2..E (the first epoch pays for tracing),
read from history.csv. Both sides run the same steps per graph call (config.json's
steps_per_execution, chosen from the steps per epoch). On one small machine the
workers pay an all-reduce per step over loopback and two copies of the pipeline,
so a ratio below 1 is expected here; the point is that the same command scales
to more machines. Then benchmarks/allreduce.py times the all-reduce of one
step's gradients between two workers and projects two hosts' efficiency on
1 and 10 Gbit/s links from it and the one-process step time of a half batch.

    python benchmarks/multiworker.py --epochs 3 --subset 16384
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("ARCHSPEC_DATA_DIR", str(ROOT.parent / "shared" / "data" / "mnist"))

from archspec.train import runs
from benchmarks.allreduce import measure, report


def free_ports(count: int) -> list[int]:
    sockets = [socket.socket() for _ in range(count)]
    for item in sockets:
        item.bind(("127.0.0.1", 0))
    ports = [item.getsockname()[1] for item in sockets]
    for item in sockets:
        item.close()
    return ports


def start(args: list[str], cwd: Path, threads: int, tf_config: dict | None = None,
          interop: int | None = None) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "TF_NUM_INTRAOP_THREADS": str(threads),
           "TF_NUM_INTEROP_THREADS": str(interop or threads)}
    env.pop("TF_CONFIG", None)
    if tf_config is not None:
        env["TF_CONFIG"] = json.dumps(tf_config)
    return subprocess.Popen([sys.executable, "-m", "archspec.cli", "fit", *args], cwd=cwd, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)


def samples_per_s(run_dir: Path) -> float:
    history = runs.read_history(run_dir / runs.HISTORY_FILE)
    metrics = runs.read_json(run_dir / runs.METRICS_FILE)
    timed = history[1:] or history
    return metrics["train_samples"] * len(timed) / sum(row["time_s"] for row in timed)


def two_workers(common: list[str], out: Path, interop: int) -> float:
    ports = free_ports(2)
    workers = [
        start([*common, "--strategy", "multiworker", "--out", str(out)], out.parent, 1,
              {"cluster": {"worker": [f"127.0.0.1:{port}" for port in ports]},
               "task": {"type": "worker", "index": index}}, interop)
        for index in (1, 0)
    ]
    for worker in workers:
        _, err = worker.communicate()
        if worker.returncode:
            sys.exit(f"a worker failed: {err[-2000:]}")
    return samples_per_s(out)


def one_process(common: list[str], out: Path) -> float:
    single = start([*common, "--out", str(out)], out.parent, 2)
    _, err = single.communicate()
    if single.returncode:
        sys.exit(f"the single process failed: {err[-2000:]}")
    return samples_per_s(out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--spec", default=str(ROOT / "specs" / "mlp_sequential.yaml"))
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--subset", type=int, default=8192)
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--rounds", type=int, default=3,
                        help="pairs of runs; the order alternates, so load from other processes hits both sides")
    parser.add_argument("--no-project", dest="project", action="store_false",
                        help="skip the all-reduce timing and the two-host projection (benchmarks/allreduce.py)")
    parser.add_argument("--worker-interop", type=int, default=1,
                        help="each worker's inter-op threads (its collectives and tf.data run there)")
    options = parser.parse_args()
    spec = str(Path(options.spec).resolve())
    common = [spec, "--epochs", str(options.epochs), "--subset", str(options.subset),
              "--batch-size", str(options.batch_size), "--seed", "0"]
    print(f"{options.spec}: {options.subset} examples, batch {options.batch_size}, epochs 2..{options.epochs}")
    print(f"{'round':>5} {'2 workers x 1':>14} {'1 process x 2':>14} {'ratio':>6}  load average (1 min)")
    twos, ones = [], []
    with tempfile.TemporaryDirectory() as folder:
        for round_ in range(options.rounds):
            root = Path(folder) / str(round_)
            root.mkdir()
            load = [os.getloadavg()[0]]
            if round_ % 2 == 0:
                two = two_workers(common, root / "two", options.worker_interop)
                load.append(os.getloadavg()[0])
                one = one_process(common, root / "one")
            else:
                one = one_process(common, root / "one")
                load.append(os.getloadavg()[0])
                two = two_workers(common, root / "two", options.worker_interop)
            load.append(os.getloadavg()[0])
            twos.append(two)
            ones.append(one)
            print(f"{round_ + 1:>5} {two:>14.0f} {one:>14.0f} {two / one:>6.2f}  "
                  + " / ".join(f"{value:.1f}" for value in load))
    ratio = statistics.median(two / one for two, one in zip(twos, ones))
    one = statistics.median(ones)
    print(f"{'median':>5} {statistics.median(twos):>14.0f} {one:>14.0f} {ratio:>6.2f}")
    if options.project:
        report(options.spec, measure(spec, calls=200), step_ms=options.batch_size / 2 / one * 1e3)

if __name__ == "__main__":
    main()
