"""The two training loops: Keras's fit (one process), and a step loop for multi-worker training.

`fit_epochs` calls `model.fit` once per epoch, each time on that epoch's own
pipeline (pipeline.py: order and noise are a function of seed and epoch), so
a resumed run trains on exactly the batches the uninterrupted one did, and
several steps still run per graph call (steps_per_execution).

`step_epochs` is for MultiWorkerMirroredStrategy, under which `model.fit`
fails on Keras 3.15 / TF 2.21 (keras-team/keras#20585: "Attempt to convert a
value (PerReplica...)"). Every worker builds the same global batches and keeps
its slice (pipeline.make_pipeline's `part`); each replica's loss is its
examples' summed loss divided by the *global* batch size, the optimizer
sums the gradients over the replicas (Keras's TF optimizer all-reduces in a
replica context), so a step is exactly the single-process step on the whole
batch, even for a last batch that does not split evenly. Loss and metrics
are sums over replicas, read once per epoch. Both loops drive the same
callbacks (`on_epoch_begin`, `on_train_batch_end` with the loss as Keras
reports it, the epoch's running mean so far, `on_epoch_end` with the epoch's
figures) with the same params (`steps` per epoch).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from archspec.keras.backend import import_keras, import_tensorflow
from archspec.train.config import RunConfig
from archspec.train.data import Prepared
from archspec.train.pipeline import make_pipeline

keras = import_keras()
tf = import_tensorflow()  # tf.data feeds every backend; tf.distribute only TensorFlow's


def steps_per_epoch(data: Prepared, config: RunConfig) -> int:
    return math.ceil(len(data.x_train) / config.batch_size)


def train_pipeline(
    data: Prepared, config: RunConfig, epoch: int, part: tuple[int, int] | None = None, last: int | None = None,
) -> Any:
    """The batches of epochs `epoch` up to `last` (exclusive; default: that one epoch), back to back."""
    return make_pipeline(
        data.x_train, data.y_train, config.batch_size, shuffle=True, seed=config.data_seed,
        noise=data.noise, epochs=range(epoch, epoch + 1 if last is None else last), part=part,
    )


def fit_epochs(
    model: Any, config: RunConfig, data: Prepared, first_epoch: int, callbacks: Sequence[Any],
) -> None:
    """Keras's fit, one call per epoch from `first_epoch` (0-based) to config.epochs; silent (progress.py
    prints what a person sees)."""
    val = None
    if data.x_val is not None:
        val = _shardable(make_pipeline(data.x_val, data.y_val, config.batch_size))
    for epoch in range(first_epoch, config.epochs):
        model.fit(
            _shardable(train_pipeline(data, config, epoch)),
            validation_data=val,
            epochs=epoch + 1,
            initial_epoch=epoch,
            callbacks=list(callbacks),
            verbose=0,
            shuffle=False,  # the pipeline shuffles (Keras would only warn that it cannot)
        )
        if model.stop_training:
            return


def _shardable(dataset: Any) -> Any:
    """In-memory data cannot be sharded by file: tell tf.distribute to shard by element."""
    options = tf.data.Options()
    options.experimental_distribute.auto_shard_policy = tf.data.experimental.AutoShardPolicy.DATA
    return dataset.with_options(options)


class StepLoop:
    """The compiled train and test steps of one model under a (multi-worker) strategy."""

    def __init__(self, model: Any, config: RunConfig, strategy: Any) -> None:
        self.model = model
        self.config = config
        self.strategy = strategy
        self.loss_fn = keras.losses.get(config.loss)
        with strategy.scope():
            self.loss_mean = keras.metrics.Mean(name="loss")
        self.train_steps = tf.function(self._train_steps)
        self.test_steps = tf.function(self._test_steps)

    def _train_steps(self, iterator: Any, count: Any) -> Any:
        """`count` training steps in one graph call (Keras's steps_per_execution, for this loop):
        the per-call overhead and the read-out of the loss are paid once per `count` steps. The
        running loss is read inside the graph: read eagerly, it was one more collective per call."""
        for _ in tf.range(count):
            self.strategy.run(self._replica_step, args=(*next(iterator), True))
        return self.loss_mean.result()

    def _test_steps(self, iterator: Any, count: Any) -> None:
        """`count` validation steps in one graph call: stepped from Python, a batch a call over a
        fresh iterator each epoch, validation cost more than training (MLP: ~1 s against ~0.5 s
        an epoch, two workers)."""
        for _ in tf.range(count):
            self.strategy.run(self._replica_step, args=(*next(iterator), False))

    def _replica_step(self, x: Any, y: Any, global_size: Any, training: bool) -> Any:
        model = self.model
        with tf.GradientTape() as tape:
            predictions = model(x, training=training)
            values = self._per_value_loss(y, predictions)
            per_example = tf.reshape(values, [tf.shape(x)[0], -1])
            example_loss = tf.reduce_mean(per_example, axis=1)
            loss = tf.reduce_sum(example_loss) / tf.cast(global_size, example_loss.dtype)
            if model.losses:
                loss += tf.add_n(model.losses) / self.strategy.num_replicas_in_sync
        if training:
            gradients = tape.gradient(loss, model.trainable_variables)
            model.optimizer.apply_gradients(zip(gradients, model.trainable_variables))
        self.loss_mean.update_state(example_loss)
        model.compute_metrics(x, y, predictions)
        return loss

    def _per_value_loss(self, y: Any, predictions: Any) -> Any:
        if isinstance(self.loss_fn, keras.losses.Loss):
            return self.loss_fn.call(y, predictions)
        return self.loss_fn(y, predictions)

    def figures(self) -> dict[str, float]:
        """The epoch's loss and compiled metrics, summed over all replicas."""
        figures = {"loss": float(self.loss_mean.result())}
        for metric in self.model.metrics:
            if metric.name == "loss":
                continue
            result = metric.result()
            items = result.items() if isinstance(result, dict) else [(metric.name, result)]
            figures.update({name: float(value) for name, value in items})
        return figures

    def reset(self) -> None:
        self.loss_mean.reset_state()
        self.model.reset_metrics()

    def distribute(self, make: Any) -> Any:
        """A dataset per worker from make(part): each worker's slice of the same global batches.

        Every worker's dataset has as many batches as the global one (a slice of each, maybe
        empty), so the strategy's partial-batch handling, an all-reduce per step of how many
        workers still have data, is turned off: it cost about 1.3 ms of a 7.6 ms MLP step."""
        def per_worker(context: Any) -> Any:
            return make((context.input_pipeline_id, context.num_input_pipelines))

        self.strategy.extended.experimental_enable_get_next_as_optional = False
        return self.strategy.distribute_datasets_from_function(per_worker)


def step_epochs(
    model: Any, config: RunConfig, data: Prepared, first_epoch: int, strategy: Any, callbacks: Sequence[Any],
) -> None:
    """Train from `first_epoch` under `strategy` with StepLoop, driving `callbacks` as Keras's fit would."""
    loop = StepLoop(model, config, strategy)
    steps = steps_per_epoch(data, config)
    callback_list = keras.callbacks.CallbackList(
        list(callbacks), model=model, steps=steps, epochs=config.epochs, verbose=0)
    model.stop_training = False
    callback_list.on_train_begin()
    # One distributed iterator for every epoch left, for training and for validation: making one per
    # epoch cost 0.5-1.3 s an epoch under MultiWorkerMirroredStrategy (the CNN's 16 steps took
    # 0.3-0.5 s), growing each epoch.
    train = iter(loop.distribute(lambda part: train_pipeline(data, config, first_epoch, part, config.epochs)))
    val = val_steps = None
    if data.x_val is not None:
        val_steps = math.ceil(len(data.x_val) / config.batch_size)
        val = iter(loop.distribute(lambda part: make_pipeline(
            data.x_val, data.y_val, config.batch_size, epochs=range(first_epoch, config.epochs), part=part)))
    for epoch in range(first_epoch, config.epochs):
        callback_list.on_epoch_begin(epoch)
        loop.reset()
        done = 0
        while done < steps and not model.stop_training:  # every worker's slice has `steps` batches an epoch
            count = min(config.steps_per_execution, steps - done)
            callback_list.on_train_batch_begin(done)
            loss = loop.train_steps(train, tf.constant(count))
            done += count
            callback_list.on_train_batch_end(done - 1, {"loss": float(loss)})
        if model.stop_training:
            break
        logs = loop.figures()
        if val is not None:
            loop.reset()
            loop.test_steps(val, tf.constant(val_steps))
            logs.update({f"val_{name}": value for name, value in loop.figures().items()})
        callback_list.on_epoch_end(epoch, logs)
        if model.stop_training:
            break
    callback_list.on_train_end()
