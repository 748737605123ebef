"""The checks' oracle: what Keras/TensorFlow computes, verified by an independent computation.

Keras defines what the course's operations mean (its padding split, its pooling of border
windows, its LRN constants), so the expected values come from Keras. But the platform can be
wrong: TensorFlow 2.21's oneDNN ``Conv2D`` returns wrong values on some AVX-512 CPUs (batch
of two or more, one input channel, strides (1, s > 1), output width 1). A correct student must
never pay for that, so every value here is computed twice, by Keras and by ``independent``:

- they agree: the Keras value is the expected value;
- they disagree: the independent value is used, and the disagreement is recorded so that the
  check can tell the student what happened (``take_disagreements``, ``platform_note``).

``independent`` is ``grader.checks.exact`` (plain float64 NumPy written without TensorFlow)
wherever it is installed: in the trusted checker, which decides grades. The student bundle
leaves that module out, since its functions are the exercises' answers, and uses
``grader.checks.float64`` (TensorFlow's float64 kernels, which oneDNN does not provide).

The independent versions are proved right where Keras is right: the reference sweep
(tests/test_reference_sweep.py) runs every check with oneDNN off, where TensorFlow's reference
kernels are exact, and requires zero disagreements; tests/test_oracle.py proves the float64
versions equal the NumPy ones.
"""

from __future__ import annotations

import functools
import math
from collections import Counter
from dataclasses import dataclass

import keras
import numpy as np

from grader.checks.keras_arguments import Pad, explicit_padding

try:  # the instructors' package, where grades are decided: exact float64 NumPy
    from grader.checks import exact as independent
except ImportError:  # the student bundle, which leaves the exact versions (answers) out
    from grader.checks import float64 as independent

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
    independent_value,
    case: str = "",
    *,
    atol: float = 1e-5,
    rtol: float = 1e-5,
) -> np.ndarray:
    """Keras's value when the independent computation agrees with it, else the independent one.

    "Agrees" means within float32 round-off (atol scaled by the largest value), as tight as
    the checks' comparisons of students' answers or tighter, so that whichever value is used,
    a right answer matches it."""
    expected = np.asarray(independent_value, dtype=np.float64)
    try:
        computed = np.asarray(keras_value, dtype=np.float64)
    except (TypeError, ValueError):
        computed = None
    if computed is not None and computed.shape == expected.shape:
        finite = np.abs(expected[np.isfinite(expected)])
        scale = max(1.0, float(np.max(finite, initial=0.0)))
        if np.allclose(computed, expected, atol=atol * scale, rtol=rtol, equal_nan=True):
            return np.asarray(keras_value)
        with np.errstate(invalid="ignore"):
            error = float(np.nanmax(np.abs(computed - expected), initial=0.0))
    else:
        error = math.inf
    _disagreements.append(Disagreement(operation, case, error))
    disagreement_counts[operation] += 1
    return expected


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
        f"note: on this machine TensorFlow's {' and '.join(operations)} disagreed with "
        f"{independent.DESCRIPTION} in {len(disagreements)} place(s) (largest difference {worst.max_error:.3g}, "
        f"e.g. {worst.case or 'one case'}). The check used the independent values, so your result is "
        "not affected. TensorFlow's oneDNN kernels are known to be wrong for some shapes on some "
        f"CPUs; {_REMEDY.get(independent.__name__, _REMEDY['grader.checks.exact'])}"
    )


# Where the instructors' package is installed, its `grader doctor` checks the machine; the
# student bundle has no `grader` command, and the students' remedy is turning oneDNN off.
_REMEDY = {
    "grader.checks.exact": "`grader doctor` checks yours.",
    "grader.checks.float64": "starting Jupyter with TF_ENABLE_ONEDNN_OPTS=0 turns them off.",
}


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
    return verified(
        "pooling", computed, independent.pool(x, pool_size, strides, padding, mode), case
    )


def keras_pool_gradient(
    x, grad_output, pool_size, strides=None, padding="valid", mode="max"
) -> np.ndarray:
    """What TensorFlow's automatic differentiation gives for Keras's pooling layer, verified:
    the gradient of sum(layer(x) * grad_output) with respect to x."""
    import tensorflow as tf

    x = tf.constant(np.asarray(x, dtype=np.float32))
    layer_class = {"max": keras.layers.MaxPooling2D, "avg": keras.layers.AveragePooling2D}[mode]
    layer = layer_class(pool_size, strides, padding)
    with tf.GradientTape() as tape:
        tape.watch(x)
        pooled = layer(x)
    upstream = tf.constant(np.asarray(grad_output, dtype=np.float32))
    computed = tape.gradient(pooled, x, output_gradients=upstream).numpy()
    case = f"{mode} pooling gradient of {tuple(x.shape)}, pool_size={pool_size}, strides={strides}, '{padding}'"
    exact = independent.pool_gradient(
        x.numpy(), upstream.numpy(), pool_size, strides, padding, mode
    )
    return verified("pooling gradient", computed, exact, case)


def keras_zero_pad(x, pad: Pad) -> np.ndarray:
    x = np.asarray(x, "float32")
    computed = _numpy(keras.layers.ZeroPadding2D(padding=explicit_padding(pad))(x))
    return verified(
        "ZeroPadding2D", computed, independent.zero_pad(x, pad), f"{x.shape}, pad={pad}"
    )


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
        "Conv2D", _numpy(layer(padded)), independent.conv2d(x, kernel, bias, strides, padding), case
    )


def keras_conv2d_gradients(x, kernel, grad_output, strides=1, padding: str | Pad = "valid"):
    """What TensorFlow's automatic differentiation gives for Keras's Conv2D with these weights,
    verified: the gradients of sum(layer(x) * grad_output) with respect to x, the kernel and
    the bias (explicit padding is a ZeroPadding2D layer in front, as in keras_conv2d)."""
    import tensorflow as tf

    x = tf.constant(np.asarray(x, "float32"))
    kernel = np.asarray(kernel, "float32")
    layer = keras.layers.Conv2D(
        kernel.shape[-1],
        kernel.shape[:2],
        strides=strides,
        padding=padding if isinstance(padding, str) else "valid",
    )
    padder = (
        None if isinstance(padding, str) else keras.layers.ZeroPadding2D(explicit_padding(padding))
    )
    with tf.GradientTape() as tape:
        tape.watch(x)
        padded = x if padder is None else padder(x)
        if not layer.built:
            layer.build(padded.shape)
            layer.set_weights([kernel, np.zeros(kernel.shape[-1], "float32")])
        out = layer(padded)
    upstream = tf.constant(np.asarray(grad_output, "float32"))
    computed = tape.gradient(out, [x, layer.kernel, layer.bias], output_gradients=upstream)
    exact = independent.conv2d_gradients(x.numpy(), kernel, upstream.numpy(), strides, padding)
    case = f"x {tuple(x.shape)}, kernel {kernel.shape}, strides={strides}, padding={padding!r}"
    return tuple(
        verified("Conv2D gradient", _numpy(value), second_value, f"{part} gradient, {case}")
        for part, value, second_value in zip(
            ("input", "kernel", "bias"), computed, exact, strict=True
        )
    )


def keras_lrn(a, k: float, n: int, alpha: float, beta: float) -> np.ndarray:
    """TensorFlow's LRN (depth_radius = n // 2, alpha as in the paper), verified."""
    import tensorflow as tf

    a = np.asarray(a, dtype=np.float32)
    computed = tf.nn.local_response_normalization(
        a, depth_radius=n // 2, bias=k, alpha=alpha, beta=beta
    ).numpy()
    case = f"{a.shape}, k={k}, n={n}, alpha={alpha}, beta={beta}"
    return verified(
        "local_response_normalization", computed, independent.lrn(a, k, n, alpha, beta), case
    )


def keras_output_size(n: int, k: int, s: int, padding: str | int) -> int:
    """Rows out of a Keras convolution with kernel k, stride s, on n rows, verified."""
    shape = (None, n, 1, 1)
    keras_padding = padding
    if isinstance(padding, int):
        shape = keras.layers.ZeroPadding2D(((padding, padding), (0, 0))).compute_output_shape(shape)
        keras_padding = "valid"
    conv = keras.layers.Conv2D(1, (k, 1), strides=(s, 1), padding=keras_padding)
    computed = int(conv.compute_output_shape(shape)[1])
    exact = independent.output_size(n, k, s, padding)
    case = f"n={n}, k={k}, s={s}, padding={padding!r}"
    return int(verified("compute_output_shape", computed, exact, case, atol=0, rtol=0))


@functools.lru_cache(maxsize=4096)
def keras_same_padding(n: int, k: int, s: int) -> tuple[int, int]:
    """(before, after) rows that Keras's 'same' adds, found by experiment with Keras itself,
    verified against the independent computation (TensorFlow's rule: the odd row goes after)."""
    rule = independent.same_padding(n, k, s)
    probed = _probe_same_padding(n, k, s)
    case = f"the 'same' split for n={n}, k={k}, s={s}"
    return tuple(int(v) for v in verified("Conv2D", probed, rule, case, atol=0, rtol=0))


def _probe_same_padding(n: int, k: int, s: int) -> tuple[int, int] | None:
    """The split for which a 'valid' convolution of the padded input reproduces 'same',
    found by trying the splits of 0, 1, 2, ... rows in turn, each total in one batch (no
    formula: the formula is what the notebook asks for)."""
    rng = np.random.default_rng(0)
    x = rng.standard_normal((1, n, 1, 1)).astype("float32")
    kernel = rng.standard_normal((k, 1, 1, 1)).astype("float32")
    same = _numpy(keras.ops.conv(x, kernel, strides=(s, 1), padding="same"))
    for total in range(max(k - n, 0), 2 * k - 1):
        splits = [(before, total - before) for before in range(total + 1)]
        padded = np.concatenate([np.pad(x, ((0, 0), split, (0, 0), (0, 0))) for split in splits])
        valid = _numpy(keras.ops.conv(padded, kernel, strides=(s, 1), padding="valid"))
        if valid.shape[1:] != same.shape[1:]:
            continue
        for split, values in zip(splits, valid, strict=True):
            if np.allclose(values, same[0], atol=1e-5):
                return split
    return None  # no split reproduces it: the platform's convolution is wrong here


def keras_receptive_fields(layers) -> list[tuple[int, int]]:
    """(field, jump) after each of ``layers`` ((kernel size, stride) pairs), measured on Keras
    layers, verified: a one-dimensional stack of ``Conv2D`` layers with weights of 1 and no
    bias, where the input pixels the gradient of the first output reaches span its receptive
    field, and where the second output's field starts is the jump."""
    import tensorflow as tf

    measured = []
    for depth in range(1, len(layers) + 1):
        n = 16
        while True:
            # float64: TensorFlow's own kernels. oneDNN's float32 ones, capped at AVX2, corrupt
            # the heap on some of these one-column stacks (a stride above the kernel).
            probe = [keras.Input((n, 1, 1), dtype="float64")]
            probe += [
                keras.layers.Conv2D(
                    1, (k, 1), (s, 1), use_bias=False, kernel_initializer="ones", dtype="float64"
                )
                for k, s in layers[:depth]
            ]
            try:
                model = keras.Sequential(probe)
            except ValueError:  # no window fits yet: a longer input
                n *= 2
                continue
            if model.output_shape[1] >= 2:
                break
            n *= 2
        x = tf.zeros((2, n, 1, 1), tf.float64)
        with tf.GradientTape() as tape:
            tape.watch(x)
            out = model(x)
        upstream = np.zeros(out.shape)
        upstream[0, 0], upstream[1, 1] = 1, 1
        gradient = tape.gradient(out, x, output_gradients=tf.constant(upstream)).numpy()
        reached = np.flatnonzero(gradient[0, :, 0, 0])  # its extent: strides can leave gaps
        measured.append(
            (int(reached[-1] - reached[0] + 1), int(np.flatnonzero(gradient[1, :, 0, 0])[0]))
        )
    case = f"layers {list(layers)}"
    exact = independent.receptive_fields(layers)
    return [
        tuple(int(v) for v in row)
        for row in verified("receptive field", measured, exact, case, atol=0, rtol=0)
    ]


# -- translation invariance (notebooks 01 and 04) ---------------------------------------------


def shift_right(images: np.ndarray, shift: int) -> np.ndarray:
    """Move each (N, H, W) image ``shift`` pixels to the right, filling the left with zeros."""
    return np.pad(images, ((0, 0), (0, 0), (shift, 0)))[:, :, : images.shape[2]]


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
