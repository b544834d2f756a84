"""Training throughput of `archspec fit` on the JAX and PyTorch backends, as ratios to TensorFlow.

Each (backend, model) pair is one `archspec fit --backend B` in its own
process (Keras fixes its backend per process), on the first N MNIST examples,
with the same seed, batch size and settings the runner picks for that backend
(several steps per call on TensorFlow and JAX; one on PyTorch, which Keras
requires). Throughput = training examples / epoch wall time, the median over
epochs 2..E, so tracing and compilation (paid in epoch 1) do not count; epoch
1 is shown separately. Within each round the backends alternate per model, so
load from other processes on a shared machine hits them alike; the ratio is
the median over rounds of backend / TensorFlow.

    python benchmarks/backends.py --epochs 3 --rounds 1
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("ARCHSPEC_DATA_DIR", str(ROOT.parent / "shared" / "data" / "mnist"))

BACKENDS = ("tensorflow", "jax", "torch")
# spec -> training examples (first N): the U-Net is slow on a CPU
CASES = {"mlp_sequential": 20000, "mnist_cnn": 5000, "mnist_denoise_unet": 1000}


def fit_epochs(spec: str, backend: str, examples: int, epochs: int, folder: Path) -> tuple[int, list[float]]:
    """Train once; return the training examples and each epoch's seconds (from the run's history.csv)."""
    out = folder / f"{spec}-{backend}"
    command = [sys.executable, "-m", "archspec.cli", "fit", str(ROOT / "specs" / f"{spec}.yaml"),
               "--backend", backend, "--epochs", str(epochs), "--subset", str(examples), "--seed", "0",
               "--out", str(out)]
    result = subprocess.run(command, capture_output=True, text=True, cwd=ROOT,
                            env={**os.environ, "PYTHONPATH": str(ROOT)})
    if result.returncode != 0:
        raise SystemExit(f"{spec} on {backend} failed:\n{result.stderr[-2000:]}")
    with (out / "history.csv").open() as handle:
        times = [float(row["time_s"]) for row in csv.DictReader(handle)]
    samples = json.loads((out / "metrics.json").read_text())["train_samples"]
    return samples, times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=3, help="epochs per run (>= 2; epoch 1 is not timed)")
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--scale", type=float, default=1.0, help="multiply every model's example count")
    args = parser.parse_args()
    if args.epochs < 2:
        parser.error("--epochs must be at least 2: epoch 1 (compilation) is not timed")
    rates: dict[tuple[str, str], list[float]] = {}
    first: dict[tuple[str, str], list[float]] = {}
    with tempfile.TemporaryDirectory() as folder:
        for round_ in range(args.rounds):
            for spec, examples in CASES.items():
                order = BACKENDS if round_ % 2 == 0 else tuple(reversed(BACKENDS))
                for backend in order:
                    samples, times = fit_epochs(spec, backend, max(256, int(examples * args.scale)), args.epochs,
                                                Path(folder) / str(round_))
                    rates.setdefault((spec, backend), []).append(samples / statistics.median(times[1:]))
                    first.setdefault((spec, backend), []).append(times[0])
    print(f"python {platform.python_version()}, {os.cpu_count()} CPUs, {args.epochs} epochs, "
          f"{args.rounds} round(s), scale {args.scale}")
    print(f"{'model':<20} {'backend':<11} {'samples/s':>10} {'epoch 1 s':>10} {'vs tensorflow':>14}")
    for spec in CASES:
        baseline = rates[(spec, "tensorflow")]
        for backend in BACKENDS:
            ratio = statistics.median(r / b for r, b in zip(rates[(spec, backend)], baseline))
            print(f"{spec:<20} {backend:<11} {statistics.median(rates[(spec, backend)]):>10.0f} "
                  f"{statistics.median(first[(spec, backend)]):>10.1f} {ratio:>13.2f}x")


if __name__ == "__main__":
    main()
