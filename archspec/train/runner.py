"""The `archspec fit` runner: spec + data + task -> a trained model in a run folder.

Why it is faster than the lecture's `model.fit(x, y)` on small models: the
runner (1) feeds a tf.data pipeline that gathers whole batches from tensors
held in memory, with sequential maps, a one-batch prefetch and no autotuning,
instead of Keras's numpy adapter, whose AUTOTUNE thread pools compete with the
model for a small CPU and whose per-epoch iterator teardown can stall ~2 s
(see data.make_pipeline); (2) runs several steps per call into the compiled
graph (steps_per_execution), so Python and the callbacks run once per call,
not once per batch. The settings are recorded in config.json;
benchmarks/fit_throughput.py measures the gain and
benchmarks/epoch_breakdown.py where an epoch's time goes.

Faults: each epoch ends with an atomic checkpoint and history row, so
`resume_run` restarts from the last complete epoch; a NaN loss stops the run
with a RunError and leaves the last good checkpoint in place.

Imported only by the commands that train (it imports TensorFlow).
"""

from __future__ import annotations

import math
import platform
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from pydantic import ValidationError

from archspec.errors import RunError, SchemaError
from archspec.graph.shapes import analyze
from archspec.keras.backend import current_backend, import_keras, import_tensorflow, require
from archspec.keras.compiler import compile_model
from archspec.spec.models import Spec, TrainSpec, load_spec
from archspec.train import runs
from archspec.train.data import Prepared, load_arrays, make_pipeline, prepare, resolve_data_dir
from archspec.train.plots import plot_curves, plot_samples
from archspec.train.tasks import check_task_fits
from archspec.train.tensorboard import TensorBoardLogger, log_image

keras = import_keras()
tf = import_tensorflow()  # tf.data feeds every backend; tf.distribute only TensorFlow's

DEFAULT_LOSS = {
    "classify": "sparse_categorical_crossentropy",
    "autoencode": "binary_crossentropy",
    "denoise": "binary_crossentropy",
}
DEFAULT_METRICS = {"classify": ["accuracy"], "autoencode": [], "denoise": []}
MAX_STEPS_PER_EXECUTION = 32  # enough to amortise per-call overhead; progress still updates often

STRATEGIES: dict[str, Callable[[], Any]] = {
    "default": lambda: tf.distribute.get_strategy(),
    "mirrored": lambda: tf.distribute.MirroredStrategy(),
    # reads the cluster from TF_CONFIG; without TF_CONFIG it is one local worker
    "multiworker": lambda: tf.distribute.MultiWorkerMirroredStrategy(),
}


# ---------------------------------------------------------------- configuration


def resolve_config(spec: Spec, spec_file: Path, overrides: dict[str, Any]) -> dict[str, Any]:
    """The settings a run uses: the spec's `train:` section, then the command line's overrides."""
    train = (spec.train or TrainSpec()).model_dump()
    given = {key: value for key, value in overrides.items() if value is not None}
    try:
        config = TrainSpec.model_validate({**train, **{k: v for k, v in given.items() if k in train}})
    except ValidationError as error:
        problems = "; ".join(
            f"{'.'.join(map(str, item['loc']))}: {item['msg']}" for item in error.errors(include_url=False)
        )
        raise RunError(f"invalid training option ({problems})") from None
    config = config.model_dump()
    task = config["task"]
    noise = config["noise"]
    config.update(
        spec=spec.name,
        spec_file=str(spec_file),
        noise=list(next(iter(noise.items()))) if isinstance(noise, dict) else noise,
        loss=config["loss"] or DEFAULT_LOSS[task],
        metrics=config["metrics"] if config["metrics"] is not None else DEFAULT_METRICS[task],
        subset=given.get("subset"),
        data_dir=_text(resolve_data_dir(config["dataset"], given.get("data_dir"))),
        strategy=given.get("strategy", "default"),
        versions={"python": platform.python_version(), "tensorflow": tf.__version__,
                  "keras": keras.__version__, "backend": keras.backend.backend()},
    )
    if config["strategy"] not in STRATEGIES:
        raise RunError(f"unknown strategy '{config['strategy']}'; expected one of {', '.join(STRATEGIES)}")
    if config["strategy"] != "default":
        require("tf_distribute", f"--strategy {config['strategy']}")
    return config


def _text(path: Path | None) -> str | None:
    return None if path is None else str(path)


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


def compile_for_training(model: Any, config: dict[str, Any], spec: Spec, optimizer: Any) -> None:
    """Compile with the run's loss and metrics and the speed settings chosen for it."""
    try:
        model.compile(
            optimizer=optimizer,
            loss=config["loss"],
            metrics=list(config["metrics"]),
            steps_per_execution=config["steps_per_execution"],
            jit_compile=config["jit_compile"],
        )
    except ValueError as error:
        raise SchemaError(
            f"cannot compile the model with loss '{config['loss']}' and metrics "
            f"{config['metrics']}: {error}",
            location=spec.document.locate(("train",)),
            hint="use Keras names such as binary_crossentropy, sparse_categorical_crossentropy, accuracy",
        ) from None


def speed_settings(steps_per_epoch: int, strategy: str) -> dict[str, Any]:
    """Several steps per graph call, on one device: under tf.distribute, Keras 3.15's multi-step
    loop fails ("You must feed a value for placeholder tensor ..."), so there it is one step.
    XLA is left to Keras's "auto": on for GPUs, off on CPUs (where it made the CNN 4-6x
    slower here) and under tf.distribute."""
    several = strategy == "default" and current_backend().steps_per_execution
    steps = MAX_STEPS_PER_EXECUTION if several else 1
    return {"steps_per_execution": max(1, min(steps, steps_per_epoch)), "jit_compile": "auto"}


# ---------------------------------------------------------------- data


def load_task_data(config: dict[str, Any], model: Any) -> Prepared:
    """The run's arrays, shaped for the model (one input and one output)."""
    if len(model.inputs) != 1 or len(model.outputs) != 1:
        raise RunError(
            f"`archspec fit` trains models with one input and one output; "
            f"'{config['spec']}' has {len(model.inputs)} inputs and {len(model.outputs)} outputs"
        )
    arrays = load_arrays(config["dataset"], config["data_dir"])
    return prepare(
        arrays,
        config["task"],
        tuple(model.inputs[0].shape[1:]),
        tuple(model.outputs[0].shape[1:]),
        noise=tuple(config["noise"]) if config["noise"] else None,
        validation_split=config["validation_split"],
        subset=config["subset"],
    )


def pipelines(data: Prepared, config: dict[str, Any], first_epoch: int) -> tuple[Any, Any]:
    seed = None if config["seed"] is None else config["seed"] + first_epoch
    train = make_pipeline(
        data.x_train, data.y_train, config["batch_size"], shuffle=True, seed=seed,
        noise=tuple(data.noise) if data.noise else None,
    )
    val = None
    if data.x_val is not None:
        val = make_pipeline(data.x_val, data.y_val, config["batch_size"], shuffle=False, seed=None)
    return _shardable(train), _shardable(val)


def _shardable(dataset: Any) -> Any:
    """In-memory data cannot be sharded by file: tell tf.distribute to shard by element."""
    if dataset is None:
        return None
    options = tf.data.Options()
    options.experimental_distribute.auto_shard_policy = tf.data.experimental.AutoShardPolicy.DATA
    return dataset.with_options(options)


# ---------------------------------------------------------------- the epoch recorder


class RunRecorder(keras.callbacks.Callback):
    """After each epoch: checkpoint, then the history row (both atomic); stop on a NaN loss."""

    def __init__(self, run_dir: Path, history: list[dict[str, float]]) -> None:
        super().__init__()
        self.run_dir = run_dir
        self.history = history
        self.nan_at: tuple[int, int | None] | None = None
        self.epoch = 0
        self.started = 0.0

    def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
        self.epoch = epoch + 1
        self.started = time.perf_counter()

    def on_train_batch_end(self, batch: int, logs: dict | None = None) -> None:
        loss = (logs or {}).get("loss")
        if loss is not None and not math.isfinite(float(np.asarray(loss))):
            self.nan_at = (self.epoch, batch + 1)
            self.model.stop_training = True

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        if self.nan_at is not None:
            return
        if not all(np.isfinite(weight).all() for weight in self.model.get_weights()):
            self.nan_at = (self.epoch, None)
            self.model.stop_training = True
            return
        runs.save_model(self.model, runs.checkpoint_path(self.run_dir, self.epoch))
        row = {"epoch": self.epoch}
        row.update({key: float(np.asarray(value)) for key, value in (logs or {}).items()})
        row["time_s"] = round(time.perf_counter() - self.started, 4)
        self.history.append(row)
        runs.write_history(self.run_dir / runs.HISTORY_FILE, self.history)


def nan_error(run_dir: Path, where: tuple[int, int | None], config: dict[str, Any]) -> RunError:
    epoch, batch = where
    good = runs.completed_checkpoints(run_dir)
    kept = (
        f"the last good checkpoint is {runs.checkpoint_path(run_dir, good[-1])}"
        if good else "no epoch finished before it, so there is no checkpoint"
    )
    place = f"noticed after batch {batch}" if batch is not None else "in the weights at its end"
    return RunError(
        f"{run_dir}: the loss became NaN in epoch {epoch} ({place}; optimizer {config['optimizer']}); "
        f"{kept}\n"
        "  hint: lower the learning rate, or check the data and the loss for the task"
    )


# ---------------------------------------------------------------- the runs


def fit_spec(
    spec_path: str | Path,
    *,
    runs_root: str | Path = "runs",
    out: str | Path | None = None,
    callbacks: Sequence[Any] = (),
    verbose: Any = "auto",
    spec_overrides: Sequence[str] = (),
    **overrides: Any,
) -> Path:
    """Train a spec in a new run folder and return the folder.

    spec_overrides: `--set key=value` strings applied to the spec (e.g. train.epochs=3).
    overrides: epochs, batch_size, seed, task, noise ({kind: amount}), subset, data_dir, strategy.
    """
    spec_path = Path(spec_path)
    spec = load_spec(spec_path, spec_overrides)
    config = resolve_config(spec, spec_path, overrides)
    graph = analyze(spec)
    check_task_fits(graph, config["task"], config["dataset"])  # before building anything
    strategy = STRATEGIES[config["strategy"]]()
    if config["seed"] is not None:
        keras.utils.set_random_seed(config["seed"])
    with strategy.scope():
        model = compile_model(graph)
    data = load_task_data(config, model)
    config.update(
        speed_settings(math.ceil(len(data.x_train) / config["batch_size"]), config["strategy"])
    )
    config["replicas"] = strategy.num_replicas_in_sync
    with strategy.scope():
        compile_for_training(model, config, spec, make_optimizer(config["optimizer"], spec))
    run_dir = runs.create_run_dir(Path(runs_root), spec.name, Path(out) if out else None)
    runs.write_text(run_dir / runs.SPEC_FILE, spec.resolved_yaml())
    runs.write_json(run_dir / runs.CONFIG_FILE, config)
    return train_run(run_dir, config, model, data, [], callbacks, verbose)


def resume_run(
    run_dir: str | Path,
    *,
    epochs: int | None = None,
    data_dir: str | Path | None = None,
    callbacks: Sequence[Any] = (),
    verbose: Any = "auto",
) -> Path:
    """Continue a run from its last complete epoch (checkpoint and history row both written)."""
    run_dir = Path(run_dir)
    config = runs.read_json(run_dir / runs.CONFIG_FILE)
    if epochs is not None:
        config["epochs"] = epochs
    if data_dir is not None:
        config["data_dir"] = str(data_dir)
    history = runs.read_history(run_dir / runs.HISTORY_FILE)
    done = sorted(set(runs.completed_checkpoints(run_dir)) & {int(row["epoch"]) for row in history})
    if not done:
        raise RunError(
            f"{run_dir}: no complete epoch to resume from (no checkpoint with a history row); "
            "start a new run with `archspec fit SPEC`"
        )
    last = done[-1]
    history = [row for row in history if int(row["epoch"]) <= last]
    if last >= config["epochs"]:
        raise RunError(
            f"{run_dir}: already has {last} of {config['epochs']} epochs; "
            "give a larger --epochs to train further"
        )
    spec = load_spec(run_dir / runs.SPEC_FILE)
    strategy = STRATEGIES[config["strategy"]]()
    if config["seed"] is not None:
        keras.utils.set_random_seed(config["seed"] + last)
    with strategy.scope():
        model = load_model(runs.checkpoint_path(run_dir, last))
        compile_for_training(model, config, spec, model.optimizer)
    runs.write_json(run_dir / runs.CONFIG_FILE, config)
    data = load_task_data(config, model)
    return train_run(run_dir, config, model, data, history, callbacks, verbose)


def load_model(path: Path) -> Any:
    import archspec.keras.layers  # noqa: F401  (registers archspec's own layers for safe loading)

    try:
        return keras.saving.load_model(path, safe_mode=True)
    except (OSError, ValueError) as error:
        raise RunError(f"{path}: cannot load the model ({error})") from None


def train_run(
    run_dir: Path,
    config: dict[str, Any],
    model: Any,
    data: Prepared,
    history: list[dict[str, float]],
    callbacks: Sequence[Any],
    verbose: Any,
) -> Path:
    """Fit from len(history) to config['epochs'], then write the final model, metrics and plots."""
    started = time.perf_counter()
    first_epoch = len(history)
    train, val = pipelines(data, config, first_epoch)
    recorder = RunRecorder(run_dir, history)
    model.fit(
        train,
        validation_data=val,
        epochs=config["epochs"],
        initial_epoch=first_epoch,
        callbacks=[recorder, TensorBoardLogger(run_dir), *callbacks],
        verbose=verbose,
        shuffle=False,  # the pipeline shuffles (Keras would only warn that it cannot)
    )
    if recorder.nan_at is not None:
        raise nan_error(run_dir, recorder.nan_at, config)
    runs.save_model(model, run_dir / runs.MODEL_FILE)
    test, predictions = test_figures(model, data, config)
    train_time = sum(row["time_s"] for row in history)
    runs.write_json(
        run_dir / runs.METRICS_FILE,
        {
            "spec": config["spec"],
            "task": config["task"],
            "params": model.count_params(),
            "epochs": len(history),
            "train": _split(history[-1], train=True),
            "validation": _split(history[-1], train=False),
            "test": test,
            "train_samples": len(data.x_train),
            "train_time_s": round(train_time, 3),
            "samples_per_s": round(len(data.x_train) * len(history) / train_time, 1),
            "wall_time_s": round(time.perf_counter() - started, 3),
        },
    )
    plot_curves(run_dir / runs.CURVES_FILE, {config["spec"]: history})
    write_samples(run_dir / runs.SAMPLES_FILE, data, predictions)
    log_image(run_dir, "samples", run_dir / runs.SAMPLES_FILE, len(history))
    return run_dir


def _split(row: dict[str, float], *, train: bool) -> dict[str, float]:
    skip = {"epoch", "time_s"}
    if train:
        return {k: v for k, v in row.items() if k not in skip and not k.startswith("val_")}
    return {k.removeprefix("val_"): v for k, v in row.items() if k.startswith("val_")}


def test_figures(model: Any, data: Prepared, config: dict[str, Any]) -> tuple[dict[str, float], Any]:
    """Loss and metrics on the (fixed, noisy where denoising) test set; PSNR for image outputs."""
    test = make_pipeline(data.x_test, data.y_test, config["batch_size"], shuffle=False, seed=None)
    figures = {k: float(v) for k, v in model.evaluate(test, return_dict=True, verbose=0).items()}
    predictions = model.predict(test, verbose=0)
    if data.task != "classify":
        figures["psnr"] = psnr(predictions, data.y_test)
    return figures, predictions


def psnr(predictions: np.ndarray, targets: np.ndarray) -> float:
    """Mean over images of 10 log10(1 / MSE), for images in [0, 1]."""
    axes = tuple(range(1, targets.ndim))
    mse = np.mean((predictions.astype(np.float64) - targets) ** 2, axis=axes)
    return float(np.mean(10.0 * np.log10(1.0 / np.maximum(mse, 1e-10))))


def write_samples(path: Path, data: Prepared, predictions: np.ndarray) -> None:
    """Rows of noisy input / reconstruction / clean target, or digits titled predicted/true."""
    count = 10
    if data.task == "classify":
        predicted = predictions[:count].argmax(axis=-1)
        titles = [f"{p} / {t}" for p, t in zip(predicted, data.y_test[:count])]
        plot_samples(path, [("pred / true", data.clean_test[:count])], titles)
        return
    rows = [("input", data.x_test[:count]), ("output", predictions[:count]), ("target", data.y_test[:count])]
    plot_samples(path, rows)


def evaluate_run(run_dir: str | Path, data_dir: str | Path | None = None) -> dict[str, float]:
    """The final model of a run on its test set (the same fixed noisy copy as at the end of fit)."""
    run_dir = Path(run_dir)
    config = runs.read_json(run_dir / runs.CONFIG_FILE)
    if data_dir is not None:
        config["data_dir"] = str(data_dir)
    model_path = run_dir / runs.MODEL_FILE
    if not model_path.exists():
        done = runs.completed_checkpoints(run_dir)
        if not done:
            raise RunError(f"{run_dir}: no model.keras and no checkpoint to evaluate")
        model_path = runs.checkpoint_path(run_dir, done[-1])
    model = load_model(model_path)
    data = load_task_data(config, model)
    figures, _ = test_figures(model, data, config)
    return figures
