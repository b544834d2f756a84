"""Import every keras.applications constructor (weights=None), compile the spec, compare.

For each of the 40 models (with include_top, and with --no-top without it): parameters of the
Keras model and of the compiled spec (equal), the max abs output difference with the weights
copied by node name on 2 random images at the model's default input size, spec lines (non-blank,
non-comment), the blocks the spec defines, and the seconds to import (read + the importer's own
compile-and-compare check) and to compile the spec.

    python benchmarks/import_zoo.py [--no-top] [--only NAME ...] [--markdown]
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import yaml

from archspec.keras.backend import import_keras
from archspec.keras.compiler import compile_model
from archspec.keras.importer import import_model, read_spec
from archspec.keras.importer.verify import copy_weights
from archspec.spec.frontend import loads_spec

MODELS = [
    "ConvNeXtTiny", "ConvNeXtSmall", "ConvNeXtBase", "ConvNeXtLarge", "ConvNeXtXLarge",
    "DenseNet121", "DenseNet169", "DenseNet201",
    *(f"EfficientNetB{index}" for index in range(8)),
    "EfficientNetV2B0", "EfficientNetV2B1", "EfficientNetV2B2", "EfficientNetV2B3",
    "EfficientNetV2S", "EfficientNetV2M", "EfficientNetV2L",
    "InceptionResNetV2", "InceptionV3", "MobileNet", "MobileNetV2", "MobileNetV3Small", "MobileNetV3Large",
    "NASNetMobile", "NASNetLarge", "ResNet50", "ResNet101", "ResNet152", "ResNet50V2", "ResNet101V2",
    "ResNet152V2", "VGG16", "VGG19", "Xception",
]


def measure(keras, name: str, top: bool) -> dict:
    model = getattr(keras.applications, name)(weights=None, include_top=top)
    start = time.perf_counter()
    text = import_model(model, f"keras.applications.{name}")
    imported = time.perf_counter() - start
    start = time.perf_counter()
    rebuilt = compile_model(loads_spec(text, f"{name}.yaml"))
    compiled = time.perf_counter() - start
    _, reader = read_spec(model)
    copy_weights(rebuilt, reader.layers)
    shape = (2, *(size or 224 for size in model.input_shape[1:]))
    batch = np.random.default_rng(0).uniform(0, 255, size=shape).astype("float32")
    difference = float(np.abs(np.asarray(rebuilt(batch)) - np.asarray(model(batch))).max())
    return {"model": name, "top": top, "params": model.count_params(), "spec_params": rebuilt.count_params(),
            "diff": difference, "lines": spec_lines(text), "blocks": block_count(text),
            "import_s": imported, "compile_s": compiled}


def spec_lines(text: str) -> int:
    """Non-blank, non-comment lines (as benchmarks/concision.py counts them)."""
    return sum(1 for line in text.splitlines() if line.strip() and not line.strip().startswith("#"))


def block_count(text: str) -> int:
    """The blocks an imported spec defines (the entries of its `blocks:` section)."""
    return len(yaml.safe_load(text).get("blocks") or {})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--no-top", action="store_true", help="include_top=False instead of True")
    parser.add_argument("--only", nargs="*", default=None, help="model names (default: all 40)")
    arguments = parser.parse_args()
    keras = import_keras()
    print("| model | top | params (Keras) | params (spec) | max abs diff | spec lines | blocks | import s "
          "| compile s |")
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|")
    for name in arguments.only or MODELS:
        try:
            row = measure(keras, name, not arguments.no_top)
        except Exception as error:
            print(f"| {name} | {not arguments.no_top} | failed: {type(error).__name__}: "
                  f"{str(error).splitlines()[0][:160]} ||||||||")
            continue
        print(f"| {row['model']} | {row['top']} | {row['params']:,} | {row['spec_params']:,} | {row['diff']:.1e} "
              f"| {row['lines']} | {row['blocks']} | {row['import_s']:.1f} | {row['compile_s']:.1f} |", flush=True)


if __name__ == "__main__":
    main()
