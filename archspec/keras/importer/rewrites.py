"""Library layers with weights of their own, rewritten as the archspec ops their call computes.

The tracer (importer.trace) cannot follow a layer whose call uses a weight directly (a ViT's class
token, a learned position table): no traced node would hold the weight. For such a layer of a known
library class, a rewrite builds the same computation from Keras layers and archspec's own layers
(ClassToken, PositionalEmbedding), each holding the original's values, and the reader flattens that
model as it flattens a trace. The import's check (importer.verify) then compares parameters and
outputs with the original layer's, so a rewrite that is not exact is an error, never a wrong spec.

One function per class, keyed by its `module.Class`; a layer outside its supported settings
(`channels_first`, a mask token) returns None and goes to the tracer, which names what stops it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from archspec.keras.importer.attention_rewrites import (
    DISENTANGLED_ATTENTION,
    LAYOUTS,
    NEOX_ATTENTION,
    disentangled_attention,
    neox_attention,
    rotary_attention,
)


def rewritten_model(layer: Any, call: Any) -> Any | None:
    """A Functional model computing `layer`'s call with archspec's layers, or None (no rewrite)."""
    rewrite = REWRITES.get(_class_path(layer))
    return rewrite(layer, call) if rewrite is not None else None


def has_rewrite(layer: Any) -> bool:
    """True for a layer of a library class that a rewrite knows (it goes there first, even when an op lists a
    Keras class of the same name: Gemma's RMSNormalization is not Keras's)."""
    return _class_path(layer) in REWRITES


def inner_prefix(prefix: str, layer: Any, model: Any | None) -> str:
    """The prefix of the nodes read from `model` (a layer's rewrite or trace): `OUTER_INNER` as for a nested
    model, but a rewrite into one layer of the original's name keeps that name (the node *is* the layer)."""
    inner = [part.name for part in model.layers if type(part).__name__ != "InputLayer"] if model is not None else []
    if inner == [layer.name]:
        return prefix
    return f"{prefix}{layer.name}_"


def _class_path(layer: Any) -> str:
    return f"{type(layer).__module__}.{type(layer).__name__}"


def patch_embedding(layer: Any, call: Any) -> Any | None:
    """keras-hub's ViTPatchingAndEmbedding and DeiTEmbeddings: a strided Conv2D over patches, the
    patches as a sequence, the class (and distillation) tokens prepended, a learned position table
    added: conv2d -> reshape [-1, E] -> class_token -> positional_embedding (-> dropout)."""
    from archspec.keras.backend import import_keras
    from archspec.keras.layers import ClassToken, PositionalEmbedding

    keras = import_keras()
    if getattr(layer, "data_format", "channels_last") != "channels_last" or getattr(layer, "use_mask_token", False):
        return None
    tokens = [weight for weight in (getattr(layer, "class_token", None), getattr(layer, "distillation_token", None))
              if weight is not None and getattr(layer, "use_class_token", True)]
    table = layer.position_embedding  # ViT: an Embedding of arange(positions); DeiT: a (1, positions, E) weight
    table = np.asarray(getattr(table, "embeddings", table)).reshape(-1, layer.hidden_dim)  # (positions, E)
    (image,) = call.input_tensors
    inputs = keras.Input(batch_shape=tuple(image.shape), dtype=image.dtype)
    patches = layer.patch_embedding(inputs)  # the layer's own Conv2D: its weights stay where they are
    sequence = keras.layers.Reshape((-1, layer.hidden_dim), name="patches")(patches)  # (B, P, E)
    if tokens:
        token_layer = ClassToken(tokens=len(tokens), name="class_token")
        sequence = token_layer(sequence)  # (B, k + P, E)
        token_layer.set_weights([np.concatenate([np.asarray(token) for token in tokens], axis=1)])
    positions = PositionalEmbedding(sequence_length=int(table.shape[0]), name="position_embedding")
    sequence = positions(sequence)
    positions.set_weights([table])
    dropout = getattr(layer, "dropout", None)
    if isinstance(dropout, keras.layers.Dropout):
        sequence = dropout(sequence)
    return keras.Model(inputs, sequence)


def offset_rms_norm(layer: Any, call: Any) -> Any:
    """keras-hub's Gemma RMSNormalization, x / rms(x) * (1 + scale): archspec's OffsetRMSNormalization (an
    `rms_norm` node with `unit_offset: true`) of the layer's own name. Its class shares the name of Keras's
    RMSNormalization, which it is not; has_rewrite sends it here first."""
    from archspec.keras.backend import import_keras
    from archspec.keras.layers import OffsetRMSNormalization

    keras = import_keras()
    (tensor,) = call.input_tensors
    inputs = keras.Input(batch_shape=tuple(tensor.shape), dtype=tensor.dtype)
    norm = OffsetRMSNormalization(epsilon=layer.epsilon, name=layer.name, dtype=layer.dtype_policy)
    outputs = norm(inputs)
    norm.set_weights(layer.get_weights())
    return keras.Model(inputs, outputs)


def relative_embedding(layer: Any, call: Any) -> Any:
    """keras-hub's RelativeEmbedding (DeBERTa's): its (2 * buckets, features) table, layer-normalised, per example:
    archspec's RelativePositions (a `relative_positions` node) then the layer's own LayerNormalization."""
    from archspec.keras.backend import import_keras
    from archspec.keras.layers import RelativePositions

    keras = import_keras()
    (tensor,) = call.input_tensors
    inputs = keras.Input(batch_shape=tuple(tensor.shape), dtype=tensor.dtype)
    table = RelativePositions(buckets=int(layer.bucket_size), features=int(layer.hidden_dim), name="table",
                              initializer=keras.initializers.serialize(layer.kernel_initializer),
                              dtype=layer.dtype_policy)
    outputs = layer.layer_norm(table(inputs))  # the layer's own LayerNormalization: its weights stay where they are
    table.set_weights([np.asarray(layer.rel_embeddings)])
    return keras.Model(inputs, outputs)


REWRITES: dict[str, Callable[[Any, Any], Any | None]] = {
    "keras_hub.src.models.vit.vit_layers.ViTPatchingAndEmbedding": patch_embedding,
    "keras_hub.src.models.deit.deit_layers.DeiTEmbeddings": patch_embedding,
    **dict.fromkeys(LAYOUTS, rotary_attention),
    NEOX_ATTENTION: neox_attention,
    DISENTANGLED_ATTENTION: disentangled_attention,
    "keras_hub.src.models.gemma.rms_normalization.RMSNormalization": offset_rms_norm,
    "keras_hub.src.models.deberta_v3.relative_embedding.RelativeEmbedding": relative_embedding,
}
"""`module.Class` of a library layer -> the function that rewrites it (None outside its settings)."""
