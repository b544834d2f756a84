"""Multi-head attention: self-attention on its main input, cross-attention with an `attention` edge."""

from __future__ import annotations

from typing import Any

from pydantic import Field, PositiveInt

from archspec.catalogue.ops.base import (
    LayerCall,
    Op,
    OpParams,
    Shape,
    ShapeProblem,
    format_shape,
    keras_kwargs,
    keras_params,
    known,
)


class AttentionParams(OpParams):
    heads: PositiveInt
    key_dim: PositiveInt
    value_dim: PositiveInt | None = None
    dropout: float = Field(default=0.0, ge=0.0, lt=1.0)
    use_bias: bool = True
    causal: bool = False


_KEYS = {"num_heads": "heads", "key_dim": "key_dim", "value_dim": "value_dim", "dropout": "dropout",
         "use_bias": "use_bias"}
"""Keras MultiHeadAttention argument -> attention parameter (compile and import)."""


class MultiHeadAttention(Op):
    name = "attention"
    family = "attention"
    positional = ("heads", "key_dim")
    Params = AttentionParams
    arity = "attention"
    min_rank = 2
    doc = (
        "Multi-head scaled dot-product attention. Queries come from the main input; keys and values "
        "from the source of an `attention` edge, or from the main input itself (self-attention); a `mask` "
        "edge leaves out the key steps where its source is 0."
    )

    def infer_shape(self, params: AttentionParams, inputs: list[Shape]) -> Shape:
        query, source = inputs
        for shape, role in ((query, "queries"), (source, "keys/values")):
            if len(shape) < 2:
                raise ShapeProblem(
                    f"attention {role} must be a sequence (steps, features)",
                    got=format_shape(shape),
                    hint="reshape an image to (steps, features) first, e.g. reshape: [-1, channels]",
                )
        if len(query) != len(source):
            raise ShapeProblem(
                "attention queries and keys/values differ in rank",
                expected=format_shape(query),
                got=format_shape(source),
            )
        known(query[-1], "the query features of attention")
        known(source[-1], "the key/value features of attention")
        return query

    def layer(self, params: AttentionParams, inputs: list[Shape]) -> LayerCall:
        return LayerCall("MultiHeadAttention", keras_kwargs(params, _KEYS))

    keras_classes = ("MultiHeadAttention",)

    def from_keras(self, config: dict[str, Any]) -> dict[str, Any]:
        if config.get("output_shape") is not None:
            raise ValueError(f"output_shape={config['output_shape']!r} is not supported (only None)")
        if config.get("attention_axes") not in (None, [1], (1,)):  # (1,): built on (batch, steps, features)
            raise ValueError(f"attention_axes={config['attention_axes']!r} is not supported (only the steps axis)")
        params = keras_params(config, _KEYS)
        if params.get("value_dim") == params.get("key_dim"):  # Keras stores value_dim=None as key_dim
            params.pop("value_dim")
        return params

    def from_keras_call(self, kwargs: dict[str, Any]) -> dict[str, Any]:
        return {"causal": True} if kwargs.get("use_causal_mask") else {}

    def call_kwargs(self, params: AttentionParams) -> dict[str, Any]:
        return {"use_causal_mask": True} if params.causal else {}

    def count_params(self, params: AttentionParams, inputs: list[Shape], output: Shape) -> int:
        query, source = inputs[:2]  # a third input is the mask edge's (no weights)
        features, source_features = int(query[-1]), int(source[-1])  # type: ignore[arg-type]
        heads, key_dim = params.heads, params.key_dim
        value_dim = params.value_dim or key_dim
        bias = int(params.use_bias)
        return (
            features * heads * key_dim + bias * heads * key_dim  # query projection
            + source_features * heads * key_dim + bias * heads * key_dim  # key projection
            + source_features * heads * value_dim + bias * heads * value_dim  # value projection
            + heads * value_dim * features + bias * features  # output projection
        )
