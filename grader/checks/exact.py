"""The checker's independent computations: float64 NumPy, written without TensorFlow.

Instructors' part: these are reference implementations of the exercises (pooling, zero
padding, convolution, LRN, output sizes, the 'same' split), so the student bundle leaves this
module out (``grader.bundle``) and verifies Keras with TensorFlow's float64 kernels instead
(``grader.checks.float64``). Where a grade is decided, in the trusted checker, this module is
present and is what :func:`grader.checks.oracle.verified` compares Keras with.

Every function here has the same name and arguments as its counterpart in ``float64``.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from grader.checks.keras_arguments import Pad, explicit_padding, pair

DESCRIPTION = "an exact float64 NumPy computation"


def same_padding(n: int, k: int, s: int) -> tuple[int, int]:
    """(before, after) padding TensorFlow adds for 'same'; the odd one goes after."""
    total = max((math.ceil(n / s) - 1) * s + k - n, 0)
    return total // 2, total - total // 2


def _windows(x: np.ndarray, k: tuple[int, int], s: tuple[int, int]) -> np.ndarray:
    """All k-windows of x (batch, height, width, channels) with stride s:
    shape (batch, out_h, out_w, channels, kh, kw)."""
    return sliding_window_view(x, k, axis=(1, 2))[:, :: s[0], :: s[1]]


def _same_pads(shape, k, s) -> tuple[tuple[int, int], tuple[int, int]]:
    return tuple(same_padding(n, kk, ss) for n, kk, ss in zip(shape, k, s, strict=True))


def pool(x, pool_size, strides=None, padding="valid", mode="max") -> np.ndarray:
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


def zero_pad(x, pad: Pad) -> np.ndarray:
    (top, bottom), (left, right) = explicit_padding(pad)
    return np.pad(np.asarray(x, np.float64), ((0, 0), (top, bottom), (left, right), (0, 0)))


def conv2d(x, kernel, bias, strides=1, padding: str | Pad = "valid") -> np.ndarray:
    """Keras's Conv2D (a cross-correlation, kernel (kh, kw, c_in, c_out)) in float64."""
    x = np.asarray(x, np.float64)
    kernel = np.asarray(kernel, np.float64)
    k, s = kernel.shape[:2], pair(strides)
    if padding == "same":
        x = zero_pad(x, _same_pads(x.shape[1:3], k, s))
    elif padding != "valid":
        x = zero_pad(x, padding)
    windows = _windows(x, k, s)
    return np.einsum("bhwcij,ijcf->bhwf", windows, kernel) + np.asarray(bias, np.float64)


def lrn(a, k, n, alpha, beta) -> np.ndarray:
    """Local response normalisation across the last axis, the paper's (and TensorFlow's)
    convention: a window of n channels in all, alpha not divided by n."""
    a = np.asarray(a, np.float64)
    channels = a.shape[-1]
    squares = np.pad(a**2, [(0, 0)] * (a.ndim - 1) + [(n // 2, n // 2)])
    sums = sliding_window_view(squares, n // 2 * 2 + 1, axis=-1)[..., :channels, :].sum(-1)
    return a / (k + alpha * sums) ** beta


def output_size(n: int, k: int, s: int, padding: str | int) -> int:
    """Rows out of a window of k with stride s on n rows."""
    if padding == "same":
        return math.ceil(n / s)
    p = 0 if padding == "valid" else int(padding)
    return (n + 2 * p - k) // s + 1
