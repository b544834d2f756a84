"""Prove a change keeps every spec compiling to the same model: record fingerprints before, compare after.

    python -m tests.model_fingerprint record before.pkl [SPEC ...]   # on the old code
    python -m tests.model_fingerprint compare before.pkl [SPEC ...]  # on the new code

A fingerprint is the parameter count, the layers (names and classes, in
order), the `codegen` text and the outputs on a fixed input once every
weight is set from a seed derived from its layer's name, so two builds of the
same model agree bit for bit. SPEC defaults to specs/*.yaml. Exit 1 on any
difference.
"""

from __future__ import annotations

import glob
import hashlib
import pickle
import sys
from typing import Any

import numpy as np

import archspec
from archspec.errors import ArchspecError


def fingerprint(path: str) -> dict[str, Any]:
    """What makes the model of spec `path` this model, or the error it now raises."""
    try:
        model = archspec.compile_model(path)
        code = archspec.generate_code(path)
    except ArchspecError as error:
        return {"error": f"{type(error).__name__}: {error}"}
    for layer in model.layers:
        values = []
        for index, weight in enumerate(layer.weights):
            seed = int(hashlib.md5(f"{layer.name}/{index}".encode()).hexdigest()[:8], 16)
            value = np.random.default_rng(seed).normal(0, 0.05, weight.shape)
            values.append((np.abs(value) + 0.5 if "variance" in weight.path else value).astype(weight.dtype))
        if values:
            layer.set_weights(values)
    rng = np.random.default_rng(0)
    inputs = [rng.normal(size=(2, *tensor.shape[1:])).astype(tensor.dtype) for tensor in model.inputs]
    outputs = model(inputs if len(inputs) > 1 else inputs[0], training=False)
    outputs = outputs if isinstance(outputs, (list, tuple)) else [outputs]
    return {"params": model.count_params(), "layers": [(layer.name, type(layer).__name__) for layer in model.layers],
            "code": code, "outputs": [np.asarray(output) for output in outputs]}


def differences(before: dict[str, Any], after: dict[str, Any]) -> list[str]:
    """What differs between two fingerprints of one spec."""
    if "error" in before or "error" in after:
        return [] if before == after else [f"before: {before.get('error', 'ok')}; after: {after.get('error', 'ok')}"]
    found = [key for key in ("params", "layers", "code") if before[key] != after[key]]
    pairs = list(zip(before["outputs"], after["outputs"]))
    if len(before["outputs"]) != len(after["outputs"]) or not all(
            np.array_equal(old, new, equal_nan=True) for old, new in pairs):
        found.append("outputs")
    return found


def main(argv: list[str]) -> int:
    mode, store, *paths = argv
    paths = paths or sorted(glob.glob("specs/*.yaml"))
    prints = {path: fingerprint(path) for path in paths}
    if mode == "record":
        with open(store, "wb") as file:
            pickle.dump(prints, file)
        print(f"recorded {len(prints)} specs in {store}")
        return 0
    with open(store, "rb") as file:
        recorded = pickle.load(file)
    compared = [path for path in paths if path in recorded]
    bad = {path: found for path in compared if (found := differences(recorded[path], prints[path]))}
    for path, found in bad.items():
        print(f"DIFFERENT {path}: {', '.join(found)}")
    print(f"{len(bad)} of {len(compared)} specs differ")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
