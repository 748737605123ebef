"""Checks for notebook 02's exercises (padding and output shapes): zero padding, output
sizes, TensorFlow's 'same' split, a NumPy convolution, a model's shape table, and debugging
the broken AlexNet.

Oracles (Keras, verified: grader.checks.oracle): ``ZeroPadding2D``, ``Conv2D`` loaded with
the student's weights, ``compute_output_shape``, and the 'same' split probed from Keras
itself. The size mistakes and the layer-by-layer shape tables are grader.checks.shapes.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from dataclasses import dataclass

import keras
import numpy as np

from grader.checks.architecture import build_model
from grader.checks.backprop import check_conv2d_backward as check_conv2d_backward
from grader.checks.compare import (
    Answer,
    Mistake,
    assert_answers_match,
    assert_numpy_only,
    likely_mistake,
    output_layout_mistakes,
    require_type,
    results_of,
)
from grader.checks.failure import FIXED_ANSWER, CheckFailure, passed, student_check
from grader.checks.keras_arguments import Pad
from grader.checks.keras_arguments import explicit_padding as _explicit
from grader.checks.keras_arguments import pair as _pair
from grader.checks.oracle import (
    keras_conv2d,
    keras_output_size,
    keras_same_padding,
    keras_zero_pad,
)
from grader.checks.shapes import (
    SizeCase,
    check_layer_shapes,
    describe_layer,
    keras_layer_shapes,
)

# -- zero_pad -----------------------------------------------------------------------


def _zero_pad_mistakes(x: np.ndarray, pad: Pad) -> list[Mistake]:
    (top, bottom), (left, right) = _explicit(pad)
    found = [
        (
            "the batch and channel axes were padded too: pad only height (axis 1) and width (axis 2)",
            lambda: np.pad(x, ((top, bottom), (top, bottom), (left, right), (left, right))),
        ),
        (
            "rows and columns swapped: the first pair pads the height (top, bottom), the second the width",
            lambda: np.pad(x, ((0, 0), (left, right), (top, bottom), (0, 0))),
        ),
        (
            "each pair is (before, after): the first number pads the top (or the left)",
            lambda: np.pad(x, ((0, 0), (bottom, top), (right, left), (0, 0))),
        ),
        (
            "the border must be zeros, not copies of the edge pixels",
            lambda: np.pad(x, ((0, 0), (top, bottom), (left, right), (0, 0)), mode="edge"),
        ),
    ]
    if isinstance(pad, int):
        found.append(
            (
                "an int pads every side: p rows on top and p at the bottom, p columns left and right",
                lambda: np.pad(x, ((0, 0), (0, pad), (0, pad), (0, 0))),
            )
        )
    return found


@student_check
def check_zero_pad(zero_pad: Callable, *, seed: int | None = 0, n_random: int = 0) -> None:
    """``zero_pad(x, pad)`` must equal Keras's ZeroPadding2D for int and ((t, b), (l, r)) pads."""
    assert_numpy_only(zero_pad, "zero_pad")
    rng = np.random.default_rng(seed)
    cases: list[tuple[tuple[int, ...], Pad]] = [
        ((1, 5, 5, 1), 1),
        ((2, 4, 6, 3), 2),
        ((1, 3, 3, 2), 0),
        ((2, 5, 4, 3), ((1, 2), (0, 3))),
        ((1, 4, 4, 1), ((2, 0), (1, 1))),
    ]
    for _ in range(n_random):
        shape = (
            int(rng.integers(1, 4)),
            *(int(v) for v in rng.integers(1, 9, 2)),
            int(rng.integers(1, 4)),
        )
        pad = (
            int(rng.integers(0, 4))
            if rng.random() < 0.4
            else tuple(tuple(int(v) for v in rng.integers(0, 4, 2)) for _ in range(2))
        )
        cases.append((shape, pad))
    # Nonzero inputs: a zero border shows.
    inputs = [rng.standard_normal(shape).astype("float32") + 3.0 for shape, _ in cases]
    originals = [x.copy() for x in inputs]
    calls = [((x, pad), {}) for x, (_, pad) in zip(inputs, cases, strict=True)]
    answers = []
    for (shape, pad), x, original, got in zip(
        cases, inputs, originals, results_of(zero_pad, calls), strict=True
    ):
        what = f"zero_pad(x of shape {shape}, pad={pad})"
        if not np.array_equal(x, original):
            raise CheckFailure(
                what,
                "x left unchanged",
                "x was modified in place",
                "build a new array (np.pad does)",
            )
        require_type(what, got, np.ndarray, "a NumPy array (np.ndarray)")
        answers.append(
            Answer(what, got, keras_zero_pad(x, pad), functools.partial(_zero_pad_mistakes, x, pad))
        )
    assert_answers_match(answers)
    passed(f"zero_pad matches Keras's ZeroPadding2D on {len(cases)} cases")


# -- output sizes and TensorFlow's 'same' split -------------------------------------------


_SIZE_CASES = (
    SizeCase(32, 5, 1, "valid"),  # LeNet's C1: 32 -> 28
    SizeCase(227, 11, 4, "valid"),  # AlexNet's conv1: 227 -> 55
    SizeCase(224, 11, 4, "valid"),  # the paper's 224 does not divide: 54
    SizeCase(28, 5, 1, "same"),
    SizeCase(28, 4, 1, "same"),  # even kernel
    SizeCase(15, 3, 2, "same"),
    SizeCase(15, 2, 2, "valid"),
    SizeCase(28, 5, 1, 2),  # explicit: LeNet's 28 padded to 32
    SizeCase(13, 3, 2, 1),
)


def _random_size_cases(rng: np.random.Generator, n: int) -> list[SizeCase]:
    cases = []
    for _ in range(n):
        size, k, s = int(rng.integers(5, 250)), int(rng.integers(1, 12)), int(rng.integers(1, 5))
        padding = rng.choice(["valid", "same", "explicit"])
        cases.append(
            SizeCase(
                size,
                min(k, size),
                s,
                int(rng.integers(0, 4)) if padding == "explicit" else str(padding),
            )
        )
    return cases


@student_check
def check_conv_output_size(
    conv_output_size: Callable, *, seed: int | None = 0, n_random: int = 0
) -> None:
    rng = np.random.default_rng(seed)
    cases = list(_SIZE_CASES) + _random_size_cases(rng, n_random)
    calls = [((c.n, c.k, c.s, c.padding), {}) for c in cases]
    answers = []
    for case, got in zip(cases, results_of(conv_output_size, calls), strict=True):
        if not isinstance(got, int | np.integer):
            raise CheckFailure(
                case.describe(),
                f"an int like {keras_output_size(case.n, case.k, case.s, case.padding)}",
                repr(got),
                "return a whole number: use // or math.floor/ceil, not /",
            )
        answers.append((case, int(got)))
    for case, got in answers:
        expected = keras_output_size(case.n, case.k, case.s, case.padding)
        if got != expected:
            raise CheckFailure(
                case.describe(),
                expected,
                got,
                likely_mistake(case, got, answers, SizeCase.mistakes),
            )
    passed(f"conv_output_size matches Keras's compute_output_shape on {len(cases)} cases")


def _same_padding_mistakes(
    n: int, k: int, s: int
) -> list[tuple[str, Callable[[], tuple[int, int]]]]:
    total = sum(keras_same_padding(n, k, s))
    unclipped = (math.ceil(n / s) - 1) * s + k - n
    return [
        (
            "TensorFlow puts the odd padding row after (bottom/right), not before",
            lambda: (total - total // 2, total // 2),
        ),
        (
            "an odd total cannot be split symmetrically: TensorFlow gives the extra row to the end",
            lambda: (total // 2, total // 2),
        ),
        (
            "an odd total cannot be split symmetrically: TensorFlow gives the extra row to the end",
            lambda: ((total + 1) // 2, (total + 1) // 2),
        ),
        (
            "k - 1 is the total only for stride 1: the total is max((out - 1) * s + k - n, 0) with out = ceil(n / s)",
            lambda: ((k - 1) // 2, k - 1 - (k - 1) // 2),
        ),
        (
            "the total cannot be negative: take max(..., 0)",
            lambda: (unclipped // 2, unclipped - unclipped // 2),
        ),
    ]


@student_check
def check_same_padding(same_padding: Callable, *, seed: int | None = 0, n_random: int = 0) -> None:
    """``same_padding(n, k, s)`` must return the (before, after) split Keras uses for 'same'."""
    rng = np.random.default_rng(seed)
    cases = [(28, 5, 1), (28, 4, 1), (32, 3, 2), (15, 3, 2), (5, 2, 2), (7, 1, 3), (224, 11, 4)]
    cases += [
        (int(rng.integers(2, 80)), int(rng.integers(1, 9)), int(rng.integers(1, 5)))
        for _ in range(n_random)
    ]
    answers = []
    for case, got in zip(cases, results_of(same_padding, [(c, {}) for c in cases]), strict=True):
        require_type(
            "same_padding(n={}, k={}, s={})".format(*case), got, tuple, "a tuple (before, after)"
        )
        try:
            answers.append((case, tuple(int(v) for v in got)))
        except TypeError:
            raise CheckFailure(
                "same_padding(n={}, k={}, s={})".format(*case),
                f"a pair (before, after) like {keras_same_padding(*case)}",
                repr(got),
            ) from None
    for case, got in answers:
        expected = keras_same_padding(*case)
        if got != expected:
            cause = likely_mistake(case, got, answers, lambda c: _same_padding_mistakes(*c))
            raise CheckFailure("same_padding(n={}, k={}, s={})".format(*case), expected, got, cause)
    passed(f"same_padding matches the split Keras uses on {len(cases)} cases")


# -- conv2d -----------------------------------------------------------------------


@dataclass(frozen=True)
class ConvCase:
    x_shape: tuple[int, int, int, int]
    kernel_size: tuple[int, int]
    filters: int
    strides: int | tuple[int, int]
    padding: str | int

    def describe(self) -> str:
        padding = f"'{self.padding}'" if isinstance(self.padding, str) else self.padding
        kernel = (*self.kernel_size, self.x_shape[-1], self.filters)
        return (
            f"conv2d(x of shape {self.x_shape}, kernel of shape {kernel}, bias of shape ({self.filters},), "
            f"strides={self.strides}, padding={padding})"
        )

    def mistakes(self, x, kernel, bias) -> list[Mistake]:
        s, p = self.strides, self.padding
        found = [
            (
                "the kernel was flipped: Keras's Conv2D computes a cross-correlation, so multiply each window "
                "by the kernel as it is",
                lambda: keras_conv2d(x, kernel[::-1, ::-1], bias, s, p),
            ),
            ("the bias was not added", lambda: keras_conv2d(x, kernel, np.zeros_like(bias), s, p)),
            (
                "the bias was added once per kernel tap (inside the sum): add it once per output value",
                lambda: keras_conv2d(x, kernel, bias * kernel[..., 0].size, s, p),
            ),
            *output_layout_mistakes(lambda: keras_conv2d(x, kernel, bias, s, p)),
        ]
        if _pair(s) != (1, 1):
            found.append(("the stride was ignored", lambda: keras_conv2d(x, kernel, bias, 1, p)))
        found.append(
            (
                "kernel rows and columns swapped: kernel[i, j] multiplies row i, column j of the window",
                lambda: keras_conv2d(x, kernel.transpose(1, 0, 2, 3), bias, s, p),
            )
        )
        if p == "same":
            found.append(
                ("padding='same' was ignored", lambda: keras_conv2d(x, kernel, bias, s, "valid"))
            )
            pads = [
                keras_same_padding(n, k, ss)
                for n, k, ss in zip(x.shape[1:3], self.kernel_size, _pair(s), strict=True)
            ]
            swapped = ((0, 0), pads[0][::-1], pads[1][::-1], (0, 0))
            if any(sum(pad) % 2 for pad in pads):
                for rounding, half in (("down", lambda t: t // 2), ("up", lambda t: (t + 1) // 2)):
                    even = ((0, 0), *((half(sum(pad)),) * 2 for pad in pads), (0, 0))
                    found.append(
                        (
                            "the 'same' padding was split evenly (an odd total rounded "
                            f"{rounding} on both sides): TensorFlow pads (ceil(n / s) - 1) * s + k - n "
                            "in all and puts the odd row/column at the bottom/right",
                            lambda even=even: keras_conv2d(
                                np.pad(x, even), kernel, bias, s, "valid"
                            ),
                            f"even split {rounding}",
                        )
                    )
            found.append(
                (
                    "TensorFlow puts the odd padding row/column at the bottom/right, not the top/left",
                    lambda: keras_conv2d(np.pad(x, swapped), kernel, bias, s, "valid"),
                )
            )
        elif isinstance(p, int) and p:
            found.append(
                (
                    "padding p goes on every side: p rows on top and p at the bottom, p columns on each side",
                    lambda: keras_conv2d(
                        np.pad(x, ((0, 0), (0, p), (0, p), (0, 0))), kernel, bias, s, "valid"
                    ),
                )
            )
            found.append(
                (
                    "the explicit padding was ignored",
                    lambda: keras_conv2d(x, kernel, bias, s, "valid"),
                )
            )
        return found


_CONV_TEMPLATES = (
    ((1, 5, 5, 1), (3, 3), 1, 1),
    ((2, 7, 6, 3), (3, 2), 4, (2, 1)),
    ((1, 8, 8, 2), (4, 4), 3, 2),
    ((2, 6, 9, 1), (1, 3), 2, (1, 3)),
)


@student_check
def check_conv2d(
    conv2d: Callable, *, paddings=("valid",), seed: int | None = 0, n_random: int = 0
) -> None:
    """``conv2d(x, kernel, bias, strides, padding)`` must equal Keras's Conv2D with those weights."""
    assert_numpy_only(conv2d, "conv2d")
    rng = np.random.default_rng(seed)
    cases = [ConvCase(shape, k, f, s, p) for p in paddings for shape, k, f, s in _CONV_TEMPLATES]
    for _ in range(n_random):
        h, w = (int(v) for v in rng.integers(3, 11, 2))
        k = (int(rng.integers(1, min(h, 5) + 1)), int(rng.integers(1, min(w, 5) + 1)))
        s = (int(rng.integers(1, 4)), int(rng.integers(1, 4)))
        shape = (int(rng.integers(1, 3)), h, w, int(rng.integers(1, 4)))
        cases.append(
            ConvCase(
                shape, k, int(rng.integers(1, 5)), s, paddings[int(rng.integers(len(paddings)))]
            )
        )
    arrays = []
    for case in cases:
        x = rng.standard_normal(case.x_shape).astype("float32")
        kernel = rng.standard_normal((*case.kernel_size, case.x_shape[-1], case.filters)).astype(
            "float32"
        )
        arrays.append((x, kernel, rng.standard_normal(case.filters).astype("float32")))
    calls = [
        ((x.copy(), kernel.copy(), bias.copy()), {"strides": c.strides, "padding": c.padding})
        for c, (x, kernel, bias) in zip(cases, arrays, strict=True)
    ]
    answers = []
    for case, (x, kernel, bias), got in zip(cases, arrays, results_of(conv2d, calls), strict=True):
        require_type(case.describe(), got, np.ndarray, "a NumPy array (np.ndarray)")
        expected = keras_conv2d(x, kernel, bias, case.strides, case.padding)
        mistakes = functools.partial(case.mistakes, x, kernel, bias)
        answers.append(Answer(case.describe(), got, expected, mistakes))
    assert_answers_match(answers, atol=1e-4, rtol=1e-4)
    passed(
        f"conv2d matches Keras's Conv2D on {len(cases)} cases (padding {', '.join(map(str, paddings))})"
    )


# -- shape tables: a whole model, layer by layer -----------------------------------------


def shape_table_model_layers() -> list:
    """The model of the shape-table exercise (fresh layers each call)."""
    L = keras.layers
    return [
        L.Conv2D(16, 5, strides=2, padding="same", name="conv1"),
        L.Conv2D(32, 3, padding="valid", name="conv2"),
        L.MaxPooling2D(3, strides=2, name="pool1"),
        L.Conv2D(64, 3, strides=2, padding="valid", name="conv3"),
        L.Conv2D(64, 4, padding="same", name="conv4"),
        L.AveragePooling2D(4, strides=3, padding="same", name="pool2"),
        L.Flatten(name="flatten"),
        L.Dense(10, name="logits"),
    ]


SHAPE_TABLE_INPUT = (64, 64, 3)


@student_check
def check_shape_table(table: dict) -> None:
    check_layer_shapes(shape_table_model_layers(), SHAPE_TABLE_INPUT, table, "shape_table")


# -- debugging the broken AlexNet ------------------------------------------------------------


def broken_alexnet_layers() -> list:
    """The classic answer: ImageNet AlexNet's first layers, unchanged, on 32x32 CIFAR-10 images."""
    L = keras.layers
    return [
        L.Conv2D(96, 11, strides=4, padding="valid", activation="relu", name="conv1"),
        L.MaxPooling2D(3, strides=2, name="pool1"),
        L.Conv2D(256, 5, padding="same", activation="relu", name="conv2"),
        L.MaxPooling2D(3, strides=2, name="pool2"),
        L.Conv2D(384, 3, padding="same", activation="relu", name="conv3"),
        L.Conv2D(384, 3, padding="same", activation="relu", name="conv4"),
        L.Conv2D(256, 3, padding="same", activation="relu", name="conv5"),
        L.MaxPooling2D(3, strides=2, name="pool3"),
        L.Flatten(name="flatten"),
        L.Dense(10, activation="softmax", name="predictions"),
    ]


CIFAR_INPUT = (32, 32, 3)


@student_check
def check_broken_shapes(broken_shapes: dict, collapsing_layer: str) -> None:
    layers = broken_alexnet_layers()
    _, refused = keras_layer_shapes(layers, CIFAR_INPUT)
    names = [layer.name for layer in layers]
    check_layer_shapes(
        layers[: names.index(refused)],
        CIFAR_INPUT,
        broken_shapes,
        "broken_shapes",
        model_names=names,
    )
    if collapsing_layer != refused:
        raise CheckFailure(
            "collapsing_layer: the first layer Keras cannot build",
            FIXED_ANSWER,
            repr(collapsing_layer),
            f"{collapsing_layer!r} is not a layer of the model"
            if collapsing_layer not in names
            else "follow your shapes: the layer right after your last entry is the first whose "
            "output would have a size below 1",
        )
    passed(f"you found where the broken model collapses: {refused}")


ALEXNET_ORDER = ["conv", "pool", "conv", "pool", "conv", "conv", "conv", "pool"]


@student_check
def check_fixed_alexnet(build: Callable) -> None:
    """A model for 32x32x3 inputs keeping AlexNet's structure: five convolutions and three
    overlapping 3x3/stride-2 max-poolings in AlexNet's order, every size at least 1, 10 classes."""
    model = build_model(
        build, "build_fixed_alexnet()", "compute each layer's shape and give the poolings room"
    )
    if tuple(model.input_shape) != (None, *CIFAR_INPUT):
        raise CheckFailure(
            "the fixed model's input",
            (None, *CIFAR_INPUT),
            tuple(model.input_shape),
            "CIFAR-10 images are 32x32 with 3 channels: keras.Input((32, 32, 3))",
        )
    pooling = keras.layers.MaxPooling2D | keras.layers.AveragePooling2D
    spatial = [layer for layer in model.layers if isinstance(layer, keras.layers.Conv2D | pooling)]
    order = ["conv" if isinstance(layer, keras.layers.Conv2D) else "pool" for layer in spatial]
    averaging = [layer for layer in spatial if isinstance(layer, keras.layers.AveragePooling2D)]
    if order == ALEXNET_ORDER and averaging:
        raise CheckFailure(
            f"{describe_layer(averaging[0])}",
            "MaxPooling2D(3, strides=2)",
            "AveragePooling2D",
            "AlexNet pools with overlapping max pooling, MaxPooling2D(3, 2); average pooling "
            "is LeNet-5's",
        )
    if order != ALEXNET_ORDER:
        raise CheckFailure(
            "the fixed model's convolutions and poolings, in order",
            " -> ".join(ALEXNET_ORDER),
            " -> ".join(order) or "none",
            "keep AlexNet's structure: fix the sizes, not the number or order of layers",
        )
    for layer in spatial:
        if isinstance(layer, keras.layers.MaxPooling2D) and (
            _pair(layer.pool_size),
            _pair(layer.strides),
        ) != ((3, 3), (2, 2)):
            raise CheckFailure(
                f"{describe_layer(layer)}",
                "pool_size=(3, 3), strides=(2, 2)",
                f"pool_size={tuple(layer.pool_size)}, strides={tuple(layer.strides)}",
                "keep AlexNet's overlapping pooling; make room for it with the convolutions' stride and padding",
            )
        shape = tuple(layer.output.shape[1:])
        if min(shape[:2]) < 1:
            raise CheckFailure(f"{describe_layer(layer)}", "every size at least 1", shape)
    if tuple(model.output_shape) != (None, 10):
        raise CheckFailure(
            "the fixed model's output",
            (None, 10),
            tuple(model.output_shape),
            "end with Dense(10, activation='softmax'): one probability per CIFAR-10 class",
        )
    probabilities = keras.ops.convert_to_numpy(
        model(np.random.default_rng(0).random((2, *CIFAR_INPUT)).astype("float32"))
    )
    if not np.allclose(probabilities.sum(axis=1), 1.0, atol=1e-4):
        raise CheckFailure(
            "the fixed model's output rows",
            "probabilities summing to 1",
            probabilities.sum(axis=1),
            "use activation='softmax' on the last layer",
        )
    smallest = min(min(tuple(layer.output.shape[1:3])) for layer in spatial)
    passed(
        f"the fixed model keeps AlexNet's 5 convolutions and 3 overlapping poolings; "
        f"its smallest feature map is {smallest}x{smallest}"
    )
