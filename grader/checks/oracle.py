"""The checks' oracle: what Keras/TensorFlow computes, verified by an exact NumPy computation.

Keras defines what the course's operations mean (its padding split, its pooling of border
windows, its LRN constants), so the expected values come from Keras. But the platform can be
wrong: TensorFlow 2.21's oneDNN ``Conv2D`` returns wrong values on some AVX-512 CPUs (batch
of two or more, one input channel, strides (1, s > 1), output width 1). A correct student must
never pay for that, so every value here is computed twice, by Keras and by a plain float64
NumPy computation written independently of it:

- they agree: the Keras value is the expected value;
- they disagree: the NumPy value is used, and the disagreement is recorded so that the check
  can tell the student what happened (``take_disagreements``, ``platform_note``).

The NumPy versions are proved right where Keras is right: the reference sweep
(tests/test_reference_sweep.py) runs every check with oneDNN off, where TensorFlow's reference
kernels are exact, and requires zero disagreements.
"""

from __future__ import annotations

import functools
import math
from collections import Counter
from dataclasses import dataclass

import keras
import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

Pad = int | tuple[tuple[int, int], tuple[int, int]]


def pair(value) -> tuple[int, int]:
    """A Keras size argument (int or pair) as a pair of ints."""
    return (int(value), int(value)) if isinstance(value, int | np.integer) else tuple(value)


def explicit_padding(pad: Pad) -> tuple[tuple[int, int], tuple[int, int]]:
    """An int or ((top, bottom), (left, right)) as ((top, bottom), (left, right))."""
    if isinstance(pad, int | np.integer):
        return ((int(pad), int(pad)), (int(pad), int(pad)))
    return (tuple(pad[0]), tuple(pad[1]))


def tensorflow_same_padding(n: int, k: int, s: int) -> tuple[int, int]:
    """(before, after) padding TensorFlow adds for 'same'; the odd one goes after."""
    total = max((math.ceil(n / s) - 1) * s + k - n, 0)
    return total // 2, total - total // 2


# -- recording disagreements ---------------------------------------------------------------


@dataclass(frozen=True)
class Disagreement:
    operation: str
    case: str
    max_error: float


_disagreements: list[Disagreement] = []
# Every disagreement since the process started, by operation (never cleared): what
# `grader doctor` and the reference sweep report.
disagreement_counts: Counter[str] = Counter()


def verified(
    operation: str,
    keras_value,
    exact_value,
    case: str = "",
    *,
    atol: float = 1e-5,
    rtol: float = 1e-5,
) -> np.ndarray:
    """Keras's value when the exact computation agrees with it, else the exact value.

    "Agrees" means within float32 round-off (atol scaled by the largest value), as tight as
    the checks' comparisons of students' answers or tighter, so that whichever value is used,
    a right answer matches it."""
    exact = np.asarray(exact_value, dtype=np.float64)
    try:
        computed = np.asarray(keras_value, dtype=np.float64)
    except (TypeError, ValueError):
        computed = None
    if computed is not None and computed.shape == exact.shape:
        finite = np.abs(exact[np.isfinite(exact)])
        scale = max(1.0, float(np.max(finite, initial=0.0)))
        if np.allclose(computed, exact, atol=atol * scale, rtol=rtol, equal_nan=True):
            return np.asarray(keras_value)
        with np.errstate(invalid="ignore"):
            error = float(np.nanmax(np.abs(computed - exact), initial=0.0))
    else:
        error = math.inf
    _disagreements.append(Disagreement(operation, case, error))
    disagreement_counts[operation] += 1
    return exact


def take_disagreements() -> list[Disagreement]:
    """The disagreements recorded since the last call (and forget them)."""
    found = list(_disagreements)
    _disagreements.clear()
    return found


def platform_note(disagreements: list[Disagreement]) -> str | None:
    """What to tell a student whose check ran on a platform that computed wrong values."""
    if not disagreements:
        return None
    operations = sorted({d.operation for d in disagreements})
    worst = max(disagreements, key=lambda d: d.max_error)
    return (
        f"note: on this machine TensorFlow's {' and '.join(operations)} disagreed with an exact "
        f"computation in {len(disagreements)} place(s) (largest difference {worst.max_error:.3g}, "
        f"e.g. {worst.case or 'one case'}). The check used the exact values, so your result is "
        "not affected. TensorFlow's oneDNN kernels are known to be wrong for some shapes on some "
        "CPUs; `grader doctor` checks yours."
    )


# -- exact computations (float64 NumPy, independent of TensorFlow) ---------------------------


def _windows(x: np.ndarray, k: tuple[int, int], s: tuple[int, int]) -> np.ndarray:
    """All k-windows of x (batch, height, width, channels) with stride s:
    shape (batch, out_h, out_w, channels, kh, kw)."""
    return sliding_window_view(x, k, axis=(1, 2))[:, :: s[0], :: s[1]]


def _same_pads(shape, k, s) -> tuple[tuple[int, int], tuple[int, int]]:
    return tuple(tensorflow_same_padding(n, kk, ss) for n, kk, ss in zip(shape, k, s, strict=True))


def exact_pool(x, pool_size, strides=None, padding="valid", mode="max") -> np.ndarray:
    """Pooling as Keras defines it: strides default to the pool size; 'same' pads the
    TensorFlow way and leaves padded cells out of both the max and the mean."""
    x = np.asarray(x, dtype=np.float64)
    k = pair(pool_size)
    s = pair(strides if strides is not None else pool_size)
    if padding == "same":
        (top, bottom), (left, right) = _same_pads(x.shape[1:3], k, s)
        x = np.pad(x, ((0, 0), (top, bottom), (left, right), (0, 0)), constant_values=np.nan)
    windows = _windows(x, k, s)
    reduce = {"max": np.nanmax, "min": np.nanmin, "avg": np.nanmean}[mode]
    return reduce(windows, axis=(-2, -1))


def exact_zero_pad(x, pad: Pad) -> np.ndarray:
    (top, bottom), (left, right) = explicit_padding(pad)
    return np.pad(np.asarray(x, np.float64), ((0, 0), (top, bottom), (left, right), (0, 0)))


def exact_conv2d(x, kernel, bias, strides=1, padding: str | Pad = "valid") -> np.ndarray:
    """Keras's Conv2D (a cross-correlation, kernel (kh, kw, c_in, c_out)) in float64."""
    x = np.asarray(x, np.float64)
    kernel = np.asarray(kernel, np.float64)
    k, s = kernel.shape[:2], pair(strides)
    if padding == "same":
        x = exact_zero_pad(x, _same_pads(x.shape[1:3], k, s))
    elif padding != "valid":
        x = exact_zero_pad(x, padding)
    windows = _windows(x, k, s)
    return np.einsum("bhwcij,ijcf->bhwf", windows, kernel) + np.asarray(bias, np.float64)


def exact_lrn(a, k, n, alpha, beta) -> np.ndarray:
    """Local response normalisation across the last axis, the paper's (and TensorFlow's)
    convention: a window of n channels in all, alpha not divided by n."""
    a = np.asarray(a, np.float64)
    channels = a.shape[-1]
    squares = np.pad(a**2, [(0, 0)] * (a.ndim - 1) + [(n // 2, n // 2)])
    sums = sliding_window_view(squares, n // 2 * 2 + 1, axis=-1)[..., :channels, :].sum(-1)
    return a / (k + alpha * sums) ** beta


def exact_output_size(n: int, k: int, s: int, padding: str | int) -> int:
    """Rows out of a window of k with stride s on n rows."""
    if padding == "same":
        return math.ceil(n / s)
    p = 0 if padding == "valid" else int(padding)
    return (n + 2 * p - k) // s + 1


# -- Keras, verified ---------------------------------------------------------------------------


def _numpy(tensor) -> np.ndarray:
    return keras.ops.convert_to_numpy(tensor)


def keras_pool(x, pool_size, strides=None, padding="valid", mode="max") -> np.ndarray:
    """What Keras computes, verified. Min pooling has no Keras layer: min(x) = -max(-x)."""
    x = np.asarray(x, dtype=np.float32)
    if mode == "min":
        computed = -_numpy(keras.layers.MaxPooling2D(pool_size, strides, padding)(-x))
    else:
        layer_class = {"max": keras.layers.MaxPooling2D, "avg": keras.layers.AveragePooling2D}
        computed = _numpy(layer_class[mode](pool_size, strides, padding)(x))
    case = f"{mode} pooling of {x.shape}, pool_size={pool_size}, strides={strides}, '{padding}'"
    return verified("pooling", computed, exact_pool(x, pool_size, strides, padding, mode), case)


def keras_zero_pad(x, pad: Pad) -> np.ndarray:
    x = np.asarray(x, "float32")
    computed = _numpy(keras.layers.ZeroPadding2D(padding=explicit_padding(pad))(x))
    return verified("ZeroPadding2D", computed, exact_zero_pad(x, pad), f"{x.shape}, pad={pad}")


def keras_conv2d(x, kernel, bias, strides=1, padding: str | Pad = "valid") -> np.ndarray:
    """Keras's Conv2D output with the given weights (kernel (kh, kw, c_in, c_out)), verified."""
    x = np.asarray(x, "float32")
    kernel, bias = np.asarray(kernel, "float32"), np.asarray(bias, "float32")
    padded = x if isinstance(padding, str) else keras_zero_pad(x, padding).astype("float32")
    layer = keras.layers.Conv2D(
        kernel.shape[-1],
        kernel.shape[:2],
        strides=strides,
        padding=padding if isinstance(padding, str) else "valid",
    )
    layer.build(padded.shape)
    layer.set_weights([kernel, bias])
    case = f"x {x.shape}, kernel {kernel.shape}, strides={strides}, padding={padding!r}"
    return verified(
        "Conv2D", _numpy(layer(padded)), exact_conv2d(x, kernel, bias, strides, padding), case
    )


def keras_lrn(a, k: float, n: int, alpha: float, beta: float) -> np.ndarray:
    """TensorFlow's LRN (depth_radius = n // 2, alpha as in the paper), verified."""
    import tensorflow as tf

    a = np.asarray(a, dtype=np.float32)
    computed = tf.nn.local_response_normalization(
        a, depth_radius=n // 2, bias=k, alpha=alpha, beta=beta
    ).numpy()
    case = f"{a.shape}, k={k}, n={n}, alpha={alpha}, beta={beta}"
    return verified("local_response_normalization", computed, exact_lrn(a, k, n, alpha, beta), case)


def keras_output_size(n: int, k: int, s: int, padding: str | int) -> int:
    """Rows out of a Keras convolution with kernel k, stride s, on n rows, verified."""
    shape = (None, n, 1, 1)
    keras_padding = padding
    if isinstance(padding, int):
        shape = keras.layers.ZeroPadding2D(((padding, padding), (0, 0))).compute_output_shape(shape)
        keras_padding = "valid"
    conv = keras.layers.Conv2D(1, (k, 1), strides=(s, 1), padding=keras_padding)
    computed = int(conv.compute_output_shape(shape)[1])
    exact = exact_output_size(n, k, s, padding)
    case = f"n={n}, k={k}, s={s}, padding={padding!r}"
    return int(verified("compute_output_shape", computed, exact, case, atol=0, rtol=0))


@functools.lru_cache(maxsize=4096)
def keras_same_padding(n: int, k: int, s: int) -> tuple[int, int]:
    """(before, after) rows that Keras's 'same' adds, found by experiment with Keras itself,
    verified against TensorFlow's documented rule (the odd row goes after)."""
    rule = tensorflow_same_padding(n, k, s)
    probed = _probe_same_padding(n, k, s)
    case = f"the 'same' split for n={n}, k={k}, s={s}"
    return tuple(int(v) for v in verified("Conv2D", probed, rule, case, atol=0, rtol=0))


def _probe_same_padding(n: int, k: int, s: int) -> tuple[int, int] | None:
    """The split for which a 'valid' convolution of the padded input reproduces 'same'."""
    out = keras_output_size(n, k, s, "same")
    total = max((out - 1) * s + k - n, 0)
    rng = np.random.default_rng(0)
    x = rng.standard_normal((1, n, 1, 1)).astype("float32")
    kernel = rng.standard_normal((k, 1, 1, 1)).astype("float32")
    same = keras.ops.conv(x, kernel, strides=(s, 1), padding="same")
    for before in range(total + 1):
        padded = np.pad(x, ((0, 0), (before, total - before), (0, 0), (0, 0)))
        if np.allclose(
            _numpy(keras.ops.conv(padded, kernel, strides=(s, 1), padding="valid")),
            _numpy(same),
            atol=1e-5,
        ):
            return before, total - before
    return None  # no split reproduces it: the platform's convolution is wrong here


# -- translation invariance (notebooks 01 and 04) ---------------------------------------------


def shift_right(images: np.ndarray, shift: int) -> np.ndarray:
    """Move each (N, H, W) image ``shift`` pixels to the right, filling the left with zeros."""
    shifted = np.zeros_like(images)
    shifted[:, :, shift:] = images[:, :, : images.shape[2] - shift]
    return shifted


def _cosine(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    a, b = a.reshape(len(a), -1), b.reshape(len(b), -1)
    return np.sum(a * b, axis=1) / (np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1))


def keras_invariance_score(
    images, shift, pool_size, *, shifter=shift_right, stride=None, per_image=True
) -> float:
    """Mean cosine similarity of max-pooled images and max-pooled shifted images."""
    images = np.asarray(images, dtype=np.float32)

    def pooled(batch):
        return keras_pool(batch[..., None], pool_size, stride or pool_size, "valid", "max")

    a, b = pooled(images), pooled(shifter(images, shift))
    if per_image:
        return float(np.mean(_cosine(a, b)))
    return float(_cosine(a.reshape(1, -1), b.reshape(1, -1))[0])
