"""The student bundle's independent computations: TensorFlow's float64 kernels.

The float32 values the checks expect come from Keras, which may run on oneDNN kernels that
are wrong on some CPUs (see ``grader.checks.oracle``). oneDNN has no float64 kernels, so the
same operations in float64 run on TensorFlow's own (Eigen) kernels: a second computation that
does not share the code that fails. The student bundle uses these, because the exact NumPy
versions (``grader.checks.exact``) are the exercises' answers; the trusted checker, which
decides grades, uses the NumPy ones. tests/test_oracle.py proves the two agree.

Every function here has the same name and arguments as its counterpart in ``exact``.
"""

from __future__ import annotations

import functools

import numpy as np
import tensorflow as tf

from grader.checks.keras_arguments import Pad, explicit_padding, pair

DESCRIPTION = "TensorFlow's float64 kernels"


def _float64(x) -> tf.Tensor:
    return tf.constant(np.asarray(x, dtype=np.float64))


def pool(x, pool_size, strides=None, padding="valid", mode="max") -> np.ndarray:
    """Pooling as Keras defines it (min pooling as -max(-x)); TensorFlow's 'same' leaves the
    padded cells out of both the max and the mean, as Keras does."""
    x = _float64(x)
    k = pair(pool_size)
    s = pair(strides if strides is not None else pool_size)
    padding = padding.upper()
    if mode == "min":
        return -tf.nn.max_pool2d(-x, k, s, padding).numpy()
    operation = {"max": tf.nn.max_pool2d, "avg": tf.nn.avg_pool2d}[mode]
    return operation(x, k, s, padding).numpy()


def pool_gradient(
    x, grad_output, pool_size, strides=None, padding="valid", mode="max"
) -> np.ndarray:
    """The gradient of sum(pool(x) * grad_output) with respect to x: TensorFlow's automatic
    differentiation of its float64 pooling kernels."""
    x = _float64(x)
    k = pair(pool_size)
    s = pair(strides if strides is not None else pool_size)
    operation = {"max": tf.nn.max_pool2d, "avg": tf.nn.avg_pool2d}[mode]
    with tf.GradientTape() as tape:
        tape.watch(x)
        pooled = operation(x, k, s, padding.upper())
    return tape.gradient(pooled, x, output_gradients=_float64(grad_output)).numpy()


def zero_pad(x, pad: Pad) -> np.ndarray:
    (top, bottom), (left, right) = explicit_padding(pad)
    return tf.pad(_float64(x), [[0, 0], [top, bottom], [left, right], [0, 0]]).numpy()


def conv2d(x, kernel, bias, strides=1, padding: str | Pad = "valid") -> np.ndarray:
    """Keras's Conv2D (a cross-correlation, kernel (kh, kw, c_in, c_out)) in float64."""
    x = _float64(x) if isinstance(padding, str) else _float64(zero_pad(x, padding))
    mode = padding.upper() if isinstance(padding, str) else "VALID"
    out = tf.nn.conv2d(x, _float64(kernel), pair(strides), mode)
    return (out + _float64(bias)).numpy()


def conv2d_gradients(x, kernel, grad_output, strides=1, padding: str | Pad = "valid"):
    """The gradients of sum(conv2d(x, kernel, bias) * grad_output) with respect to x, the
    kernel and the bias: TensorFlow's automatic differentiation of its float64 convolution."""
    x, kernel = _float64(x), _float64(kernel)
    bias = tf.zeros([kernel.shape[-1]], tf.float64)
    with tf.GradientTape() as tape:
        tape.watch([x, kernel, bias])
        if isinstance(padding, str):
            out = tf.nn.conv2d(x, kernel, pair(strides), padding.upper())
        else:
            (top, bottom), (left, right) = explicit_padding(padding)
            padded = tf.pad(x, [[0, 0], [top, bottom], [left, right], [0, 0]])
            out = tf.nn.conv2d(padded, kernel, pair(strides), "VALID")
        out = out + bias
    grads = tape.gradient(out, [x, kernel, bias], output_gradients=_float64(grad_output))
    return tuple(g.numpy() for g in grads)


def lrn(a, k, n, alpha, beta) -> np.ndarray:
    """Local response normalisation across the last axis (a window of n channels, alpha not
    divided by n). TensorFlow's LRN kernel has no float64 version, so the window sums come
    from a float64 convolution along the channel axis."""
    a = _float64(a)
    shape = tf.shape(a)
    channels = a.shape[-1]
    # Each position's channels as a one-row image with one input channel: a window of ones
    # n // 2 channels either side, 'same' padding, sums each channel's neighbourhood of squares.
    squares = tf.reshape(a**2, [-1, 1, channels, 1])
    window = tf.ones([1, n // 2 * 2 + 1, 1, 1], dtype=tf.float64)
    sums = tf.reshape(tf.nn.conv2d(squares, window, 1, "SAME"), shape)
    return (a / (k + alpha * sums) ** beta).numpy()


@functools.lru_cache(maxsize=4096)
def output_size(n: int, k: int, s: int, padding: str | int) -> int:
    """Rows out of a window of k with stride s on n rows, read off a float64 convolution
    of n zero rows (TensorFlow's kernels size the result; no formula is used)."""
    if isinstance(padding, str):
        rows, mode = n, padding.upper()
    else:
        rows, mode = n + 2 * int(padding), "VALID"
    if rows < k and mode == "VALID":
        return (rows - k) // s + 1  # no window fits: TensorFlow refuses, the count is <= 0
    x = tf.zeros([1, rows, 1, 1], dtype=tf.float64)
    return int(tf.nn.conv2d(x, tf.zeros([k, 1, 1, 1], tf.float64), (s, 1), mode).shape[1])


@functools.lru_cache(maxsize=4096)
def same_padding(n: int, k: int, s: int) -> tuple[int, int] | None:
    """(before, after) rows TensorFlow's float64 'same' convolution adds, found by trying the
    splits of 0, 1, 2, ... rows in turn (each total in one batch): the first for which a
    'valid' convolution of the padded input gives the same values."""
    rng = np.random.default_rng(0)
    x = rng.standard_normal((1, n, 1, 1))
    kernel = _float64(rng.standard_normal((k, 1, 1, 1)))
    same = tf.nn.conv2d(_float64(x), kernel, (s, 1), "SAME").numpy()
    for total in range(max(k - n, 0), 2 * k - 1):
        splits = [(before, total - before) for before in range(total + 1)]
        padded = np.concatenate([np.pad(x, ((0, 0), split, (0, 0), (0, 0))) for split in splits])
        valid = tf.nn.conv2d(_float64(padded), kernel, (s, 1), "VALID").numpy()
        if valid.shape[1:] != same.shape[1:]:
            continue
        for split, values in zip(splits, valid, strict=True):
            if np.allclose(values, same[0], rtol=1e-12, atol=1e-12):
                return split
    return None


def receptive_fields(layers) -> list[tuple[int, int]]:
    """(field, jump) after each of ``layers`` ((kernel size, stride) pairs), measured on a
    one-dimensional stack of float64 convolutions with weights of 1: the input cells the
    gradient of the first output reaches span its field, and where the second output's field
    starts is the jump."""
    fields = []
    for depth in range(1, len(layers) + 1):
        first, second = _first_two_fields(tuple(layers[:depth]))
        reached = np.flatnonzero(first)  # its extent: with a stride above the kernel, it has gaps
        fields.append((int(reached[-1] - reached[0] + 1), int(np.flatnonzero(second)[0])))
    return fields


def _first_two_fields(layers) -> tuple[np.ndarray, np.ndarray]:
    n = 16
    while True:
        x = tf.zeros([2, n, 1, 1], tf.float64)
        with tf.GradientTape() as tape:
            tape.watch(x)
            out = x
            for kernel, stride in layers:
                if out.shape[1] < kernel:  # no window fits yet: a longer input
                    break
                out = tf.nn.conv2d(
                    out, tf.ones([kernel, 1, 1, 1], tf.float64), (stride, 1), "VALID"
                )
            else:
                if out.shape[1] >= 2:
                    upstream = np.zeros(out.shape)
                    upstream[0, 0], upstream[1, 1] = 1, 1
                    gradient = tape.gradient(out, x, output_gradients=tf.constant(upstream))
                    return gradient.numpy()[0, :, 0, 0], gradient.numpy()[1, :, 0, 0]
        n *= 2
