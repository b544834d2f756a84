"""Every public Keras layer class either imports (an op lists it in keras_classes) or is refused with a reason
(archspec/keras/importer/coverage.py), and never both."""

from __future__ import annotations

from archspec.catalogue.ops import OPS
from archspec.keras.importer.coverage import IMPORTED_OUTSIDE_OPS, REASONS, REFUSED


def _keras_layer_classes(keras) -> set[str]:
    classes = {getattr(keras.layers, name) for name in dir(keras.layers) if name[:1].isupper()}
    return {cls.__name__ for cls in classes if isinstance(cls, type) and issubclass(cls, keras.layers.Layer)}


def _imported() -> set[str]:
    names = {key.split("(")[0] for op in OPS.values() for key in getattr(op, "keras_classes", ())}
    return names | set(IMPORTED_OUTSIDE_OPS)


def test_every_keras_layer_class_imports_or_is_refused_with_a_reason(keras):
    unaccounted = _keras_layer_classes(keras) - _imported() - set(REFUSED)
    assert not unaccounted, f"import them (an op's keras_classes) or say why in coverage.py: {sorted(unaccounted)}"


def test_no_class_is_both_imported_and_refused():
    assert not set(REFUSED) & _imported()


def test_each_refused_class_is_a_keras_layer_listed_once(keras):
    assert set(REFUSED) <= _keras_layer_classes(keras)
    assert sum(len(names) for names in REASONS.values()) == len(REFUSED)


def test_a_refused_layer_is_named_with_its_reason(keras):
    import pytest

    from archspec.keras.importer import KerasImportError, import_model

    inputs = keras.Input((8, 8, 3), name="x")
    model = keras.Model(inputs, keras.layers.RandomFlip(name="flip")(inputs))
    with pytest.raises(KerasImportError) as caught:
        import_model(model)
    assert str(caught.value).split("\n")[0] == (
        "layer 'flip' is a RandomFlip, which no archspec op imports: it is training-time data augmentation, "
        "which belongs to the input pipeline, not the architecture")
