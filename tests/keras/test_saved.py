"""Saved model files are refused by the sizes their zip headers declare, before anything is inflated."""

from __future__ import annotations

import zipfile

import pytest

from archspec.errors import ModelError
from archspec.keras import saved


def zip_bomb(path, name: str, size: int) -> None:
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("metadata.json", "{}")
        archive.writestr(name, b" " * size)


def test_a_config_that_would_inflate_past_the_limit_is_refused_uninflated(tmp_path, monkeypatch):
    monkeypatch.setattr(saved, "MAX_JSON_BYTES", 2**20)
    path = tmp_path / "bomb.keras"
    zip_bomb(path, "config.json", 2**21)
    monkeypatch.setattr(zipfile.ZipFile, "open", lambda *_a, **_k: pytest.fail("an entry was inflated"))
    with pytest.raises(ModelError) as caught:
        saved.load_keras_model(path)
    compressed = path.stat().st_size
    assert str(caught.value).startswith(f"{path}: its config.json would inflate to 2.0 MiB (")
    assert "times its" in str(caught.value) and compressed < 10_000
    assert "more than the 1.0 MiB a model file's JSON files may hold; it was not inflated" in str(caught.value)


def test_weights_larger_than_the_machine_are_refused(tmp_path, monkeypatch):
    monkeypatch.setattr(saved, "physical_memory", lambda: 2**20)
    path = tmp_path / "bomb.keras"
    zip_bomb(path, "model.weights.h5", 2**21)
    with pytest.raises(ModelError, match=r"its model\.weights\.h5 would inflate to 2\.0 MiB"):
        saved.check_declared_sizes(path)


def test_a_file_that_is_no_zip_is_corrupt_not_a_traceback(tmp_path):
    path = tmp_path / "text.keras"
    path.write_text("not a zip")
    with pytest.raises(ModelError, match=r"cannot load model .*: File is not a zip file"):
        saved.check_declared_sizes(path)
