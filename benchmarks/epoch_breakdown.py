"""Where an epoch of a small model goes: compute, per-step overhead, and the stall at epoch start.

For each spec, three ways of training the same model on the same data, in one process:

- `keras`: the lecture's script, `model.fit(x, y)` on numpy arrays, one step per call;
- `keras x32`: the same with `steps_per_execution=32` (no per-step Python/callback work);
- `archspec`: `archspec.train.runner.fit_spec`, what `archspec fit` runs (its pipeline, 32 steps per call).

A callback timestamps every call into the graph. Per epoch it reports the
median time per training step inside the epoch (compute plus per-step
overhead) and the stall: how much longer the epoch's first call took than the
median call (the time spent before the first batch is computed: creating the
epoch's iterator and destroying the last one). No validation split, so only
the training iterator counts. Epoch 1 (tracing) is left out.

    python benchmarks/epoch_breakdown.py --epochs 8
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
os.environ.setdefault("ARCHSPEC_DATA_DIR", str(ROOT.parent / "shared" / "data" / "mnist"))

from archspec.keras.backend import import_keras
from archspec.keras.compiler import compile_model
from archspec.spec.frontend import load_spec
from archspec.train.data import load_arrays, prepare

CASES = {"mlp_sequential": 60000, "mnist_cnn": 20000}  # spec -> examples (as in fit_throughput.py)
BATCH = 128
STALL_MS = 500  # a first call this much slower than the median call counts as a stall


def call_timer(keras, steps_per_call: int) -> tuple[object, list[dict]]:
    """A callback recording, per epoch, the wall time of each call into the graph."""
    epochs: list[dict] = []

    class Timer(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            self.calls, self.last = [], time.perf_counter()

        def on_train_batch_end(self, batch, logs=None):
            now = time.perf_counter()
            self.calls.append(1000 * (now - self.last))
            self.last = now

        def on_epoch_end(self, epoch, logs=None):
            median = statistics.median(self.calls[1:])
            epochs.append({"step_ms": median / steps_per_call, "stall_ms": self.calls[0] - median,
                           "epoch_s": sum(self.calls) / 1000})

    return Timer(), epochs


def keras_fit(name: str, examples: int, epochs: int, steps_per_call: int) -> list[dict]:
    keras = import_keras()
    model = compile_model(load_spec(ROOT / "specs" / f"{name}.yaml"))
    data = prepare(load_arrays("mnist"), "classify", tuple(model.inputs[0].shape[1:]), (10,),
                   validation_split=0.0, subset=examples)
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"],
                  steps_per_execution=steps_per_call)
    timer, records = call_timer(keras, steps_per_call)
    model.fit(data.x_train, data.y_train, batch_size=BATCH, epochs=epochs, verbose=0, callbacks=[timer])
    return records[1:]


def archspec_fit(name: str, examples: int, epochs: int) -> list[dict]:
    from archspec.train.compiling import MAX_STEPS_PER_EXECUTION
    from archspec.train.runner import fit_spec

    timer, records = call_timer(import_keras(), MAX_STEPS_PER_EXECUTION)
    with tempfile.TemporaryDirectory() as root:
        fit_spec(ROOT / "specs" / f"{name}.yaml", runs_root=root, epochs=epochs, subset=examples, verbose=0,
                 seed=0, batch_size=BATCH, callbacks=[timer], spec_overrides=["train.validation_split=0"])
    return records[1:]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=8, help="per fit; epochs 2.. are reported")
    args = parser.parse_args()
    rows = []
    for name, examples in CASES.items():
        for who in ("keras", "keras x32", "archspec"):
            if who == "archspec":
                records = archspec_fit(name, examples, args.epochs)
            else:
                records = keras_fit(name, examples, args.epochs, 32 if who == "keras x32" else 1)
            stalls = [r["stall_ms"] for r in records if r["stall_ms"] > STALL_MS]
            rows.append((name, who, statistics.median(r["step_ms"] for r in records),
                         len(stalls), len(records), statistics.mean(stalls) if stalls else 0.0,
                         statistics.mean(r["epoch_s"] for r in records)))
            print(f"{name:16s} {who:10s} " + ", ".join(
                f"{r['epoch_s']:.2f}s (stall {r['stall_ms']:.0f} ms)" for r in records), flush=True)
    print()
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs; batch {BATCH}; "
          f"epochs 2..{args.epochs}; a stall is a first call > {STALL_MS} ms slower than the median call")
    print()
    print("| spec | trainer | median ms/step | epochs with a stall | mean stall ms | mean epoch s |")
    print("|---|---|---:|---:|---:|---:|")
    for name, who, step, stalled, count, stall, epoch in rows:
        print(f"| {name} | {who} | {step:.2f} | {stalled} of {count} | {stall:.0f} | {epoch:.2f} |")


if __name__ == "__main__":
    main()
