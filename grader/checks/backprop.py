"""Checks of the backward passes: pooling's (notebook 01) and the convolution's (notebook 02).

The oracle is TensorFlow's automatic differentiation through Keras's layers, verified
(grader.checks.oracle: ``keras_pool_gradient``, ``keras_conv2d_gradients``). A backward pass
sends each output window's gradient back to the input cells the window covers, adding up where
windows overlap; the mistakes are built from two primitives, ``window_values`` (every window of
an array, by ``tf.image.extract_patches``) and ``scatter`` (each window's values put back on the
cells it covers: TensorFlow's gradient of that same extraction), so that the bookkeeping of
which window covers which cell is TensorFlow's, not a copy of the exercises' answers.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from grader.checks.compare import (
    Answer,
    Mistake,
    assert_answers_match,
    assert_numpy_only,
    require_type,
    results_of,
)
from grader.checks.failure import CheckFailure, passed, student_check
from grader.checks.keras_arguments import explicit_padding as _explicit
from grader.checks.keras_arguments import pair as _pair
from grader.checks.oracle import (
    independent,
    keras_conv2d_gradients,
    keras_output_size,
    keras_pool,
    keras_pool_gradient,
    keras_same_padding,
)

# -- sliding windows, gathered and scattered back by TensorFlow -------------------------------


def _extract(values, k: tuple[int, int], s: tuple[int, int]):
    import tensorflow as tf

    return tf.image.extract_patches(values, [1, *k, 1], [1, *s, 1], [1, 1, 1, 1], "VALID")


def window_values(padded: np.ndarray, k: tuple[int, int], s: tuple[int, int]) -> np.ndarray:
    """Every k-window of ``padded`` (batch, height, width, channels) with stride s, NaN kept:
    shape (batch, out_h, out_w, kh, kw, channels)."""
    import tensorflow as tf

    patches = _extract(tf.constant(np.asarray(padded, np.float64)), k, s).numpy()
    return patches.reshape(*patches.shape[:3], *k, padded.shape[3])


def scatter(
    weights: np.ndarray,
    shape: tuple[int, ...],
    k: tuple[int, int],
    s: tuple[int, int],
    *,
    overwrite: bool = False,
) -> np.ndarray:
    """An array of ``shape`` holding each window's ``weights`` (batch, out_h, out_w, kh, kw,
    channels) on the cells the window covers: summed where windows overlap, or, with
    ``overwrite``, each window in turn (row by row) overwriting the cells its nonzero weights
    reach, as a loop that assigns instead of adding would."""
    import tensorflow as tf

    source = tf.zeros(shape, tf.float64)
    with tf.GradientTape(persistent=overwrite) as tape:
        tape.watch(source)
        patches = _extract(source, k, s)

    def scattered(window_weights: np.ndarray) -> np.ndarray:
        upstream = tf.constant(window_weights.reshape(patches.shape))
        return tape.gradient(patches, source, output_gradients=upstream).numpy()

    weights = np.asarray(weights, np.float64)
    if not overwrite:
        return scattered(weights)
    result = np.zeros(shape)
    for i in range(weights.shape[1]):
        for j in range(weights.shape[2]):
            alone = np.zeros_like(weights)
            alone[:, i, j] = weights[:, i, j]
            reached = scattered((alone != 0).astype(np.float64)) > 0
            result = np.where(reached, scattered(alone), result)
    return result


# -- pool2d_backward ----------------------------------------------------------------


def _routed_gradient(x, grad_output, k, s, pads, route, *, scale=True, overwrite=False):
    """A pooling gradient built from a routing rule, for the mistakes below: each window's
    weights are ``route(window values)`` (padded cells are NaN), times the window's
    grad_output when ``scale``, put back on the cells (``scatter``: summed where
    windows overlap, or overwriting with ``overwrite``)."""
    (top, bottom), (left, right) = pads
    widths = ((0, 0), (top, bottom), (left, right), (0, 0))
    padded = np.pad(np.asarray(x, np.float64), widths, constant_values=np.nan)
    values = window_values(padded, k, s)
    batch, out_h, out_w = values.shape[:3]
    weights = route(values.reshape(batch, out_h, out_w, k[0] * k[1], x.shape[3]))
    if scale:
        weights = weights * np.asarray(grad_output, np.float64)[:, :, :, None, :]
    gradient = scatter(weights.reshape(values.shape), padded.shape, k, s, overwrite=overwrite)
    return gradient[:, top : top + x.shape[1], left : left + x.shape[2], :]


def _first_largest(windows):
    """One-hot of each window's first largest cell (padded cells never win)."""
    flat = np.where(np.isnan(windows), -np.inf, windows)
    return np.moveaxis(np.eye(windows.shape[3])[flat.argmax(axis=3)], -1, 3)


def _real_cells(windows):
    return np.isfinite(windows).astype(np.float64)


_ROUTES = {
    "max": _first_largest,
    "avg": lambda w: _real_cells(w) / _real_cells(w).sum(axis=3, keepdims=True),
}


@dataclass(frozen=True)
class BackwardCase:
    shape: tuple[int, int, int, int]
    pool_size: int | tuple[int, int]
    strides: int | tuple[int, int] | None
    padding: str
    mode: str
    ties: bool = False  # inputs with repeated values, so that windows have tied maxima

    def describe(self, grad_shape: tuple[int, ...]) -> str:
        return (
            f"pool2d_backward(x of shape {self.shape}{' with tied values' if self.ties else ''}, "
            f"grad_output of shape {grad_shape}, pool_size={self.pool_size}, strides={self.strides}, "
            f"mode='{self.mode}', padding='{self.padding}')"
        )

    def make_inputs(self, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        if self.ties:
            x = rng.integers(0, 3, size=self.shape).astype(np.float32)
        else:
            x = rng.standard_normal(self.shape).astype(np.float32)
        if self.padding == "same" and self.mode == "max":
            x = -(np.abs(x) + 0.5)  # all negative: a zero-filled border would win the max
        out_shape = keras_pool(x, self.pool_size, self.strides, self.padding, self.mode).shape
        return x, rng.standard_normal(out_shape).astype(np.float32)

    def expected(self, x, grad_output) -> np.ndarray:
        return keras_pool_gradient(
            x, grad_output, self.pool_size, self.strides, self.padding, self.mode
        )

    def mistakes(self, x: np.ndarray, grad_output: np.ndarray) -> list[Mistake]:
        k2 = _pair(self.pool_size)
        s2 = _pair(self.strides if self.strides is not None else self.pool_size)
        pads = (
            tuple(
                independent.same_padding(n, kk, ss)
                for n, kk, ss in zip(x.shape[1:3], k2, s2, strict=True)
            )
            if self.padding == "same"
            else ((0, 0), (0, 0))
        )

        def routed(route, pads=pads, **options):
            return lambda: _routed_gradient(x, grad_output, k2, s2, pads, route, **options)

        other = "avg" if self.mode == "max" else "max"
        found: list[Mistake] = [
            (
                f"you computed the gradient of {other} pooling, not of {self.mode} pooling",
                routed(_ROUTES[other]),
                "modes swapped",
            ),
            (
                "grad_output was ignored: each window must pass on its own gradient "
                "(grad_output at its position), not 1",
                routed(_ROUTES[self.mode], scale=False),
            ),
        ]
        if self.mode == "max":
            found.append(
                (
                    "the gradient went to every cell of the window: max pooling passes each "
                    "window's gradient to the one cell that won the max, and 0 to the others",
                    routed(_real_cells),
                )
            )
            if self.ties:
                found.append(
                    (
                        "the gradient went to every tied maximum: TensorFlow passes it to the first "
                        "largest cell only, reading the window row by row (np.argmax of the "
                        "flattened window)",
                        routed(lambda w: (w == np.nanmax(w, axis=3, keepdims=True)).astype(float)),
                    )
                )
        else:
            found.append(
                (
                    "each cell received the window's whole gradient: average pooling divides it "
                    "equally, grad / n to each of the window's n cells",
                    routed(_real_cells),
                )
            )
        if any(kk > ss for kk, ss in zip(k2, s2, strict=True)):
            found.append(
                (
                    "where windows overlap, a later window overwrote the gradient an earlier one "
                    "gave a shared cell: the shares must add up (+=, or np.add.at)",
                    routed(_ROUTES[self.mode], overwrite=True),
                )
            )
        if self.padding == "same":
            if self.mode == "avg":
                found.append(
                    (
                        "a border window's gradient was divided by the full window size: Keras "
                        "averages only the real cells, so each gets grad / (number of real cells)",
                        routed(lambda w: _real_cells(w) / (k2[0] * k2[1])),
                    )
                )
            else:
                found.append(
                    (
                        "'same' padding was filled with zeros: a padded cell won the max and the "
                        "window's gradient was lost with it; padded cells must never win",
                        routed(lambda w: _first_largest(np.nan_to_num(w))),
                    )
                )
            if any(before != after for before, after in pads):
                swapped = tuple((after, before) for before, after in pads)
                found.append(
                    (
                        "the odd padding row/column went to the top/left; TensorFlow puts it at "
                        "the bottom/right, so every window sits one cell further up/left",
                        routed(_ROUTES[self.mode], pads=swapped),
                    )
                )
        return found


# Settings that each expose a classic mistake: textbook 2x2, non-square overlapping windows
# with batch and channels, AlexNet's 3x3/2, ties (non-overlapping and overlapping), and 'same'
# borders with an odd padding total.
_BACKWARD_TEMPLATES = (
    ((1, 4, 4, 1), 2, None, "valid", False),
    ((2, 7, 6, 3), (3, 2), (2, 1), "valid", False),
    ((1, 7, 7, 2), 3, 2, "valid", False),
    ((2, 6, 6, 2), 2, 2, "valid", True),
    ((1, 6, 6, 1), 3, 1, "valid", True),
    ((1, 5, 7, 2), 3, 2, "same", False),
    ((2, 6, 5, 1), (2, 3), 1, "same", False),
)


def _backward_cases(rng, n_random, modes, paddings) -> list[BackwardCase]:
    cases = [
        BackwardCase(shape, k, s, p, m, ties and m == "max")
        for m in modes
        for shape, k, s, p, ties in _BACKWARD_TEMPLATES
        if p in paddings
    ]
    for _ in range(n_random):
        h, w = (int(v) for v in rng.integers(4, 11, size=2))
        k = (int(rng.integers(1, min(h, 4) + 1)), int(rng.integers(1, min(w, 4) + 1)))
        s = None if rng.random() < 0.2 else tuple(int(v) for v in rng.integers(1, 4, size=2))
        shape = (int(rng.integers(1, 4)), h, w, int(rng.integers(1, 4)))
        mode = str(rng.choice(modes))
        ties = mode == "max" and rng.random() < 0.3
        cases.append(BackwardCase(shape, k, s, str(rng.choice(paddings)), mode, ties))
    return cases


@student_check
def check_pool2d_backward(
    pool2d_backward: Callable,
    *,
    modes=("max", "avg"),
    paddings=("valid", "same"),
    seed: int | None = 0,
    n_random: int = 0,
) -> None:
    """``pool2d_backward(x, grad_output, pool_size, strides, mode, padding)`` must equal the
    gradient TensorFlow's automatic differentiation gives for Keras's pooling layer."""
    assert_numpy_only(pool2d_backward, "pool2d_backward")
    rng = np.random.default_rng(seed)
    cases = _backward_cases(rng, n_random, modes, paddings)
    inputs = [case.make_inputs(rng) for case in cases]
    originals = [(x.copy(), g.copy()) for x, g in inputs]
    calls = [
        (
            (x, g),
            {"pool_size": c.pool_size, "strides": c.strides, "mode": c.mode, "padding": c.padding},
        )
        for c, (x, g) in zip(cases, inputs, strict=True)
    ]
    answers = []
    for case, (x, g), (x0, g0), got in zip(
        cases, inputs, originals, results_of(pool2d_backward, calls), strict=True
    ):
        what = case.describe(g.shape)
        if not (np.array_equal(x, x0) and np.array_equal(g, g0)):
            raise CheckFailure(
                what,
                "x and grad_output left unchanged",
                "an input was modified in place",
                "build the gradient in a new array (np.zeros_like(x, dtype=float)) and leave the inputs alone",
            )
        require_type(what, got, np.ndarray, "a NumPy array (np.ndarray) of x's shape")
        answers.append(
            Answer(what, got, case.expected(x, g), functools.partial(case.mistakes, x, g))
        )
    assert_answers_match(answers)
    passed(
        f"pool2d_backward matches TensorFlow's gradients on {len(cases)} cases "
        f"(modes {', '.join(modes)}; padding {', '.join(paddings)})"
    )


# -- conv2d_backward ----------------------------------------------------------------


@dataclass(frozen=True)
class ConvBackwardCase:
    x_shape: tuple[int, int, int, int]
    kernel_size: tuple[int, int]
    filters: int
    strides: int | tuple[int, int]
    padding: str | int

    def describe(self, grad_shape: tuple[int, ...]) -> str:
        padding = f"'{self.padding}'" if isinstance(self.padding, str) else self.padding
        kernel = (*self.kernel_size, self.x_shape[-1], self.filters)
        return (
            f"conv2d_backward(x of shape {self.x_shape}, kernel of shape {kernel}, grad_output of "
            f"shape {grad_shape}, strides={self.strides}, padding={padding})"
        )

    def pads(self, x) -> tuple[tuple[int, int], tuple[int, int]]:
        if self.padding == "same":
            return tuple(
                keras_same_padding(n, k, s)
                for n, k, s in zip(x.shape[1:3], self.kernel_size, _pair(self.strides), strict=True)
            )
        return _explicit(0 if self.padding == "valid" else self.padding)

    def input_gradient(self, x, kernel, grad_output, *, pads=None, overwrite=False, crop=True):
        """What a backward pass that sends each window's gradient back through ``kernel``
        returns, built by TensorFlow's ``scatter``, for the mistakes."""
        (top, bottom), (left, right) = pads or self.pads(x)
        padded_shape = (
            x.shape[0],
            x.shape[1] + top + bottom,
            x.shape[2] + left + right,
            x.shape[3],
        )
        weights = np.einsum("bhwf,ijcf->bhwijc", np.asarray(grad_output, np.float64), kernel)
        gradient = scatter(
            weights, padded_shape, tuple(kernel.shape[:2]), _pair(self.strides), overwrite=overwrite
        )
        return gradient[:, top : top + x.shape[1], left : left + x.shape[2]] if crop else gradient

    def input_mistakes(self, x, kernel, grad_output) -> list[Mistake]:
        found: list[Mistake] = [
            (
                "the input gradient used the kernel turned by 180 degrees: each window sends its "
                "gradient back to its cell at row i, column j through kernel[i, j], the weight that "
                "cell met on the way forward (written as a 'full' convolution of grad_output, that "
                "is the flipped kernel: flip it once, not twice)",
                lambda: self.input_gradient(x, kernel[::-1, ::-1], grad_output),
            )
        ]
        if any(k > s for k, s in zip(self.kernel_size, _pair(self.strides), strict=True)):
            found.append(
                (
                    "where windows overlap, a later window overwrote the gradient an earlier one "
                    "gave a shared cell: the shares must add up (+=, or np.add.at)",
                    lambda: self.input_gradient(x, kernel, grad_output, overwrite=True),
                )
            )
        pads = self.pads(x)
        if any(before or after for before, after in pads):
            found.append(
                (
                    "the gradient of the padded input was returned: crop the padding off, so that "
                    "the input's gradient has x's shape",
                    lambda: self.input_gradient(x, kernel, grad_output, crop=False),
                )
            )
        if any(before != after for before, after in pads):
            swapped = tuple((after, before) for before, after in pads)
            found.append(
                (
                    "the odd padding row/column went to the top/left; TensorFlow puts it at "
                    "the bottom/right, so every window sits one cell further up/left",
                    lambda: self.input_gradient(x, kernel, grad_output, pads=swapped),
                )
            )
        return found

    def kernel_mistakes(self, expected: np.ndarray, grad_output) -> list[Mistake]:
        batch, out_h, out_w = np.shape(grad_output)[:3]
        found: list[Mistake] = []
        if batch > 1:
            found.append(
                (
                    "the kernel's gradient was averaged over the batch: the loss adds up the "
                    "images, so add up each image's contribution",
                    lambda: expected / batch,
                )
            )
        if out_h * out_w > 1:
            found.append(
                (
                    "the kernel's gradient was averaged over the output positions: a shared weight's "
                    "gradient is the sum of its gradients at every position it was used",
                    lambda: expected / (out_h * out_w),
                )
            )
        return found


_CONV_BACKWARD_TEMPLATES = (
    ((1, 5, 5, 1), (3, 3), 1, 1, "valid"),
    ((2, 7, 6, 3), (3, 2), 4, (2, 1), "valid"),
    ((2, 6, 8, 2), (2, 2), 3, 2, "valid"),
    ((1, 6, 7, 2), (3, 4), 2, 2, "same"),
    ((2, 5, 6, 1), (3, 3), 2, 1, 1),
)


@student_check
def check_conv2d_backward(
    conv2d_backward: Callable, *, seed: int | None = 0, n_random: int = 0
) -> None:
    """``conv2d_backward(x, kernel, grad_output, strides, padding)`` must return the three
    gradients TensorFlow's automatic differentiation gives for Keras's Conv2D."""
    assert_numpy_only(conv2d_backward, "conv2d_backward")
    rng = np.random.default_rng(seed)
    cases = [ConvBackwardCase(*template) for template in _CONV_BACKWARD_TEMPLATES]
    for _ in range(n_random):
        h, w = (int(v) for v in rng.integers(3, 10, 2))
        k = (int(rng.integers(1, min(h, 4) + 1)), int(rng.integers(1, min(w, 4) + 1)))
        s = (int(rng.integers(1, 4)), int(rng.integers(1, 4)))
        shape = (int(rng.integers(1, 3)), h, w, int(rng.integers(1, 4)))
        padding = ("valid", "same", int(rng.integers(1, 3)))[int(rng.integers(3))]
        cases.append(ConvBackwardCase(shape, k, int(rng.integers(1, 4)), s, padding))
    arrays = []
    for case in cases:
        x = rng.standard_normal(case.x_shape).astype("float32")
        kernel = rng.standard_normal((*case.kernel_size, case.x_shape[-1], case.filters))
        kernel = kernel.astype("float32")
        sizes = zip(case.x_shape[1:3], case.kernel_size, _pair(case.strides), strict=True)
        out_rows, out_cols = (keras_output_size(n, k, s, case.padding) for n, k, s in sizes)
        out_shape = (case.x_shape[0], out_rows, out_cols, case.filters)
        arrays.append((x, kernel, rng.standard_normal(out_shape).astype("float32")))
    calls = [
        ((x.copy(), kernel.copy(), g.copy()), {"strides": c.strides, "padding": c.padding})
        for c, (x, kernel, g) in zip(cases, arrays, strict=True)
    ]
    answers = []
    for case, (x, kernel, g), got in zip(
        cases, arrays, results_of(conv2d_backward, calls), strict=True
    ):
        what = case.describe(g.shape)
        if not isinstance(got, tuple | list) or len(got) != 3:
            raise CheckFailure(
                what,
                "a tuple of three arrays: (grad_x, grad_kernel, grad_bias)",
                f"{type(got).__name__}"
                + (f" of {len(got)} items" if isinstance(got, tuple | list) else ""),
                "return the three gradients together, in that order: return grad_x, grad_kernel, grad_bias",
            )
        expected = keras_conv2d_gradients(x, kernel, g, case.strides, case.padding)
        for part, got_part, expected_part, mistakes in zip(
            ("grad_x", "grad_kernel", "grad_bias"),
            got,
            expected,
            (
                functools.partial(case.input_mistakes, x, kernel, g),
                functools.partial(case.kernel_mistakes, expected[1], g),
                lambda g=g: [
                    (
                        "the bias gradient was averaged: it is grad_output summed over the batch and "
                        "every position, one number per filter",
                        lambda: g.mean(axis=(0, 1, 2)),
                    )
                ],
            ),
            strict=True,
        ):
            answers.append(Answer(f"{what}: {part}", got_part, expected_part, mistakes))
    assert_answers_match(answers, atol=1e-4, rtol=1e-4)
    passed(
        f"conv2d_backward matches TensorFlow's gradients (input, kernel and bias) on {len(cases)} cases"
    )
