"""Attention masks built between layers import as a `mask` edge (and `causal: true`), checked by outputs.

Integer padding inputs get 0s and 1s from the import's own check (equivalence.sample_inputs), so every
import below has masked and unmasked steps; the tests also compare on a batch with a padded tail.
"""

from __future__ import annotations

import numpy as np
import pytest

from archspec.keras.importer import KerasImportError, import_and_rebuild, import_model
from archspec.keras.importer.verify import model_outputs


def _encoder(keras, mask_of):
    """Token ids and a padding mask -> embedding -> self-attention whose mask `mask_of(padding)` builds."""
    tokens = keras.Input((None,), dtype="int32", name="tokens")
    padding = keras.Input((None,), dtype="int32", name="padding")
    x = keras.layers.Embedding(30, 8, name="embed")(tokens)
    x = mask_of(keras.layers.MultiHeadAttention(2, 4, name="att"), x, padding)
    return keras.Model([tokens, padding], keras.layers.Dense(3, name="head")(x), name="encoder")


def _padded_batch():
    tokens = np.arange(12, dtype="int32").reshape(2, 6) % 30
    padding = np.ones((2, 6), "int32")
    padding[0, 4:] = 0
    return [tokens, padding]


def _keras_hub_form(att, x, padding):
    from keras import ops

    return att(query=x, value=x, attention_mask=ops.cast(ops.expand_dims(padding, axis=1), "int32"))


def _causal_form(att, x, padding):
    from keras import ops

    return att(x, x, attention_mask=ops.expand_dims(padding, axis=-2), use_causal_mask=True)


KEY_MASKS = {
    "keras_hub_cast_expand_dims": _keras_hub_form,
    "value_mask": lambda att, x, padding: att(x, x, value_mask=padding),
    "causal_and_padding": _causal_form,
}


@pytest.mark.parametrize("form", sorted(KEY_MASKS))
def test_a_key_mask_in_any_keras_form_imports_as_a_mask_edge(keras, form):
    model = _encoder(keras, KEY_MASKS[form])
    text, rebuilt = import_and_rebuild(model)
    assert "  - {from: padding, to: att, kind: mask}\n" in text
    assert ("causal: true" in text) == (form == "causal_and_padding")
    assert "expand_dims" not in text and "cast" not in text
    batch = _padded_batch()
    expected = model_outputs(model, batch)[0]
    np.testing.assert_allclose(model_outputs(rebuilt, batch)[0], expected, atol=1e-6)
    unmasked = model_outputs(model, [batch[0], np.ones_like(batch[1])])[0]
    assert np.abs(unmasked[0] - expected[0]).max() > 1e-4  # the mask changes the padded row


def test_a_mask_building_call_used_as_a_tensor_is_refused_with_its_own_message(keras):
    tokens = keras.Input((None,), dtype="int32", name="tokens")
    padding = keras.Input((None,), dtype="int32", name="padding")
    x = keras.layers.Embedding(30, 8, name="embed")(tokens)
    wide = keras.ops.cast(keras.ops.expand_dims(padding, axis=1), "float32")  # (B, 1, S), used as data
    x = keras.layers.Dense(3, name="head")(keras.ops.matmul(wide, x))
    with pytest.raises(KerasImportError, match=r"^operation 'expand_dims(_\d+)?' \(keras.ops ExpandDims\(padding\)\) "
                                              r"has no archspec op to import it as"):
        import_model(keras.Model([tokens, padding], x))


def test_a_mask_per_query_and_key_step_is_refused_by_name(keras):
    tokens = keras.Input((5, 8), name="tokens")
    pairs = keras.Input((5, 5), name="pairs")
    x = keras.layers.MultiHeadAttention(2, 4, name="att")(tokens, tokens, attention_mask=pairs)
    with pytest.raises(KerasImportError, match=r"layer 'att' \(MultiHeadAttention\) is called with "
                                              r"attention_mask= of shape 5x5, which is not a mask of the key steps"):
        import_model(keras.Model([tokens, pairs], x))


def test_a_float_mask_cast_to_integers_is_not_read_as_the_same_mask(keras):
    """cast(0.5, int32) is 0: the cast changes which steps are kept, so it is no view of the float mask."""
    tokens = keras.Input((5, 8), name="tokens")
    soft = keras.Input((5,), name="soft")
    mask = keras.ops.expand_dims(keras.ops.cast(soft, "int32"), axis=1)
    x = keras.layers.MultiHeadAttention(2, 4, name="att")(tokens, tokens, attention_mask=mask)
    with pytest.raises(KerasImportError, match=r"keras.ops Cast\(soft\)"):
        import_model(keras.Model([tokens, soft], x))
