"""Import the five PyTorch test models from ONNX, render each spec, train each one `archspec fit` epoch.

The models are those of tests/onnx_models.py (a ResNet-18 layout, MobileNetV2 blocks, a U-Net, an LSTM
classifier, a tiny ViT), with random weights, each taking MNIST-shaped images (1 x 28 x 28). For each:
`archspec import MODEL.onnx -o MODEL.yaml` (which checks the spec's model against onnxruntime within
1e-4 before it writes anything) and its largest difference, spec lines and blocks; `archspec render`;
and `archspec fit --epochs 1 --subset N --init-weights MODEL.weights.h5` (the U-Net as an autoencoder).
A model the importer refuses is listed with the first line of its message.

    python benchmarks/import_onnx.py [--subset 256] [--only NAME ...] [--no-fit] [--markdown]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

import onnx_models

from archspec.keras.importer.onnx import OnnxImportError, import_onnx

DATA = Path(os.environ.get("ARCHSPEC_DATA_DIR", ROOT.parent.parent / "shared" / "data" / "mnist"))
TASKS = {"unet": "autoencode"}
FIXED_BATCH = {"lstm": 2, "vit": 2}
"""Recurrent exports read the batch size from the input's shape unless it is fixed (docs/import.md)."""


def cli(*args: str) -> tuple[float, str]:
    start = time.perf_counter()
    env = {**os.environ, "TF_ENABLE_ONEDNN_OPTS": "0"}  # oneDNN's Conv2DBackpropFilter crashed now and then here
    done = subprocess.run([sys.executable, "-m", "archspec.cli", *args], capture_output=True, text=True, env=env)
    if done.returncode:
        raise RuntimeError(f"archspec {' '.join(args)} failed: {done.stderr.strip().splitlines()[-1]}")
    return time.perf_counter() - start, done.stdout


def measure(name: str, folder: Path, subset: int, fit: bool, data: Path) -> dict:
    path = onnx_models.export(onnx_models.MODELS[name](), (1, 28, 28), folder / f"{name}.onnx",
                              batch=FIXED_BATCH.get(name))
    row: dict = {"model": name}
    start = time.perf_counter()
    try:
        result = import_onnx(path)
    except OnnxImportError as error:
        message = str(error).split(": ", 1)[1]
        return {**row, "refused": message[:160] + ("..." if len(message) > 160 else "")}
    spec = folder / f"{name}.yaml"
    row["import_s"] = round(time.perf_counter() - start, 1)
    spec.write_text(result.text)
    result.model.save_weights(folder / f"{name}.weights.h5")
    lines = [line for line in result.text.splitlines() if line.strip() and not line.lstrip().startswith("#")]
    row.update(params=result.model.count_params(), max_diff=f"{result.max_difference:.1e}", spec_lines=len(lines),
               blocks="\nblocks:\n" in result.text)
    row["render_s"] = round(cli("render", str(spec), "-o", str(folder / f"{name}.svg"))[0], 1)
    if fit:
        seconds, _ = cli("fit", str(spec), "--epochs", "1", "--subset", str(subset), "--data-dir", str(data),
                              "--task", TASKS.get(name, "classify"), "--out", str(folder / f"run-{name}"),
                              "--init-weights", str(folder / f"{name}.weights.h5"))
        metrics = json.loads((folder / f"run-{name}" / "metrics.json").read_text())
        row.update(fit_s=round(seconds, 1), test_loss=round(metrics["test"]["loss"], 3))
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--subset", type=int, default=256)
    parser.add_argument("--only", nargs="*", default=list(onnx_models.MODELS))
    parser.add_argument("--no-fit", action="store_true")
    parser.add_argument("--data-dir", type=Path, default=DATA)
    parser.add_argument("--markdown", action="store_true")
    args = parser.parse_args()
    columns = ["model", "params", "max_diff", "spec_lines", "blocks", "import_s", "render_s", "fit_s", "test_loss",
               "refused"]
    with tempfile.TemporaryDirectory() as folder:
        rows = [measure(name, Path(folder), args.subset, not args.no_fit, args.data_dir) for name in args.only]
    if args.markdown:
        print("| " + " | ".join(columns) + " |\n|" + "---|" * len(columns))
        for row in rows:
            print("| " + " | ".join(str(row.get(column, "")) for column in columns) + " |")
    else:
        for row in rows:
            print(json.dumps(row))


if __name__ == "__main__":
    main()
