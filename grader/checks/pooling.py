"""Checks for notebook 01 (pooling). The oracle is Keras, verified (grader.checks.oracle):
``MaxPooling2D``, ``AveragePooling2D``, ``-MaxPooling2D(-x)`` for min pooling, and
``compute_output_shape``.

Every check takes ``seed``: the visible tests use a fixed seed, so a student sees the same
cases each run; the hidden tests pass ``seed=None`` and ``n_random``, drawing fresh inputs
and settings at grading time, so no table of answers could pass them.
"""

from __future__ import annotations

import contextlib
import functools
import math
from collections.abc import Callable
from dataclasses import dataclass

import keras
import numpy as np

from grader.checks.backprop import check_pool2d_backward as check_pool2d_backward
from grader.checks.compare import (
    Answer,
    Mistake,
    as_array,
    assert_answers_match,
    assert_matches,
    assert_numpy_only,
    layer_results,
    likely_mistake,
    output_layout_mistakes,
    require_type,
    results_of,
)
from grader.checks.failure import CheckFailure, passed, student_check
from grader.checks.keras_arguments import pair as _pair
from grader.checks.oracle import (
    independent,
    keras_invariance_score,
    keras_pool,
    shift_right,
    verified,
)

MODES = ("max", "avg", "min")
PADDINGS = ("valid", "same")


def _pool_padded(x, pool_size, strides, pads, mode, fill) -> np.ndarray:
    """'valid' pooling of x padded by ``pads``, computed independently of Keras (for the
    mistakes below).

    fill="zero" counts padded cells as 0; fill="ignore" leaves them out (what 'same' does):
    -inf never wins a max nor +inf a min, a mean counts only real cells, and a window wholly
    in the padding has no value (NaN).
    """
    widths = ((0, 0), *pads, (0, 0))
    x = np.asarray(x, np.float64)

    def pooled(values, how, constant=0.0):
        padded = np.pad(values, widths, constant_values=constant)
        return independent.pool(padded, pool_size, strides, "valid", how)

    if fill == "zero":
        return pooled(x, mode)
    with np.errstate(invalid="ignore", divide="ignore"):
        if mode == "avg":
            return pooled(x, "avg") / pooled(np.ones_like(x), "avg")
        result = pooled(x, mode, -np.inf if mode == "max" else np.inf)
        return np.where(np.isinf(result), np.nan, result)


# -- pool2d -------------------------------------------------------------------------


@dataclass(frozen=True)
class PoolCase:
    shape: tuple[int, int, int, int]
    pool_size: int | tuple[int, int]
    strides: int | tuple[int, int] | None
    padding: str
    mode: str

    def describe(self) -> str:
        return (
            f"pool2d(x of shape {self.shape}, pool_size={self.pool_size}, strides={self.strides}, "
            f"padding='{self.padding}', mode='{self.mode}')"
        )

    def make_input(self, rng: np.random.Generator) -> np.ndarray:
        x = rng.standard_normal(self.shape).astype(np.float32)
        # Where padding can leak in, use inputs whose sign exposes a zero-filled border:
        # all negative for max pooling, all positive for min pooling.
        if self.padding == "same" and self.mode == "max":
            return -(np.abs(x) + 0.5)
        if self.padding == "same" and self.mode == "min":
            return np.abs(x) + 0.5
        return x

    def _pads(self, x: np.ndarray) -> tuple[tuple[int, int], tuple[int, int]]:
        k2 = _pair(self.pool_size)
        s2 = _pair(self.strides if self.strides is not None else self.pool_size)
        return tuple(
            independent.same_padding(n, kk, ss)
            for n, kk, ss in zip(x.shape[1:3], k2, s2, strict=True)
        )

    def mistakes(self, x: np.ndarray) -> list[Mistake]:
        k, p, mode = self.pool_size, self.padding, self.mode
        s = self.strides
        k2, s2 = _pair(k), _pair(s if s is not None else k)
        found: list[Mistake] = []
        for other in MODES:
            if other != mode:
                found.append(
                    (
                        f"you computed {other} pooling, not {mode} pooling",
                        lambda o=other: keras_pool(x, k, s, p, o),
                    )
                )
        if mode == "min":
            found.append(
                (
                    "min(x) = -max(-x): you negated the output but not the input",
                    lambda: -keras_pool(x, k, s, p, "max"),
                )
            )
            found.append(
                (
                    "min(x) = -max(-x): you negated the input but not the output",
                    lambda: keras_pool(-x, k, s, p, "max"),
                )
            )
        if s2 != (1, 1):
            label = (
                "strides=None must default to the pool size (Keras's convention), not to 1"
                if s is None
                else f"the stride was ignored: the window moved 1 pixel at a time instead of {s2}"
            )
            found.append((label, lambda: keras_pool(x, k, (1, 1), p, mode), "stride 1"))
        if s is not None and s2 != k2:
            found.append(
                (
                    f"the strides were ignored: the window moved by the pool size {k2}, not by {s2}",
                    lambda: keras_pool(x, k, None, p, mode),
                )
            )
        if k2[0] != k2[1] or s2[0] != s2[1]:
            found.append(
                (
                    "rows and columns swapped: pool_size[0] and strides[0] are along the height",
                    lambda: keras_pool(x, k2[::-1], s2[::-1], p, mode),
                )
            )
        if k2[0] != k2[1] and s2[0] != s2[1]:
            found.append(
                (
                    "pool_size read as (width, height): pool_size[0] is the window's height",
                    lambda: keras_pool(x, k2[::-1], s2, p, mode),
                )
            )
            found.append(
                (
                    "strides read as (width, height): strides[0] is the step down the rows",
                    lambda: keras_pool(x, k2, s2[::-1], p, mode),
                )
            )
        if mode == "avg":
            no_pads = ((0, 0), (0, 0))
            found.append(
                (
                    "the window was summed, not averaged: divide by the number of cells in it",
                    lambda: (
                        _pool_padded(
                            x, k2, s2, self._pads(x) if p == "same" else no_pads, mode, "zero"
                        )
                        * (k2[0] * k2[1])
                    ),
                )
            )
        found += _layout_mistakes(x, lambda: keras_pool(x, k, s, p, mode), mode)
        if p == "valid":
            found.append(
                (
                    "you padded as for 'same'; 'valid' uses only complete windows",
                    lambda: keras_pool(x, k, s, "same", mode),
                )
            )
            hanging = tuple(
                (0, max((math.ceil((n - kk) / ss)) * ss + kk - n, 0))
                for n, kk, ss in zip(x.shape[1:3], k2, s2, strict=True)
            )
            if any(after for _, after in hanging):
                found.append(
                    (
                        "'valid' rounds down: floor((n - k) / s) + 1 windows; with ceil the last "
                        "window hangs over the border",
                        lambda: _pool_padded(x, k2, s2, hanging, mode, "ignore"),
                    )
                )
            return found
        found.append(
            (
                "padding='same' was ignored: this is 'valid' pooling, which drops the border",
                lambda: keras_pool(x, k, s, "valid", mode),
            )
        )
        pads = self._pads(x)
        zero_fill = {
            "max": "'same' padding was filled with zeros: max pooling must ignore padded cells "
            "(TensorFlow pads with -inf), so a border window of negative values keeps its largest value, not 0",
            "min": "'same' padding was filled with zeros: min pooling must ignore padded cells, "
            "so a border window of positive values keeps its smallest value, not 0",
            "avg": "padded zeros were counted in the mean: Keras averages only the real cells "
            "of a border window",
        }[mode]
        found.append((zero_fill, lambda: _pool_padded(x, k2, s2, pads, mode, "zero")))
        if any((before + after) % 2 for before, after in pads):
            for rounding, half in (("down", lambda t: t // 2), ("up", lambda t: (t + 1) // 2)):
                even = tuple((half(b + a), half(b + a)) for b, a in pads)
                found.append(
                    (
                        "the 'same' padding was split evenly (an odd total rounded "
                        f"{rounding} on both sides): TensorFlow pads (ceil(n / s) - 1) * s + k - n "
                        "in all and puts the odd row/column at the bottom/right",
                        lambda even=even: _pool_padded(x, k2, s2, even, mode, "ignore"),
                        f"even split {rounding}",
                    )
                )
        if any(before != after for before, after in pads):
            swapped = tuple((after, before) for before, after in pads)
            found.append(
                (
                    "the odd padding row/column went to the top/left; TensorFlow puts it at the bottom/right",
                    lambda: _pool_padded(x, k2, s2, swapped, mode, "ignore"),
                )
            )
        return found


def _layout_mistakes(x: np.ndarray, expected: Callable[[], np.ndarray], mode: str) -> list[Mistake]:
    """Mistakes in how the output array is laid out or filled, and in what a window spans."""
    reduce = {"max": np.max, "min": np.min, "avg": np.mean}.get(mode, np.mean)
    found = output_layout_mistakes(expected)
    if x.shape[3] > 1:
        found.append(
            (
                "each window was reduced over the channels too: pool every channel on its own "
                "(reduce over the window's rows and columns, axes 1 and 2, only)",
                lambda: np.broadcast_to(
                    reduce(expected(), axis=3, keepdims=True), expected().shape
                ),
            )
        )
    if x.shape[0] > 1:
        found.append(
            (
                "each window was reduced over the batch too: pool every image on its own",
                lambda: np.broadcast_to(
                    reduce(expected(), axis=0, keepdims=True), expected().shape
                ),
            )
        )
    return found


# Settings that each expose a classic mistake: textbook 2x2, non-square windows with
# batch and channels, overlapping windows, the strides=None default, an uneven 'same'
# padding split, and plain int arguments.
_TEMPLATES = (
    ((1, 4, 4, 1), (2, 2), (2, 2)),
    ((2, 7, 9, 3), (3, 2), (2, 3)),
    ((1, 6, 6, 2), (3, 3), (1, 1)),
    ((1, 5, 5, 1), (2, 2), None),
    ((1, 6, 6, 1), (4, 4), (1, 1)),
    ((1, 5, 7, 2), 3, 2),
)


def _fixed_cases(modes, paddings) -> list[PoolCase]:
    return [
        PoolCase(shape, k, s, p, m) for m in modes for p in paddings for shape, k, s in _TEMPLATES
    ]


def _random_cases(rng: np.random.Generator, n: int, modes, paddings) -> list[PoolCase]:
    cases = []
    for _ in range(n):
        h, w = (int(v) for v in rng.integers(4, 13, size=2))
        k = (int(rng.integers(1, min(h, 4) + 1)), int(rng.integers(1, min(w, 4) + 1)))
        s = None if rng.random() < 0.2 else tuple(int(v) for v in rng.integers(1, 4, size=2))
        shape = (int(rng.integers(1, 4)), h, w, int(rng.integers(1, 4)))
        cases.append(PoolCase(shape, k, s, str(rng.choice(paddings)), str(rng.choice(modes))))
    return cases


@student_check
def check_pool2d(
    pool2d: Callable,
    *,
    modes=("max", "avg"),
    paddings=("valid",),
    seed: int | None = 0,
    n_random: int = 0,
) -> None:
    """``pool2d(x, pool_size, strides, mode, padding)`` must equal Keras on every case."""
    assert_numpy_only(pool2d, "pool2d")
    rng = np.random.default_rng(seed)
    cases = _fixed_cases(modes, paddings) + _random_cases(rng, n_random, modes, paddings)
    inputs = [case.make_input(rng) for case in cases]
    originals = [x.copy() for x in inputs]
    calls = [
        (
            (x,),
            {"pool_size": c.pool_size, "strides": c.strides, "mode": c.mode, "padding": c.padding},
        )
        for c, x in zip(cases, inputs, strict=True)
    ]
    answers = []
    for case, x, original, got in zip(
        cases, inputs, originals, results_of(pool2d, calls), strict=True
    ):
        if not np.array_equal(x, original):
            raise CheckFailure(
                case.describe(),
                "x left unchanged",
                "x was modified in place",
                "copy the input (e.g. np.pad returns a new array) before writing into it",
            )
        require_type(case.describe(), got, np.ndarray, "a NumPy array (np.ndarray)")
        expected = keras_pool(x, case.pool_size, case.strides, case.padding, case.mode)
        answers.append(Answer(case.describe(), got, expected, functools.partial(case.mistakes, x)))
    assert_answers_match(answers)
    passed(
        f"pool2d matches Keras on {len(cases)} cases (modes {', '.join(modes)}; padding {', '.join(paddings)})"
    )


# -- output shapes ------------------------------------------------------------------


@dataclass(frozen=True)
class ShapeCase:
    input_shape: tuple[int, int, int]
    pool_size: int | tuple[int, int]
    strides: int | tuple[int, int] | None
    padding: str

    def describe(self) -> str:
        return (
            f"pool_output_shape({self.input_shape}, pool_size={self.pool_size}, "
            f"strides={self.strides}, padding='{self.padding}')"
        )

    def keras_shape(self, pool_size=None, strides="unchanged", padding=None) -> tuple[int, ...]:
        pool_size = pool_size or self.pool_size
        strides = self.strides if strides == "unchanged" else strides
        padding = padding or self.padding
        layer = keras.layers.MaxPooling2D(pool_size=pool_size, strides=strides, padding=padding)
        computed = layer.compute_output_shape((None, *self.input_shape))[1:]
        k, s = _pair(pool_size), _pair(strides if strides is not None else pool_size)
        h, w, c = self.input_shape
        exact = (
            independent.output_size(h, k[0], s[0], padding),
            independent.output_size(w, k[1], s[1], padding),
            c,
        )
        shape = verified("compute_output_shape", computed, exact, self.describe(), atol=0, rtol=0)
        return tuple(int(d) for d in shape)

    def _per_axis(self, formula) -> tuple[int, ...]:
        k = _pair(self.pool_size)
        s = _pair(self.strides if self.strides is not None else self.pool_size)
        h, w, c = self.input_shape
        return (formula(h, k[0], s[0]), formula(w, k[1], s[1]), c)

    def mistakes(self) -> list[tuple[str, Callable[[], tuple[int, ...]]]]:
        other = "same" if self.padding == "valid" else "valid"
        k2 = _pair(self.pool_size)
        s2 = _pair(self.strides if self.strides is not None else self.pool_size)
        found = [
            (
                f"you used the '{other}' formula for padding='{self.padding}'",
                lambda: self.keras_shape(padding=other),
            ),
            (
                "the channels are missing: return (height, width, channels)",
                lambda: self.keras_shape()[:2],
            ),
        ]
        if s2 != (1, 1):
            found.append(
                (
                    "strides=None means strides = pool_size (Keras's convention), not 1"
                    if self.strides is None
                    else "the stride was ignored",
                    lambda: self.keras_shape(strides=(1, 1)),
                )
            )
        if self.padding == "valid":
            found += [
                (
                    "'valid' needs the +1: floor((n - k) / s) + 1 counts the first window too",
                    lambda: self._per_axis(lambda n, k, s: (n - k) // s),
                ),
                (
                    "'valid' rounds down: an incomplete window at the border is dropped, so use floor, not ceil",
                    lambda: self._per_axis(lambda n, k, s: math.ceil((n - k) / s) + 1),
                ),
            ]
        else:
            found.append(
                (
                    "'same' rounds up: ceil(n / s), so a partial window at the border still counts",
                    lambda: self._per_axis(lambda n, k, s: n // s),
                )
            )
        if k2[::-1] != k2 or s2[::-1] != s2:
            found.append(
                (
                    "rows and columns swapped: pool_size[0] and strides[0] are along the height",
                    lambda: self.keras_shape(pool_size=k2[::-1], strides=s2[::-1]),
                )
            )
        return found


def _shape_text(shape: tuple[int, ...]) -> str:
    return "x".join(str(d) for d in shape)


_SHAPE_CASES = (
    ShapeCase((28, 28, 6), 2, None, "valid"),  # LeNet's subsampling: 28 -> 14
    ShapeCase((55, 55, 96), 3, 2, "valid"),  # AlexNet's overlapping pool: 55 -> 27
    ShapeCase((13, 13, 256), 3, 2, "valid"),  # AlexNet's last pool: 13 -> 6
    ShapeCase((7, 7, 3), 2, None, "same"),  # odd size, 'same' rounds up: 7 -> 4
    ShapeCase((32, 30, 3), (3, 2), (2, 1), "same"),
    ShapeCase((5, 9, 1), (2, 3), (3, 2), "valid"),
    ShapeCase((15, 15, 8), 2, 2, "valid"),  # odd size, 'valid' drops the border: 15 -> 7
)


@student_check
def check_pool_output_shape(
    pool_output_shape: Callable, *, seed: int | None = 0, n_random: int = 0
) -> None:
    """``pool_output_shape(input_shape, pool_size, strides, padding)`` must equal Keras's
    ``MaxPooling2D.compute_output_shape`` (without the batch axis)."""
    rng = np.random.default_rng(seed)
    cases = list(_SHAPE_CASES)
    for _ in range(n_random):
        h, w = (int(v) for v in rng.integers(3, 80, size=2))
        k = (int(rng.integers(1, min(h, 5) + 1)), int(rng.integers(1, min(w, 5) + 1)))
        s = None if rng.random() < 0.2 else (int(rng.integers(1, 4)), int(rng.integers(1, 4)))
        cases.append(ShapeCase((h, w, int(rng.integers(1, 65))), k, s, str(rng.choice(PADDINGS))))
    calls = [
        ((c.input_shape,), {"pool_size": c.pool_size, "strides": c.strides, "padding": c.padding})
        for c in cases
    ]
    answers = []
    for case, got in zip(cases, results_of(pool_output_shape, calls), strict=True):
        expected = case.keras_shape()
        if not isinstance(got, tuple):
            raise CheckFailure(
                case.describe(),
                f"a tuple of ints like {expected}",
                f"{type(got).__name__}: {got!r}",
                "return a tuple, e.g. (height, width, channels), as Keras's shapes are",
            )
        if not all(isinstance(d, int | np.integer) and not isinstance(d, bool) for d in got):
            raise CheckFailure(
                case.describe(),
                f"a tuple of ints like {expected}",
                repr(got),
                "return whole numbers: use // or math.floor/ceil, not /",
            )
        answers.append((case, tuple(int(d) for d in got)))
    for case, got in answers:
        expected = case.keras_shape()
        if got != expected:
            raise CheckFailure(
                case.describe(),
                _shape_text(expected),
                _shape_text(got),
                likely_mistake(case, got, answers, ShapeCase.mistakes),
            )
    passed(f"pool_output_shape matches Keras's compute_output_shape on {len(cases)} cases")


# -- the min-pooling layer ----------------------------------------------------------


@student_check
def check_min_pooling_layer(layer_class: type, *, seed: int | None = 0, n_random: int = 0) -> None:
    """A Keras layer ``layer_class(pool_size, strides=None, padding='valid')`` computing min
    pooling; compared with -MaxPooling2D(-x), used in a model, and saved/restored."""
    if not (isinstance(layer_class, type) and issubclass(layer_class, keras.layers.Layer)):
        raise CheckFailure("MinPooling2D", "a subclass of keras.layers.Layer", repr(layer_class))
    rng = np.random.default_rng(seed)
    cases = [PoolCase(shape, k, s, p, "min") for p in PADDINGS for shape, k, s in _TEMPLATES]
    cases += _random_cases(rng, n_random, ("min",), PADDINGS)
    # mixed signs: both negations matter
    inputs = [rng.standard_normal(case.shape).astype(np.float32) for case in cases]
    calls = [
        (_layer_settings(case), "__call__", (x,)) for case, x in zip(cases, inputs, strict=True)
    ]
    for case, x, got in zip(cases, inputs, layer_results(layer_class, calls), strict=True):
        what = (
            case.describe().replace("pool2d(x", "MinPooling2D(...)(x").replace(", mode='min'", "")
        )
        assert_matches(
            what,
            keras.ops.convert_to_numpy(got),
            keras_pool(x, case.pool_size, case.strides, case.padding, "min"),
            case.mistakes(x),
        )

    _check_min_pooling_output_shape(layer_class, cases)
    model = keras.Sequential([keras.Input((8, 8, 2)), layer_class(pool_size=2)])
    if tuple(model.output_shape) != (None, 4, 4, 2):
        raise CheckFailure(
            "MinPooling2D(pool_size=2) inside a keras.Sequential model on 8x8x2 inputs",
            "output shape (None, 4, 4, 2)",
            model.output_shape,
            "strides must default to the pool size and padding to 'valid'",
        )

    layer = layer_class(pool_size=(3, 2), strides=(1, 2), padding="same")
    config = layer.get_config()
    missing = [key for key in ("pool_size", "strides", "padding") if key not in config]
    if missing:
        raise CheckFailure(
            "MinPooling2D.get_config()",
            "pool_size, strides and padding in the config",
            f"missing {missing}",
            "add them in get_config() so that Keras can save and reload the layer",
        )
    x = rng.standard_normal((1, 7, 6, 2)).astype(np.float32)
    restored = layer_class.from_config(config)
    assert_matches(
        "MinPooling2D rebuilt from its get_config()",
        keras.ops.convert_to_numpy(restored(x)),
        keras.ops.convert_to_numpy(layer(x)),
    )
    passed(
        f"MinPooling2D matches -MaxPooling2D(-x) on {len(cases)} cases, works in a model, "
        "and survives get_config/from_config"
    )


# Shapes where floor and ceil, or 'valid' and 'same', give different sizes: a layer that
# rounds the wrong way, or ignores the padding, cannot match them all.
_ROUNDING_SHAPES = (
    ((None, 7, 9, 2), 2, None, "valid"),
    ((None, 8, 10, 1), (3, 2), (2, 3), "valid"),
    ((None, 7, 9, 2), 2, None, "same"),
    ((None, 11, 6, 3), 3, 2, "same"),
)


def _layer_settings(case: PoolCase | ShapeCase) -> dict:
    return {"pool_size": case.pool_size, "strides": case.strides, "padding": case.padding}


def _check_min_pooling_output_shape(layer_class: type, cases: list[PoolCase]) -> None:
    """The layer's own compute_output_shape, called directly, against Keras's MaxPooling2D."""
    if layer_class.compute_output_shape is keras.layers.Layer.compute_output_shape:
        raise CheckFailure(
            "MinPooling2D.compute_output_shape",
            "a method of your layer",
            "the base Layer's (not defined in your class)",
            "define compute_output_shape(self, input_shape): Keras asks a layer for its "
            "output shape without running it",
        )
    shape_cases = [
        ShapeCase(input_shape[1:], pool_size, strides, padding)
        for input_shape, pool_size, strides, padding in _ROUNDING_SHAPES
    ] + [ShapeCase(case.shape[1:], case.pool_size, case.strides, case.padding) for case in cases]
    calls = [
        (_layer_settings(case), "compute_output_shape", ((None, *case.input_shape),))
        for case in shape_cases
    ]
    answers = []
    for case, got in zip(shape_cases, layer_results(layer_class, calls), strict=True):
        with contextlib.suppress(TypeError, ValueError, IndexError):
            got = (got[0], *(int(d) for d in got[1:]))
        answers.append((case, got))
    for case, got in answers:
        expected = (None, *case.keras_shape())
        if got != expected:
            others = [(c, g[1:]) for c, g in answers if isinstance(g, tuple)]
            cause = (
                likely_mistake(case, got[1:], others, ShapeCase.mistakes)
                if isinstance(got, tuple) and len(got) == len(expected)
                else "return a tuple like the input_shape you were given: (batch, height, width, "
                "channels), the batch size (None here) included"
            )
            raise CheckFailure(
                f"MinPooling2D(pool_size={case.pool_size}, strides={case.strides}, "
                f"padding='{case.padding}').compute_output_shape({(None, *case.input_shape)})",
                expected,
                got,
                cause,
            )


# -- translation invariance ----------------------------------------------------------


@student_check
def check_invariance_score(
    invariance_score: Callable, *, seed: int | None = 0, n_random: int = 0
) -> None:
    rng = np.random.default_rng(seed)
    settings = [(1, 1), (1, 2), (2, 2), (3, 4), (2, 1), (0, 3)]
    settings += [(int(rng.integers(0, 5)), int(rng.integers(1, 5))) for _ in range(n_random)]
    images = rng.random((5, 16, 16)).astype(np.float32) * (rng.random((5, 16, 16)) < 0.3)
    calls = [((images.copy(), shift, pool_size), {}) for shift, pool_size in settings]
    for (shift, pool_size), got in zip(settings, results_of(invariance_score, calls), strict=True):
        what = f"invariance_score(images of shape {images.shape}, shift={shift}, pool_size={pool_size})"
        mistakes = [
            (
                "np.roll wraps the right edge around to the left; shift with zeros instead",
                lambda s=shift, k=pool_size: keras_invariance_score(
                    images, s, k, shifter=lambda im, n: np.roll(im, n, axis=2)
                ),
            ),
            (
                "the images were shifted left (or down), not right",
                lambda s=shift, k=pool_size: keras_invariance_score(
                    images, s, k, shifter=lambda im, n: shift_right(im[:, :, ::-1], n)[:, :, ::-1]
                ),
            ),
            (
                "pooling windows must not overlap here: use stride = pool_size",
                lambda s=shift, k=pool_size: keras_invariance_score(images, s, k, stride=1),
            ),
            (
                "take the cosine similarity per image, then the mean over images",
                lambda s=shift, k=pool_size: keras_invariance_score(images, s, k, per_image=False),
            ),
        ]
        if not np.isscalar(got) and np.ndim(got) != 0:
            raise CheckFailure(
                what,
                "a single number",
                f"an array of shape {np.shape(got)}",
                "average the per-image similarities into one number",
            )
        assert_matches(
            what,
            as_array(what, got),
            keras_invariance_score(images, shift, pool_size),
            [(label, compute) for label, compute in mistakes],
            atol=1e-4,
        )
    passed(f"invariance_score matches the Keras-pooled reference on {len(settings)} settings")
