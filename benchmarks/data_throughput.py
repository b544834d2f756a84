"""Samples per second of `archspec fit --data FOLDER` against Keras's own image-folder loader.

The baseline is what a Keras user writes for a folder of class folders:
`keras.utils.image_dataset_from_directory(folder, image_size=..., batch_size=B,
validation_split=0.2, subset="both")`, scaled to [0, 1], and `model.fit` on
the same compiled model (the spec's, built by archspec), validating on half
of its 20% (so both validate on 10%). archspec trains on its own 80/10/10
split of the same files, streamed (cache: none: every epoch decodes the
PNGs again, as the baseline does). Each fit runs in its own process (so
its peak RSS is its own), the two alternating per round.

Throughput = training examples / epoch wall time, median of epochs 2..E (the
first, which traces the graphs and warms the file cache, is shown apart);
"per CPU s" divides by the process's CPU time in the epoch instead (all its
threads), which other jobs on a shared machine disturb less. archspec's
epochs include what `archspec fit` does at each epoch's end (a checkpoint,
history rows, TensorBoard scalars); the baseline writes nothing.
The folder is written once from MNIST (RGB PNGs, --size pixels a side) into a
temporary folder, unless --folder names one.

    python benchmarks/data_throughput.py --images 20000 --rounds 2 --epochs 4
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
MNIST = Path(os.environ.get("ARCHSPEC_DATA_DIR", ROOT.parent / "shared" / "data" / "mnist"))

SPEC = """\
archspec: 1
name: folder_cnn
inputs:
  image: [SIZE, SIZE, 3]
edges: image -> conv2d(16, 3, activation=relu) -> max_pool2d -> conv2d(32, 3, activation=relu) -> max_pool2d
  -> flatten -> dense(10, softmax)
train: {task: classify, batch_size: BATCH, seed: 0, data: {split: {val: 0.1, test: 0.1}}}
"""


def write_folder(folder: Path, count: int, size: int) -> None:
    from tests.data_maker import mnist_digits, write_image_folder

    images, labels = mnist_digits(MNIST, count)
    write_image_folder(folder, images, labels, size=size)


def epoch_timer(keras):
    class Timer(keras.callbacks.Callback):
        def __init__(self):
            super().__init__()
            self.times, self.cpu = [], []

        def on_epoch_begin(self, epoch, logs=None):
            self.started, self.cpu_started = time.perf_counter(), time.process_time()

        def on_epoch_end(self, epoch, logs=None):
            self.times.append(time.perf_counter() - self.started)
            self.cpu.append(time.process_time() - self.cpu_started)

    return Timer()


def run_keras(spec: Path, folder: Path, size: int, batch: int, epochs: int) -> tuple[int, Any]:
    from archspec.keras.backend import import_keras
    from archspec.keras.compiler import compile_model

    keras = import_keras()
    train, rest = keras.utils.image_dataset_from_directory(
        folder, image_size=(size, size), batch_size=batch, validation_split=0.2, subset="both", seed=0)
    count = sum(int(x.shape[0]) for x, _ in train)
    train = train.map(lambda x, y: (x / 255.0, y)).prefetch(-1)
    val = rest.take(len(rest) // 2).map(lambda x, y: (x / 255.0, y)).prefetch(-1)
    model = compile_model(spec)
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    timer = epoch_timer(keras)
    model.fit(train, validation_data=val, epochs=epochs, callbacks=[timer], verbose=0)
    return count, timer


def run_archspec(spec: Path, folder: Path, epochs: int, out: Path) -> tuple[int, Any]:
    from archspec.keras.backend import import_keras
    from archspec.train.runner import fit_spec

    timer = epoch_timer(import_keras())
    run_dir = fit_spec(spec, runs_root=out, epochs=epochs, data=str(folder), verbose=0, callbacks=[timer])
    return json.loads((run_dir / "metrics.json").read_text())["train_samples"], timer


def worker(args: argparse.Namespace) -> None:
    if args.worker == "keras":
        count, timer = run_keras(args.spec, args.folder, args.size, args.batch, args.epochs)
    else:
        count, timer = run_archspec(args.spec, args.folder, args.epochs, args.out)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"count": count, "times": timer.times, "cpu": timer.cpu, "peak_mb": peak_mb}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=20000)
    parser.add_argument("--size", type=int, default=32, help="image side in pixels")
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--epochs", type=int, default=4, help="per fit; epochs 2.. are timed")
    parser.add_argument("--folder", type=Path, help="an existing folder of class folders (default: written)")
    parser.add_argument("--worker", choices=["keras", "archspec"], help=argparse.SUPPRESS)
    parser.add_argument("--spec", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(args)
        return
    with tempfile.TemporaryDirectory() as scratch:
        scratch_path = Path(scratch)
        folder = args.folder or scratch_path / "digits"
        if args.folder is None:
            started = time.perf_counter()
            write_folder(folder, args.images, args.size)
            print(f"wrote {args.images:,} PNGs in {time.perf_counter() - started:.0f} s", flush=True)
        spec = scratch_path / "folder_cnn.yaml"
        spec.write_text(SPEC.replace("SIZE", str(args.size)).replace("BATCH", str(args.batch)))
        results: dict[str, dict[str, list]] = {who: {"rate": [], "first": [], "peak": [], "cpu_rate": []}
                                               for who in ("keras", "archspec")}
        for round_index in range(args.rounds):
            for who in (["keras", "archspec"] if round_index % 2 == 0 else ["archspec", "keras"]):
                command = [sys.executable, __file__, "--worker", who, "--spec", str(spec), "--folder", str(folder),
                           "--out", str(scratch_path / "runs"), "--epochs", str(args.epochs),
                           "--size", str(args.size), "--batch", str(args.batch)]
                environment = {**os.environ, "PYTHONPATH": str(ROOT)}
                done = subprocess.run(command, capture_output=True, text=True, env=environment)
                if done.returncode:
                    sys.exit(f"{who} failed:\n{done.stderr[-3000:]}")
                result = json.loads(done.stdout.strip().splitlines()[-1])
                count, times = result["count"], result["times"]
                results[who]["rate"].extend(count / wall for wall in times[1:])
                results[who]["cpu_rate"].extend(count / cpu for cpu in result["cpu"][1:])
                results[who]["first"].append(count / times[0])
                results[who]["peak"].append(result["peak_mb"])
                print(f"round {round_index + 1} {who:8s} {count:,} train images: "
                      f"first epoch {count / times[0]:6.0f}/s, "
                      f"then {', '.join(f'{count / wall:.0f}' for wall in times[1:])}/s "
                      f"({', '.join(f'{count / cpu:.0f}' for cpu in result['cpu'][1:])} per CPU s); peak RSS "
                      f"{result['peak_mb']:.0f} MB", flush=True)
    keras, ours = ({key: statistics.median(values) for key, values in results[who].items()}
                   for who in ("keras", "archspec"))
    print()
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs; {args.images:,} "
          f"{args.size}x{args.size} RGB PNGs, batch {args.batch}; {args.rounds} rounds x {args.epochs} epochs; "
          f"medians over epochs 2..{args.epochs}")
    print()
    print("| loader | samples/s | samples per CPU s | first epoch samples/s | peak RSS MB |")
    print("|---|---:|---:|---:|---:|")
    for name, figures in (("keras image_dataset_from_directory + model.fit", keras), ("archspec fit --data", ours)):
        print(f"| {name} | {figures['rate']:,.0f} | {figures['cpu_rate']:,.0f} | {figures['first']:,.0f} | "
              f"{figures['peak']:,.0f} |")
    print(f"| ratio archspec / keras | {ours['rate'] / keras['rate']:.2f} | "
          f"{ours['cpu_rate'] / keras['cpu_rate']:.2f} | {ours['first'] / keras['first']:.2f} | "
          f"{ours['peak'] / keras['peak']:.2f} |")


if __name__ == "__main__":
    main()
