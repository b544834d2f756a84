"""Multi-head attention: self-attention on its main input, cross-attention with an `attention` edge.

Decoder language models (LLaMA, Mistral, Qwen) add four things, each a parameter: fewer key/value heads
than query heads, each shared by a group of query heads (`kv_heads`, Keras's GroupQueryAttention),
queries and keys rotated by their position before their dot product (`rotary`, RoFormer's RoPE), an
output projection whose bias is set apart (`output_bias`; Qwen2's has none), and a sliding window of
keys (`window`, Mistral's). DeBERTa adds scores of content against relative positions (`relative`, with a
`relative` edge bringing the table of position vectors). Without them the node is Keras's MultiHeadAttention,
as it always was.
"""

from __future__ import annotations

from typing import Any

from pydantic import Field, PositiveFloat, PositiveInt, model_validator

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


class Rotary(OpParams):
    """Rotary position embedding (RoPE): the first `dims` features of each head, in two halves (x1, x2), turned
    by position * wavelength^(-2i/dims) / scaling into x * cos + (-x2, x1) * sin; the others pass."""

    max_wavelength: PositiveFloat = Field(default=10000.0, description="the longest wavelength of the rotations")
    scaling: PositiveFloat = Field(default=1.0, description="positions are divided by it (linear RoPE scaling)")
    dims: PositiveInt | None = Field(default=None, description="how many features of each head turn, the first "
                                     "ones (even, at most key_dim; default all; GPT-NeoX turns a quarter)")


class Relative(OpParams):
    """DeBERTa's relative positions: the distance from query to key, exact below buckets / 2, log-bucketed up to
    max_position beyond, indexes a (2 * buckets, features) table that a `relative` edge brings."""

    buckets: PositiveInt = Field(ge=2, description="the table has 2 * buckets rows (DeBERTa's bucket_size)")
    max_position: PositiveInt = Field(ge=2, description="the longest distance the log buckets reach (DeBERTa's "
                                      "max_sequence_length)")


class AttentionParams(OpParams):
    heads: PositiveInt
    key_dim: PositiveInt
    value_dim: PositiveInt | None = None
    dropout: float = Field(default=0.0, ge=0.0, lt=1.0)
    use_bias: bool = True
    causal: bool = False
    kv_heads: PositiveInt | None = Field(
        default=None, description="key/value heads, each shared by heads / kv_heads query heads (grouped-query "
        "attention; default: one per query head)")
    rotary: Rotary | None = Field(default=None, description="rotate queries and keys by their position (RoPE)")
    output_bias: bool | None = Field(default=None, description="whether the output projection has a bias "
                                     "(default: use_bias; Qwen2 has biases on queries, keys and values only)")
    window: PositiveInt | None = Field(
        default=None, description="each query attends only to keys fewer than `window` steps away (with causal: "
        "the `window` latest steps, its own included; Mistral's sliding window)")
    relative: Relative | None = Field(
        default=None, description="also score queries and keys against relative positions (DeBERTa's "
        "disentangled attention; scores scaled by 1/sqrt(3 * key_dim); a `relative` edge brings the table)")

    @model_validator(mode="after")
    def _grouped_heads(self) -> AttentionParams:
        if self.kv_heads is not None and self.heads % self.kv_heads:
            raise ValueError(f"kv_heads ({self.kv_heads}) must divide heads ({self.heads}): each key/value head "
                             "serves an equal group of query heads")
        if self.grouped and self.value_dim not in (None, self.key_dim):
            raise ValueError("value_dim must equal key_dim with kv_heads, rotary, output_bias or window "
                             "(one size per head)")
        turned = (self.rotary.dims or self.key_dim) if self.rotary is not None else 0
        if turned % 2:
            raise ValueError(f"rotary turns an even number of features (two halves together); got {turned} "
                             "(rotary dims, else key_dim)")
        if turned > self.key_dim:
            raise ValueError(f"rotary dims ({turned}) exceeds key_dim ({self.key_dim})")
        if self.relative is not None and (self.grouped or self.causal or self.value_dim not in (None, self.key_dim)):
            raise ValueError("relative goes with none of kv_heads, rotary, output_bias, window, causal and a "
                             "value_dim other than key_dim (DeBERTa's attention has none of them)")
        return self

    @property
    def grouped(self) -> bool:
        """True when the node is a grouped-query attention (kv_heads, rotary, output_bias or window given), not
        MultiHeadAttention."""
        return any(value is not None for value in (self.kv_heads, self.rotary, self.output_bias, self.window))


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
        query, source, *relative = inputs
        if params.relative is not None and not relative:
            raise ShapeProblem("attention with relative needs a relative edge bringing its table of positions",
                               expected=f"a relative edge from a ({2 * params.relative.buckets}, features) table",
                               got="none", hint="add a relative_positions node (then a layer_norm) and a "
                               "`relative` edge from it")
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
        if params.grouped and query[-1] != source[-1]:
            raise ShapeProblem(
                "attention with kv_heads, rotary, output_bias or window needs keys/values with the queries' "
                "features",
                expected=f"{query[-1]} features", got=format_shape(source),
                hint="project the keys/values to the queries' features with a dense node first")
        return query

    def layer(self, params: AttentionParams, inputs: list[Shape]) -> LayerCall:
        if params.relative is not None:
            return LayerCall("DisentangledAttention", {
                "num_heads": params.heads, "key_dim": params.key_dim, "buckets": params.relative.buckets,
                "max_position": params.relative.max_position, "dropout": params.dropout,
                "use_bias": params.use_bias}, module="archspec.keras.layers")
        if not params.grouped:
            return LayerCall("MultiHeadAttention", keras_kwargs(params, _KEYS))
        kwargs = {"head_dim": params.key_dim, "num_query_heads": params.heads,
                  "num_key_value_heads": params.kv_heads or params.heads, "dropout": params.dropout,
                  "use_bias": params.use_bias, **({"sliding_window": params.window} if params.window else {})}
        if params.rotary is None and params.output_bias in (None, params.use_bias):
            return LayerCall("GroupQueryAttention", kwargs)  # the class GroupedQueryAttention
        if params.rotary is not None:
            kwargs.update(rotary_max_wavelength=params.rotary.max_wavelength, rotary_scaling=params.rotary.scaling)
            if params.rotary.dims not in (None, params.key_dim):
                kwargs["rotary_dims"] = params.rotary.dims
        if params.output_bias not in (None, params.use_bias):
            kwargs["output_bias"] = params.output_bias
        return LayerCall("DecoderAttention", kwargs, module="archspec.keras.layers")

    keras_classes = ("MultiHeadAttention", "GroupedQueryAttention", "DecoderAttention", "DisentangledAttention")
    """Keras's two attention layers and archspec's DecoderAttention (a GroupedQueryAttention) and
    DisentangledAttention (DeBERTa's)."""

    def from_keras(self, config: dict[str, Any]) -> dict[str, Any]:
        if "max_position" in config:  # DisentangledAttention
            return {"heads": config["num_heads"], "key_dim": config["key_dim"], "dropout": config["dropout"],
                    "use_bias": config["use_bias"],
                    "relative": {"buckets": config["buckets"], "max_position": config["max_position"]}}
        if "num_query_heads" in config:
            return _grouped_from_keras(config)
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
        query, source = inputs[:2]  # a third and fourth are the mask's and the relative positions' (no weights)
        features, source_features = int(query[-1]), int(source[-1])  # type: ignore[arg-type]
        heads, key_dim = params.heads, params.key_dim
        kv_heads = params.kv_heads or heads
        value_dim = params.value_dim or key_dim
        bias = int(params.use_bias)
        output_bias = bias if params.output_bias is None else int(params.output_bias)
        return (
            features * heads * key_dim + bias * heads * key_dim  # query projection
            + source_features * kv_heads * key_dim + bias * kv_heads * key_dim  # key projection
            + source_features * kv_heads * value_dim + bias * kv_heads * value_dim  # value projection
            + heads * value_dim * features + output_bias * features  # output projection
        )


def check_relative(params: AttentionParams, query: Shape, table: Shape) -> None:
    """The table a relative edge brings: the node has `relative`, and the table is (2 * buckets, the queries'
    features). Checked at the edge (archspec.graph.plan), so the error points at it."""
    if params.relative is None:
        raise ShapeProblem("a relative edge leads into an attention node without `relative`",
                           expected="relative: {buckets: B, max_position: P} on the node", got="no relative",
                           hint="set relative on the attention node, or remove the relative edge")
    expected = (2 * params.relative.buckets, query[-1])
    if tuple(table) != expected:
        raise ShapeProblem("the relative edge brings 2 * buckets rows of the queries' features",
                           expected=format_shape(expected), got=format_shape(table),
                           hint="make its source a relative_positions node with the node's buckets and the "
                           "queries' features")


def _grouped_from_keras(config: dict[str, Any]) -> dict[str, Any]:
    """attention params of a GroupedQueryAttention (or archspec's DecoderAttention) config."""
    if config.get("use_gate", False):
        raise ValueError("use_gate=True is not supported (only False)")
    params: dict[str, Any] = {"heads": config["num_query_heads"], "key_dim": config["head_dim"],
                              "dropout": config.get("dropout", 0.0), "use_bias": config.get("use_bias", True)}
    if config.get("sliding_window") is not None:
        params["window"] = config["sliding_window"]
    if config.get("rotary_max_wavelength") is not None:  # DecoderAttention's
        params["rotary"] = {"max_wavelength": config["rotary_max_wavelength"], "scaling": config["rotary_scaling"],
                            **({"dims": config["rotary_dims"]} if config.get("rotary_dims") else {})}
    if config.get("output_bias") not in (None, params["use_bias"]):
        params["output_bias"] = config["output_bias"]
    fewer = config["num_key_value_heads"] != config["num_query_heads"]
    if fewer or not {"rotary", "output_bias", "window"} & set(params):  # else nothing would say grouped
        params["kv_heads"] = config["num_key_value_heads"]
    return params
