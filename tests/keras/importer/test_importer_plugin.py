"""A model with a custom layer imports through a plugin op that declares the layer's class, exactly."""

from __future__ import annotations

import sys
import textwrap

import numpy as np
import pytest

import archspec
from archspec.cli import main
from archspec.errors import PluginError
from archspec.plugin import OPS, load_plugin

PLUGIN = textwrap.dedent('''
    """A learned per-channel scale and shift, and the op that compiles to it and imports it."""
    import keras

    from archspec.plugin import LayerCall, Op, OpParams


    @keras.saving.register_keras_serializable(package="demo")
    class ScaleShift(keras.layers.Layer):
        def __init__(self, init_scale=1.0, **kwargs):
            super().__init__(**kwargs)
            self.init_scale = init_scale

        def build(self, shape):
            self.scale = self.add_weight(shape=(shape[-1],), initializer=keras.initializers.Constant(self.init_scale))
            self.shift = self.add_weight(shape=(shape[-1],), initializer="zeros")

        def call(self, x):
            return x * self.scale + self.shift

        def get_config(self):
            return {**super().get_config(), "init_scale": self.init_scale}


    class ScaleShiftParams(OpParams):
        init_scale: float = 1.0


    class ScaleShiftOp(Op):
        name = "scale_shift"
        Params = ScaleShiftParams
        keras_classes = ("ScaleShift",)

        def infer_shape(self, params, inputs):
            return inputs[0]

        def layer(self, params, inputs):
            return LayerCall("ScaleShift", {"init_scale": params.init_scale}, module=__name__)

        def from_keras(self, config):
            return {"init_scale": config["init_scale"]}

        def count_params(self, params, inputs, output):
            return 2 * inputs[0][-1]
''')


@pytest.fixture
def plugin_module(tmp_path, monkeypatch):
    (tmp_path / "demo_plugin.py").write_text(PLUGIN)
    monkeypatch.syspath_prepend(str(tmp_path))
    before = dict(OPS)
    yield "demo_plugin"
    OPS.clear()
    OPS.update(before)
    sys.modules.pop("demo_plugin", None)


def test_a_custom_layer_round_trips_through_its_plugin(keras, tmp_path, plugin_module, capsys):
    import demo_plugin

    image = keras.Input((5, 5, 3), name="image")
    x = keras.layers.Conv2D(4, 3, name="conv")(image)
    x = demo_plugin.ScaleShift(init_scale=0.5, name="affine")(x)
    model = keras.Model(image, keras.layers.Flatten(name="flat")(x), name="custom")
    rng = np.random.default_rng(0)
    model.get_layer("affine").set_weights([rng.normal(size=4).astype("float32") for _ in range(2)])
    model.save(tmp_path / "custom.keras")
    with pytest.raises(SystemExit) as exited:  # without the plugin: one message that says what to do
        main(["import", str(tmp_path / "custom.keras")])
    assert exited.value.code == 1
    assert "layer 'affine' is a ScaleShift, which no archspec op imports" in capsys.readouterr().err
    target = tmp_path / "custom.yaml"
    with pytest.raises(SystemExit) as exited:
        main(["--plugin", f"{plugin_module}:ScaleShiftOp", "import", str(tmp_path / "custom.keras"),
              "-o", str(target)])
    assert exited.value.code == 0
    text = target.read_text()
    assert "  affine: {op: scale_shift, init_scale: 0.5}\n" in text
    rebuilt = archspec.compile_model(archspec.loads_spec(text))
    assert rebuilt.count_params() == model.count_params()
    for layer in model.layers:
        if layer.weights:
            rebuilt.get_layer(layer.name).set_weights(layer.get_weights())
    batch = rng.normal(size=(2, 5, 5, 3)).astype("float32")
    assert np.abs(np.asarray(rebuilt(batch)) - np.asarray(model(batch))).max() < 1e-5


def test_a_plugin_cannot_claim_a_class_another_op_imports(plugin_module, tmp_path):
    (tmp_path / "greedy_plugin.py").write_text(
        PLUGIN.replace('keras_classes = ("ScaleShift",)', 'keras_classes = ("Dense",)')
        .replace('name = "scale_shift"', 'name = "greedy"').replace('package="demo"', 'package="greedy"'))
    with pytest.raises(PluginError) as caught:
        load_plugin("greedy_plugin:ScaleShiftOp")
    assert str(caught.value) == ("plugin greedy_plugin:ScaleShiftOp: op 'greedy' imports Dense, which op "
                                 "'dense' already imports\n  hint: a Keras class imports as one op")


def test_a_model_whose_custom_class_is_not_registered_names_the_class_and_plugin(keras, tmp_path, capsys):
    @keras.saving.register_keras_serializable(package="unregistered_demo")
    class Twice(keras.layers.Layer):
        def call(self, x):
            return 2 * x

    inputs = keras.Input((4,))
    keras.Model(inputs, keras.layers.Dense(2)(Twice()(inputs))).save(tmp_path / "custom.keras")
    del keras.saving.get_custom_objects()["unregistered_demo>Twice"]  # as in a process that never defined it
    with pytest.raises(SystemExit) as exited:
        main(["import", str(tmp_path / "custom.keras")])
    err = capsys.readouterr().err
    assert exited.value.code == 1
    assert err.splitlines()[0] == (f"cannot load model {tmp_path / 'custom.keras'}: it uses the custom class "
                                   "'Twice', which is not registered here")
    assert "`archspec --plugin module:OpClass ...`" in err and "complete Keras .keras archive" not in err
