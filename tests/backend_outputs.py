"""Run in a subprocess per backend (Keras fixes its backend per process): build every spec, set
deterministic weights, run a fixed batch, and save parameter counts and outputs for comparison.

    python -m tests.backend_outputs BACKEND OUT.npz SPEC...

The suite starts that subprocess once per backend for all the specs its backend tests compare
(`OutputsByBackend`, the session fixture `backend_outputs`): each start imports TensorFlow, JAX or
PyTorch anew, which costs more than building the specs.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np

from archspec.keras.backend import use_backend

ROOT = Path(__file__).resolve().parent.parent
COMPARED = [*sorted((ROOT / "specs").glob("*.yaml")),
            *(ROOT / "specs" / "zoo" / f"{name}.yaml" for name in ("siamese_cnn", "vae_mnist")),
            ROOT / "tests" / "data" / "products.yaml"]
"""The specs the backend tests compare (keys are `NAME/params`, `NAME/output0`, ... by the spec's name)."""


class OutputsByBackend:
    """Parameter counts and outputs of every spec in COMPARED on a backend, from one subprocess per backend."""

    def __init__(self, folder: Path) -> None:
        self.folder, self.results = folder, {}

    def __call__(self, backend: str) -> dict[str, np.ndarray]:
        if backend not in self.results:
            target = self.folder / f"{backend}.npz"
            result = subprocess.run([sys.executable, "-m", "tests.backend_outputs", backend, str(target),
                                     *map(str, COMPARED)], capture_output=True, text=True, cwd=ROOT,
                                    env=os.environ, timeout=900)
            assert result.returncode == 0, result.stderr[-3000:]
            self.results[backend] = dict(np.load(target))
        return self.results[backend]


def deterministic_weights(model, seed: int = 0) -> list[np.ndarray]:
    """The same weights on every backend: small uniform values, positive where a variance is stored."""
    rng = np.random.default_rng(seed)
    weights = []
    for variable in model.weights:
        values = rng.uniform(-0.1, 0.1, size=tuple(variable.shape))
        if "variance" in variable.path:
            values = 1.0 + np.abs(values)
        weights.append(values.astype(str(variable.dtype)))
    return weights


def main(backend: str, out: str, specs: list[str]) -> None:
    use_backend(backend)
    from archspec.keras.backend import import_keras
    from archspec.keras.compiler import compile_model
    from archspec.keras.equivalence import sample_inputs

    keras = import_keras()
    results = {}
    for spec in specs:
        model = compile_model(spec)
        model.set_weights(deterministic_weights(model))
        inputs = sample_inputs(model, seed=3, batch=2)
        outputs = model(inputs[0] if len(inputs) == 1 else inputs, training=False)  # eager: no compile step
        name = model.name
        assert f"{name}/params" not in results, f"two specs are named {name}"
        results[f"{name}/params"] = np.array(model.count_params())
        for index, output in enumerate(outputs if isinstance(outputs, list) else [outputs]):
            results[f"{name}/output{index}"] = np.asarray(keras.ops.convert_to_numpy(output))
    np.savez(out, **results)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], sys.argv[3:])
