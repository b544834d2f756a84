"""The lecture's experiment: the denoising autoencoder without skips vs the U-Net, same settings.

Both specs (specs/mnist_denoise_ae.yaml, specs/mnist_denoise_unet.yaml) are
trained by `archspec fit`'s runner with identical settings (seed, batch size,
epochs, data, Adam 1e-3) at gaussian noise 0.3, 0.5 and 0.7, and evaluated on
the same fixed noisy copy of the test set.

Binary cross-entropy against grey-level targets cannot reach 0: its floor is
the entropy of the clean test images (0.0581 for MNIST's test set, computed
here), so the table also gives the excess over that floor, where differences
between models show, and the PSNR of the denoised test images.

    python benchmarks/skip_connections.py --epochs 1               # full MNIST, CPU
    python benchmarks/skip_connections.py --epochs 20              # the lecture's setting
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("ARCHSPEC_DATA_DIR", str(ROOT.parent / "shared" / "data" / "mnist"))

import numpy as np

from archspec.train import runs
from archspec.train.compare import compare_runs
from archspec.train.data import load_arrays

MODELS = {"no skips": "mnist_denoise_ae", "U-Net": "mnist_denoise_unet"}
EPSILON = 1e-7  # Keras clips probabilities to [eps, 1 - eps] in binary cross-entropy


def bce_floor(images: np.ndarray) -> float:
    """The mean binary cross-entropy of the clean images with themselves: their entropy."""
    p = np.clip(images.astype(np.float64) / 255.0, EPSILON, 1 - EPSILON)
    return float(np.mean(-(p * np.log(p) + (1 - p) * np.log(1 - p))))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--noise", type=float, nargs="*", default=[0.3, 0.5, 0.7])
    parser.add_argument("--subset", type=int, default=None, help="first N train and test examples")
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=ROOT / "runs" / f"skip-{time.strftime('%Y%m%d-%H%M%S')}")
    args = parser.parse_args()
    from archspec.train.runner import fit_spec

    test_images = load_arrays("mnist").x_test[: args.subset]
    floor = bce_floor(test_images)
    results = {}
    for noise in args.noise:
        for label, spec in MODELS.items():
            run_dir = fit_spec(
                ROOT / "specs" / f"{spec}.yaml", out=args.out / f"{spec}-noise{noise}",
                epochs=args.epochs, batch_size=args.batch_size, seed=args.seed,
                subset=args.subset, noise={"gaussian": noise}, verbose=2,
            )
            results[noise, label] = (run_dir, runs.read_json(run_dir / runs.METRICS_FILE))
    print()
    print(f"machine: {platform.machine()}, {os.cpu_count()} CPUs; epochs {args.epochs}, "
          f"batch {args.batch_size}, seed {args.seed}, examples: {args.subset or 'all'}; "
          f"BCE floor (entropy of the clean test images) {floor:.4f}")
    print()
    print("| noise | model | train BCE | test BCE | excess over floor | test PSNR dB | samples/s |")
    print("|---:|---|---:|---:|---:|---:|---:|")
    for noise in args.noise:
        for label in MODELS:
            metrics = results[noise, label][1]
            test = metrics["test"]
            print(f"| {noise} | {label} | {metrics['train']['loss']:.4f} | {test['loss']:.4f} | "
                  f"{test['loss'] - floor:.4f} | {test['psnr']:.2f} | {metrics['samples_per_s']:.0f} |")
    print()
    print("| noise | test BCE: U-Net vs no skips | excess over floor | PSNR gain dB | U-Net better on all? |")
    print("|---:|---:|---:|---:|---|")
    for noise in args.noise:
        plain, unet = results[noise, "no skips"][1]["test"], results[noise, "U-Net"][1]["test"]
        better = unet["loss"] < plain["loss"] and unet["psnr"] > plain["psnr"]
        print(f"| {noise} | {(plain['loss'] - unet['loss']) / plain['loss']:+.1%} | "
              f"{(plain['loss'] - unet['loss']) / (plain['loss'] - floor):+.1%} | "
              f"{unet['psnr'] - plain['psnr']:+.2f} | {'yes' if better else 'NO'} |")
    middle = args.noise[len(args.noise) // 2]
    table = compare_runs([results[middle, label][0] for label in MODELS], args.out / "compare")
    print()
    print(table)
    print(f"\nsample image: {args.out / 'compare' / 'compare_samples.png'}")


if __name__ == "__main__":
    main()
