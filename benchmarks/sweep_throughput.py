"""Trials per hour of `archspec sweep`: 1 worker x 2 threads against 2 workers x 1 thread.

Small MNIST models leave a second core mostly idle (the per-trial start-up:
Python, TensorFlow's import, reading MNIST, building and saving, is one
thread; so are the MLP's small matrix products). Two workers, each an
`archspec fit` process with one thread, keep both cores busy. This script
times the same sweep (K trials of one spec, differing only in seed, so every
trial does the same work) both ways, on the MLP and the CNN, and prints
trials per hour and the ratio (2 workers x 1 thread over 1 worker x 2
threads) in one run. The two settings alternate, and swap order between
specs, so that load from other processes on a shared machine hits both alike.

    python benchmarks/sweep_throughput.py                     # 4 trials, 2 epochs each
    python benchmarks/sweep_throughput.py --trials 6 --epochs 1 --subset 2000
    python benchmarks/sweep_throughput.py --pin                # workers bound to their cores
"""

from __future__ import annotations

import argparse
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("ARCHSPEC_DATA_DIR", str(ROOT.parent / "shared" / "data" / "mnist"))

SPECS = {"mlp": "mlp_sequential.yaml", "cnn": "mnist_cnn.yaml"}
SETTINGS = {"1 worker x 2 threads": ("1", "2"), "2 workers x 1 thread": ("2", "1")}

SWEEP = """\
archspec_sweep: 1
name: throughput_{name}
spec: {spec}
objective: {{metric: validation.loss}}
fit: {{epochs: {epochs}, subset: {subset}}}
dimensions:
  seed: {{set: train.seed, values: [{seeds}]}}
"""


def time_sweep(sweep: Path, out: Path, workers: str, threads: str, pin: bool) -> float:
    """Wall seconds of one whole `archspec sweep` (each trial a fresh `archspec fit` process)."""
    command = [sys.executable, "-m", "archspec.cli", "sweep", str(sweep), "--out", str(out),
               "--workers", workers, "--threads", threads, *(["--pin"] if pin else [])]
    started = time.perf_counter()
    result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True,
                            env={**os.environ, "PYTHONPATH": str(ROOT)})
    elapsed = time.perf_counter() - started
    if result.returncode != 0:
        sys.exit(f"sweep failed:\n{result.stdout}\n{result.stderr}")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=4, help="trials per sweep (default 4)")
    parser.add_argument("--epochs", type=int, default=2, help="epochs per trial (default 2)")
    parser.add_argument("--subset", type=int, default=6000, help="training examples per trial (default 6000)")
    parser.add_argument("--pin", action="store_true", help="bind each worker to its CPUs (sweep --pin)")
    parser.add_argument("--specs", nargs="+", default=list(SPECS), choices=list(SPECS))
    args = parser.parse_args()
    cores = len(os.sched_getaffinity(0))
    print(f"python {platform.python_version()}, {cores} cores available, {args.trials} trials x "
          f"{args.epochs} epochs on {args.subset} examples per sweep"
          + (", workers bound to their CPUs" if args.pin else ""))
    print(f"{'spec':5}  {'setting':22}  {'wall s':>7}  {'trials/hour':>11}")
    ratios = {}
    with tempfile.TemporaryDirectory() as folder:
        for index, name in enumerate(args.specs):
            sweep = Path(folder) / f"{name}.yaml"
            sweep.write_text(SWEEP.format(name=name, spec=ROOT / "specs" / SPECS[name], epochs=args.epochs,
                                          subset=args.subset, seeds=", ".join(map(str, range(args.trials)))))
            order = list(SETTINGS) if index % 2 == 0 else list(SETTINGS)[::-1]
            rates = {}
            for setting in order:
                out = Path(folder) / f"{name}-{SETTINGS[setting][0]}w"
                seconds = time_sweep(sweep, out, *SETTINGS[setting], args.pin)
                rates[setting] = args.trials / seconds * 3600
                print(f"{name:5}  {setting:22}  {seconds:7.1f}  {rates[setting]:11.1f}")
            ratios[name] = rates["2 workers x 1 thread"] / rates["1 worker x 2 threads"]
    for name, ratio in ratios.items():
        print(f"{name}: ratio (2 workers x 1 thread) / (1 worker x 2 threads) = {ratio:.2f}")


if __name__ == "__main__":
    main()
