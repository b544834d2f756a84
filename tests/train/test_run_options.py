"""RunOptions: the typed, frozen settings `archspec fit` hands to RunConfig over the spec's train: section."""

from __future__ import annotations

import dataclasses

import pytest

from archspec.errors import RunError
from archspec.spec.frontend import load_spec
from archspec.train.config import DEFAULT_WORKER_TIMEOUT_S, RunOptions, resolve_config
from tests.conftest import ROOT

AUTOENCODER = ROOT / "specs" / "mnist_denoise_ae.yaml"


def config_for(options: RunOptions):
    return resolve_config(load_spec(AUTOENCODER), AUTOENCODER, options)


def test_options_given_replace_the_spec_and_the_rest_keep_it():
    spec_train = load_spec(AUTOENCODER).train
    config = config_for(RunOptions(epochs=3, batch_size=32, noise={"salt_pepper": 0.2}, subset=100,
                                   strategy="mirrored", worker_timeout_s=5))
    assert (config.epochs, config.batch_size, config.noise, config.subset) == (3, 32, ("salt_pepper", 0.2), 100)
    assert (config.strategy, config.worker_timeout_s) == ("mirrored", 5.0)
    assert (config.task, config.dataset) == (spec_train.task, spec_train.dataset) == ("denoise", "mnist")
    default = config_for(RunOptions())
    assert (default.epochs, default.noise) == (spec_train.epochs, next(iter(spec_train.noise.items())))
    assert (default.strategy, default.worker_timeout_s) == ("default", DEFAULT_WORKER_TIMEOUT_S)


def test_options_are_frozen_and_a_misspelt_one_is_refused():
    options = RunOptions(epochs=1)
    with pytest.raises(dataclasses.FrozenInstanceError):
        options.epochs = 2  # type: ignore[misc]
    with pytest.raises(TypeError, match="epoch"):
        RunOptions(epoch=1)  # type: ignore[call-arg]


def test_a_name_outside_a_registry_is_a_run_error():
    with pytest.raises(RunError, match=r"^invalid training option \(task: Input should be 'classify', "
                                       r"'autoencode', 'denoise', 'regress', 'segment', 'next_token' or "
                                       r"'multilabel'\)$"):
        config_for(RunOptions(task="nope"))
    with pytest.raises(RunError, match=r"^unknown strategy 'nope'; expected one of default, mirrored, multiworker$"):
        config_for(RunOptions(strategy="nope"))


def test_init_weights_are_kept_in_the_config_so_a_resume_with_no_epoch_starts_from_them(tmp_path, monkeypatch):
    """A run stopped before its first epoch is trained again from a new model: it must be the model the run
    began with (`--init-weights`), not fresh initialisers."""
    import numpy as np

    from archspec.graph.shapes import analyze
    from archspec.keras.compiler import compile_model
    from archspec.train.config import RunConfig
    from archspec.train.runner import new_model

    spec = load_spec(AUTOENCODER)
    started = compile_model(spec)
    monkeypatch.chdir(tmp_path)
    started.save_weights("start.weights.h5")
    config = config_for(RunOptions(init_weights="start.weights.h5", seed=1))
    assert config.init_weights == str(tmp_path / "start.weights.h5")
    read = RunConfig.from_json(config.to_json(), tmp_path / "config.json")  # what --resume reads
    assert read.init_weights == config.init_weights
    model = new_model(analyze(spec), read, spec, _NoStrategy())
    for mine, theirs in zip(model.get_weights(), started.get_weights(), strict=True):
        np.testing.assert_array_equal(mine, theirs)
    older = {key: value for key, value in config.to_json().items() if key != "init_weights"}
    assert RunConfig.from_json(older, tmp_path / "config.json").init_weights is None  # a run from before


class _NoStrategy:
    """The default strategy's scope, without starting one."""

    def scope(self):
        import contextlib

        return contextlib.nullcontext()
