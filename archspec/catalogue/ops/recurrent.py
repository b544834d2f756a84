"""Recurrent ops over (steps, features) sequences: lstm, gru, simple_rnn (optionally bidirectional), masking.

`bidirectional` wraps the layer in Keras's Bidirectional: the LayerCall of the
wrapper carries the recurrent layer's LayerCall as its `layer` argument, and
`archspec import` reads a Bidirectional(LSTM) back into `lstm` with the option.
"""

from __future__ import annotations

from typing import Any, ClassVar, Literal

from pydantic import Field, PositiveInt

from archspec.catalogue.ops.base import (
    Activation,
    LayerCall,
    Op,
    OpParams,
    Shape,
    fields_after,
    keras_kwargs,
    keras_params,
    known,
    require_rank,
)
from archspec.catalogue.ops.weights import RECURRENT_KEYS, weight_group, weight_kwargs, weight_params

MergeMode = Literal["concat", "sum", "mul", "ave"]


@fields_after(weight_group(RECURRENT_KEYS))
class RecurrentParams(OpParams):
    units: PositiveInt
    return_sequences: bool = Field(default=False, description="every step's output, not only the last")
    bidirectional: bool | MergeMode = Field(
        default=False, description="also run backwards and merge: true (= concat), concat, sum, mul or ave")
    activation: Activation | None = "tanh"
    use_bias: bool = True
    dropout: float = Field(default=0.0, ge=0.0, lt=1.0)
    recurrent_dropout: float = Field(default=0.0, ge=0.0, lt=1.0)


class GatedParams(RecurrentParams):
    recurrent_activation: Activation | None = "sigmoid"


class LstmParams(GatedParams):
    unit_forget_bias: bool = Field(default=True, description="initialise the forget gate's bias to 1")


class GruParams(GatedParams):
    reset_after: bool = Field(default=True, description="reset gate after the matrix product (Keras 3, cuDNN)")


_BASE_KEYS = {
    "units": "units", "return_sequences": "return_sequences", "activation": "activation",
    "use_bias": "use_bias", "dropout": "dropout", "recurrent_dropout": "recurrent_dropout",
}
"""Keras's recurrent-layer arguments and the parameters they are, both ways (plus each layer's own below)."""
_GRU_KEYS = {**_BASE_KEYS, "recurrent_activation": "recurrent_activation", "reset_after": "reset_after"}
_LSTM_KEYS = {**_BASE_KEYS, "recurrent_activation": "recurrent_activation", "unit_forget_bias": "unit_forget_bias"}


class _Recurrent(Op):
    family = "dense"
    positional = ("units",)
    keras_class: ClassVar[str]
    gates: ClassVar[int]
    keys: ClassVar[dict[str, str]]
    min_rank = 2

    def infer_shape(self, params: RecurrentParams, inputs: list[Shape]) -> Shape:
        require_rank(inputs[0], 2, self.name)
        known(inputs[0][1], f"the features of a {self.name} input")
        features = params.units * (2 if _merge_mode(params) == "concat" else 1)
        return (inputs[0][0], features) if params.return_sequences else (features,)

    def layer(self, params: RecurrentParams, inputs: list[Shape]) -> LayerCall:
        kwargs = {**keras_kwargs(params, self.keys), **weight_kwargs(params, RECURRENT_KEYS)}
        mode = _merge_mode(params)
        if mode is None:
            return LayerCall(self.keras_class, kwargs)
        # The inner layer is named, so the wrapper's forward_/backward_ names do not depend on how many
        # layers Keras has made before in this process (codegen's model equals compile_model's).
        named = LayerCall(self.keras_class, {**kwargs, "name": self.name})
        return LayerCall("Bidirectional", {"layer": named, "merge_mode": mode})

    def from_keras(self, config: dict) -> dict:
        wrapper: dict[str, Any] = {}
        if isinstance(config.get("layer"), dict):  # Bidirectional(...)
            mode = config.get("merge_mode")
            if mode not in ("concat", "sum", "mul", "ave"):
                raise ValueError(f"merge_mode={mode!r} is not supported (only concat, sum, mul, ave)")
            wrapper = {"bidirectional": True if mode == "concat" else mode}
            config = config["layer"]["config"]
        params = keras_params(config, self.keys, return_state=False, go_backwards=False, stateful=False)
        return {**params, **weight_params(config, RECURRENT_KEYS), **wrapper}

    def count_params(self, params: RecurrentParams, inputs: list[Shape], output: Shape) -> int:
        features = known(inputs[0][1], f"{self.name} input features")
        units = params.units
        biases = (2 if getattr(params, "reset_after", False) else 1) * units if params.use_bias else 0
        one_way = self.gates * (features * units + units * units + biases)
        return one_way * (1 if _merge_mode(params) is None else 2)


class Lstm(_Recurrent):
    name = "lstm"
    Params = LstmParams
    keras_class = "LSTM"
    keras_classes = ("LSTM", "Bidirectional(LSTM)")
    keys = _LSTM_KEYS
    gates = 4
    doc = "Long short-term memory over the steps: (steps, features) -> (units,), or (steps, units) per step."


class Gru(_Recurrent):
    name = "gru"
    Params = GruParams
    keras_class = "GRU"
    keras_classes = ("GRU", "Bidirectional(GRU)")
    keys = _GRU_KEYS
    gates = 3
    doc = "Gated recurrent unit over the steps: (steps, features) -> (units,), or (steps, units) per step."


class SimpleRnn(_Recurrent):
    name = "simple_rnn"
    Params = RecurrentParams
    keras_class = "SimpleRNN"
    keras_classes = ("SimpleRNN", "Bidirectional(SimpleRNN)")
    keys = _BASE_KEYS
    gates = 1
    doc = "Fully connected recurrence h = activation(W x + U h + b) over the steps."


def _merge_mode(params: RecurrentParams) -> str | None:
    """Keras's merge_mode for the `bidirectional` option; None when the layer runs one way."""
    if params.bidirectional is True:
        return "concat"
    return params.bidirectional or None


class MaskingParams(OpParams):
    mask_value: float = 0.0


class Masking(Op):
    name = "masking"
    output_dtype = None
    family = "keep"
    Params = MaskingParams
    foldable = True
    doc = "Marks the steps whose features all equal `mask_value` as padding: recurrent layers after it skip them."
    keras_classes = ("Masking",)

    def infer_shape(self, params: MaskingParams, inputs: list[Shape]) -> Shape:
        return inputs[0]

    def layer(self, params: MaskingParams, inputs: list[Shape]) -> LayerCall:
        return LayerCall("Masking", {"mask_value": params.mask_value})

    def from_keras(self, config: dict) -> dict:
        return keras_params(config, {"mask_value": "mask_value"})
