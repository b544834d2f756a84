"""Embedding ops: learned vectors for integer tokens, for positions in a sequence, and for relative positions."""

from __future__ import annotations

from typing import Any

from pydantic import Field, PositiveInt

from archspec.catalogue.ops.base import (
    INTEGER_DTYPES,
    LayerCall,
    Op,
    OpParams,
    Shape,
    ShapeProblem,
    fields_after,
    format_shape,
    keras_kwargs,
    keras_params,
    known,
)
from archspec.catalogue.ops.weights import Initializer, weight_group, weight_kwargs, weight_params
from archspec.catalogue.primitives import FLOAT_DTYPES

_EMBEDDING_WEIGHTS = {"embeddings_initializer": "embeddings_init", "embeddings_regularizer": "embeddings_reg"}


@fields_after(weight_group(_EMBEDDING_WEIGHTS))
class EmbeddingParams(OpParams):
    input_dim: PositiveInt = Field(description="vocabulary size")
    output_dim: PositiveInt
    mask_zero: bool = Field(default=False, description="token 0 is padding: later sequence layers skip it")
    reverse_table: bool = Field(
        default=False, description="also hold a second, (output_dim, input_dim) table for turning vectors back into "
        "token logits, untied from the first (keras-hub's decoders); the forward pass does not use it")


class Embedding(Op):
    name = "embedding"
    family = "dense"
    positional = ("input_dim", "output_dim")
    Params = EmbeddingParams
    doc = "Looks up a learned `output_dim` vector for each integer token below `input_dim`."
    input_dtype = "int32"
    input_dtypes = INTEGER_DTYPES

    def infer_shape(self, params: EmbeddingParams, inputs: list[Shape]) -> Shape:
        return inputs[0] + (params.output_dim,)

    keras_classes = ("Embedding", "ReversibleEmbedding")
    """A ReversibleEmbedding (keras-hub's token embeddings) is an embedding going forwards; with untied
    weights (`tie_weights=False`) it holds a second table, used only by its reverse call (logits), and the
    node says so with `reverse_table: true` (compiled to Keras's ReversibleEmbedding, which holds both)."""

    def from_keras(self, config: dict) -> dict:
        reverse = config.get("tie_weights") is False
        config = {key: value for key, value in config.items()
                  if key not in ("tie_weights", "logit_soft_cap", "reverse_dtype")}  # the reverse call's options
        params = {**keras_params(config, _EMBEDDING_KEYS), **weight_params(config, _EMBEDDING_WEIGHTS)}
        return {**params, "reverse_table": True} if reverse else params

    def layer(self, params: EmbeddingParams, inputs: list[Shape]) -> LayerCall:
        kwargs = keras_kwargs(params, _EMBEDDING_KEYS)
        if not params.mask_zero:  # the Keras default, left out as before mask_zero existed
            kwargs.pop("mask_zero")
        kwargs.update(weight_kwargs(params, _EMBEDDING_WEIGHTS))
        if params.reverse_table:
            return LayerCall("ReversibleEmbedding", {**kwargs, "tie_weights": False})
        return LayerCall("Embedding", kwargs)

    def count_params(self, params: EmbeddingParams, inputs: list[Shape], output: Shape) -> int:
        return params.input_dim * params.output_dim * (2 if params.reverse_table else 1)


class PositionalEmbeddingParams(OpParams):
    length: PositiveInt | None = Field(
        default=None, description="rows of the table; a sequence of at most that many steps (or of any length, "
        "steps null) uses its first rows (default: exactly the sequence's steps)")
    add: bool = Field(default=True, description="false: the output is the positions alone, the shape of the "
                      "input, to be added elsewhere (keras-hub's PositionEmbedding)")


class PositionalEmbedding(Op):
    name = "positional_embedding"
    input_dtypes = FLOAT_DTYPES
    family = "dense"
    Params = PositionalEmbeddingParams
    doc = "Adds a learned vector per position to a (steps, features) sequence (transformer inputs)."
    min_rank = 2

    def infer_shape(self, params: PositionalEmbeddingParams, inputs: list[Shape]) -> Shape:
        if len(inputs[0]) != 2:
            raise ShapeProblem(
                "positional_embedding needs a sequence (steps, features)",
                got=format_shape(inputs[0]),
                hint="put it after the token projection (a dense node on a rank-2 input)",
            )
        steps = inputs[0][0]
        if params.length is None:
            known(steps, "the sequence length of positional_embedding")
        elif steps is not None and steps > params.length:
            raise ShapeProblem(f"positional_embedding has {params.length} positions for a sequence of {steps} steps",
                               expected=f"at most {params.length} steps", got=format_shape(inputs[0]),
                               hint=f"set length: {steps} or more")
        return inputs[0]

    keras_classes = ("PositionalEmbedding", "PositionEmbedding")
    """archspec's own layer (x + P) and keras-hub's PositionEmbedding (P alone, its first rows for a
    shorter sequence), told apart by the initializer only keras-hub's config holds."""

    def from_keras(self, config: dict[str, Any]) -> dict[str, Any]:
        if "initializer" in config:  # keras-hub's
            return {"length": config["sequence_length"], "add": False}
        return {key: config[key] for key in ("length", "add") if key in config}

    def from_keras_call(self, kwargs: dict[str, Any]) -> dict[str, Any]:
        if kwargs.get("start_index", 0) != 0 or kwargs.get("positions") is not None:
            raise ValueError("a call with start_index or positions (a decoding cache) is not supported")
        return {}

    def layer(self, params: PositionalEmbeddingParams, inputs: list[Shape]) -> LayerCall:
        steps, _ = inputs[0]
        kwargs: dict[str, Any] = {"sequence_length": params.length or steps}
        if not params.add:
            kwargs["add"] = False
        return LayerCall("PositionalEmbedding", kwargs, module="archspec.keras.layers")

    def count_params(self, params: PositionalEmbeddingParams, inputs: list[Shape], output: Shape) -> int:
        steps, features = inputs[0]
        return (params.length or known(steps, "steps")) * known(features, "features")


class RelativePositionsParams(OpParams):
    buckets: PositiveInt = Field(description="relative distances -buckets..buckets-1 (the table has 2 * buckets "
                                 "rows; DeBERTa's bucket_size, commonly max_sequence_length // 2)")
    features: PositiveInt = Field(description="the size of each vector (the attention's input features)")
    init: Initializer = "glorot_uniform"


class RelativePositions(Op):
    name = "relative_positions"
    output_dtype = "float32"
    family = "dense"
    positional = ("buckets", "features")
    Params = RelativePositionsParams
    doc = ("A learned table of 2 * buckets relative-position vectors, the same for every example: its output is "
           "(2 * buckets, features) whatever its input (which gives only the batch). DeBERTa layer-normalises it "
           "and projects it in each attention layer.")

    def infer_shape(self, params: RelativePositionsParams, inputs: list[Shape]) -> Shape:
        return (2 * params.buckets, params.features)

    keras_classes = ("RelativePositions",)

    def from_keras(self, config: dict[str, Any]) -> dict[str, Any]:
        return {"buckets": config["buckets"], "features": config["features"],
                **weight_params(config, _TABLE_WEIGHTS, {"initializer": "glorot_uniform"})}

    def layer(self, params: RelativePositionsParams, inputs: list[Shape]) -> LayerCall:
        kwargs = {"buckets": params.buckets, "features": params.features, **weight_kwargs(params, _TABLE_WEIGHTS)}
        return LayerCall("RelativePositions", kwargs, module="archspec.keras.layers")

    def count_params(self, params: RelativePositionsParams, inputs: list[Shape], output: Shape) -> int:
        return 2 * params.buckets * params.features


_TABLE_WEIGHTS = {"initializer": "init"}
_EMBEDDING_KEYS = {"input_dim": "input_dim", "output_dim": "output_dim", "mask_zero": "mask_zero"}
