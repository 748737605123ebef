"""Notebooks 03 and 04 get their trained model from one helper: the submitted weights when the
file is there, training (and saving) when a student runs the notebook without it, and never
training while grading."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from grader import training
from grader.grading import GRADING_VARIABLE
from grader.training import Recipe, load_or_train

TINY = Recipe(
    "tiny", epochs=2, batch_size=8, optimizer="adam", learning_rate=1e-2, cosine_decay=False
)


def build() -> keras.Model:
    return keras.Sequential([keras.Input((4,)), keras.layers.Dense(10, activation="softmax")])


@pytest.fixture
def data():
    rng = np.random.default_rng(0)
    return rng.random((32, 4)).astype("float32"), rng.integers(0, 10, 32)


def test_without_a_weights_file_the_model_is_trained_and_saved(tmp_path, data, capsys, monkeypatch):
    monkeypatch.delenv(GRADING_VARIABLE, raising=False)
    monkeypatch.chdir(tmp_path)
    weights = tmp_path / "tiny.weights.h5"
    trained = load_or_train(build, weights, *data, TINY, seed=1)
    assert weights.exists()
    out = capsys.readouterr().out
    assert "recipe: adam at learning rate 0.01" in out and "trained in" in out
    assert f"saved {weights}: submit it" in out

    loaded = load_or_train(build, weights, *data, TINY, seed=1)
    assert f"loaded {weights} (delete it to train again)" in capsys.readouterr().out
    for a, b in zip(trained.get_weights(), loaded.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)


def test_nothing_is_trained_while_grading(tmp_path, data, capsys, monkeypatch):
    monkeypatch.setenv(GRADING_VARIABLE, "1")

    def refuse(*args, **kwargs):
        raise AssertionError("trained while grading")

    monkeypatch.setattr(training, "train_from_scratch", refuse)
    weights = tmp_path / "tiny.weights.h5"
    model = load_or_train(build, weights, *data, TINY, seed=1)
    assert model.built and not weights.exists()
    assert "was not submitted: the model stays untrained" in capsys.readouterr().out
