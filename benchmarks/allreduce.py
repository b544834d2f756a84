"""All-reduce time of one step's gradients between two workers over 127.0.0.1, and a two-host projection.

A step of `archspec fit --strategy multiworker` sums every trainable weight's
gradient over the workers: Keras's optimizer all-reduces the list in one
batch, which MultiWorkerMirroredStrategy packs into one collective
(CommunicationOptions.bytes_per_pack = 0: one pack; RING on CPU hosts). This
script times exactly that, apart from compute: two worker processes
(TF_CONFIG on loopback ports) all-reduce float32 tensors shaped like the
spec's weights, `--calls` times inside one tf.function (no Python per call),
after a warm-up. Bytes per step = 4 x trainable parameters (what each worker
contributes; a ring of 2 sends that much per worker per step).

Projection for two hosts (each the whole machine, each computing half the
global batch): efficiency = t_compute / (t_compute + t_allreduce), with
t_allreduce = 2 x latency + bytes / bandwidth (a ring of n=2: two phases, each
one message of half the bytes each way) and t_compute the one-process time of
a half batch (`--step-ms`, e.g. from benchmarks/multiworker.py). No overlap of
compute and communication is assumed (Keras's optimizer reduces after the
backward pass), so the figures are a floor.

    python benchmarks/allreduce.py --spec specs/mnist_cnn.yaml --step-ms 20
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

LINKS = [(1.0, 0.1), (1.0, 1.0), (10.0, 0.1), (10.0, 1.0)]
"""(Gbit/s, one-way latency in ms) of the projected links."""


def weight_shapes(spec: str) -> list[tuple[int, ...]]:
    """The trainable weights' shapes of the spec's model (built once, not trained)."""
    from archspec.keras.compiler import compile_model

    model = compile_model(spec)
    return [tuple(int(size) for size in weight.shape) for weight in model.trainable_weights]


def worker(spec: str, calls: int) -> None:
    """One worker: all-reduce the weight-shaped tensors `calls` times; worker 0 prints seconds per call."""
    from archspec.keras.backend import import_tensorflow

    tf = import_tensorflow()
    strategy = tf.distribute.MultiWorkerMirroredStrategy()  # before any op runs
    shapes = weight_shapes(spec)
    with strategy.scope():
        tensors = [tf.Variable(tf.ones(shape)) for shape in shapes]

    def reduce_once() -> None:
        context = tf.distribute.get_replica_context()
        summed = context.all_reduce(tf.distribute.ReduceOp.SUM, [tensor.read_value() for tensor in tensors])
        tensors[0].assign(summed[0] * 0.5)

    @tf.function
    def reduce_many(count: tf.Tensor) -> None:
        for _ in tf.range(count):
            strategy.run(reduce_once)

    reduce_many(tf.constant(3))
    start = time.perf_counter()
    reduce_many(tf.constant(calls))
    seconds = (time.perf_counter() - start) / calls
    if json.loads(os.environ["TF_CONFIG"])["task"]["index"] == 0:
        print(json.dumps({"seconds": seconds, "bytes": 4 * sum(_count(shape) for shape in shapes)}))


def _count(shape: tuple[int, ...]) -> int:
    total = 1
    for size in shape:
        total *= size
    return total


def measure(spec: str, calls: int) -> dict[str, float]:
    """Start two workers on loopback; return worker 0's {"seconds": per all-reduce, "bytes": per worker}."""
    from benchmarks.multiworker import free_ports

    ports = free_ports(2)
    processes = []
    for index in (1, 0):
        config = {"cluster": {"worker": [f"127.0.0.1:{port}" for port in ports]},
                  "task": {"type": "worker", "index": index}}
        env = {**os.environ, "PYTHONPATH": str(ROOT), "TF_CONFIG": json.dumps(config),
               "TF_NUM_INTRAOP_THREADS": "1", "TF_NUM_INTEROP_THREADS": "1"}
        processes.append(subprocess.Popen([sys.executable, __file__, "--worker", "--spec", spec,
                                           "--calls", str(calls)], env=env, stdout=subprocess.PIPE,
                                          stderr=subprocess.PIPE, text=True))
    outputs = [process.communicate(timeout=600) for process in processes]
    if any(process.returncode for process in processes):
        sys.exit("an all-reduce worker failed:\n" + "\n".join(err[-2000:] for _, err in outputs))
    return json.loads(outputs[1][0].strip().splitlines()[-1])


def projection(step_ms: float, bytes_: float) -> list[tuple[float, float, float, float]]:
    """(Gbit/s, latency ms, all-reduce ms, efficiency) per link, for two hosts."""
    rows = []
    for gbit, latency_ms in LINKS:
        reduce_ms = 2 * latency_ms + bytes_ * 8 / (gbit * 1e9) * 1e3
        rows.append((gbit, latency_ms, reduce_ms, step_ms / (step_ms + reduce_ms)))
    return rows


def report(spec: str, measured: dict[str, float], step_ms: float | None) -> None:
    print(f"{spec}: {measured['bytes'] / 1e6:.2f} MB of gradients per worker per step, "
          f"all-reduce over 127.0.0.1 {measured['seconds'] * 1e3:.2f} ms")
    if step_ms is None:
        return
    print(f"two hosts, compute {step_ms:.1f} ms per half-batch step:")
    print(f"{'link':>10} {'latency':>9} {'all-reduce':>11} {'efficiency':>11}")
    for gbit, latency_ms, reduce_ms, efficiency in projection(step_ms, measured["bytes"]):
        print(f"{gbit:>7g} Gb {latency_ms:>6g} ms {reduce_ms:>8.2f} ms {efficiency:>11.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--spec", default=str(ROOT / "specs" / "mnist_cnn.yaml"))
    parser.add_argument("--calls", type=int, default=200)
    parser.add_argument("--step-ms", type=float, help="one process's compute time of a half-batch step")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    options = parser.parse_args()
    if options.worker:
        worker(options.spec, options.calls)
        return
    report(options.spec, measure(options.spec, options.calls), options.step_ms)


if __name__ == "__main__":
    main()
