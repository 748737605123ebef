"""Notebook 02's checks pass the reference answers and catch realistic mistakes, naming them."""

import math

import keras
import numpy as np
import pytest
from check_helpers import assert_diagnosed, same_size, valid_size

from grader.checks import CheckFailure, backprop
from grader.checks import padding as check
from grader.checks.oracle import keras_same_padding

# -- the reference passes everything ------------------------------------------------------


def test_the_reference_answers_pass_on_fixed_and_fresh_random_cases(padding_reference):
    ref = padding_reference
    check.check_zero_pad(ref["zero_pad"], seed=None, n_random=40)
    check.check_conv_output_size(ref["conv_output_size"], seed=None, n_random=400)
    check.check_same_padding(ref["same_padding"], seed=None, n_random=100)
    check.check_conv2d(ref["conv2d"], paddings=("valid", "same", 1, 3), seed=None, n_random=30)
    check.check_shape_table(ref["shape_table"])
    check.check_broken_shapes(ref["broken_shapes"], ref["collapsing_layer"])
    check.check_fixed_alexnet(ref["build_fixed_alexnet"])


def test_the_split_probed_from_keras_puts_the_odd_row_after():
    assert keras_same_padding(28, 4, 1) == (1, 2)
    assert keras_same_padding(28, 3, 2) == (0, 1)
    assert keras_same_padding(7, 1, 3) == (0, 0)


# -- zero_pad ------------------------------------------------------------------------------


def pads(spec):
    return ((spec, spec), (spec, spec)) if isinstance(spec, int) else spec


@pytest.mark.parametrize(
    "wrong, cause",
    [
        (lambda x, p: np.pad(x, ((1, 1), *pads(p), (1, 1))) if p else x, "batch and channel axes"),
        (
            lambda x, p: np.pad(x, ((0, 0), pads(p)[1], pads(p)[0], (0, 0))),
            "rows and columns swapped",
        ),
        (
            lambda x, p: np.pad(x, ((0, 0), pads(p)[0][::-1], pads(p)[1][::-1], (0, 0))),
            "(before, after)",
        ),
        (lambda x, p: np.pad(x, ((0, 0), *pads(p), (0, 0)), mode="edge"), "zeros, not copies"),
        (
            lambda x, p: (
                np.pad(x, ((0, 0), (0, p), (0, p), (0, 0)))
                if isinstance(p, int)
                else np.pad(x, ((0, 0), *p, (0, 0)))
            ),
            "an int pads every side",
        ),
    ],
)
def test_zero_pad_check_names_the_mistake(wrong, cause):
    assert_diagnosed(check.check_zero_pad, wrong, cause)


# -- output sizes ---------------------------------------------------------------------------


def size_formula(valid_rule, same_rule, explicit=None, ignore_stride=False):
    def conv_output_size(n, k, s, padding):
        s = 1 if ignore_stride else s
        if padding == "valid":
            return valid_rule(n, k, s)
        if padding == "same":
            return same_rule(n, k, s)
        return (explicit or (lambda n, k, s, p: valid_rule(n + 2 * p, k, s)))(n, k, s, padding)

    return conv_output_size


@pytest.mark.parametrize(
    "wrong, cause",
    [
        (size_formula(lambda n, k, s: (n - k) // s, same_size), "needs the +1"),
        (size_formula(lambda n, k, s: math.ceil((n - k) / s) + 1, same_size), "floor, not ceil"),
        (size_formula(valid_size, lambda n, k, s: n // s), "'same' rounds up"),
        (
            size_formula(valid_size, lambda n, k, s: valid_size(n + 2 * ((k - 1) // 2), k, s)),
            "even kernel",
        ),
        (
            size_formula(
                valid_size, same_size, explicit=lambda n, k, s, p: valid_size(n + p, k, s)
            ),
            "n + 2p, not n + p",
        ),
        (size_formula(valid_size, same_size, ignore_stride=True), "the stride was ignored"),
    ],
)
def test_output_size_check_names_the_mistake(wrong, cause):
    assert_diagnosed(check.check_conv_output_size, wrong, cause)


def split(before_share):
    def same_padding(n, k, s):
        total = max((math.ceil(n / s) - 1) * s + k - n, 0)
        return before_share(total), total - before_share(total)

    return same_padding


@pytest.mark.parametrize(
    "wrong, cause",
    [
        (split(lambda total: total - total // 2), "odd padding row after"),
        (lambda n, k, s: ((k - 1) // 2, (k - 1) // 2), "cannot be split symmetrically"),
        (
            lambda n, k, s: ((k - 1) // 2, k - 1 - (k - 1) // 2),
            "k - 1 is the total only for stride 1",
        ),
    ],
)
def test_same_padding_check_names_the_mistake(wrong, cause):
    assert_diagnosed(check.check_same_padding, wrong, cause)


# -- conv2d ---------------------------------------------------------------------------------


def altered(reference, kernel=lambda k: k, bias=lambda b: b, **forced):
    def conv2d(x, k, b, strides=1, padding="valid"):
        arguments = {"strides": strides, "padding": padding, **forced}
        return reference(x, kernel(k), bias(b), **arguments)

    return conv2d


def with_split(reference_namespace, same_padding):
    """The reference conv2d, calling a different same_padding (as a student's would)."""
    namespace = dict(reference_namespace, same_padding=same_padding)
    function = reference_namespace["conv2d"]
    return type(function)(function.__code__, namespace)


@pytest.mark.parametrize(
    "make_wrong, paddings, cause",
    [
        (
            lambda ref: altered(ref["conv2d"], kernel=lambda k: k[::-1, ::-1]),
            ("valid",),
            "kernel was flipped",
        ),
        (lambda ref: altered(ref["conv2d"], bias=np.zeros_like), ("valid",), "bias was not added"),
        (lambda ref: altered(ref["conv2d"], strides=1), ("valid",), "stride was ignored"),
        (
            lambda ref: altered(ref["conv2d"], padding="valid"),
            ("same",),
            "padding='same' was ignored",
        ),
        (
            lambda ref: with_split(ref, split(lambda total: total - total // 2)),
            ("same",),
            "bottom/right, not the top/left",
        ),
        (lambda ref: altered(ref["conv2d"], padding="valid"), (2,), "explicit padding was ignored"),
    ],
)
def test_conv2d_check_names_the_mistake(padding_reference, make_wrong, paddings, cause):
    assert_diagnosed(check.check_conv2d, make_wrong(padding_reference), cause, paddings=paddings)


def test_conv2d_check_refuses_an_implementation_that_calls_keras():
    def conv2d(x, kernel, bias, strides=1, padding="valid"):
        return keras.ops.conv(x, kernel, strides, padding) + bias

    with pytest.raises(CheckFailure, match="must be written with NumPy"):
        check.check_conv2d(conv2d)


# -- shape tables and the broken model --------------------------------------------------------


def test_shape_table_failure_names_the_first_wrong_layer_and_why(padding_reference):
    table = dict(padding_reference["shape_table"], pool1=(14, 14, 288), conv3=(5, 5, 64))
    with pytest.raises(CheckFailure) as failure:
        check.check_shape_table(table)
    message = str(failure.value)
    assert message.startswith("shape_table: pool1 (MaxPooling2D")
    assert "pooling keeps the number of channels: 32" in message
    # A fixed answer has no hidden cases: the message must not hand it out.
    assert "14x14x32" not in message and "expected: not shown" in message


@pytest.mark.parametrize(
    "change, cause",
    [
        ({"conv2": (32, 32, 32)}, "you used the 'same' formula for padding='valid'"),
        ({"pool2": (1, 1, 64)}, "you used the 'valid' formula for padding='same'"),
        ({"flatten": (64,)}, "Flatten multiplies all three"),
        ({"conv1": (32, 32, 3)}, "one channel per filter: 16"),
    ],
)
def test_shape_table_check_names_the_mistake(padding_reference, change, cause):
    assert_diagnosed(
        check.check_shape_table, dict(padding_reference["shape_table"], **change), cause
    )


def test_shape_table_must_list_every_layer_in_order(padding_reference):
    table = dict(padding_reference["shape_table"])
    table.pop("flatten")
    with pytest.raises(CheckFailure, match="one entry per layer"):
        check.check_shape_table(table)


def test_broken_model_check_wants_the_real_collapse(padding_reference):
    shapes = padding_reference["broken_shapes"]
    with pytest.raises(CheckFailure) as failure:
        check.check_broken_shapes(shapes, "conv3")
    assert "pool2" not in str(failure.value) and "right after your last entry" in str(failure.value)
    assert_diagnosed(
        lambda s: check.check_broken_shapes(s, "pool2"),
        dict(shapes, conv1=(22, 22, 96)),
        "the stride was ignored",
    )


def alexnet_variant(conv1=None, pool=None, output=None):
    def build():
        layers = keras.layers
        return keras.Sequential(
            [
                keras.Input((32, 32, 3)),
                conv1 or layers.Conv2D(96, 3, padding="same", activation="relu"),
                pool or layers.MaxPooling2D(3, strides=2),
                layers.Conv2D(256, 5, padding="same", activation="relu"),
                layers.MaxPooling2D(3, strides=2),
                layers.Conv2D(384, 3, padding="same", activation="relu"),
                layers.Conv2D(384, 3, padding="same", activation="relu"),
                layers.Conv2D(256, 3, padding="same", activation="relu"),
                layers.MaxPooling2D(3, strides=2),
                layers.Flatten(),
                output or layers.Dense(10, activation="softmax"),
            ]
        )

    return build


@pytest.mark.parametrize(
    "build, message",
    [
        (
            alexnet_variant(conv1=keras.layers.Conv2D(96, 11, strides=4, activation="relu")),
            "Keras refused it",
        ),
        (alexnet_variant(pool=keras.layers.MaxPooling2D(2)), "keep AlexNet's overlapping pooling"),
        (alexnet_variant(pool=keras.layers.Conv2D(96, 3, strides=2)), "keep AlexNet's structure"),
        (alexnet_variant(output=keras.layers.Dense(10)), "softmax"),
        (
            alexnet_variant(output=keras.layers.Dense(100, activation="softmax")),
            "one probability per CIFAR-10 class",
        ),
    ],
)
def test_fixed_alexnet_check_explains_what_is_wrong(build, message):
    with pytest.raises(CheckFailure) as failure:
        check.check_fixed_alexnet(build)
    assert message in str(failure.value)


def test_a_ceil_in_the_broken_model_is_named_without_giving_the_answer(padding_reference):
    # With ceil, conv1 gives 7x7 (not 6x6) and the collapse moves one layer later: the first
    # wrong entry and its cause are named, not "one entry per layer".
    ceil_shapes = {
        "conv1": (7, 7, 96),
        "pool1": (4, 4, 96),
        "conv2": (4, 4, 256),
        "pool2": (2, 2, 256),
    }
    with pytest.raises(CheckFailure) as failure:
        check.check_broken_shapes(ceil_shapes, "conv3")
    assert "floor, not ceil" in failure.value.cause
    assert "6x6" not in str(failure.value)


def test_the_broken_table_does_not_say_where_it_should_stop(padding_reference):
    shapes = dict(padding_reference["broken_shapes"])
    shapes["pool2"] = (1, 1, 256)
    with pytest.raises(CheckFailure) as failure:
        check.check_broken_shapes(shapes, "conv3")
    assert "cannot build" in failure.value.cause and "pool2" not in failure.value.cause


# -- the backward pass of the convolution ----------------------------------------------------


def test_the_reference_conv2d_backward_matches_tensorflows_gradients(padding_reference):
    check.check_conv2d_backward(padding_reference["conv2d_backward"], seed=None, n_random=40)


@pytest.mark.parametrize("padding", ["valid", "same", 1])
def test_the_input_gradient_mistakes_are_built_on_tensorflows_own_gradient(padding):
    # With the kernel as it is, the scatter the mistakes are built from gives exactly the input
    # gradient TensorFlow's automatic differentiation gives: overlaps, strides and borders included.
    from grader.checks import exact

    rng = np.random.default_rng(4)
    case = backprop.ConvBackwardCase((2, 7, 6, 2), (3, 2), 3, (2, 1), padding)
    x, kernel = rng.standard_normal(case.x_shape), rng.standard_normal((3, 2, 2, 3))
    g = rng.standard_normal(exact.conv2d(x, kernel, np.zeros(3), (2, 1), padding).shape)
    np.testing.assert_allclose(
        case.input_gradient(x, kernel, g),
        exact.conv2d_gradients(x, kernel, g, (2, 1), padding)[0],
        atol=1e-12,
    )


def test_conv2d_backward_check_wants_the_three_gradients(padding_reference):
    def input_gradient_only(*args, **kwargs):
        return padding_reference["conv2d_backward"](*args, **kwargs)[0]

    assert_diagnosed(
        check.check_conv2d_backward, input_gradient_only, "return the three gradients together"
    )


def test_conv2d_backward_check_names_a_kernel_gradient_averaged_over_the_batch(padding_reference):
    def averaged(x, kernel, grad_output, strides=1, padding="valid"):
        grad_x, grad_kernel, grad_bias = padding_reference["conv2d_backward"](
            x, kernel, grad_output, strides, padding
        )
        return grad_x, grad_kernel / len(x), grad_bias

    assert_diagnosed(check.check_conv2d_backward, averaged, "averaged over the batch")
