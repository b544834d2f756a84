"""Initialisers and regularisers of weights: `kernel_init: he_normal`, `bias_init: -2.0`, `kernel_reg: {l2: 1e-4}`.

An op with weights mixes in one of the Params models below and maps its
parameter names to Keras's argument names once (`weight_kwargs` compiling,
`weight_params` importing). Nothing here imports Keras: an initialiser is
passed as its Keras name, a constant and a regulariser as the config dict
Keras's `initializers.get` / `regularizers.get` deserialise, so codegen can
print them and `model.get_config()` reads them back.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import NonNegativeFloat

from archspec.graph.ops.base import OpParams

InitializerName = Literal[
    "zeros", "ones", "glorot_uniform", "glorot_normal", "he_uniform", "he_normal", "lecun_uniform",
    "lecun_normal", "orthogonal", "random_normal", "random_uniform", "truncated_normal", "identity",
    "variance_scaling",
]
Initializer = InitializerName | float
"""A Keras initialiser by name (with its default arguments), or a number for a constant."""

_CLASS_OF = {
    "zeros": "Zeros", "ones": "Ones", "glorot_uniform": "GlorotUniform", "glorot_normal": "GlorotNormal",
    "he_uniform": "HeUniform", "he_normal": "HeNormal", "lecun_uniform": "LecunUniform",
    "lecun_normal": "LecunNormal", "orthogonal": "Orthogonal", "random_normal": "RandomNormal",
    "random_uniform": "RandomUniform", "truncated_normal": "TruncatedNormal", "identity": "Identity",
    "variance_scaling": "VarianceScaling",
}
_NAME_OF = {cls: name for name, cls in _CLASS_OF.items()}
_DEFAULT_CONFIG: dict[str, dict[str, Any]] = {
    "Orthogonal": {"gain": 1.0},
    "RandomNormal": {"mean": 0.0, "stddev": 0.05},
    "TruncatedNormal": {"mean": 0.0, "stddev": 0.05},
    "RandomUniform": {"minval": -0.05, "maxval": 0.05},
    "VarianceScaling": {"scale": 1.0, "mode": "fan_in", "distribution": "truncated_normal"},
}
"""The arguments a named initialiser has when given by name: only these import as the name."""


class Regularizer(OpParams):
    """`{l1: x, l2: y}`: the penalty l1 * sum|w| + l2 * sum w^2 added to the loss (Keras's L1L2)."""

    l1: NonNegativeFloat = 0.0
    l2: NonNegativeFloat = 0.0


class KernelWeights(OpParams):
    """A kernel and a bias: dense and convolution layers."""

    kernel_init: Initializer | None = None
    bias_init: Initializer | None = None
    kernel_reg: Regularizer | None = None
    bias_reg: Regularizer | None = None


class RecurrentWeights(KernelWeights):
    """A recurrent layer's input kernel, recurrent kernel and bias."""

    recurrent_init: Initializer | None = None
    recurrent_reg: Regularizer | None = None


class NormWeights(OpParams):
    """A normalisation's scale (gamma) and offset (beta)."""

    gamma_init: Initializer | None = None
    beta_init: Initializer | None = None
    gamma_reg: Regularizer | None = None
    beta_reg: Regularizer | None = None


KERNEL_KEYS = {"kernel_initializer": "kernel_init", "bias_initializer": "bias_init",
               "kernel_regularizer": "kernel_reg", "bias_regularizer": "bias_reg"}
RECURRENT_KEYS = {**KERNEL_KEYS, "recurrent_initializer": "recurrent_init",
                  "recurrent_regularizer": "recurrent_reg"}
NORM_KEYS = {"gamma_initializer": "gamma_init", "beta_initializer": "beta_init",
             "gamma_regularizer": "gamma_reg", "beta_regularizer": "beta_reg"}
DEPTHWISE_KEYS = {"depthwise_initializer": "kernel_init", "bias_initializer": "bias_init",
                  "depthwise_regularizer": "kernel_reg", "bias_regularizer": "bias_reg"}
KERNEL_DEFAULTS = {"kernel_initializer": "glorot_uniform", "bias_initializer": "zeros",
                   "depthwise_initializer": "glorot_uniform", "pointwise_initializer": "glorot_uniform",
                   "recurrent_initializer": "orthogonal", "gamma_initializer": "ones", "beta_initializer": "zeros",
                   "embeddings_initializer": "random_uniform", "alpha_initializer": "zeros"}
"""Keras's default initialisers: an imported layer that uses them writes nothing."""


def weight_kwargs(params: Any, names: dict[str, str]) -> dict[str, Any]:
    """Keras arguments for the initialisers and regularisers a node sets (none when it sets none)."""
    kwargs: dict[str, Any] = {}
    for keras_key, name in names.items():
        value = getattr(params, name)
        if value is None:
            continue
        if isinstance(value, Regularizer):
            kwargs[keras_key] = {"class_name": "L1L2", "config": {"l1": value.l1, "l2": value.l2}}
        elif isinstance(value, str):
            kwargs[keras_key] = value
        else:
            kwargs[keras_key] = {"class_name": "Constant", "config": {"value": float(value)}}
    return kwargs


def weight_params(config: dict[str, Any], names: dict[str, str],
                  defaults: dict[str, str] = KERNEL_DEFAULTS) -> dict[str, Any]:
    """The inverse of `weight_kwargs`: parameters for a Keras layer config's initialisers and regularisers.

    A default initialiser, and one with arguments a name cannot carry (e.g.
    VarianceScaling(scale=2)), write nothing: the imported layer's weights are
    copied, so only a retrain from scratch would see the difference.
    """
    params: dict[str, Any] = {}
    for keras_key, name in names.items():
        value = config.get(keras_key)
        if value is None:
            continue
        if keras_key.endswith("_regularizer"):
            params[name] = _regularizer(value)
            continue
        written = _initializer(value)
        if written is not None and written != defaults.get(keras_key):
            params[name] = written
    return params


def _initializer(value: Any) -> str | float | None:
    if isinstance(value, str):
        return value if value in _CLASS_OF else None
    cls, config = value.get("class_name"), dict(value.get("config") or {})
    if cls == "Constant" and isinstance(config.get("value"), (int, float)):
        return float(config["value"])
    if cls not in _NAME_OF:
        return None
    arguments = {key: item for key, item in config.items() if item is not None}
    return _NAME_OF[cls] if arguments == _DEFAULT_CONFIG.get(cls, {}) else None


def _regularizer(value: Any) -> dict[str, float]:
    cls, config = value.get("class_name"), value.get("config") or {}
    if cls not in ("L1L2", "L1", "L2"):
        raise ValueError(f"regularizer {cls!r} is not supported (only L1, L2, L1L2)")
    return {key: float(f"{float(config[key]):.7g}") for key in ("l1", "l2") if config.get(key)}
