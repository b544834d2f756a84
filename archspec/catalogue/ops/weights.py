"""Initialisers and regularisers of weights: `kernel_init: he_normal`, `bias_init: -2.0`, `kernel_reg: {l2: 1e-4}`.

The parameters are declared by the maps below from Keras's argument names to theirs
(`weight_group(KERNEL_KEYS)`), which also carry them to Keras (`weight_kwargs`) and back
(`weight_params`); an op appends its group to its Params with `fields_after` (a layer with a
kernel appends `KernelWeights`, a normalisation `NormWeights`). Nothing here imports Keras: an initialiser is
passed as its Keras name, a constant and a regulariser as the config dict
Keras's `initializers.get` / `regularizers.get` deserialise, so codegen can
print them and `model.get_config()` reads them back.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import NonNegativeFloat, PositiveFloat, create_model, model_validator

from archspec.catalogue.ops.base import Activation, OpParams, fields_after

InitializerName = Literal[
    "zeros", "ones", "glorot_uniform", "glorot_normal", "he_uniform", "he_normal", "lecun_uniform",
    "lecun_normal", "orthogonal", "random_normal", "random_uniform", "truncated_normal", "identity",
    "variance_scaling",
]

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
_ARGUMENTS: dict[str, set[str]] = {
    "zeros": set(), "ones": set(), "identity": set(),
    **{name: {"seed"} for name in ("glorot_uniform", "glorot_normal", "he_uniform", "he_normal",
                                   "lecun_uniform", "lecun_normal")},
    "orthogonal": {"gain", "seed"},
    "random_normal": {"mean", "stddev", "seed"}, "truncated_normal": {"mean", "stddev", "seed"},
    "random_uniform": {"minval", "maxval", "seed"},
    "variance_scaling": {"scale", "mode", "distribution", "seed"},
}
"""The arguments each initialiser takes (Keras's names)."""


class InitializerWithArgs(OpParams):
    """`{name: variance_scaling, scale: 2.0, mode: fan_out}`: a named initialiser with some of its arguments."""

    name: InitializerName
    seed: int | None = None
    mean: float | None = None
    stddev: PositiveFloat | None = None
    minval: float | None = None
    maxval: float | None = None
    scale: PositiveFloat | None = None
    mode: Literal["fan_in", "fan_out", "fan_avg"] | None = None
    distribution: Literal["truncated_normal", "untruncated_normal", "normal", "uniform"] | None = None
    gain: float | None = None

    @model_validator(mode="after")
    def _arguments_of_its_initialiser(self) -> InitializerWithArgs:
        given = {key for key, value in self if key != "name" and value is not None}
        allowed = _ARGUMENTS[self.name]
        if given - allowed:
            takes = ", ".join(sorted(allowed)) or "no arguments"
            raise ValueError(f"{self.name} takes {takes}, not {', '.join(sorted(given - allowed))}")
        return self

    def arguments(self) -> dict[str, Any]:
        return {key: value for key, value in self if key != "name" and value is not None}


Initializer = InitializerName | float | InitializerWithArgs
"""A Keras initialiser by name (with its default arguments), a number for a constant, or
`{name: ..., argument: value}` for a named one with arguments."""


class Regularizer(OpParams):
    """`{l1: x, l2: y}`: the penalty l1 * sum|w| + l2 * sum w^2 added to the loss (Keras's L1L2)."""

    l1: NonNegativeFloat = 0.0
    l2: NonNegativeFloat = 0.0


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


def weight_group(keys: dict[str, str]) -> type[OpParams]:
    """The Params fields of the weights `keys` maps to Keras (KERNEL_KEYS, NORM_KEYS...), declared by that map.

    Each initialiser (`kernel_init`: Initializer | None), then each regulariser (`kernel_reg`:
    Regularizer | None), in the map's order; an op appends them with `fields_after`, so a
    weight parameter is written once, in the map that also carries it to and from Keras.
    """
    names = [name for name in keys.values() if name.endswith("_init")]
    names += [name for name in keys.values() if name.endswith("_reg")]
    fields: dict[str, Any] = {name: (Initializer | None if name.endswith("_init") else Regularizer | None, None)
                              for name in names}
    return create_model("WeightFields", __base__=OpParams, **fields)


@fields_after(weight_group(KERNEL_KEYS))
class KernelWeights(OpParams):
    """What every layer with a kernel and a bias ends its Params with (dense, the convolutions):
    appended by `fields_after(KernelWeights)`, mapped to Keras by KERNEL_KEYS (DEPTHWISE_KEYS)."""

    activation: Activation | None = None
    use_bias: bool = True


@fields_after(weight_group(NORM_KEYS))
class NormWeights(OpParams):
    """What batch, layer and group normalisation end their Params with: `fields_after(NormWeights)`,
    mapped to Keras by NORM_KEYS."""

    center: bool = True
    scale: bool = True


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
        elif isinstance(value, InitializerWithArgs):
            kwargs[keras_key] = {"class_name": _CLASS_OF[value.name], "config": value.arguments()}
        else:
            kwargs[keras_key] = {"class_name": "Constant", "config": {"value": float(value)}}
    return kwargs


def weight_params(config: dict[str, Any], names: dict[str, str],
                  defaults: dict[str, str] = KERNEL_DEFAULTS) -> dict[str, Any]:
    """The inverse of `weight_kwargs`: parameters for a Keras layer config's initialisers and regularisers.

    A default initialiser writes nothing; one with arguments writes them
    (`{name: variance_scaling, scale: 2.0}`). One archspec cannot express
    (a custom class, input_axes) writes nothing: the imported layer's weights
    are copied, so only a retrain from scratch would see the difference.
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


def _initializer(value: Any) -> str | float | dict[str, Any] | None:
    if isinstance(value, str):
        return value if value in _CLASS_OF else None
    cls, config = value.get("class_name"), dict(value.get("config") or {})
    if cls == "Constant" and isinstance(config.get("value"), (int, float)):
        return float(config["value"])
    if cls not in _NAME_OF:
        return None
    name, defaults = _NAME_OF[cls], _DEFAULT_CONFIG.get(cls, {})
    arguments = {key: item for key, item in config.items() if item is not None and defaults.get(key) != item}
    if not set(arguments) <= _ARGUMENTS[name]:
        return None
    return {"name": name, **arguments} if arguments else name


def _regularizer(value: Any) -> dict[str, float]:
    cls, config = value.get("class_name"), value.get("config") or {}
    if cls not in ("L1L2", "L1", "L2"):
        raise ValueError(f"regularizer {cls!r} is not supported (only L1, L2, L1L2)")
    return {key: float(f"{float(config[key]):.7g}") for key in ("l1", "l2") if config.get(key)}
