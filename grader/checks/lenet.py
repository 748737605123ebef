"""Checks for notebook 03 (LeNet-5 on MNIST).

Oracles: the reference LeNet-5's layer table (compared layer by layer), Keras's
``ZeroPadding2D`` and ``Rescaling`` for the preprocessing, ``compute_output_shape`` for the
sizes in the debug exercise, and the MNIST test set for the trained model's accuracy.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path

import keras
import numpy as np

from grader import thresholds
from grader.checks.accuracy import check_test_accuracy
from grader.checks.architecture import build_model, compare_models
from grader.checks.compare import Answer, Mistake, assert_answers_match, require_type
from grader.checks.failure import FIXED_ANSWER, CheckFailure, passed, student_check
from grader.checks.fitting import check_training_function
from grader.checks.oracle import independent, verified

WEIGHTS_FILE = "lenet5.weights.h5"

# The 1998 paper maps pixels so that the background is -0.1 and full ink 1.175: the inputs
# then have a mean near 0 and a variance near 1, which suits tanh units.
BACKGROUND, INK = -0.1, 1.175


AVERAGING = "LeNet-5 subsamples by averaging: AveragePooling2D, not MaxPooling2D"
TANH = "LeNet-5 uses tanh (a scaled tanh in the paper), not ReLU, which came later"
HINTS = {
    ("input", "shape"): "LeNet-5 takes 32x32 images with one channel: keras.Input((32, 32, 1))",
    **{(role, "the kind of layer"): AVERAGING for role in ("S2", "S4")},
    **{(role, "the activation"): TANH for role in ("C1", "C3", "C5", "F6")},
    ("output", "the activation"): "the output layer gives class probabilities: softmax",
    (
        "C1",
        "padding",
    ): "LeNet-5's convolutions are 'valid': the 32x32 input already carries the padding",
    ("C3", "padding"): "LeNet-5's convolutions are 'valid': 14x14 becomes 10x10",
    # The reference reads as Flatten then Dense (C5's 5x5 kernels cover the whole 5x5 map), so
    # a C5 that does not cover the map shows as a convolution where Flatten is expected.
    ("flatten", "the kind of layer"): (
        "C5 is a 5x5 convolution on the 5x5 map: its output is 1x1x120, which Flatten turns "
        "into 120 values"
    ),
}


@student_check
def check_build_lenet5(build_lenet5: Callable) -> None:
    model = build_model(
        build_lenet5, "build_lenet5()", "LeNet-5 takes 32x32 inputs: keras.Input((32, 32, 1))"
    )
    compare_models(model, "lenet5", "build_lenet5()", HINTS)


# -- preprocessing ---------------------------------------------------------------------------


def keras_preprocess(images: np.ndarray) -> np.ndarray:
    """uint8 (N, 28, 28) -> float32 (N, 32, 32, 1): 2 background pixels on every side,
    background -0.1, full ink 1.175."""
    x = keras.layers.ZeroPadding2D(2)(np.asarray(images, "float32")[..., None])
    computed = keras.ops.convert_to_numpy(
        keras.layers.Rescaling(scale=(INK - BACKGROUND) / 255, offset=BACKGROUND)(x)
    )
    exact = BACKGROUND + (INK - BACKGROUND) / 255 * independent.zero_pad(images[..., None], 2)
    return verified("ZeroPadding2D and Rescaling", computed, exact, f"images {images.shape}")


def _preprocess_mistakes(images: np.ndarray) -> list[Mistake]:
    x = images.astype("float32")[..., None]
    padded = np.pad(x, ((0, 0), (2, 2), (2, 2), (0, 0)))
    return [
        ("the pixels were not rescaled: map 0..255 to -0.1..1.175", lambda: padded),
        (
            "divide by 255, the largest possible pixel value, not by the largest value in the "
            "batch (a batch of faint digits has no 255)",
            lambda: BACKGROUND + padded / images.max() * (INK - BACKGROUND),
        ),
        (
            "divide by 255, not by each image's own largest value",
            lambda: (
                BACKGROUND
                + padded / images.max(axis=(1, 2), keepdims=True)[..., None] * (INK - BACKGROUND)
            ),
        ),
        (
            "scaled to 0..1; the paper maps background to -0.1 and ink to 1.175",
            lambda: padded / 255,
        ),
        (
            "the border was padded with 0 after rescaling, so it is not background (-0.1): pad first, "
            "or pad with -0.1",
            lambda: np.pad(
                BACKGROUND + x / 255 * (INK - BACKGROUND), ((0, 0), (2, 2), (2, 2), (0, 0))
            ),
        ),
        (
            "the channel axis is missing: Keras wants (N, 32, 32, 1)",
            lambda: keras_preprocess(images)[..., 0],
        ),
        (
            "pad 2 pixels on every side (28 + 2 + 2 = 32), not 4 on one side",
            lambda: (
                BACKGROUND + np.pad(x, ((0, 0), (0, 4), (0, 4), (0, 0))) / 255 * (INK - BACKGROUND)
            ),
        ),
    ]


@student_check
def check_preprocess(preprocess: Callable, *, seed: int | None = 0, n_random: int = 0) -> None:
    rng = np.random.default_rng(seed)
    # (batch size, one more than the brightest pixel): full-range batches, and faint ones
    # with no 255 in them, where dividing by the batch's maximum gives a different answer.
    batches = [(3, 256), (2, 181), (1, 256)]
    batches += [(int(rng.integers(1, 6)), int(rng.integers(120, 257))) for _ in range(n_random)]
    answers = []
    for n, brightest in batches:
        images = rng.integers(0, brightest, (n, 28, 28), dtype=np.uint8)
        got = preprocess(images.copy())
        what = f"preprocess(uint8 images of shape {images.shape}, brightest pixel {images.max()})"
        require_type(what, got, np.ndarray, "a NumPy array (np.ndarray)")
        if got.dtype != np.float32:
            raise CheckFailure(
                what,
                "float32 values",
                got.dtype,
                "Keras trains in float32: convert with .astype('float32')",
            )
        mistakes = functools.partial(_preprocess_mistakes, images)
        answers.append(Answer(what, got, keras_preprocess(images), mistakes))
    assert_answers_match(answers, atol=1e-5)
    passed("preprocess matches the reference padding and scaling")


# -- the classic bug: a 32x32 model fed 28x28 images --------------------------------------------


def flattened_size(input_size: int) -> int:
    """Length of LeNet-5's feature vector after S4 and Flatten, for square inputs (Keras shapes)."""
    shape = (None, input_size, input_size, 1)
    L = keras.layers  # C1, S2, C3, S4 as the notebook's table gives them
    for layer in (L.Conv2D(6, 5), L.AveragePooling2D(2), L.Conv2D(16, 5), L.AveragePooling2D(2)):
        shape = layer.compute_output_shape(shape)
    return int(np.prod(shape[1:]))


def _flatten_mistakes(input_size: int) -> dict[int, str]:
    """Wrong lengths a student might compute, and why (for square inputs, 16 maps in S4)."""
    return {
        (input_size - 8) ** 2 * 16: "the poolings halve the size twice: count S2 and S4 too",
        (input_size // 4) ** 2
        * 16: "each 5x5 'valid' convolution trims 4 rows: 32 -> 28 -> 14 -> 10 -> 5 for 32x32 inputs",
        flattened_size(input_size) // 16: "Flatten multiplies by S4's 16 maps: height x width x 16",
    }


@student_check
def check_flatten_sizes(size_for_36: int, size_for_24: int) -> None:
    """The lengths Flatten gives after S4 for 36x36 and 24x24 inputs: sizes the notebook
    prints nowhere (its error message gives 32's and 28's)."""
    for input_size, got in ((36, size_for_36), (24, size_for_24)):
        expected = flattened_size(input_size)
        if got != expected:
            raise CheckFailure(
                f"the length of the flattened S4 output for {input_size}x{input_size} inputs",
                FIXED_ANSWER,
                got,
                _flatten_mistakes(input_size).get(
                    got, "follow the shapes: C1, S2, C3, S4, then height x width x 16"
                ),
            )
    passed(
        "you found both sizes: a Dense(120) built for 32x32 inputs (400 values) can take neither"
    )


# -- the student's compile and fit -------------------------------------------------------------------


@student_check
def check_train_lenet5(train_lenet5: Callable, *, seed: int | None = 0) -> None:
    """train_lenet5's compile and fit against the LeNet-5 recipe, on a small problem."""
    from grader.training import LENET5

    check_training_function(train_lenet5, LENET5, "train_lenet5", seed=seed)


# -- the trained model's accuracy ------------------------------------------------------------------


@student_check
def check_accuracy(
    build_lenet5: Callable,
    preprocess: Callable,
    weights_path: str | Path = WEIGHTS_FILE,
    *,
    threshold: float | None = None,
    x_train=None,
    y_train=None,
    x_test=None,
    y_test=None,
) -> None:
    """Load the submitted weights into the student's model and measure MNIST test accuracy
    (see :func:`grader.checks.accuracy.check_test_accuracy`). With the training set given,
    the instructor's retrain option trains the student's model and preprocessing with the
    course recipe, on the digits the notebook trains on (all but the validation set)."""
    from grader.training import LENET5, LENET5_SEED, hold_out_validation, train_from_scratch

    if x_test is None:
        from grader.datasets import load_mnist

        _, (x_test, y_test) = load_mnist()

    def retrain(model):
        (x_fit, y_fit), validation = hold_out_validation(preprocess(x_train), y_train)
        train_from_scratch(
            lambda: model, x_fit, y_fit, LENET5, seed=LENET5_SEED, validation=validation
        )

    check_test_accuracy(
        build_lenet5,
        weights_path,
        x_test,
        y_test,
        threshold=thresholds.LENET5_MIN_TEST_ACCURACY if threshold is None else threshold,
        dataset="MNIST",
        builder="build_lenet5()",
        prepare=preprocess,
        train=None if x_train is None else retrain,
    )
    # Returns nothing on purpose: nbgrader reads a number left as a test cell's value as
    # partial credit, so a check must never leave one.
