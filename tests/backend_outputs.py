"""Run in a subprocess per backend (Keras fixes its backend per process): build every spec, set
deterministic weights, run a fixed batch, and save parameter counts and outputs for comparison.

    python -m tests.backend_outputs BACKEND OUT.npz SPEC...
"""

from __future__ import annotations

import sys

import numpy as np

from archspec.keras.backend import use_backend


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
        results[f"{name}/params"] = np.array(model.count_params())
        for index, output in enumerate(outputs if isinstance(outputs, list) else [outputs]):
            results[f"{name}/output{index}"] = np.asarray(keras.ops.convert_to_numpy(output))
    np.savez(out, **results)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], sys.argv[3:])
