"""Training samples/s and peak memory of a U-Net and a ResNet-style zoo model: TF default, mixed precision, XLA.

Each (model, variant) runs in its own process (Keras's dtype policy is
global): the spec is compiled, then trained with `model.fit` on random
arrays of the model's input and output shapes (MSE loss against random
targets: the arithmetic of a step, without the data pipeline) for `--steps`
steps after one warm-up epoch that pays for tracing and compilation.
Variants: `default` (float32, Keras's jit_compile "auto"), `mixed`
(mixed_float16 policy), `xla` (jit_compile=True). Memory is the GPU's peak
allocation (tf.config.experimental.get_memory_info) on a GPU and the peak
resident set of the process on a CPU.

Without a GPU the script runs the same comparison on the CPU and says so:
mixed precision on a CPU is emulated and is no guide to a GPU.

    python benchmarks/gpu.py --steps 20 --batch-size 64
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

MODELS = {"unet": ROOT / "specs" / "zoo" / "unet_residual.yaml", "resnet18": ROOT / "specs" / "zoo" / "resnet18.yaml"}
VARIANTS = ("default", "mixed", "xla")


def run_one(spec: Path, variant: str, batch_size: int, steps: int) -> dict[str, float | str]:
    """Train one model in this process; samples/s over `steps` steps after a warm-up epoch."""
    import numpy as np

    from archspec.keras.backend import import_keras, import_tensorflow
    from archspec.keras.compiler import compile_model

    keras, tf = import_keras(), import_tensorflow()
    gpus = tf.config.list_physical_devices("GPU")
    if variant == "mixed":
        keras.mixed_precision.set_global_policy("mixed_float16")
    model = compile_model(spec)
    model.compile(optimizer="adam", loss="mse", jit_compile=True if variant == "xla" else "auto",
                  steps_per_execution=steps)
    rng = np.random.default_rng(0)
    x = rng.random((batch_size * steps, *model.input_shape[1:]), dtype=np.float32)
    y = rng.random((batch_size * steps, *model.output_shape[1:]), dtype=np.float32)
    model.fit(x, y, batch_size=batch_size, epochs=1, verbose=0)  # tracing and compilation
    if gpus:
        tf.config.experimental.reset_memory_stats("GPU:0")
    start = time.perf_counter()
    model.fit(x, y, batch_size=batch_size, epochs=1, verbose=0)
    seconds = time.perf_counter() - start
    if gpus:
        memory = tf.config.experimental.get_memory_info("GPU:0")["peak"]
    else:
        memory = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    return {"device": "GPU" if gpus else "CPU", "samples_s": batch_size * steps / seconds,
            "memory_mb": memory / 2**20}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--models", default=",".join(MODELS), help=f"comma-separated, of {', '.join(MODELS)}")
    parser.add_argument("--one", nargs=2, metavar=("MODEL", "VARIANT"), help=argparse.SUPPRESS)
    options = parser.parse_args()
    if options.one:
        model, variant = options.one
        print(json.dumps(run_one(MODELS[model], variant, options.batch_size, options.steps)))
        return
    rows = []
    for model in options.models.split(","):
        for variant in VARIANTS:
            result = subprocess.run(
                [sys.executable, __file__, "--one", model, variant, "--steps", str(options.steps),
                 "--batch-size", str(options.batch_size)],
                capture_output=True, text=True, env={**os.environ, "PYTHONPATH": str(ROOT)})
            if result.returncode:
                sys.exit(f"{model} {variant} failed:\n{result.stderr[-2000:]}")
            rows.append((model, variant, json.loads(result.stdout.strip().splitlines()[-1])))
    device = rows[0][2]["device"]
    if device == "CPU":
        print("no GPU here: the CPU part only (mixed precision is emulated on a CPU; no guide to a GPU)")
    print(f"{device}, batch {options.batch_size}, {options.steps} timed steps after a warm-up epoch")
    print(f"{'model':<10} {'variant':<8} {'samples/s':>10} {'peak MB':>9} {'vs default':>11}")
    base = {model: values["samples_s"] for model, variant, values in rows if variant == "default"}
    for model, variant, values in rows:
        print(f"{model:<10} {variant:<8} {values['samples_s']:>10.0f} {values['memory_mb']:>9.0f} "
              f"{values['samples_s'] / base[model]:>10.2f}x")


if __name__ == "__main__":
    main()
