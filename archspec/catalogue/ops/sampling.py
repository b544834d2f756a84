"""A variational autoencoder's latent sample: the reparameterisation trick and its KL term.

Kingma and Welling, "Auto-Encoding Variational Bayes" (ICLR 2014): the encoder
gives a mean and a log-variance per latent feature; the decoder reads
z = mean + exp(log_var / 2) * eps, eps ~ N(0, I), so gradients reach both; and
the loss gains KL(N(mean, var) || N(0, I)). The sampling and the KL term live
in one layer (archspec.keras.layers.GaussianSample), so a spec needs no
custom training step: `archspec fit` adds the layer's loss to the task's.
"""

from __future__ import annotations

from pydantic import Field

from archspec.catalogue.ops.base import LayerCall, Op, OpParams, Shape, ShapeProblem, format_shape, keras_params
from archspec.catalogue.shape_rules import Operand


class GaussianSampleParams(OpParams):
    kl_weight: float = Field(ge=0.0, description="weight of the KL divergence added to the loss (0: none)")
    seed: int | None = None


class GaussianSample(Op):
    name = "gaussian_sample"
    positional = ("kl_weight",)
    Params = GaussianSampleParams
    arity = "many"
    doc = ("A VAE's latent sample from its two plain inputs in edge order, mean then log-variance: "
           "mean + exp(log_var / 2) * eps with eps ~ N(0, I) while training, the mean at inference. Adds "
           "kl_weight * KL(N(mean, var) || N(0, I)) (summed over the features, averaged over the batch) to "
           "the loss; with a per-pixel mean loss such as binary_crossentropy, 1 / (pixels) weighs it as the "
           "per-image ELBO does.")
    keras_classes = ("GaussianSample",)
    exact_inputs = 2
    inputs_hint = "add the log-variance as the second plain edge, e.g. 'h -> log_var=dense(2) -> z'"

    def merge_shape(self, params: GaussianSampleParams, operands: list[Operand]) -> Shape:
        if len(operands) != 2:
            raise ShapeProblem("gaussian_sample takes exactly 2 inputs: the mean, then the log-variance",
                               expected="2 plain edges into it (mean first)", got=str(len(operands)))
        mean, log_var = operands
        if mean.shape != log_var.shape:
            raise ShapeProblem(f"the mean '{mean.name}' is {format_shape(mean.shape)} but the log-variance "
                               f"'{log_var.name}' is {format_shape(log_var.shape)}",
                               expected=format_shape(mean.shape), got=format_shape(log_var.shape),
                               hint="give both the same width: one value of each per latent feature")
        return mean.shape

    def layer(self, params: GaussianSampleParams, inputs: list[Shape]) -> LayerCall:
        kwargs = {"kl_weight": params.kl_weight} if params.seed is None else \
            {"kl_weight": params.kl_weight, "seed": params.seed}
        return LayerCall("GaussianSample", kwargs, module="archspec.keras.layers")

    def from_keras(self, config: dict) -> dict:
        return keras_params(config, {"kl_weight": "kl_weight", "seed": "seed"})
