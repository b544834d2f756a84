"""Every keras.applications family imports, and its spec compiles to the same model (issue 13).

The default suite builds one model per family, small (32x32 where the constructor allows,
alpha 0.25/0.35 for the MobileNets; the weights do not depend on the input size except in
the top's Dense of VGG, which is built with include_top=False). `pytest -m zoo` imports all
40 at their default sizes, with and without the top (as benchmarks/import_zoo.py does).
"""

from __future__ import annotations

import numpy as np
import pytest
import yaml

import archspec
from archspec.keras.importer import import_model, read_spec
from archspec.keras.importer.verify import copy_weights
from benchmarks.import_zoo import MODELS, spec_lines

FAMILIES = [
    ("ConvNeXtTiny", {"input_shape": (32, 32, 3)}),
    ("DenseNet121", {"input_shape": (32, 32, 3)}),
    ("EfficientNetB0", {"input_shape": (32, 32, 3)}),
    ("EfficientNetV2B0", {"input_shape": (32, 32, 3)}),
    ("InceptionResNetV2", {"input_shape": (75, 75, 3), "include_top": False}),
    ("InceptionV3", {"input_shape": (75, 75, 3)}),
    ("MobileNet", {"input_shape": (32, 32, 3), "alpha": 0.25}),
    ("MobileNetV2", {"input_shape": (32, 32, 3), "alpha": 0.35}),
    ("MobileNetV3Small", {"input_shape": (32, 32, 3)}),
    ("NASNetMobile", {"input_shape": (32, 32, 3), "include_top": False}),
    ("ResNet50", {"input_shape": (32, 32, 3)}),
    ("ResNet50V2", {"input_shape": (32, 32, 3)}),
    ("VGG16", {"input_shape": (32, 32, 3), "include_top": False}),
    ("Xception", {"input_shape": (71, 71, 3)}),
]
COMPACT = {
    "ConvNeXtTiny": (1, 50), "DenseNet121": (2, 45), "EfficientNetB0": (3, 95), "EfficientNetV2B0": (3, 95),
    "InceptionResNetV2": (2, 110), "InceptionV3": (3, 140), "MobileNetV2": (3, 60), "MobileNetV3Small": (2, 100),
    "ResNet50": (2, 45), "ResNet50V2": (3, 60), "VGG16": (1, 25), "Xception": (2, 50),
    # Their layer names carry the unit's number in the middle or at the end (conv_dw_3_bn,
    # separable_conv_1_normal_left1_5): blocks whose node names hold {index}, uses numbered by start.
    "MobileNet": (2, 40), "NASNetMobile": (2, 650),
}
"""Per family: the blocks its imported spec defines at least, and its non-blank non-comment lines at most
(the flat import was 210 lines for ResNet50, 303 for EfficientNetB0; issue 18 asks ResNet50 <= 120)."""
HEAVY = {"InceptionResNetV2", "NASNetMobile", "DenseNet121"}
"""Families whose smallest model takes over a minute to build, import and check on a loaded CPU."""


def assert_same_application(model, text):
    """Same parameters; the same outputs on 2 random images with the weights copied by node name."""
    rebuilt = archspec.compile_model(archspec.loads_spec(text, "app.yaml"))
    assert rebuilt.count_params() == model.count_params()
    _, reader = read_spec(model)
    copy_weights(rebuilt, reader.layers)
    shape = (2, *(size or 224 for size in model.input_shape[1:]))  # without the top the size is free
    batch = np.random.default_rng(0).uniform(0, 255, size=shape).astype("float32")
    got, want = np.asarray(rebuilt(batch)), np.asarray(model(batch))
    assert np.abs(got - want).max() <= 1e-5 * max(1.0, float(np.abs(want).max()))


@pytest.mark.parametrize("name, options", [
    pytest.param(name, options, marks=[pytest.mark.slow] if name in HEAVY else [], id=name)
    for name, options in FAMILIES
])
def test_one_model_of_every_family_round_trips(keras, name, options):
    model = getattr(keras.applications, name)(weights=None, **options)
    text = import_model(model, f"keras.applications.{name}")
    assert_same_application(model, text)
    blocks, lines = COMPACT[name]
    assert len(yaml.safe_load(text).get("blocks") or {}) >= blocks
    assert spec_lines(text) <= lines


FAMILY_OF = {"ConvNeXt": "ConvNeXtTiny", "DenseNet": "DenseNet121", "EfficientNetV2": "EfficientNetV2B0",
             "EfficientNetB": "EfficientNetB0", "InceptionResNet": "InceptionResNetV2", "InceptionV3": "InceptionV3",
             "MobileNetV3": "MobileNetV3Small", "MobileNetV2": "MobileNetV2", "MobileNet": "MobileNet",
             "NASNet": "NASNetMobile", "ResNet": "ResNet50", "VGG": "VGG16", "Xception": "Xception"}


def test_every_constructor_belongs_to_a_tested_family(keras):
    constructors = [name for name in dir(keras.applications) if name[:1].isupper()]
    assert sorted(MODELS) == sorted(constructors)
    tested = {name for name, _ in FAMILIES}
    assert set(COMPACT) == tested
    for name in MODELS:
        prefix = next(prefix for prefix in FAMILY_OF if name.startswith(prefix))
        assert FAMILY_OF[prefix] in tested


@pytest.mark.zoo
@pytest.mark.parametrize("top", [True, False], ids=["top", "no_top"])
@pytest.mark.parametrize("name", MODELS)
def test_every_application_round_trips_at_its_default_size(keras, name, top):
    model = getattr(keras.applications, name)(weights=None, include_top=top)
    assert_same_application(model, import_model(model, f"keras.applications.{name}"))
