"""The names a spec's `train:` section may use: tasks, datasets, noise kinds, each declared once here.

The spec format validates them (spec/models.py builds its `Literal`s from these tuples) and train/'s
registries are made in this order from them (TASKS, DATASETS, NOISES), a test checking they agree.
The behaviour (a task's loss, a dataset's loader, a noise's function) lives in train/; only the names
live here, below spec/, which may not import train/.
"""

from __future__ import annotations

from typing import Literal

TASK_NAMES = ("classify", "autoencode", "denoise", "regress", "segment", "next_token", "multilabel")
"""Every task `train: task` may name: the keys of train.tasks.TASKS, in order."""
DATASET_NAMES = ("mnist", "fashion_mnist")
"""Every dataset `train: dataset` may name; each is also the name of its `keras.datasets` loader."""
NOISE_NAMES = ("gaussian", "salt_pepper")
"""Every noise kind `train: noise` may name: the keys of train.data.NOISES, in order."""

TaskName = Literal[TASK_NAMES]  # type: ignore[valid-type]
DatasetName = Literal[DATASET_NAMES]  # type: ignore[valid-type]
NoiseName = Literal[NOISE_NAMES]  # type: ignore[valid-type]
