"""The random state a checkpoint does not hold: the seed generators of dropout and noise layers.

A Keras 3 layer that draws random numbers (Dropout, GaussianNoise, ...) owns a
SeedGenerator whose state variable advances with every draw; `model.save`
keeps weights and optimizer state but not it, and a loaded model starts its
generators afresh. So a resumed seeded run would drop other units than the
uninterrupted one. With each checkpoint the recorder writes these states
(`checkpoints/epoch_NNN.rng.json`, before the checkpoint itself, so a
checkpoint's states are there), and a resume puts them back. Data order and
noise need nothing here: they are functions of the seed and the epoch
(pipeline.py).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from archspec.errors import RunError
from archspec.train import runs


def rng_path(run_dir: Path, epoch: int) -> Path:
    return runs.checkpoint_path(run_dir, epoch).with_suffix(".rng.json")


def seed_states(model: Any) -> list[Any]:
    """The model's seed generator state variables, in the model's own order: its variables that
    are not weights (Keras: `variables` = weights + random seeds)."""
    weights = {id(weight) for weight in model.weights}
    return [variable for variable in model.variables if id(variable) not in weights]


def save_seed_states(model: Any, run_dir: Path, epoch: int) -> None:
    runs.write_json(rng_path(run_dir, epoch), {
        "seed_generators": [{"path": variable.path, "state": np.asarray(variable.numpy()).tolist()}
                            for variable in seed_states(model)],
    })


def restore_seed_states(model: Any, run_dir: Path, epoch: int) -> None:
    """Put back the states saved with epoch `epoch`'s checkpoint (a run from before they were
    saved has no file: its generators start afresh, as they always did)."""
    path = rng_path(run_dir, epoch)
    if not path.is_file():
        return
    saved = runs.read_json(path).get("seed_generators", [])
    variables = seed_states(model)
    if len(saved) != len(variables):
        raise RunError(f"{path}: {len(saved)} seed generator states for a model with {len(variables)}; "
                       "it belongs to another model")
    for variable, entry in zip(variables, saved):
        variable.assign(np.asarray(entry["state"], dtype=variable.dtype))
