"""Notebook 01's checks pass the reference answers and catch realistic mistakes, naming them."""

import math

import keras
import numpy as np
import pytest
from check_helpers import assert_diagnosed, same_size, same_split, valid_size

from grader.checks import CheckFailure, backprop, exact
from grader.checks import pooling as check

ALL_MODES = dict(modes=("max", "avg", "min"), paddings=("valid", "same"))


# -- the reference passes everything, including many fresh random cases -----------------


def test_the_reference_pool2d_matches_keras_on_fixed_and_random_cases(pooling_reference):
    check.check_pool2d(pooling_reference["pool2d"], **ALL_MODES, seed=None, n_random=60)


def test_the_reference_output_shape_matches_keras(pooling_reference):
    check.check_pool_output_shape(pooling_reference["pool_output_shape"], seed=None, n_random=300)


def test_the_reference_min_pooling_layer_matches_keras(pooling_reference):
    check.check_min_pooling_layer(pooling_reference["MinPooling2D"], seed=None, n_random=10)


def test_the_reference_invariance_score_matches_keras(pooling_reference):
    check.check_invariance_score(pooling_reference["invariance_score"], seed=None, n_random=5)


def test_the_mistake_machinery_reproduces_keras_same_padding():
    # 'same' pooling equals valid pooling of the TF-padded input with padded cells ignored:
    # the building block of the padding diagnoses must agree with Keras exactly.
    x = np.random.default_rng(1).standard_normal((2, 6, 7, 3)).astype("float32")
    for mode in ("max", "avg", "min"):
        pads = (exact.same_padding(6, 4, 1), exact.same_padding(7, 3, 2))
        np.testing.assert_allclose(
            check._pool_padded(x, (4, 3), (1, 2), pads, mode, "ignore"),
            check.keras_pool(x, (4, 3), (1, 2), "same", mode),
            rtol=1e-6,
            atol=1e-6,
        )


# -- pool2d: each wrong implementation fails, with its cause named ------------------------


def variant(reference, **forced):
    """The reference pool2d with some arguments overridden: a student who ignores one."""

    def pool2d(x, pool_size, strides=None, mode="max", padding="valid"):
        arguments = dict(pool_size=pool_size, strides=strides, mode=mode, padding=padding)
        arguments.update({k: (v(arguments) if callable(v) else v) for k, v in forced.items()})
        return reference(x, **arguments)

    return pool2d


def zero_padded_same(reference):
    def pool2d(x, pool_size, strides=None, mode="max", padding="valid"):
        if padding == "same":
            k = (pool_size,) * 2 if isinstance(pool_size, int) else pool_size
            s = k if strides is None else ((strides,) * 2 if isinstance(strides, int) else strides)
            pads = [same_split(n, kk, ss) for n, kk, ss in zip(x.shape[1:3], k, s, strict=True)]
            x, padding = np.pad(x, ((0, 0), *pads, (0, 0))), "valid"
        return reference(x, pool_size, strides, mode, padding)

    return pool2d


def extra_padding_on_top(x, pool_size, strides=None, mode="max", padding="valid"):
    """Symmetric-framework habit: the odd padding row goes on top/left."""
    kh, kw = (pool_size,) * 2 if isinstance(pool_size, int) else pool_size
    sh, sw = (
        (kh, kw) if strides is None else ((strides,) * 2 if isinstance(strides, int) else strides)
    )
    if padding == "same":
        fill = {"max": -np.inf, "min": np.inf}.get(mode, np.nan)
        rows = same_split(x.shape[1], kh, sh)[::-1]
        cols = same_split(x.shape[2], kw, sw)[::-1]
        x = np.pad(x, ((0, 0), rows, cols, (0, 0)), constant_values=fill)
    out_h, out_w = (x.shape[1] - kh) // sh + 1, (x.shape[2] - kw) // sw + 1
    reduce = {"max": np.max, "min": np.min, "avg": np.nanmean}[mode]
    return np.stack(
        [
            np.stack(
                [
                    reduce(x[:, i * sh : i * sh + kh, j * sw : j * sw + kw], axis=(1, 2))
                    for j in range(out_w)
                ],
                axis=1,
            )
            for i in range(out_h)
        ],
        axis=1,
    )


def with_keras(x, pool_size, strides=None, mode="max", padding="valid"):
    return keras.layers.MaxPooling2D(pool_size, strides, padding)(x).numpy()


def modifies_its_input(x, pool_size, strides=None, mode="max", padding="valid"):
    x -= 0  # harmless
    x[0, 0, 0, 0] = 99.0
    return x


@pytest.mark.parametrize(
    "make_wrong, settings, cause",
    [
        (lambda ref: variant(ref, strides=1), {}, "the stride was ignored"),
        (
            lambda ref: variant(ref, strides=lambda a: a["strides"] or 1),
            {},
            "strides=None must default to the pool size",
        ),
        (
            lambda ref: variant(ref, padding="valid"),
            dict(paddings=("same",)),
            "padding='same' was ignored",
        ),
        (
            lambda ref: variant(ref, mode=lambda a: "max" if a["mode"] == "min" else a["mode"]),
            dict(modes=("min",)),
            "you computed max pooling, not min pooling",
        ),
        (
            lambda ref: variant(ref, mode="max"),
            dict(modes=("avg",)),
            "you computed max pooling, not avg pooling",
        ),
        (
            lambda ref: variant(
                ref,
                pool_size=lambda a: (
                    a["pool_size"][::-1] if isinstance(a["pool_size"], tuple) else a["pool_size"]
                ),
                strides=lambda a: (
                    a["strides"][::-1] if isinstance(a["strides"], tuple) else a["strides"]
                ),
            ),
            {},
            "rows and columns swapped",
        ),
        (
            zero_padded_same,
            dict(modes=("max",), paddings=("same",)),
            "'same' padding was filled with zeros",
        ),
        (
            zero_padded_same,
            dict(modes=("avg",), paddings=("same",)),
            "padded zeros were counted in the mean",
        ),
        (
            zero_padded_same,
            dict(modes=("min",), paddings=("same",)),
            "'same' padding was filled with zeros: min",
        ),
        (
            lambda ref: extra_padding_on_top,
            dict(modes=("max",), paddings=("same",)),
            "the odd padding row/column went to the top/left",
        ),
    ],
)
def test_pool2d_check_names_the_mistake(pooling_reference, make_wrong, settings, cause):
    assert_diagnosed(check.check_pool2d, make_wrong(pooling_reference["pool2d"]), cause, **settings)


def test_pool2d_check_refuses_an_implementation_that_calls_keras():
    with pytest.raises(CheckFailure, match="must be written with NumPy"):
        check.check_pool2d(with_keras)


def test_pool2d_check_refuses_an_implementation_that_changes_its_input():
    with pytest.raises(CheckFailure, match="modified in place"):
        check.check_pool2d(modifies_its_input)


def test_a_failure_reads_as_expected_got_and_likely_cause(pooling_reference):
    with pytest.raises(CheckFailure) as failure:
        check.check_pool2d(variant(pooling_reference["pool2d"], strides=1))
    lines = str(failure.value).splitlines()
    assert lines[0].startswith("pool2d(x of shape (1, 4, 4, 1), pool_size=(2, 2), strides=(2, 2)")
    assert lines[1:] == [
        "  expected: (1, 2, 2, 1)",
        "  got:      (1, 3, 3, 1)",
        "  likely cause: the stride was ignored: the window moved 1 pixel at a time instead of (2, 2)",
    ]


# -- output shapes -----------------------------------------------------------------------


def shape_formula(valid, same, strides_default="pool"):
    def pool_output_shape(input_shape, pool_size, strides=None, padding="valid"):
        h, w, c = input_shape
        kh, kw = (pool_size,) * 2 if isinstance(pool_size, int) else pool_size
        if strides is None:
            strides = (kh, kw) if strides_default == "pool" else (1, 1)
        sh, sw = (strides,) * 2 if isinstance(strides, int) else strides
        formula = valid if padding == "valid" else same
        return (formula(h, kh, sh), formula(w, kw, sw), c)

    return pool_output_shape


@pytest.mark.parametrize(
    "wrong, cause",
    [
        (shape_formula(lambda n, k, s: (n - k) // s, same_size), "'valid' needs the +1"),
        (
            shape_formula(lambda n, k, s: math.ceil((n - k) / s) + 1, same_size),
            "'valid' rounds down",
        ),
        (shape_formula(valid_size, lambda n, k, s: n // s), "'same' rounds up"),
        (
            shape_formula(valid_size, valid_size),
            "you used the 'valid' formula for padding='same'",
        ),
        (
            shape_formula(valid_size, same_size, strides_default="one"),
            "strides=None means strides = pool_size",
        ),
        (
            lambda shape, pool_size, strides=None, padding="valid": shape_formula(
                valid_size, same_size
            )(shape, pool_size, strides, padding)[:2],
            "the channels are missing",
        ),
    ],
)
def test_output_shape_check_names_the_mistake(wrong, cause):
    assert_diagnosed(check.check_pool_output_shape, wrong, cause)


def test_output_shape_check_reports_shapes_as_height_x_width_x_channels():
    with pytest.raises(CheckFailure) as failure:
        check.check_pool_output_shape(
            shape_formula(lambda n, k, s: math.ceil((n - k) / s) + 1, same_size)
        )
    assert "expected: 7x7x8" in str(failure.value) and "got:      8x8x8" in str(failure.value)


def test_output_shape_check_asks_for_whole_numbers():
    with pytest.raises(CheckFailure, match="return whole numbers"):
        check.check_pool_output_shape(
            lambda shape, pool_size, strides=None, padding="valid": (
                (shape[0] - 2) / 2 + 1,
                (shape[1] - 2) / 2 + 1,
                shape[2],
            )
        )


# -- the min-pooling layer ----------------------------------------------------------------


def min_layer(call, config=True):
    class MinPooling2D(keras.layers.Layer):
        def __init__(self, pool_size, strides=None, padding="valid", **kwargs):
            super().__init__(**kwargs)
            self.pool_size, self.strides, self.padding = pool_size, strides, padding
            self.max_pool = keras.layers.MaxPooling2D(pool_size, strides, padding)

        def call(self, inputs):
            return call(self.max_pool, inputs)

        def compute_output_shape(self, input_shape):
            return self.max_pool.compute_output_shape(input_shape)

        def get_config(self):
            extra = {"pool_size": self.pool_size, "strides": self.strides, "padding": self.padding}
            return {**super().get_config(), **(extra if config else {})}

    return MinPooling2D


@pytest.mark.parametrize(
    "layer, cause",
    [
        (min_layer(lambda pool, x: pool(x)), "you computed max pooling, not min pooling"),
        (min_layer(lambda pool, x: -pool(x)), "you negated the output but not the input"),
        (min_layer(lambda pool, x: pool(-x)), "you negated the input but not the output"),
    ],
)
def test_min_layer_check_names_the_mistake(layer, cause):
    assert_diagnosed(check.check_min_pooling_layer, layer, cause)


def test_min_layer_check_requires_a_complete_config():
    with pytest.raises(CheckFailure, match="get_config"):
        check.check_min_pooling_layer(min_layer(lambda pool, x: -pool(-x), config=False))


def test_min_layer_check_requires_a_keras_layer():
    with pytest.raises(CheckFailure, match="subclass of keras.layers.Layer"):
        check.check_min_pooling_layer(lambda pool_size, strides=None, padding="valid": None)


# -- the invariance score ----------------------------------------------------------------


def invariance(shifter, per_image=True):
    def invariance_score(images, shift, pool_size):
        return check.keras_invariance_score(
            images, shift, pool_size, shifter=shifter, per_image=per_image
        )

    return invariance_score


@pytest.mark.parametrize(
    "wrong, cause",
    [
        (invariance(lambda im, n: np.roll(im, n, axis=2)), "np.roll wraps"),
        (
            invariance(
                lambda im, n: np.roll(im, -n, axis=2) * (np.arange(im.shape[2]) < im.shape[2] - n)
            ),
            "shifted left",
        ),
        (invariance(check.shift_right, per_image=False), "per image, then the mean"),
    ],
)
def test_invariance_check_names_the_mistake(wrong, cause):
    assert_diagnosed(check.check_invariance_score, wrong, cause)


def test_invariance_check_wants_one_number():
    with pytest.raises(CheckFailure, match="a single number"):
        check.check_invariance_score(lambda images, shift, pool_size: np.ones(len(images)))


# -- the backward pass ---------------------------------------------------------------------


def test_the_reference_pool2d_backward_matches_tensorflows_gradients(pooling_reference):
    check.check_pool2d_backward(pooling_reference["pool2d_backward"], seed=None, n_random=60)


@pytest.mark.parametrize("padding", ["valid", "same"])
@pytest.mark.parametrize("mode", ["max", "avg"])
def test_the_gradient_mistakes_are_built_on_tensorflows_own_gradient(mode, padding):
    # With the right routing, the machinery that computes the mistakes gives exactly the
    # gradient TensorFlow's automatic differentiation gives: ties, overlaps and borders included.
    rng = np.random.default_rng(3)
    x = rng.integers(0, 3, size=(2, 7, 6, 2)).astype("float32")
    k, s = (3, 2), (2, 1)
    g = rng.standard_normal(exact.pool(x, k, s, padding, mode).shape)
    pads = tuple(exact.same_padding(n, kk, ss) for n, kk, ss in zip((7, 6), k, s, strict=True))
    pads = pads if padding == "same" else ((0, 0), (0, 0))
    routed = backprop._routed_gradient(x, g, k, s, pads, backprop._ROUTES[mode])
    np.testing.assert_allclose(routed, exact.pool_gradient(x, g, k, s, padding, mode), atol=1e-12)


def test_max_pooling_passes_the_gradient_to_the_first_of_tied_maxima():
    x = np.array([[1, 3], [3, 0]], "float32").reshape(1, 2, 2, 1)
    gradient = exact.pool_gradient(x, np.ones((1, 1, 1, 1)), 2, mode="max")
    assert gradient.reshape(2, 2).tolist() == [[0, 1], [0, 0]]


def _backward_variant(reference, **changes):
    def backward(x, grad_output, pool_size, strides=None, mode="max", padding="valid"):
        if changes.get("ignore_grad_output"):
            grad_output = np.ones_like(grad_output)
        return reference(x, grad_output, pool_size, strides, changes.get("mode", mode), padding)

    return backward


def test_pool2d_backward_check_names_an_ignored_grad_output(pooling_reference):
    wrong = _backward_variant(pooling_reference["pool2d_backward"], ignore_grad_output=True)
    assert_diagnosed(check.check_pool2d_backward, wrong, "grad_output was ignored")


def test_pool2d_backward_check_names_swapped_modes_whichever_mode_fails_first(pooling_reference):
    wrong = _backward_variant(pooling_reference["pool2d_backward"], mode="avg")
    assert_diagnosed(
        check.check_pool2d_backward, wrong, "gradient of avg pooling, not of max", modes=("max",)
    )


def test_pool2d_backward_check_refuses_an_answer_that_changes_grad_output(pooling_reference):
    def zeroes_grad_output(x, grad_output, *args, **kwargs):
        grad_output[...] = 0
        return pooling_reference["pool2d_backward"](x, grad_output, *args, **kwargs)

    with pytest.raises(CheckFailure, match="modified in place"):
        check.check_pool2d_backward(zeroes_grad_output)
