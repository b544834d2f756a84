"""The --strategy registry: how each distribution strategy starts and which training loop it uses.

One row per strategy, by the name `archspec fit --strategy` takes; the CLI's
choices, RunConfig's check and the trainer all read `STRATEGIES`. TensorFlow
is imported only when a strategy starts, so the CLI can list the names
without it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from archspec.errors import RunError
from archspec.keras.backend import import_tensorflow
from archspec.train.cluster import Cluster, exit_on_signals, read_cluster, rendezvous


class RunConfig(Protocol):
    """What a strategy reads of the run's settings (archspec.train.config.RunConfig, which imports
    this registry to check its strategy's name)."""

    seed: int | None
    worker_timeout_s: float

LOCAL = Cluster(("localhost",), 0)


@dataclass(frozen=True)
class Engine:
    """How a --strategy starts (-> the tf.distribute strategy and this process's place in the
    cluster) and whether it trains with Keras's fit or the step loop (loops.py)."""

    start: Callable[[RunConfig], tuple[Any, Cluster]]
    step_loop: bool = False
    several_steps: bool = True
    """Several steps per graph call: Keras's fit on one device, and the step loop; not Keras's fit
    under tf.distribute, where Keras 3.15's multi-step loop fails ("You must feed a value for
    placeholder tensor ...")."""


def _default(config: RunConfig) -> tuple[Any, Cluster]:
    return import_tensorflow().distribute.get_strategy(), LOCAL


def _mirrored(config: RunConfig) -> tuple[Any, Cluster]:
    return import_tensorflow().distribute.MirroredStrategy(), LOCAL


def _multiworker(config: RunConfig) -> tuple[Any, Cluster]:
    """MultiWorkerMirroredStrategy from TF_CONFIG, once every peer has answered (or exit 1)."""
    cluster = read_cluster()
    if config.seed is None and cluster.size > 1:
        raise RunError("--strategy multiworker needs a seed (--seed N, the same on every worker), "
                       "so that every worker shuffles and adds noise the same way")
    exit_on_signals(cluster, "the run folder keeps every complete epoch; continue with --resume")
    rendezvous(cluster, config.worker_timeout_s)  # in Python: the strategy's own wait cannot be stopped
    return import_tensorflow().distribute.MultiWorkerMirroredStrategy(), cluster


STRATEGIES: dict[str, Engine] = {
    "default": Engine(_default),
    "mirrored": Engine(_mirrored, several_steps=False),
    # reads the cluster from TF_CONFIG; without TF_CONFIG it is one local worker
    "multiworker": Engine(_multiworker, step_loop=True),
}
"""Every strategy, by the name `--strategy` takes."""
