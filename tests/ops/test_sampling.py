"""`gaussian_sample`: a VAE's reparameterised latent and its KL term, checked against the formulas.

The zoo's vae_mnist holds the op to a hand-written Keras VAE (tests/data/zoo/vae_mnist.py); here: the
sample's distribution while training, the mean at inference, the KL loss's value, the shape errors
at their places, and `archspec fit` training a VAE as an autoencoder.
"""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

import archspec
from archspec.errors import SpecError, flatten_errors
from tests.conftest import ROOT, needs_mnist

LATENT = """archspec: 1
inputs: {mean: [{width}], log_var: [{width}]}
edges:
  - mean -> z=gaussian_sample({weight}, seed=7)
  - log_var -> z
"""


def latent_model(write_spec, weight=1.0, width=3):
    return archspec.compile_model(write_spec(LATENT.replace("{width}", str(width)).replace("{weight}", str(weight))))


def test_inference_returns_the_mean_and_adds_the_kl_divergence(keras, write_spec):
    model = latent_model(write_spec, weight=0.5)
    mean = np.array([[0.5, -1.0, 2.0], [0.0, 0.0, 0.0]], "float32")
    log_var = np.array([[0.0, 1.0, -1.0], [0.0, 0.0, 0.0]], "float32")
    z = model([mean, log_var], training=False)
    np.testing.assert_allclose(keras.ops.convert_to_numpy(z), mean)
    kl = -0.5 * np.sum(1 + log_var - mean ** 2 - np.exp(log_var), axis=1)  # per example: [..., 0]
    (loss,) = model.losses
    assert float(keras.ops.convert_to_numpy(loss)) == pytest.approx(0.5 * kl.mean(), rel=1e-5)


def test_training_draws_mean_plus_sigma_times_a_standard_normal(keras, write_spec):
    model = latent_model(write_spec, width=4)
    mean = np.tile(np.array([[1.0, -2.0, 0.0, 3.0]], "float32"), (20_000, 1))
    log_var = np.tile(np.log(np.array([[1.0, 0.25, 4.0, 0.01]], "float32")), (20_000, 1))
    z = keras.ops.convert_to_numpy(model([mean, log_var], training=True))
    np.testing.assert_allclose(z.mean(axis=0), mean[0], atol=0.05)
    np.testing.assert_allclose(z.std(axis=0), np.sqrt(np.exp(log_var[0])), rtol=0.03)


def test_a_zero_weight_adds_no_loss(keras, write_spec):
    model = latent_model(write_spec, weight=0)
    model([np.zeros((2, 3), "float32"), np.ones((2, 3), "float32")], training=False)
    assert not model.losses


def error(write_spec, text: str) -> SpecError:
    with pytest.raises(SpecError) as caught:
        archspec.analyze(write_spec(text))
    return flatten_errors(caught.value)[0]


def test_mean_and_log_variance_of_different_widths_are_an_error_at_the_node(write_spec):
    text = "archspec: 1\ninputs: {x: [8]}\nedges:\n  - x -> mean=dense(2) -> z=gaussian_sample(1)\n" \
        "  - x -> log_var=dense(3) -> z\n"
    caught = error(write_spec, text)
    assert caught.message == "the mean 'mean' is 2 but the log-variance 'log_var' is 3"
    assert caught.node == "z" and caught.line == 4
    assert "one value of each per latent feature" in str(caught)


def test_one_input_is_an_error_asking_for_the_log_variance(write_spec):
    caught = error(write_spec, "archspec: 1\ninputs: {x: [8]}\nedges: x -> dense(2) -> gaussian_sample(1)\n")
    assert caught.message == "a gaussian_sample node merges exactly 2 inputs, but 'gaussian_sample_1' has one"
    assert "hint: add the log-variance as the second plain edge" in str(caught)


def test_three_inputs_are_an_error(write_spec):
    text = "archspec: 1\ninputs: {x: [8]}\nedges:\n  - x -> a=dense(2) -> z=gaussian_sample(1)\n" \
        "  - x -> b=dense(2) -> z\n  - x -> c=dense(2) -> z\n"
    assert "gaussian_sample takes exactly 2 inputs: the mean, then the log-variance" in error(write_spec, text).message


def test_the_kl_weight_is_required_and_not_negative(write_spec):
    missing = error(write_spec, "archspec: 1\ninputs: {x: [8]}\nedges:\n  - x -> m=dense(2) -> z=gaussian_sample()\n"
                                "  - x -> v=dense(2) -> z\n")
    assert "missing required parameter 'kl_weight'" in missing.message
    negative = error(write_spec, "archspec: 1\ninputs: {x: [8]}\nedges:\n  - x -> m=dense(2) -> "
                                 "z=gaussian_sample(-1)\n  - x -> v=dense(2) -> z\n")
    assert "kl_weight" in negative.message


@needs_mnist
def test_fit_trains_the_zoo_vae_as_an_autoencoder(tmp_path, keras):
    from archspec.train import runs
    from archspec.train.runner import fit_spec

    run = fit_spec(ROOT / "specs" / "zoo" / "vae_mnist.yaml", runs_root=tmp_path, epochs=2, subset=1024, seed=0,
                   verbose=0)
    metrics = json.loads((run / "metrics.json").read_text())
    assert metrics["task"] == "autoencode" and math.isfinite(metrics["test"]["loss"])
    losses = [row["loss"] for row in runs.read_history(run / runs.HISTORY_FILE)]
    assert losses[1] < losses[0]
