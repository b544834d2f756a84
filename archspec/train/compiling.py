"""Making a model trainable: the distribution strategy, the optimizer, compile with the run's settings.

Imported only by the commands that train (it imports TensorFlow).
"""

from __future__ import annotations

from typing import Any

from archspec.errors import SchemaError
from archspec.keras.backend import current_backend, import_keras, import_tensorflow, require
from archspec.spec.models import Spec
from archspec.train.cluster import Cluster
from archspec.train.config import RunConfig
from archspec.train.strategies import STRATEGIES

keras = import_keras()
tf = import_tensorflow()  # tf.data feeds every backend; tf.distribute only TensorFlow's

MAX_STEPS_PER_EXECUTION = 32  # enough to amortise per-call overhead; progress still updates often
MIN_LOGGED_STEPS = 16
"""Calls into the graph per epoch at least (where the epoch has that many steps): each call logs
the training loss (steps.csv, curves.png, TensorBoard), so a one-epoch run still has a curve."""


def start_strategy(config: RunConfig) -> tuple[Any, Cluster]:
    """The run's tf.distribute strategy and this process's place in the cluster; only TensorFlow has them."""
    if config.strategy != "default":
        require("tf_distribute", f"--strategy {config.strategy}")
    return STRATEGIES[config.strategy].start(config)


def versions() -> dict[str, str]:
    import platform

    return {"python": platform.python_version(), "tensorflow": tf.__version__, "keras": keras.__version__,
            "backend": keras.backend.backend()}


def make_optimizer(value: str | dict[str, dict[str, Any]], spec: Spec) -> Any:
    """`adam` or `{adam: {learning_rate: 0.001}}` -> a Keras optimizer; a located error otherwise."""
    name, params = (value, {}) if isinstance(value, str) else next(iter(value.items()))
    if isinstance(value, dict) and len(value) != 1:
        name = ", ".join(value)
    try:
        if isinstance(value, dict) and len(value) != 1:
            raise ValueError("give exactly one optimizer")
        return keras.optimizers.get({"class_name": name, "config": dict(params)})
    except (ValueError, TypeError) as error:
        raise SchemaError(
            f"cannot make optimizer '{name}' with {params or 'default parameters'}: {error}",
            location=spec.document.locate(("train", "optimizer")),
            hint="write e.g. optimizer: adam  or  optimizer: {adam: {learning_rate: 0.001}}",
        ) from None


def compile_for_training(model: Any, config: RunConfig, spec: Spec, optimizer: Any) -> None:
    """Compile with the run's loss and metrics and the speed settings chosen for it."""
    try:
        model.compile(
            optimizer=optimizer,
            loss=config.loss,
            metrics=list(config.metrics),
            steps_per_execution=config.steps_per_execution,
            jit_compile=config.jit_compile,
        )
    except ValueError as error:
        raise SchemaError(
            f"cannot compile the model with loss '{config.loss}' and metrics "
            f"{list(config.metrics)}: {error}",
            location=spec.document.locate(("train",)),
            hint="use Keras names such as binary_crossentropy, sparse_categorical_crossentropy, accuracy",
        ) from None


def speed_settings(steps_per_epoch: int, strategy: str) -> dict[str, Any]:
    """Several steps per graph call where the strategy's loop can (Engine.several_steps; not on
    backends that run one step a call, torch), at least MIN_LOGGED_STEPS calls an epoch (each logs
    a point of the step curve) where it has that many steps. XLA is left to Keras's "auto": on for
    GPUs, off on CPUs (where it made the CNN 4-6x slower here) and under tf.distribute."""
    several = STRATEGIES[strategy].several_steps and current_backend().steps_per_execution
    steps = min(MAX_STEPS_PER_EXECUTION, steps_per_epoch // MIN_LOGGED_STEPS) if several else 1
    return {"steps_per_execution": max(1, steps), "jit_compile": "auto"}
