"""Registry-wide: every keras.ops function either imports or is listed with the reason it cannot
(tests/keras_coverage.py); the layer classes are archspec/keras/importer/coverage.py's, checked by
test_importer_coverage.py. A new Keras release or a wrong claim fails here, not in a user's import."""

from __future__ import annotations

import pytest

from archspec.keras.importer.keras_ops import KERAS_OPS
from tests.keras_coverage import OPS_ALIASES, REFUSED_OPS


def _ops_functions(keras) -> set[str]:
    return {name for name in dir(keras.ops) if not name.startswith("_") and callable(getattr(keras.ops, name))}


def _operation_class(function: str) -> str:
    return OPS_ALIASES.get(function, "".join(part[:1].upper() + part[1:] for part in function.split("_")))


def test_every_keras_ops_function_imports_or_is_refused_with_a_reason(keras):
    functions = _ops_functions(keras)
    imported = {name for name in functions if _operation_class(name) in KERAS_OPS}
    assert sorted(functions - imported - set(REFUSED_OPS)) == []  # new in Keras
    assert sorted(set(REFUSED_OPS) & imported) == []
    assert sorted(set(REFUSED_OPS) - functions) == []
    assert {"add", "pad", "get_item", "reshape", "relu", "split", "transpose"} <= imported


def test_a_refused_layer_is_refused_by_the_importer_with_its_class_named(keras):
    from archspec.keras.importer import KerasImportError, import_model

    sequence = keras.Input((5, 4), name="seq")
    model = keras.Model(sequence, keras.layers.UpSampling1D(2, name="up")(sequence))
    with pytest.raises(KerasImportError) as raised:
        import_model(model)
    assert str(raised.value).startswith("layer 'up' is a UpSampling1D, which no archspec op imports")
