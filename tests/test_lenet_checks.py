"""Notebook 03's checks: the architecture comparator, preprocessing, the debug sizes, and the
accuracy test on submitted weights (missing, unloadable, below and above the threshold)."""

import keras
import numpy as np
import pytest

from grader.checks import CheckFailure
from grader.checks import lenet as check

L = keras.layers


def lenet(c1=None, s2=None, c5=None, f6=None, out=None, input_shape=(32, 32, 1), extra=()):
    """The reference architecture with one layer swapped: a student's near miss."""

    def build():
        return keras.Sequential(
            [
                keras.Input(input_shape),
                c1 or L.Conv2D(6, 5, activation="tanh"),
                s2 or L.AveragePooling2D(2),
                L.Conv2D(16, 5, activation="tanh"),
                L.AveragePooling2D(2),
                *(c5 or [L.Conv2D(120, 5, activation="tanh"), L.Flatten()]),
                f6 or L.Dense(84, activation="tanh"),
                out or L.Dense(10, activation="softmax"),
                *extra,
            ]
        )

    return build


def test_the_reference_passes_every_check(lenet_reference):
    check.check_build_lenet5(lenet_reference["build_lenet5"])
    check.check_preprocess(lenet_reference["preprocess"], seed=None, n_random=5)
    check.check_flatten_sizes(lenet_reference["size_for_36"], lenet_reference["size_for_24"])


def test_c5_written_as_flatten_and_dense_is_the_same_network():
    check.check_build_lenet5(lenet(c5=[L.Flatten(), L.Dense(120, activation="tanh")]))


def test_an_activation_layer_after_a_linear_layer_counts_as_its_activation():
    def build():
        return keras.Sequential(
            [
                keras.Input((32, 32, 1)),
                L.Conv2D(6, 5),
                L.Activation("tanh"),
                L.AveragePooling2D(2),
                L.Conv2D(16, 5, activation="tanh"),
                L.AveragePooling2D(2),
                L.Conv2D(120, 5, activation="tanh"),
                L.Flatten(),
                L.Dense(84, activation="tanh"),
                L.Dense(10, activation="softmax"),
            ]
        )

    check.check_build_lenet5(build)


@pytest.mark.parametrize(
    "build, message",
    [
        (lenet(s2=L.MaxPooling2D(2)), "LeNet-5 subsamples by averaging"),
        (lenet(c1=L.Conv2D(6, 5, activation="relu")), "not ReLU"),
        (
            lenet(c1=L.Conv2D(6, 5, padding="same", activation="tanh")),
            "already carries the padding",
        ),
        (lenet(input_shape=(28, 28, 1)), "LeNet-5 takes 32x32 inputs"),
        (
            lenet(input_shape=(32, 32, 3), c5=[L.Flatten(), L.Dense(120, activation="tanh")]),
            "32x32 images with one channel",
        ),
        (lenet(c1=L.Conv2D(6, 3, activation="tanh")), "differs in kernel"),
        (lenet(f6=L.Dense(64, activation="tanh")), "differs in units"),
        (lenet(out=L.Dense(10)), "class probabilities: softmax"),
        (lenet(extra=[L.Dense(10, activation="softmax")]), "remove the extra layers"),
    ],
)
def test_the_architecture_check_names_the_first_difference(build, message):
    with pytest.raises(CheckFailure) as failure:
        check.check_build_lenet5(build)
    assert message in str(failure.value)


def test_a_difference_names_the_layer_and_shows_both_versions():
    with pytest.raises(CheckFailure) as failure:
        check.check_build_lenet5(lenet(s2=L.MaxPooling2D(2)))
    message = str(failure.value)
    assert message.startswith("build_lenet5(): layer 2 (S2) differs in the kind of layer")
    assert (
        "reference layer: average pooling (pool=(2, 2), strides=(2, 2), padding=valid) -> 14x14x6, 0 parameters"
        in message
    )
    assert "your layer:      max pooling" in message


@pytest.mark.parametrize(
    "wrong, cause",
    [
        (
            lambda x: np.pad(x, ((0, 0), (2, 2), (2, 2)))[..., None].astype("float32"),
            "not rescaled",
        ),
        (
            lambda x: np.pad(x, ((0, 0), (2, 2), (2, 2)))[..., None].astype("float32") / 255,
            "scaled to 0..1",
        ),
        (
            lambda x: np.pad((-0.1 + x / 255 * 1.275).astype("float32"), ((0, 0), (2, 2), (2, 2)))[
                ..., None
            ],
            "padded with 0 after rescaling",
        ),
        (
            lambda x: (-0.1 + np.pad(x, ((0, 0), (2, 2), (2, 2))) / 255 * 1.275).astype("float32"),
            "channel axis",
        ),
    ],
)
def test_the_preprocess_check_names_the_mistake(wrong, cause):
    with pytest.raises(CheckFailure) as failure:
        check.check_preprocess(wrong)
    assert failure.value.cause and cause in failure.value.cause, str(failure.value)


def test_the_preprocess_check_wants_float32():
    with pytest.raises(CheckFailure, match="float32"):
        check.check_preprocess(
            lambda x: -0.1 + np.pad(x, ((0, 0), (2, 2), (2, 2)))[..., None] / 255 * 1.275
        )


@pytest.mark.parametrize(
    "sizes, cause",
    [
        ((28 * 28 * 16, 144), "count S2 and S4 too"),
        ((576, 16 * 16 * 16), "count S2 and S4 too"),
        ((9 * 9 * 16, 144), "each 5x5 'valid' convolution trims 4 rows"),
        ((576, 6 * 6 * 16), "each 5x5 'valid' convolution trims 4 rows"),
        ((36, 144), "multiplies by S4's 16 maps"),
        ((576, 300), "follow the shapes"),
    ],
)
def test_the_flatten_sizes_check_explains(sizes, cause):
    with pytest.raises(CheckFailure) as failure:
        check.check_flatten_sizes(*sizes)
    assert cause in failure.value.cause


# -- the accuracy test on submitted weights ---------------------------------------------------


def check_submitted_weights(reference, folder, x, y, **settings):
    """The accuracy check on folder/lenet5.weights.h5 with the reference build and preprocess."""
    return check.check_accuracy(
        reference["build_lenet5"],
        reference["preprocess"],
        folder / "lenet5.weights.h5",
        x_test=x,
        y_test=y,
        **settings,
    )


@pytest.fixture
def small_test_set():
    rng = np.random.default_rng(0)
    return rng.integers(0, 256, (64, 28, 28), dtype=np.uint8), rng.integers(0, 10, 64).astype(
        np.uint8
    )


def test_missing_weights_fail_with_what_to_submit(lenet_reference, small_test_set, tmp_path):
    x, y = small_test_set
    with pytest.raises(CheckFailure) as failure:
        check_submitted_weights(lenet_reference, tmp_path, x, y)
    assert "no such file" in str(failure.value) and "submit the file with the notebook" in str(
        failure.value
    )


def test_weights_of_another_architecture_fail_with_an_explanation(
    lenet_reference, small_test_set, tmp_path
):
    x, y = small_test_set
    other = lenet(f6=L.Dense(64, activation="tanh"))()
    other.save_weights(tmp_path / "lenet5.weights.h5")
    with pytest.raises(CheckFailure, match="Keras cannot load into it") as failure:
        check_submitted_weights(lenet_reference, tmp_path, x, y)
    assert failure.value.cause == (
        "run the training cell again after changing build_lenet5(), and submit the new file"
    )


def test_weights_below_the_threshold_fail_and_above_pass(lenet_reference, tmp_path, capsys):
    """A model that predicts the labels it was fitted on passes a threshold below its accuracy
    and fails one above it (a tiny set, so the test costs seconds, not a training run)."""
    rng = np.random.default_rng(1)
    x = rng.integers(0, 256, (32, 28, 28), dtype=np.uint8)
    y = rng.integers(0, 10, 32).astype(np.uint8)
    keras.utils.set_random_seed(0)
    model = lenet_reference["build_lenet5"]()
    model.compile("adam", "sparse_categorical_crossentropy")
    model.fit(lenet_reference["preprocess"](x), y, epochs=60, verbose=0)
    model.save_weights(tmp_path / "lenet5.weights.h5")
    measured = float(
        np.mean(model.predict(lenet_reference["preprocess"](x), verbose=0).argmax(1) == y)
    )
    assert measured > 0.5
    arguments = (
        lenet_reference["build_lenet5"],
        lenet_reference["preprocess"],
        tmp_path / "lenet5.weights.h5",
    )
    check.check_accuracy(*arguments, threshold=measured - 0.01, x_test=x, y_test=y)
    assert f"MNIST test accuracy {measured:.2%}" in capsys.readouterr().out
    with pytest.raises(CheckFailure, match=f"at least {measured + 0.01:.2%}") as failure:
        check.check_accuracy(*arguments, threshold=measured + 0.01, x_test=x, y_test=y)
    assert failure.value.cause.startswith("train with the notebook's recipe to the end")


def test_the_instructor_can_retrain_a_submission_without_weights(
    lenet_reference, small_test_set, tmp_path, monkeypatch
):
    """With the retrain option, the student's model and preprocessing are trained with the
    course recipe on what the notebook trains on: the training set less its validation set."""
    from grader import training

    x, y = small_test_set
    rng = np.random.default_rng(2)
    x_train = rng.integers(0, 256, (training.VALIDATION_IMAGES + 10, 28, 28), dtype=np.uint8)
    y_train = rng.integers(0, 10, len(x_train)).astype(np.uint8)
    monkeypatch.setenv("CNN_COURSE_GRADING", "1")
    monkeypatch.setenv("CNN_COURSE_RETRAIN", "1")
    calls = []
    monkeypatch.setattr(
        training, "train_from_scratch", lambda build, *args, **kwargs: calls.append((args, kwargs))
    )
    check_submitted_weights(
        lenet_reference, tmp_path, x, y, threshold=0.0, x_train=x_train, y_train=y_train
    )
    [((x_fit, y_fit, recipe), settings)] = calls
    assert x_fit.shape == (10, 32, 32, 1) and recipe is training.LENET5
    assert len(settings["validation"][0]) == training.VALIDATION_IMAGES


def test_the_training_exercise_passes_the_reference_and_its_hidden_cases(lenet_reference):
    check.check_train_lenet5(lenet_reference["train_lenet5"])
    check.check_train_lenet5(lenet_reference["train_lenet5"], seed=None)


def recipe_training(**mistake):
    """A train_lenet5 with one mistake: what students write on the way to the recipe."""

    def train(model, training_batches, validation_data, epochs=12, callbacks=()):
        decay_steps = mistake.get("decay_steps", epochs * len(training_batches))
        schedule = mistake.get(
            "learning_rate", keras.optimizers.schedules.CosineDecay(0.05, decay_steps)
        )
        optimizer = mistake.get("optimizer") or keras.optimizers.SGD(
            schedule, momentum=0.9, nesterov=True
        )
        loss = mistake.get("loss", keras.losses.CategoricalCrossentropy(label_smoothing=0.1))
        model.compile(optimizer=optimizer, loss=loss, metrics=mistake.get("metrics", ["accuracy"]))
        own = [] if mistake.get("no_terminate_on_nan") else [keras.callbacks.TerminateOnNaN()]
        history = model.fit(
            training_batches,
            validation_data=None if mistake.get("no_validation") else validation_data,
            epochs=mistake.get("epochs", epochs),
            callbacks=own + ([] if mistake.get("drop_callbacks") else list(callbacks)),
        )
        return None if mistake.get("no_return") else history

    return train


@pytest.mark.parametrize(
    "mistake, cause",
    [
        (
            {"learning_rate": 0.05},
            "the learning rate stays 0.05: the recipe decays it along a cosine",
        ),
        ({"decay_steps": 2}, "decay_steps counts steps (batches): epochs * len(training_batches)"),
        ({"optimizer": "adam"}, "the recipe: sgd at learning rate 0.05"),
        ({"loss": "categorical_crossentropy"}, "the loss has no label smoothing"),
        ({"metrics": []}, "compile(..., metrics=['accuracy'])"),
        ({"no_validation": True}, "fit(..., validation_data=validation_data)"),
        ({"epochs": 12}, "the argument, not the recipe's 12"),
        ({"drop_callbacks": True}, "pass the `callbacks` argument on to fit"),
        ({"no_terminate_on_nan": True}, "keras.callbacks.TerminateOnNaN()"),
        ({"no_return": True}, "return model.fit(...)"),
    ],
)
def test_the_training_check_explains_each_mistake(mistake, cause):
    with pytest.raises(CheckFailure) as failure:
        check.check_train_lenet5(recipe_training(**mistake))
    assert cause in (failure.value.cause or "")


def test_a_schedule_over_the_recipes_epochs_instead_of_the_argument_is_named():
    def train(model, training_batches, validation_data, epochs=12, callbacks=()):
        return recipe_training(decay_steps=12 * len(training_batches))(
            model, training_batches, validation_data, epochs, callbacks
        )

    with pytest.raises(CheckFailure) as failure:
        check.check_train_lenet5(train)
    assert failure.value.cause == "the schedule decays over the recipe's 12 epochs, not `epochs`"


def test_the_check_returns_no_number_that_nbgrader_would_take_as_partial_credit(
    lenet_reference, small_test_set, tmp_path
):
    x, y = small_test_set
    lenet_reference["build_lenet5"]().save_weights(tmp_path / "lenet5.weights.h5")
    returned = check_submitted_weights(lenet_reference, tmp_path, x, y, threshold=0.0)
    assert returned is None


def test_the_flatten_exercise_asks_for_sizes_the_student_notebook_never_prints():
    """Its answers (576 for 36x36 inputs, 144 for 24x24) appear nowhere in the release: not in
    the prose, not in the code, not in the error message the notebook shows (400 and 256)."""
    from grader.course import REPO_ROOT
    from grader.notebook_cells import read

    release = read(REPO_ROOT / "notebooks" / "03_lenet5" / "03_lenet5.ipynb")
    text = "\n".join(cell.source for cell in release.cells)
    assert check.flattened_size(36) == 576 and check.flattened_size(24) == 144
    for answer in ("576", "144", "6 * 6 * 16", "3 * 3 * 16"):
        assert answer not in text
