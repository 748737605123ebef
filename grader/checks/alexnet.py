"""Checks for notebook 04 (AlexNet).

Oracles: the reference AlexNet's layer table (compared layer by layer, as LeNet-5 is),
``tf.nn.local_response_normalization`` for the NumPy LRN, TensorFlow's own operation cost
model (the profiler's float-operation count) for the multiply-adds, and the CIFAR-10 test set
for the trained model's accuracy.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path

import keras
import numpy as np

from grader import thresholds
from grader.checks.accuracy import check_test_accuracy
from grader.checks.architecture import build_model, compare_models, layer_table
from grader.checks.compare import (
    Answer,
    Mistake,
    assert_answers_match,
    assert_numpy_only,
    likely_mistake,
    require_type,
    results_of,
)
from grader.checks.failure import CheckFailure, passed, student_check
from grader.checks.fitting import check_training_function
from grader.checks.oracle import keras_lrn, keras_receptive_fields, verified
from grader.checks.shapes import describe_layer

WEIGHTS_FILE = "cifar_alexnet.weights.h5"
CIFAR_CLASSES = (
    "airplane",
    "automobile",
    "bird",
    "cat",
    "deer",
    "dog",
    "frog",
    "horse",
    "ship",
    "truck",
)

# The paper's LRN constants (Section 3.3): k = 2, n = 5, alpha = 1e-4, beta = 0.75.
PAPER_LRN = {"k": 2.0, "n": 5, "alpha": 1e-4, "beta": 0.75}


# -- the ImageNet AlexNet ----------------------------------------------------------------------


OVERLAPPING = "AlexNet pools 3x3 windows with stride 2 (overlapping pooling): MaxPooling2D(3, 2)"
SAME = "conv2 to conv5 keep the map size: padding='same'"
ALEXNET_HINTS = {
    ("input", "shape"): (
        "AlexNet's arithmetic needs 227x227x3 inputs: (227 - 11) / 4 + 1 = 55, while the "
        "paper's 224 gives (224 - 11) / 4 + 1 = 54.25"
    ),
    ("conv1", "kernel"): "conv1 has 96 kernels of 11x11x3 with stride 4",
    ("conv1", "strides"): "conv1 moves its 11x11 kernels 4 pixels at a time: strides=4",
    ("conv1", "padding"): "conv1 is 'valid': 227 -> 55 needs no padding",
    (
        "conv2",
        "kernel",
    ): "conv2's kernels are 5x5 (retellings often say 3x3): 256 kernels of 5x5x48 per GPU",
    ("conv2", "filters"): "conv2 has 256 kernels",
    **{(role, "padding"): SAME for role in ("conv2", "conv3", "conv4", "conv5")},
    **{(role, "pool"): OVERLAPPING for role in ("pool1", "pool2", "pool5")},
    **{(role, "strides"): OVERLAPPING for role in ("pool1", "pool2", "pool5")},
    **{(role, "the kind of layer"): OVERLAPPING for role in ("pool1", "pool2", "pool5")},
    **{
        (role, "the activation"): "every AlexNet layer but the last uses ReLU"
        for role in ("conv1", "conv2", "conv3", "conv4", "conv5", "fc6", "fc7")
    },
    ("fc8", "the activation"): "the output layer gives class probabilities: softmax",
    **{
        (role, "rate"): "AlexNet drops half of fc6's and fc7's outputs: Dropout(0.5)"
        for role in ("dropout6", "dropout7")
    },
    **{
        (
            role,
            "the kind of layer",
        ): "dropout follows fc6 and fc7: Dense, Dropout, Dense, Dropout, Dense"
        for role in ("dropout6", "dropout7")
    },
    ("extra", "batch normalization"): (
        "AlexNet (2012) predates batch normalization (2015); its normalisation was LRN, which "
        "this notebook builds on its own: the reference model leaves normalisation out"
    ),
    ("extra", "Lambda"): (
        "the reference model leaves LRN out (the notebook builds it on its own as lrn(); it has "
        "no parameters and changes no shape)"
    ),
    **{
        (role, "groups"): "the two-GPU version splits conv2, conv4 and conv5 in two: groups=2"
        for role in ("conv2", "conv4", "conv5")
    },
}


@student_check
def check_build_alexnet(build_alexnet: Callable, *, groups: int = 1) -> None:
    what = "build_alexnet()" if groups == 1 else f"build_alexnet(groups={groups})"
    build = build_alexnet if groups == 1 else (lambda: build_alexnet(groups=groups))
    model = build_model(build, what, "AlexNet takes 227x227x3 inputs: keras.Input((227, 227, 3))")
    compare_models(model, _ALEXNET_TABLES[groups], what, ALEXNET_HINTS)


# The one-tower AlexNet, and the paper's two-GPU split of conv2, conv4 and conv5 (groups=2:
# each half of those layers sees only its own GPU's half of the maps).
_ALEXNET_TABLES = {1: "alexnet", 2: "alexnet_two_gpu"}


def alexnet_parameters(groups: int = 1) -> int:
    """How many parameters AlexNet has, as one tower or split over two GPUs (the layer table's
    count: local response normalisation, left out of the model, has none)."""
    return layer_table(_ALEXNET_TABLES[groups]).params


# -- local response normalisation ------------------------------------------------------------


def _lrn_numpy(a, k, n, alpha, beta, *, square=True, axis=-1, wrap=False, bias_inside=True):
    """LRN written plainly, with switches for the mistakes the check recognises."""
    a = np.moveaxis(np.asarray(a, dtype=np.float64), axis, -1)
    terms = a**2 if square else a
    channels = a.shape[-1]
    sums = np.zeros_like(a)
    for i in range(channels):
        if wrap:
            window = [(i + d) % channels for d in range(-(n // 2), n // 2 + 1)]
        else:
            window = range(max(0, i - n // 2), min(channels, i + n // 2 + 1))
        sums[..., i] = terms[..., list(window)].sum(axis=-1)
    denominator = (k + alpha * sums) ** beta if bias_inside else k + (alpha * sums) ** beta
    return np.moveaxis(a / denominator, -1, axis)


def _lrn_mistakes(a, k, n, alpha, beta) -> list[Mistake]:
    return [
        (
            "alpha was divided by n (PyTorch's and Caffe's convention); the paper's formula, "
            "like TensorFlow's, multiplies the sum by alpha itself",
            lambda: keras_lrn(a, k, n, alpha / n, beta),
        ),
        (
            "the window reaches n channels on each side; it spans n channels in all, "
            "n // 2 on each side of channel i",
            lambda: keras_lrn(a, k, 2 * n, alpha, beta),
        ),
        (
            "the window must not wrap around: channels near the ends have fewer neighbours",
            lambda: _lrn_numpy(a, k, n, alpha, beta, wrap=True),
        ),
        (
            "the sum is of squared activations a_j², not of a_j",
            lambda: _lrn_numpy(a, k, n, alpha, beta, square=False),
        ),
        (
            "normalise across channels (the last axis, channels-last), not across the width",
            lambda: _lrn_numpy(a, k, n, alpha, beta, axis=2),
        ),
        (
            "k goes inside the power: (k + alpha * sum) ** beta",
            lambda: _lrn_numpy(a, k, n, alpha, beta, bias_inside=False),
        ),
        (
            "raise the denominator to the power beta before dividing",
            lambda: keras_lrn(a, k, n, alpha, 1.0),
        ),
        (
            "divide a_i by the denominator; do not multiply",
            lambda: keras_lrn(a, k, n, alpha, -beta),
        ),
    ]


def _activations(rng: np.random.Generator, shape) -> np.ndarray:
    """ReLU-like activations large enough for the normalisation to matter (alpha * sum
    comparable to k), as they are after AlexNet's first convolutions."""
    return (np.maximum(rng.normal(0, 60, size=shape), 0)).astype(np.float32)


def _lrn_cases(rng: np.random.Generator, n_random: int) -> list[tuple[tuple, dict]]:
    cases = [
        ((2, 3, 3, 16), PAPER_LRN),
        ((1, 2, 2, 3), PAPER_LRN),  # fewer channels than the window
        ((2, 4, 5, 7), {"k": 1.0, "n": 3, "alpha": 1e-3, "beta": 0.5}),
        ((1, 3, 3, 6), {"k": 2.0, "n": 1, "alpha": 1e-4, "beta": 0.75}),
    ]
    for _ in range(n_random):
        shape = (
            int(rng.integers(1, 3)),
            int(rng.integers(1, 5)),
            int(rng.integers(1, 5)),
            int(rng.integers(2, 20)),
        )
        settings = {
            "k": float(rng.choice([0.5, 1.0, 2.0])),
            "n": int(rng.choice([1, 3, 5, 7])),
            "alpha": float(rng.choice([1e-4, 5e-4, 1e-3])),
            "beta": float(rng.choice([0.5, 0.75, 1.0])),
        }
        cases.append((shape, settings))
    return cases


@student_check
def check_lrn(lrn: Callable, *, seed: int | None = 0, n_random: int = 0) -> None:
    assert_numpy_only(lrn, "lrn")
    rng = np.random.default_rng(seed)
    cases = _lrn_cases(rng, n_random)
    answers = []
    for shape, settings in cases:
        a = _activations(rng, shape)
        arguments = ", ".join(f"{key}={value:g}" for key, value in settings.items())
        what = f"lrn(activations of shape {shape}, {arguments})"
        got = lrn(a.copy(), **settings)
        require_type(what, got, np.ndarray, "a NumPy array (np.ndarray)")
        mistakes = functools.partial(_lrn_mistakes, a, **settings)
        answers.append(Answer(what, got, keras_lrn(a, **settings), mistakes))
    assert_answers_match(answers, atol=1e-4, rtol=1e-4)
    passed(f"lrn matches tf.nn.local_response_normalization on {len(cases)} cases")


# -- where the computation is ----------------------------------------------------------------


def tensorflow_multiply_adds(layer) -> int:
    """The oracle: TensorFlow's own cost model for the layer's main operation (the profiler's
    float-operation count of its Conv2D or MatMul, 2 per multiply-add), on one input, verified
    against the count from the layer's shapes.

    A grouped convolution (groups g) is g independent convolutions, each from c_in / g input
    channels to c_out / g filters; the cost model has no figure for the grouped operation
    itself, so it is asked for one group and the count multiplied by g.
    """
    input_shape = tuple(int(d) for d in layer.input.shape[1:])
    config = layer.get_config()
    groups = int(config.get("groups", 1))
    if groups > 1:
        config = {**config, "groups": 1, "filters": config["filters"] // groups}
        input_shape = (*input_shape[:-1], input_shape[-1] // groups)
    profiled = groups * _profiled_multiply_adds(type(layer).from_config(config), input_shape)
    positions = int(np.prod(layer.output.shape[1:-1]))  # 1 for a Dense layer on a vector
    counted = int(np.prod(layer.kernel.shape)) * positions
    what = f"the multiply-adds of {layer.name}"
    return int(verified("cost model", profiled, counted, what, atol=0, rtol=0))


def _profiled_multiply_adds(layer, input_shape: tuple[int, ...]) -> int:
    import tensorflow as tf
    from tensorflow.python.framework.convert_to_constants import (
        convert_variables_to_constants_v2,
    )

    model = keras.Sequential([keras.Input(input_shape), layer])

    @tf.autograph.experimental.do_not_convert
    def forward(x):
        return model(x)

    function = tf.function(forward).get_concrete_function(tf.TensorSpec((1, *input_shape)))
    graph = convert_variables_to_constants_v2(function).graph
    options = tf.compat.v1.profiler.ProfileOptionBuilder.float_operation()
    options["output"] = "none"
    logger, level = tf.get_logger(), tf.get_logger().level
    logger.setLevel("ERROR")  # the v1 profiler logs a deprecation notice under the student's test
    try:
        profile = tf.compat.v1.profiler.profile(graph=graph, options=options)
    finally:
        logger.setLevel(level)
    main_ops = [
        node.total_float_ops
        for node in profile.children
        if node.name.rsplit("/", 1)[-1] in ("convolution", "MatMul", "Conv2D")
    ]
    if len(main_ops) != 1:
        raise ValueError(f"no single Conv2D/MatMul cost for {layer.name}: {main_ops}")
    return main_ops[0] // 2


def _layer_mistakes(layer) -> list[tuple[str, Callable[[], int]]]:
    """(label, compute) for the counts a plausible wrong formula gives."""
    return [(label, lambda value=value: value) for label, value in _wrong_counts(layer)]


def _wrong_counts(layer) -> list[tuple[str, int]]:
    macs = tensorflow_multiply_adds(layer)
    kernel = layer.kernel.shape
    weights = int(np.prod(kernel))
    mistakes = [("that is FLOPs: one multiply-add is 2 floating-point operations", 2 * macs)]
    if isinstance(layer, keras.layers.Dense):
        mistakes.append(
            (
                "a bias is an addition, not a multiply-add: count inputs x units",
                macs + int(kernel[-1]),
            )
        )
        return mistakes
    out_h, out_w = (int(d) for d in layer.output.shape[1:3])
    in_h, in_w = (int(d) for d in layer.input.shape[1:3])
    filters = int(kernel[-1])
    groups = int(layer.get_config().get("groups", 1))
    if groups > 1:
        mistakes.append(
            (
                f"groups={groups}: each filter sees only its group's c_in / {groups} input "
                "channels (the kernel's third axis), not all of them",
                macs * groups,
            )
        )
    mistakes += [
        (
            "a convolution's weights are used again at every output position: multiply by the "
            "output's height x width",
            weights,
        ),
        (
            "count the output positions, not the input's: with strides above 1 (or 'valid' "
            "padding) the output is smaller",
            weights * in_h * in_w,
        ),
        (
            "a bias is an addition, not a multiply-add: leave the +1 out",
            (weights + filters) * out_h * out_w,
        ),
    ]
    return mistakes


def _layer_cases(rng: np.random.Generator, n_random: int) -> list:
    L = keras.layers
    specs = [
        ((32, 32, 3), L.Conv2D(8, 3, padding="same")),
        ((15, 15, 4), L.Conv2D(6, 5, strides=2)),
        ((227, 227, 3), L.Conv2D(96, 11, strides=4)),
        ((9, 9, 5), L.Conv2D(7, (1, 3), padding="same", strides=(2, 1))),
        ((13, 13, 8), L.Conv2D(12, 3, padding="same", groups=2)),  # AlexNet's two-GPU split
        ((15, 15, 6), L.Conv2D(9, 3, strides=2, groups=3)),
        ((50,), L.Dense(12)),
        ((6, 6, 4), L.Dense(3)),  # Dense on a map acts on the last axis, at every position
    ]
    for _ in range(n_random):
        size, channels = int(rng.integers(6, 20)), int(rng.integers(1, 9))
        kernel, groups = int(rng.integers(1, 6)), int(rng.choice([1, 1, 2, 3]))
        specs.append(
            (
                (size, size, channels * groups),
                L.Conv2D(
                    int(rng.integers(1, 6)) * groups,
                    kernel,
                    groups=groups,
                    strides=int(rng.integers(1, 4)),
                    padding=str(rng.choice(["valid", "same"])),
                ),
            )
        )
        specs.append(((int(rng.integers(2, 300)),), L.Dense(int(rng.integers(1, 50)))))
    cases = []
    for input_shape, layer in specs:
        keras.Sequential([keras.Input(input_shape), layer])  # builds it: shapes and kernel known
        cases.append(layer)
    return cases


def _describe_with_input(layer) -> str:
    shape = "x".join(str(int(d)) for d in layer.input.shape[1:])
    return f"{describe_layer(layer)} on input {shape}"


@student_check
def check_multiply_adds(
    multiply_adds: Callable, *, seed: int | None = 0, n_random: int = 0
) -> None:
    rng = np.random.default_rng(seed)
    cases = _layer_cases(rng, n_random)
    answers = [(layer, multiply_adds(layer)) for layer in cases]
    for layer, got in answers:
        what = f"multiply_adds({_describe_with_input(layer)})"
        expected = tensorflow_multiply_adds(layer)
        whole = isinstance(got, int | np.integer) and not isinstance(got, bool)
        if whole and got == expected:
            continue
        if not whole:
            cause = f"return a whole number (an int), not {type(got).__name__}"
        else:
            cause = likely_mistake(layer, got, answers, _layer_mistakes)
        if cause is None and isinstance(layer, keras.layers.Dense) and len(layer.input.shape) > 2:
            cause = "Dense acts on the last axis at every other position: multiply by their number"
        shown = f"{got:,}" if whole else repr(got)
        raise CheckFailure(what, f"{expected:,}", shown, cause)
    passed(f"multiply_adds agrees with TensorFlow's cost model on {len(cases)} layers")


# -- receptive fields --------------------------------------------------------------------------

_FIELD_CASES = (
    ((11, 4), (3, 2), (5, 1), (3, 2), (3, 1), (3, 1), (3, 1), (3, 2)),  # AlexNet, conv1 to pool5
    ((5, 1), (2, 2), (5, 1), (2, 2), (5, 1)),  # LeNet-5, C1 to C5
    ((3, 1), (3, 1), (3, 1)),  # three 3x3 convolutions: one 7x7's field
    ((2, 2), (1, 1), (3, 3)),  # a 1x1 convolution, then a stride larger than the jump
)


def _field_mistakes(layers) -> list[Mistake]:
    """Each mistaken answer, built from the oracle's measurements of other stacks (so that no
    formula of the answer is written here)."""

    def right():
        return np.array(keras_receptive_fields(layers))

    def jump_not_carried():
        unstrided = np.array(keras_receptive_fields([(k, 1) for k, _ in layers]))
        return np.stack([unstrided[:, 0], right()[:, 1]], axis=1)

    def stride_applied_first():
        # A layer whose own stride widened its field: its stride moved in front of its kernel.
        split = [step for k, s in layers for step in ((1, s), (k, 1))]
        return np.array(keras_receptive_fields(split))[1::2]

    return [
        (
            "the jump was not carried: a layer widens the field by (k - 1) times the jump of the "
            "layer below (the distance, in input pixels, between its units), not by k - 1",
            jump_not_carried,
        ),
        (
            "the jump was multiplied by the layer's stride before widening the field: a layer's own "
            "stride spaces its outputs, it does not widen what each one sees (widen first, then jump *= s)",
            stride_applied_first,
        ),
        (
            "the field started at 0: before any layer, a unit is one input pixel, so start from 1",
            lambda: right() - np.array([1, 0]),
        ),
    ]


@student_check
def check_receptive_fields(
    receptive_fields: Callable, *, seed: int | None = 0, n_random: int = 0
) -> None:
    """``receptive_fields(layers)`` must give, after each (kernel size, stride) layer, the field
    and jump measured on Keras layers (grader.checks.oracle.keras_receptive_fields)."""
    assert_numpy_only(receptive_fields, "receptive_fields")
    rng = np.random.default_rng(seed)
    cases = [list(layers) for layers in _FIELD_CASES]
    for _ in range(n_random):
        depth = int(rng.integers(1, 7))
        cases.append([(int(rng.integers(1, 8)), int(rng.integers(1, 5))) for _ in range(depth)])
    answers = []
    for layers, got in zip(
        cases, results_of(receptive_fields, [((list(c),), {}) for c in cases]), strict=True
    ):
        what = f"receptive_fields({layers})"
        if np.shape(got) != (len(layers), 2):
            raise CheckFailure(
                what,
                f"{len(layers)} (field, jump) pairs",
                f"{got!r}"[:200],
                "return one (field, jump) pair per layer, in order: a list as long as layers",
            )
        expected = np.array(keras_receptive_fields(layers))
        answers.append(Answer(what, got, expected, functools.partial(_field_mistakes, layers)))
    assert_answers_match(answers, atol=0, rtol=0)
    passed(f"receptive_fields matches the fields measured on Keras layers for {len(cases)} stacks")


# -- the CIFAR-10 AlexNet --------------------------------------------------------------------

# The convolutions of the CIFAR-10 network (grader.checks.references has the network).
CIFAR_CONV_ROLES = ("conv1", "conv2", "conv3", "conv4", "conv5")


CIFAR_HINTS = {
    ("input", "shape"): "CIFAR-10 images are 32x32 with 3 channels: keras.Input((32, 32, 3))",
    (
        "flip",
        "the kind of layer",
    ): "the model starts with its augmentation: RandomFlip('horizontal')",
    ("flip", "mode"): "mirror left-right only: a car upside down is not a car any more",
    ("scale", "scale"): "Rescaling(1 / 255) maps 0..255 to 0..1",
    **{
        (role, "padding"): "the convolutions keep the map size: padding='same'"
        for role in CIFAR_CONV_ROLES
    },
    **{
        (
            role,
            "the number of parameters",
        ): "use_bias=False: BatchNormalization's own offset makes a bias redundant"
        for role in CIFAR_CONV_ROLES
    },
    **{
        (role, "the activation"): "Conv2D (no activation), BatchNormalization, then ReLU"
        for role in CIFAR_CONV_ROLES
    },
    **{
        (f"{role}_bn", "the activation"): "a ReLU follows each BatchNormalization: Conv2D, "
        "BatchNormalization, ReLU"
        for role in CIFAR_CONV_ROLES
    },
    **{(f"pool{i}", "pool"): OVERLAPPING for i in (1, 2, 5)},
    **{(f"pool{i}", "strides"): OVERLAPPING for i in (1, 2, 5)},
    **{
        (
            role,
            "rate",
        ): "dropout after fc6 and fc7, at the table's rate (AlexNet: 0.5, for 90 epochs)"
        for role in ("dropout6", "dropout7")
    },
}


@student_check
def check_build_cifar_alexnet(build_cifar_alexnet: Callable) -> None:
    what = "build_cifar_alexnet()"
    model = build_model(build_cifar_alexnet, what, "CIFAR-10 images are 32x32x3")
    compare_models(model, "cifar_alexnet", what, CIFAR_HINTS)


@student_check
def check_train_cifar_alexnet(train_cifar_alexnet: Callable, *, seed: int | None = 0) -> None:
    """train_cifar_alexnet's compile and fit against the CIFAR-10 recipe, on a small problem."""
    from grader.training import CIFAR_ALEXNET

    check_training_function(train_cifar_alexnet, CIFAR_ALEXNET, "train_cifar_alexnet", seed=seed)


@student_check
def check_accuracy(
    build_cifar_alexnet: Callable,
    weights_path: str | Path = WEIGHTS_FILE,
    *,
    x_test,
    y_test,
    threshold: float | None = None,
    x_train=None,
    y_train=None,
) -> None:
    """The submitted weights in the student's model, on the CIFAR-10 test set. With the
    training set given, the instructor's retrain option trains the student's model with the
    course recipe on the images the notebook trains on (all but the validation set)."""
    from grader.training import (
        CIFAR_ALEXNET,
        CIFAR_ALEXNET_SEED,
        hold_out_validation,
        train_from_scratch,
    )

    def retrain(model):
        (x_fit, y_fit), validation = hold_out_validation(x_train, y_train)
        train_from_scratch(
            lambda: model,
            x_fit,
            y_fit,
            CIFAR_ALEXNET,
            seed=CIFAR_ALEXNET_SEED,
            validation=validation,
        )

    check_test_accuracy(
        build_cifar_alexnet,
        weights_path,
        x_test,
        y_test,
        threshold=thresholds.CIFAR_ALEXNET_MIN_TEST_ACCURACY if threshold is None else threshold,
        dataset="CIFAR-10",
        builder="build_cifar_alexnet()",
        train=None if x_train is None else retrain,
    )
    # Returns nothing on purpose: nbgrader reads a number left as a test cell's value as
    # partial credit.
