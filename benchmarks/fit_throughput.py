"""Samples per second of `archspec fit`'s training loop against the lecture's hand-written Keras.

The baseline is what the lecture writes: the same model, `model.compile(optimizer="adam", ...)`
and `model.fit(x, y, batch_size=128, epochs=E, validation_split=0.1)` on numpy arrays
(for the denoiser: one fixed noisy copy of the inputs). The runner is
`archspec.train.runner.fit_spec`, exactly what `archspec fit` calls (checkpointing and
history included). Both train on the same first N examples with the same
validation split; the two alternate inside each round (and swap order between
rounds) so that load from other processes on the machine hits both alike.

Throughput = training examples / epoch wall time (training + validation pass;
for the runner also its checkpoint write), taken over epochs 2..E so that
tracing and graph building (paid once) do not count; the first epoch is shown
separately. "ratio" compares the median epochs; "ratio, total time" compares
all timed epochs' examples over all their time, which is what a person waits
for: it counts the 1-2 s stall that starts about half of `model.fit`'s epochs
(see epoch_breakdown.py), which the median can step over or not by chance.
The machine is shared, so the same is also given per CPU second of this
process (time.process_time), which other processes' load disturbs less.
Both run with verbose=0 (no progress bar), which spares the baseline its
per-step progress-bar updates: a conservative comparison.

    python benchmarks/fit_throughput.py --rounds 3 --epochs 5
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("ARCHSPEC_DATA_DIR", str(ROOT.parent / "shared" / "data" / "mnist"))

from archspec.keras.backend import import_keras
from archspec.keras.compiler import compile_model
from archspec.spec.frontend import load_spec
from archspec.train import runs
from archspec.train.data import load_arrays, prepare

# spec -> examples used (first N of the training set): the U-Net is slow on a CPU
CASES = {
    "mlp_sequential": 60000,
    "mnist_cnn": 20000,
    "mnist_denoise_unet": 3000,
}


class EpochTimer:
    """A Keras callback recording each epoch's wall time (created lazily: Keras is imported late)."""

    @staticmethod
    def make(keras):
        class Timer(keras.callbacks.Callback):
            def __init__(self):
                super().__init__()
                self.times = []

            def on_epoch_begin(self, epoch, logs=None):
                self.started = (time.perf_counter(), time.process_time())

            def on_epoch_end(self, epoch, logs=None):
                wall, cpu = self.started
                self.times.append((time.perf_counter() - wall, time.process_time() - cpu))

        return Timer()


def baseline(spec_path: Path, examples: int, epochs: int) -> tuple[int, list]:
    """The lecture's script: model.fit on numpy arrays; returns (train examples, epoch times)."""
    keras = import_keras()
    spec = load_spec(spec_path)
    train = spec.train
    model = compile_model(spec)
    data = prepare(
        load_arrays(train.dataset), train.task, tuple(model.inputs[0].shape[1:]),
        tuple(model.outputs[0].shape[1:]),
        noise=tuple(next(iter(train.noise.items()))) if train.noise else None,
        validation_split=0.0, subset=examples,
    )
    x = data.x_train
    if data.noise is not None:  # the lecture: one fixed noisy copy for all epochs
        from archspec.train.data import add_noise_numpy

        x = add_noise_numpy(x, data.noise, seed=0)
    model.compile(optimizer="adam", loss=train.loss, metrics=list(train.metrics or []))
    timer = EpochTimer.make(keras)
    model.fit(x, data.y_train, batch_size=train.batch_size, epochs=epochs,
              validation_split=train.validation_split, callbacks=[timer], verbose=0)
    return round(len(x) * (1 - train.validation_split)), timer.times


def runner(spec_path: Path, examples: int, epochs: int, root: Path) -> tuple[int, list]:
    """`archspec fit` itself; the timer runs after its checkpoint writer, so that counts too."""
    from archspec.train.runner import fit_spec

    timer = EpochTimer.make(import_keras())
    run_dir = fit_spec(spec_path, runs_root=root, epochs=epochs, subset=examples, verbose=0, seed=0,
                       callbacks=[timer])
    return runs.read_json(run_dir / runs.METRICS_FILE)["train_samples"], timer.times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--epochs", type=int, default=3, help="per fit; epochs 2.. are timed")
    parser.add_argument("--specs", nargs="*", default=list(CASES))
    args = parser.parse_args()
    results = {name: {key: [] for key in ("keras", "archspec", "keras cpu", "archspec cpu",
                                           "keras first", "archspec first", "keras total", "archspec total")}
               for name in args.specs}
    with tempfile.TemporaryDirectory() as scratch:
        for round_index in range(args.rounds):
            for name in args.specs:
                path = ROOT / "specs" / f"{name}.yaml"
                order = ["keras", "archspec"] if round_index % 2 == 0 else ["archspec", "keras"]
                for who in order:
                    if who == "keras":
                        count, times = baseline(path, CASES[name], args.epochs)
                    else:
                        count, times = runner(path, CASES[name], args.epochs, Path(scratch))
                    results[name][who].extend(count / wall for wall, _ in times[1:])
                    results[name][who + " cpu"].extend(count / cpu for _, cpu in times[1:])
                    results[name][who + " first"].append(count / times[0][0])
                    results[name][who + " total"].extend((count, wall) for wall, _ in times[1:])
                    print(f"round {round_index + 1} {name:20s} {who:8s} first epoch "
                          f"{count / times[0][0]:8.0f}/s  then "
                          f"{', '.join(f'{count / wall:.0f}' for wall, _ in times[1:])}/s "
                          f"(per CPU second: {', '.join(f'{count / cpu:.0f}' for _, cpu in times[1:])})",
                          flush=True)
    print()
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs; "
          f"{args.rounds} rounds x {args.epochs} epochs; medians over epochs 2..{args.epochs}")
    print()
    print("| spec | examples | Keras samples/s | archspec samples/s | ratio | ratio, total time "
          "| ratio per CPU second | first epoch ratio |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for name in args.specs:
        total = {}
        for who in ("keras", "archspec"):
            pairs = results[name][who + " total"]
            total[who] = sum(count for count, _ in pairs) / sum(wall for _, wall in pairs)
        median = {key: statistics.median(values) for key, values in results[name].items() if "total" not in key}
        print(f"| {name} | {CASES[name]:,} | {median['keras']:,.0f} | {median['archspec']:,.0f} | "
              f"{median['archspec'] / median['keras']:.2f} | {total['archspec'] / total['keras']:.2f} | "
              f"{median['archspec cpu'] / median['keras cpu']:.2f} | "
              f"{median['archspec first'] / median['keras first']:.2f} |")


if __name__ == "__main__":
    main()
