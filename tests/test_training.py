"""Notebooks 03 and 04 train with the student's own compile and fit on batches the course
draws, with a validation set held out; their trained model comes from one helper: the
submitted weights when the file is there, the student's training (weights and curves saved)
when a student runs the notebook without it, and never training while grading."""

from __future__ import annotations

import json

import keras
import numpy as np
import pytest

from grader.grading import GRADING_VARIABLE
from grader.training import (
    Recipe,
    TrainingBatches,
    fit_with_recipe,
    history_path,
    hold_out_validation,
    load_or_train,
    train_from_scratch,
)

TINY = Recipe(
    "tiny", epochs=2, batch_size=8, optimizer="adam", learning_rate=1e-2, cosine_decay=False
)


def build() -> keras.Model:
    return keras.Sequential([keras.Input((4,)), keras.layers.Dense(10, activation="softmax")])


@pytest.fixture
def data():
    rng = np.random.default_rng(0)
    return rng.random((32, 4)).astype("float32"), rng.integers(0, 10, 32)


def tiny_training(data):
    batches = TrainingBatches(*data, TINY.batch_size, seed=0)
    return lambda model: fit_with_recipe(model, batches, None, TINY, verbose=0)


def test_without_a_weights_file_the_model_is_trained_and_saved_with_its_curves(
    tmp_path, data, capsys, monkeypatch
):
    monkeypatch.delenv(GRADING_VARIABLE, raising=False)
    weights = tmp_path / "tiny.weights.h5"
    trained, history = load_or_train(build, weights, TINY, seed=1, train=tiny_training(data))
    assert weights.exists() and len(history["loss"]) == TINY.epochs
    assert json.loads(history_path(weights).read_text()) == history
    out = capsys.readouterr().out
    assert "recipe: adam at learning rate 0.01" in out and "trained in" in out
    assert f"saved {weights}: submit it" in out

    loaded, curves = load_or_train(build, weights, TINY, seed=1, train=tiny_training(data))
    assert f"loaded {weights} (delete it to train again)" in capsys.readouterr().out
    assert curves == history
    for a, b in zip(trained.get_weights(), loaded.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)


def test_nothing_is_trained_while_grading(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv(GRADING_VARIABLE, "1")

    def refuse(model):
        raise AssertionError("trained while grading")

    weights = tmp_path / "tiny.weights.h5"
    model, history = load_or_train(build, weights, TINY, seed=1, train=refuse)
    assert model.built and history is None and not weights.exists()
    assert "was not submitted: the model stays untrained" in capsys.readouterr().out


def test_the_validation_set_is_the_last_examples_and_never_in_the_fit_set():
    x, y = np.arange(100).reshape(100, 1), np.arange(100) % 10
    (x_fit, y_fit), (x_val, y_val) = hold_out_validation(x, y, size=20)
    assert x_val.ravel().tolist() == list(range(80, 100)) and len(x_fit) == 80
    assert not set(x_fit.ravel()) & set(x_val.ravel())
    with pytest.raises(ValueError, match="cannot hold out 100 of 100"):
        hold_out_validation(x, y, size=100)


def test_batches_cover_every_image_once_an_epoch_in_a_new_order_with_new_shifts():
    images = np.arange(10 * 6 * 6, dtype="float32").reshape(10, 6, 6, 1)
    batches = TrainingBatches(images, np.arange(10), 4, seed=3, max_shift=1)
    assert len(batches) == 3

    def epoch():
        parts = [batches[i] for i in range(len(batches))]
        return np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts])

    first_images, first_targets = epoch()
    assert sorted(first_targets.argmax(axis=1)) == list(range(10))  # one-hot, each label once
    assert first_images.shape == images.shape
    assert np.array_equal(
        batches[0][0], batches[0][0]
    )  # a batch does not depend on when it is asked
    batches.on_epoch_end()
    second_images, second_targets = epoch()
    assert not np.array_equal(first_targets, second_targets)  # reshuffled
    # every image moved by at most one pixel: its centre is the original's, shifted
    by_label = {t.argmax(): im for im, t in zip(first_images, first_targets, strict=True)}
    for label, moved in by_label.items():
        centres = [
            images[label, 1 + dr : 5 + dr, 1 + dc : 5 + dc]
            for dr in (-1, 0, 1)
            for dc in (-1, 0, 1)
        ]
        assert any(np.array_equal(moved[1:5, 1:5], c) for c in centres)


def test_the_same_seed_trains_the_same_weights_through_a_training_function(data):
    def train(model, training_batches, validation_data, epochs, callbacks):
        return fit_with_recipe(
            model, training_batches, validation_data, TINY, epochs=epochs, callbacks=callbacks,
            verbose=0,
        )  # fmt: skip

    first = train_from_scratch(build, *data, TINY, seed=4, validation=data, train=train)
    second = train_from_scratch(build, *data, TINY, seed=4, validation=data, train=train)
    assert "val_accuracy" in first.history.history
    for a, b in zip(first.get_weights(), second.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)


def test_stop_after_ends_a_run_early_on_the_full_schedule(data):
    model = train_from_scratch(build, *data, TINY, seed=4, stop_after=1)
    assert len(model.history.history["loss"]) == 1


def test_unreadable_curves_beside_the_weights_are_ignored_with_a_note(
    tmp_path, data, capsys, monkeypatch
):
    monkeypatch.delenv(GRADING_VARIABLE, raising=False)
    weights = tmp_path / "tiny.weights.h5"
    load_or_train(build, weights, TINY, seed=1, train=tiny_training(data))
    history_path(weights).write_text("not json")
    model, curves = load_or_train(build, weights, TINY, seed=1, train=tiny_training(data))
    assert curves is None and model.built
    assert "is not the learning curves this notebook saved" in capsys.readouterr().out
