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


def pool_gradient(
    x, grad_output, pool_size, strides=None, padding="valid", mode="max"
) -> np.ndarray:
    """The gradient of sum(pool(x) * grad_output) with respect to x, as TensorFlow defines it:
    a max window passes its gradient to its first largest cell, reading the window row by
    row; an average window shares it equally among its real (not padded) cells; a cell in
    several windows adds up what each gives it."""
    x = np.asarray(x, np.float64)
    grad_output = np.asarray(grad_output, np.float64)
    k = pair(pool_size)
    s = pair(strides if strides is not None else pool_size)
    pads = _same_pads(x.shape[1:3], k, s) if padding == "same" else ((0, 0), (0, 0))
    (top, bottom), (left, right) = pads
    padded = np.pad(x, ((0, 0), (top, bottom), (left, right), (0, 0)), constant_values=np.nan)
    gradient = np.zeros_like(padded)
    batch, channels = np.indices((x.shape[0], x.shape[3]))
    for i in range(grad_output.shape[1]):
        for j in range(grad_output.shape[2]):
            rows, cols = slice(i * s[0], i * s[0] + k[0]), slice(j * s[1], j * s[1] + k[1])
            window = padded[:, rows, cols, :]
            share = grad_output[:, i, j, :]
            if mode == "avg":
                real = np.isfinite(window)
                gradient[:, rows, cols, :] += (
                    real * (share / real.sum(axis=(1, 2)))[:, None, None, :]
                )
                continue
            flat = np.where(np.isnan(window), -np.inf, window).reshape(len(x), -1, x.shape[3])
            row, col = np.unravel_index(flat.argmax(axis=1), k)  # argmax: the first largest
            np.add.at(gradient, (batch, i * s[0] + row, j * s[1] + col, channels), share)
    return gradient[:, top : top + x.shape[1], left : left + x.shape[2], :]


def conv2d_gradients(x, kernel, grad_output, strides=1, padding: str | Pad = "valid"):
    """The gradients of sum(conv2d(x, kernel, bias) * grad_output) with respect to x, the
    kernel and the bias: each output's gradient flows back to its window through the kernel
    (adding up where windows overlap), to the kernel through the window, and to the bias."""
    x = np.asarray(x, np.float64)
    kernel = np.asarray(kernel, np.float64)
    grad_output = np.asarray(grad_output, np.float64)
    k, s = kernel.shape[:2], pair(strides)
    if padding == "same":
        pads = _same_pads(x.shape[1:3], k, s)
    else:
        pads = explicit_padding(0 if padding == "valid" else padding)
    padded = zero_pad(x, pads)
    windows = _windows(padded, k, s)[:, : grad_output.shape[1], : grad_output.shape[2]]
    grad_kernel = np.einsum("bhwcij,bhwf->ijcf", windows, grad_output)
    grad_padded = np.zeros_like(padded)
    for i in range(grad_output.shape[1]):
        for j in range(grad_output.shape[2]):
            rows, cols = slice(i * s[0], i * s[0] + k[0]), slice(j * s[1], j * s[1] + k[1])
            grad_padded[:, rows, cols, :] += np.einsum(
                "bf,ijcf->bijc", grad_output[:, i, j], kernel
            )
    (top, _), (left, _) = pads
    grad_x = grad_padded[:, top : top + x.shape[1], left : left + x.shape[2], :]
    return grad_x, grad_kernel, grad_output.sum(axis=(0, 1, 2))


def receptive_fields(layers) -> list[tuple[int, int]]:
    """(field, jump) after each of ``layers``, given as (kernel size, stride) pairs: a layer
    widens the field by (k - 1) times the jump of the layer below, and multiplies the jump by
    its stride."""
    field, jump, fields = 1, 1, []
    for kernel, stride in layers:
        field, jump = field + (kernel - 1) * jump, jump * stride
        fields.append((field, jump))
    return fields
