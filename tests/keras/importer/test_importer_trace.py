"""Subclassed layers no op imports are traced into their parts (importer.trace): the Keras layers and
keras.ops calls inside `call` become nodes named `LAYER_INNER`, weights copied from the inner layers; a
call that cannot be traced is one message naming the class and the line that stopped it."""

from __future__ import annotations

import inspect

import numpy as np
import pytest

import archspec
from archspec.keras.importer import KerasImportError, import_model


def _classes(keras):
    layers, ops = keras.layers, keras.ops

    class MlpBlock(layers.Layer):
        """A pre-norm residual MLP written as a class: layers and keras.ops only."""

        def __init__(self, width, **kwargs):
            super().__init__(**kwargs)
            self.norm = layers.LayerNormalization(name="norm")
            self.up = layers.Dense(width * 2, name="up")
            self.down = layers.Dense(width, name="down")

        def call(self, x):
            hidden = ops.relu(self.up(self.norm(x)))
            return ops.add(x, self.down(hidden) * 0.5)

    class Branchy(layers.Layer):
        """Python control flow on a tensor's values: no trace can record it."""

        def compute_output_shape(self, shape):
            return shape

        def call(self, x):
            if ops.sum(x) > 0:
                return x
            return -x

    return MlpBlock, Branchy


def test_a_subclassed_layer_is_traced_into_its_layers_and_ops(keras):
    mlp_block, _ = _classes(keras)
    sequence = keras.Input((5, 8), name="seq")
    hidden = mlp_block(8, name="block1")(sequence)
    model = keras.Model(sequence, keras.layers.Dense(2, name="out")(keras.layers.Flatten(name="flat")(hidden)))
    text = import_model(model)
    assert text.split("nodes:\n", 1)[1] == (
        "  block1_norm:     {op: layer_norm}\n"
        "  block1_up:       {op: dense, units: 16}\n"
        "  block1_relu:     {op: activation, activation: relu}\n"
        "  block1_down:     {op: dense, units: 8}\n"
        "  block1_multiply: {op: expr, expr: \"x * 0.5\"}\n"
        "  flat:            {op: flatten}\n"
        "  out:             {op: dense, units: 2}\n\n"
        "edges:\n"
        "  - seq -> block1_norm -> block1_up -> block1_relu -> block1_down\n"
        "  - block1_multiply -> flat -> out\n"
        "  - {from: seq, to: flat, kind: add-residual}\n"
        "  - block1_down -> block1_multiply\n\n"
        "outputs: [out]\n")  # the block's residual add folds into an edge into its user
    rebuilt = archspec.compile_model(archspec.loads_spec(text, "imported.yaml"))
    assert rebuilt.count_params() == model.count_params()
    block = model.get_layer("block1")
    for part in (block.norm, block.up, block.down):  # weights by path: block1.up -> block1_up
        rebuilt.get_layer(f"block1_{part.name}").set_weights(part.get_weights())
    rebuilt.get_layer("out").set_weights(model.get_layer("out").get_weights())
    batch = np.random.default_rng(0).normal(size=(2, 5, 8)).astype("float32")
    assert np.abs(np.asarray(rebuilt(batch)) - np.asarray(model(batch))).max() < 1e-5


def test_a_call_that_cannot_be_traced_names_its_class_and_line(keras):
    _, branchy = _classes(keras)
    vector = keras.Input((4,), name="v")
    model = keras.Model(vector, branchy(name="br")(vector))
    with pytest.raises(KerasImportError) as raised:
        import_model(model)
    lines, start = inspect.getsourcelines(branchy.call)
    line = start + next(index for index, text in enumerate(lines) if "if ops.sum" in text)
    assert str(raised.value).startswith(
        f"layer 'br' is a Branchy, which no archspec op imports, and tracing its call stopped at "
        f"Branchy.call ({__file__}:{line}: `if ops.sum(x) > 0:`): ")
    assert "hint: write its call with Keras layers and keras.ops only" in str(raised.value)


def _feed_forward(keras):
    layers, ops = keras.layers, keras.ops

    class FeedForward(layers.Layer):
        """Eight layers and ops, used twice: written once as a block."""

        def __init__(self, width, **kwargs):
            super().__init__(**kwargs)
            self.norm = layers.LayerNormalization(name="norm")
            self.up, self.down, self.mix = (layers.Dense(size, name=name)
                                            for size, name in ((width * 2, "up"), (width, "down"), (width, "mix")))

        def call(self, x):
            hidden = ops.relu(self.up(self.norm(x)))
            return self.mix(ops.tanh(ops.add(x, self.down(hidden) * 0.5)))

    return FeedForward


def test_two_uses_of_a_traced_class_are_one_block_used_twice(keras):
    from archspec.keras.importer import import_and_rebuild

    feed_forward = _feed_forward(keras)
    sequence = keras.Input((5, 8), name="seq")
    hidden = feed_forward(8, name="second")(feed_forward(8, name="first")(sequence))
    model = keras.Model(sequence, keras.layers.Dense(2, name="out")(keras.layers.Flatten(name="flat")(hidden)))
    text, rebuilt = import_and_rebuild(model)
    # the traced ops are named after their layer (first_relu, second_relu): inside the block they are one name
    assert text.split("blocks:\n", 1)[1] == (
        "  first():\n"
        "    edges:\n"
        "      - x -> norm=layer_norm -> up=dense(16) -> relu_1=activation(relu) -> down=dense(8) -> "
        "multiply_1=expr('x * 0.5')\n"
        "      - multiply_1 -> tanh=activation(tanh) -> mix=dense(8)\n"
        "      - {from: x, to: tanh, kind: add-residual}\n\n"
        "nodes:\n"
        "  first: {block: first}\n\n"
        "edges:\n"
        "  - seq -> first -> second=first() -> flat=flatten -> out=dense(2)\n")
    batch = np.random.default_rng(0).normal(size=(2, 5, 8)).astype("float32")
    assert rebuilt.count_params() == model.count_params()
    assert np.abs(np.asarray(rebuilt(batch)) - np.asarray(model(batch))).max() < 1e-6


def test_a_small_traced_class_used_twice_is_a_block_though_it_saves_no_lines(keras):
    from archspec.keras.importer import import_and_rebuild

    mlp_block, _ = _classes(keras)
    sequence = keras.Input((5, 8), name="seq")
    hidden = mlp_block(8, name="block2")(mlp_block(8, name="block1")(sequence))
    model = keras.Model(sequence, keras.layers.Dense(2, name="out")(keras.layers.Flatten(name="flat")(hidden)))
    text, rebuilt = import_and_rebuild(model)
    # six items used twice: written out they take as many lines, but the class is one block in the source
    assert text.split("blocks:\n", 1)[1] == (
        "  block():\n"
        "    edges:\n"
        "      - x -> norm=layer_norm -> up=dense(16) -> relu_1=activation(relu) -> down=dense(8) -> "
        "multiply_1=expr('x * 0.5')\n"
        "      - x -> add_1=add\n"
        "      - multiply_1 -> add_1\n\n"
        "edges:\n"
        "  - seq -> block1=block() -> block2=block() -> flat=flatten -> out=dense(2)\n")
    batch = np.random.default_rng(1).normal(size=(2, 5, 8)).astype("float32")
    assert np.abs(np.asarray(rebuilt(batch)) - np.asarray(model(batch))).max() < 1e-6


def test_a_layer_called_twice_in_a_traced_call_is_read_after_its_inputs(keras):
    layers = keras.layers

    class Mlp(layers.Layer):
        """One Dropout after each Dense (keras-hub's ViT MLP): its second call comes after dense 2."""

        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.first, self.second = layers.Dense(6, name="first"), layers.Dense(3, name="second")
            self.dropout = layers.Dropout(0.1, name="dropout")

        def call(self, x):
            return self.dropout(self.second(self.dropout(self.first(x))))

    vector = keras.Input((4,), name="v")
    model = keras.Model(vector, Mlp(name="mlp")(vector))
    text = import_model(model)
    assert text.split("nodes:\n", 1)[1].split("\n\n")[0] == (
        "  mlp_first:     {op: dense, units: 6}\n"
        "  mlp_dropout:   {op: dropout, rate: 0.1}\n"
        "  mlp_second:    {op: dense, units: 3}\n"
        "  mlp_dropout_2: {op: dropout, rate: 0.1}")  # no weights: nothing to share


def _scored_stack(keras):
    layers, ops = keras.layers, keras.ops

    class Scored(layers.Layer):
        """Returns (output, None) when no scores are asked for, as keras-hub's DeiT encoder blocks do."""

        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.dense = layers.Dense(4, name="dense")

        def call(self, x, return_scores=False):
            return self.dense(x), (ops.ones_like(x) if return_scores else None)

    class Stack(layers.Layer):
        """Two Scored layers, returning a constant beside its output (DeiT's empty score list)."""

        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.blocks = [Scored(name=f"scored_{index}") for index in range(2)]

        def call(self, x):
            for block in self.blocks:
                x, _ = block(x)
            return x, ops.zeros((0, 4))

    return Stack


def test_a_traced_layer_returning_none_or_a_constant_beside_its_output_is_read_by_its_tensors(keras):
    from archspec.keras.importer import import_and_rebuild

    vector = keras.Input((4,), name="v")
    hidden, _ = _scored_stack(keras)(name="stack")(vector)
    model = keras.Model(vector, keras.layers.Dense(2, name="out")(hidden))
    text, rebuilt = import_and_rebuild(model)
    assert text.split("edges:\n", 1)[1] == (
        "  - v -> stack_scored_0_dense -> stack_scored_1_dense -> out\n\noutputs: [out]\n")
    batch = np.random.default_rng(3).normal(size=(2, 4)).astype("float32")
    assert rebuilt.count_params() == model.count_params()
    assert np.abs(np.asarray(rebuilt(batch)) - np.asarray(model(batch))).max() < 1e-6


def test_a_constant_a_traced_layer_returns_cannot_be_used(keras):
    vector = keras.Input((4,), name="v")
    hidden, empty = _scored_stack(keras)(name="stack")(vector)
    model = keras.Model(vector, [hidden, keras.layers.Flatten(name="flat")(empty)])
    with pytest.raises(KerasImportError) as raised:
        import_model(model)
    assert str(raised.value).startswith("'flat' uses output 1 of 'stack', which the import cannot follow")


def test_a_trace_stopped_inside_a_nested_layer_gives_that_layers_own_message(keras):
    """Keras wraps a layer's error once per layer it was called in ("Exception encountered when calling
    ..."): the message is the cause's (keras-hub's GPT-NeoX: `Rotary dimension must be even, got 1.`)."""
    layers = keras.layers

    class Halves(layers.Layer):
        def call(self, x):
            if x.shape[-1] % 2:
                raise ValueError(f"Width must be even, got {x.shape[-1]}.")
            return x

    class Outer(layers.Layer):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.halves = Halves(name="halves")

        def call(self, x):
            return self.halves(x)

        def compute_output_shape(self, shape):
            return shape

    vector = keras.Input((3,), name="v")
    with pytest.raises(KerasImportError) as raised:
        import_model(keras.Model(vector, Outer(name="outer")(vector)))
    assert str(raised.value).splitlines()[0].endswith("`): Width must be even, got 3.")
