"""Realistic student answers, each with the verdict and the cause the checks must give.

An entry is the source of one answer cell as a student might write it. tests/test_answer_corpus.py
runs it through the solution notebook's own test cells for that exercise (visible and hidden
parts, hidden draws seeded so that the corpus is repeatable), with the reference answers for
the notebook's other cells. ``cause`` is a phrase the likely cause must contain; None for an
answer that must pass.

Kinds of entries: wrong answers (one realistic mistake each), and correct alternatives (a
different but right way to write the answer, which must earn full points).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Entry:
    answer: str  # the answer cell's grade_id (a key of TESTS in tests/test_answer_corpus.py)
    name: str
    code: str
    cause: str | None  # None: a correct answer that must pass

    @property
    def correct(self) -> bool:
        return self.cause is None


# -- notebook 01: pool2d ------------------------------------------------------------------------

# A plain loop implementation, with switches for the mistakes below (each entry is the loop a
# student would write with that one mistake in it).
POOL_LOOP = """
def pool2d(x, pool_size, strides=None, mode="max", padding="valid"):
    kh, kw = (pool_size, pool_size) if isinstance(pool_size, int) else pool_size
    {strides_default}
    sh, sw = (strides, strides) if isinstance(strides, int) else strides
    batch, height, width, channels = x.shape
    if padding == "valid":
        out_h, out_w = {valid_size}
        top = left = total_h = total_w = 0
    else:
        out_h, out_w = math.ceil(height / sh), math.ceil(width / sw)
        total_h = max((out_h - 1) * sh + kh - height, 0)
        total_w = max((out_w - 1) * sw + kw - width, 0)
        top, left = {split}
    padded = np.pad(x.astype("float64"), ((0, 0), (top, {bottom}), (left, {right}), (0, 0)),
                    constant_values=np.nan)
    out = np.zeros((batch, out_h, out_w, channels), dtype={dtype})
    reduce = {{"max": np.nanmax, "avg": np.nanmean, "min": np.nanmin}}[mode]
    for i in range({rows}):
        for j in range(out_w):
            window = padded[:, i * sh : i * sh + kh, j * sw : j * sw + kw, :]
            {assign}
    return out
"""
POOL_RIGHT = dict(
    strides_default="strides = (kh, kw) if strides is None else strides",
    valid_size="(height - kh) // sh + 1, (width - kw) // sw + 1",
    split="total_h // 2, total_w // 2",
    bottom="total_h - top",
    right="total_w - left",
    dtype="x.dtype",
    rows="out_h",
    assign="out[:, i, j, :] = reduce(window, axis=(1, 2))",
)


def pool_loop(**mistake) -> str:
    return POOL_LOOP.format(**{**POOL_RIGHT, **mistake})


POOL2D = [
    Entry("pool2d", "loop (correct)", pool_loop(), None),
    Entry(
        "pool2d",
        "sliding windows (correct)",
        """
from numpy.lib.stride_tricks import sliding_window_view

def pool2d(x, pool_size, strides=None, mode="max", padding="valid"):
    k = (pool_size,) * 2 if isinstance(pool_size, int) else tuple(pool_size)
    s = k if strides is None else ((strides,) * 2 if isinstance(strides, int) else tuple(strides))
    if padding == "same":
        pads = []
        for n, kk, ss in zip(x.shape[1:3], k, s):
            total = max((-(-n // ss) - 1) * ss + kk - n, 0)
            pads.append((total // 2, total - total // 2))
        x = np.pad(x.astype(float), ((0, 0), *pads, (0, 0)), constant_values=np.nan)
    windows = sliding_window_view(x, k, axis=(1, 2))[:, :: s[0], :: s[1]]
    reduce = {"max": np.nanmax, "min": np.nanmin, "avg": np.nanmean}[mode]
    return reduce(windows, axis=(-2, -1)).astype("float32")
""",
        None,
    ),
    Entry(
        "pool2d",
        "prints a debug line to stderr (correct)",
        "import sys\n"
        + pool_loop(
            assign='out[:, i, j, :] = reduce(window, axis=(1, 2))\n            print("window", i, j, file=sys.stderr) if i == j == 0 else None'
        ),
        None,
    ),
    Entry(
        "pool2d",
        "min pooling as -max(-x) (correct)",
        """
_max_or_avg = None

def pool2d(x, pool_size, strides=None, mode="max", padding="valid"):
    if mode == "min":
        return -pool2d(-x, pool_size, strides, "max", padding)
    kh, kw = (pool_size, pool_size) if isinstance(pool_size, int) else pool_size
    sh, sw = (kh, kw) if strides is None else ((strides,) * 2 if isinstance(strides, int) else strides)
    h, w = x.shape[1:3]
    if padding == "same":
        oh, ow = -(-h // sh), -(-w // sw)
        th, tw = max((oh - 1) * sh + kh - h, 0), max((ow - 1) * sw + kw - w, 0)
        x = np.pad(x.astype(float), ((0, 0), (th // 2, th - th // 2), (tw // 2, tw - tw // 2), (0, 0)),
                   constant_values=np.nan)
    else:
        oh, ow = (h - kh) // sh + 1, (w - kw) // sw + 1
    out = np.empty((x.shape[0], oh, ow, x.shape[3]))
    for i in range(oh):
        for j in range(ow):
            win = x[:, i * sh : i * sh + kh, j * sw : j * sw + kw]
            out[:, i, j] = np.nanmax(win, axis=(1, 2)) if mode == "max" else np.nanmean(win, axis=(1, 2))
    return out
""",
        None,
    ),
    Entry(
        "pool2d",
        "stride ignored",
        pool_loop(strides_default="strides = 1"),
        "the stride was ignored",
    ),
    Entry(
        "pool2d",
        "strides=None taken as 1",
        pool_loop(strides_default="strides = 1 if strides is None else strides"),
        "strides=None must default to the pool size",
    ),
    Entry(
        "pool2d",
        "strides always the pool size",
        pool_loop(strides_default="strides = (kh, kw)"),
        "the window moved by the pool size",
    ),
    Entry(
        "pool2d",
        "pool size read as (width, height)",
        pool_loop(
            strides_default="kh, kw = kw, kh\n    strides = (kh, kw) if strides is None else strides"
        ),
        "pool_size read as (width, height)",
    ),
    Entry(
        "pool2d",
        "ceil in 'valid'",
        pool_loop(
            valid_size="math.ceil((height - kh) / sh) + 1, math.ceil((width - kw) / sw) + 1\n"
            "        total_h, total_w = (out_h - 1) * sh + kh - height, (out_w - 1) * sw + kw - width"
        ).replace("top = left = total_h = total_w = 0", "top = left = 0"),
        "with ceil the last window hangs over the border",
    ),
    Entry(
        "pool2d",
        "'same' padding rounded down, the odd row left to slicing (correct)",
        pool_loop(bottom="top", right="left"),
        None,
    ),
    # Rounded up on both sides, the extra row at the bottom lies beyond every window:
    # what is left is the odd row on top, and that is what the check must say.
    Entry(
        "pool2d",
        "'same' split evenly, rounded up",
        pool_loop(split="(total_h + 1) // 2, (total_w + 1) // 2", bottom="top", right="left"),
        "went to the top/left",
    ),
    Entry(
        "pool2d",
        "odd padding row on top",
        pool_loop(
            split="total_h - total_h // 2, total_w - total_w // 2",
            bottom="total_h // 2",
            right="total_w // 2",
        ),
        "went to the top/left",
    ),
    Entry(
        "pool2d",
        "'same' treated as 'valid'",
        pool_loop().replace('if padding == "valid":', "if True:"),
        "padding='same' was ignored",
    ),
    Entry(
        "pool2d",
        "integer output buffer",
        pool_loop(dtype="int"),
        "whole numbers",
    ),
    Entry(
        "pool2d",
        "reduced over the channels too",
        pool_loop(assign="out[:, i, j, :] = reduce(window, axis=(1, 2, 3))[:, None]"),
        "over the channels too",
    ),
    Entry(
        "pool2d",
        "last row and column of windows dropped",
        pool_loop(rows="out_h - 1").replace("range(out_w)", "range(out_w - 1)"),
        "never computed (left at 0)",
    ),
    Entry(
        "pool2d",
        "output transposed",
        pool_loop(assign="out[:, j, i, :] = reduce(window, axis=(1, 2))")
        .replace(
            "np.zeros((batch, out_h, out_w, channels)", "np.zeros((batch, out_w, out_h, channels)"
        )
        .replace("range(out_h)", "range(out_h)"),
        "height and width swapped",
    ),
    Entry(
        "pool2d",
        "zero-filled 'same' padding",
        pool_loop().replace("constant_values=np.nan", "constant_values=0"),
        "'same' padding was filled with zeros",
    ),
    Entry(
        "pool2d",
        "min as -max(x)",
        pool_loop(
            assign='out[:, i, j, :] = -np.nanmax(window, axis=(1, 2)) if mode == "min" else reduce(window, axis=(1, 2))'
        ),
        "negated the output but not the input",
    ),
    Entry(
        "pool2d",
        "average as a sum",
        pool_loop().replace('"avg": np.nanmean', '"avg": np.nansum'),
        "summed, not averaged",
    ),
    Entry(
        "pool2d",
        "tf.nn in a helper",
        """
import tensorflow as tf

def _pool(x, k, s, mode, padding):
    op = tf.nn.max_pool2d if mode == "max" else tf.nn.avg_pool2d
    return op(x, k, s, padding.upper()).numpy()

def pool2d(x, pool_size, strides=None, mode="max", padding="valid"):
    if mode == "min":
        return -_pool(-x, pool_size, strides or pool_size, "max", padding)
    return _pool(x, pool_size, strides or pool_size, mode, padding)
""",
        "pool2d -> _pool: tf is from tensorflow",
    ),
    Entry(
        "pool2d",
        "returns a list",
        pool_loop().replace("    return out\n", "    return out.tolist()\n"),
        "return a NumPy array",
    ),
]

# -- notebook 01: output shapes, the layer, invariance ------------------------------------------

SHAPE_FUNCTION = """
def pool_output_shape(input_shape, pool_size, strides=None, padding="valid"):
    height, width, channels = input_shape
    kh, kw = (pool_size, pool_size) if isinstance(pool_size, int) else pool_size
    sh, sw = (kh, kw) if strides is None else ((strides,) * 2 if isinstance(strides, int) else strides)
    if padding == "valid":
        return {valid}
    return {same}
"""


def shape_function(
    valid="((height - kh) // sh + 1, (width - kw) // sw + 1, channels)",
    same="(math.ceil(height / sh), math.ceil(width / sw), channels)",
) -> str:
    return SHAPE_FUNCTION.format(valid=valid, same=same)


POOL_OUTPUT_SHAPE = [
    Entry("pool_output_shape", "floor and ceil (correct)", shape_function(), None),
    Entry(
        "pool_output_shape",
        "not answered (the released stub)",
        "def pool_output_shape(input_shape, pool_size, strides=None, padding='valid'):\n"
        "    # YOUR CODE HERE\n"
        "    raise NotImplementedError()\n",
        "replace `raise NotImplementedError()` with your code",
    ),
    Entry(
        "pool_output_shape",
        "integer ceil with -(-n // s) (correct)",
        shape_function(same="(-(-height // sh), -(-width // sw), channels)"),
        None,
    ),
    Entry(
        "pool_output_shape",
        "no +1",
        shape_function(valid="((height - kh) // sh, (width - kw) // sw, channels)"),
        "needs the +1",
    ),
    Entry(
        "pool_output_shape",
        "ceil in 'valid'",
        shape_function(
            valid="(math.ceil((height - kh) / sh) + 1, math.ceil((width - kw) / sw) + 1, channels)"
        ),
        "'valid' rounds down",
    ),
    Entry(
        "pool_output_shape",
        "floor in 'same'",
        shape_function(same="(height // sh, width // sw, channels)"),
        "'same' rounds up",
    ),
    Entry(
        "pool_output_shape",
        "a list",
        shape_function(valid="[(height - kh) // sh + 1, (width - kw) // sw + 1, channels]"),
        "return a tuple",
    ),
    Entry(
        "pool_output_shape",
        "true division",
        shape_function(valid="((height - kh) / sh + 1, (width - kw) / sw + 1, channels)"),
        "whole numbers",
    ),
    Entry(
        "pool_output_shape",
        "no channels",
        shape_function(
            valid="((height - kh) // sh + 1, (width - kw) // sw + 1)",
            same="(math.ceil(height / sh), math.ceil(width / sw))",
        ),
        "the channels are missing",
    ),
]

MIN_LAYER = """
class MinPooling2D(keras.layers.Layer):
    def __init__(self, pool_size, strides=None, padding="valid", **kwargs):
        super().__init__(**kwargs)
        self.pool_size, self.strides, self.padding = pool_size, strides, padding
        self.max_pool = keras.layers.MaxPooling2D(pool_size, {strides}, padding)

    def call(self, inputs):
        return {call}
{shape_method}
    def get_config(self):
        return {{**super().get_config(), {config}}}
"""
SHAPE_METHOD = """
    def compute_output_shape(self, input_shape):
        return {shape}
"""


def min_layer(
    strides="strides",
    call="-self.max_pool(-inputs)",
    shape="self.max_pool.compute_output_shape(input_shape)",
    config='"pool_size": self.pool_size, "strides": self.strides, "padding": self.padding',
    shape_method=None,
) -> str:
    method = SHAPE_METHOD.format(shape=shape) if shape_method is None else shape_method
    return MIN_LAYER.format(strides=strides, call=call, shape_method=method, config=config)


CEIL_SHAPE = """(
            input_shape[0],
            *(math.ceil((n - k) / s) + 1 if self.padding == "valid" else math.ceil(n / s)
              for n, k, s in zip(input_shape[1:3], self.max_pool.pool_size, self.max_pool.strides)),
            input_shape[3],
        )"""

MIN_POOLING_LAYER = [
    Entry("MinPooling2D", "-max(-x) (correct)", min_layer(), None),
    Entry(
        "MinPooling2D",
        "keras.ops and its own shape formula (correct)",
        min_layer(
            call="-keras.ops.max_pool(-inputs, self.max_pool.pool_size, self.max_pool.strides, self.padding)",
            shape="""(
            input_shape[0],
            *((n - k) // s + 1 if self.padding == "valid" else -(-n // s)
              for n, k, s in zip(input_shape[1:3], self.max_pool.pool_size, self.max_pool.strides)),
            input_shape[3],
        )""",
        ),
        None,
    ),
    Entry(
        "MinPooling2D", "ceil in compute_output_shape", min_layer(shape=CEIL_SHAPE), "rounds down"
    ),
    Entry(
        "MinPooling2D",
        "no compute_output_shape",
        min_layer(shape_method=""),
        "define compute_output_shape",
    ),
    Entry(
        "MinPooling2D",
        "max pooling",
        min_layer(call="self.max_pool(inputs)"),
        "max pooling, not min",
    ),
    Entry(
        "MinPooling2D",
        "strides=None taken as 1",
        min_layer(strides="strides or 1"),
        "strides=None must default",
    ),
    Entry("MinPooling2D", "config without settings", min_layer(config=""), "get_config"),
]

INVARIANCE = """
def invariance_score(images, shift, pool_size):
    shifted = {shift}
    a = pool2d(images[..., None], pool_size).reshape(len(images), -1)
    b = pool2d(shifted[..., None], pool_size).reshape(len(images), -1)
    {score}
"""
ZERO_SHIFT = (
    "np.zeros_like(images); shifted[:, :, shift:] = images[:, :, : images.shape[2] - shift]"
)
PER_IMAGE = "return float(np.mean(np.sum(a * b, axis=1) / (np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1))))"

INVARIANCE_SCORE = [
    Entry(
        "invariance_score",
        "zero-filled shift (correct)",
        INVARIANCE.format(shift=ZERO_SHIFT, score=PER_IMAGE),
        None,
    ),
    Entry(
        "invariance_score",
        "np.roll",
        INVARIANCE.format(shift="np.roll(images, shift, axis=2)", score=PER_IMAGE),
        "np.roll wraps",
    ),
    Entry(
        "invariance_score",
        "one cosine over all images",
        INVARIANCE.format(
            shift=ZERO_SHIFT,
            score="return float(np.sum(a * b) / (np.linalg.norm(a) * np.linalg.norm(b)))",
        ),
        "per image, then the mean",
    ),
]

# -- notebook 01: the backward pass of pooling ---------------------------------------------------

BACKWARD_LOOP = """
def pool2d_backward(x, grad_output, pool_size, strides=None, mode="max", padding="valid"):
    kh, kw = (pool_size, pool_size) if isinstance(pool_size, int) else pool_size
    if strides is None:
        strides = (kh, kw)
    sh, sw = (strides, strides) if isinstance(strides, int) else strides
    batch, height, width, channels = x.shape
    out_h, out_w = grad_output.shape[1:3]
    total_h = max((out_h - 1) * sh + kh - height, 0)
    total_w = max((out_w - 1) * sw + kw - width, 0)
    top, left = (0, 0) if padding == "valid" else {split}
    grad = np.zeros(x.shape)
    b, c = np.indices((batch, channels))
    for i in range(out_h):
        for j in range(out_w):
            r0, c0 = max(i * sh - top, 0), max(j * sw - left, 0)
            r1, c1 = min(i * sh - top + kh, height), min(j * sw - left + kw, width)
            share = {share}
            if mode == "{avg}":
                grad[:, r0:r1, c0:c1, :] {assign} share[:, None, None, :] / {divisor}
            else:
                window = x[:, r0:r1, c0:c1, :]
                {route}
    return grad
"""
FIRST_LARGEST = """rows, cols = np.unravel_index(window.reshape(batch, -1, channels).argmax(axis=1), (r1 - r0, c1 - c0))
                grad[b, r0 + rows, c0 + cols, c] {assign} share"""
BACKWARD_RIGHT = dict(
    split="(total_h // 2, total_w // 2)",
    share="grad_output[:, i, j, :]",
    avg="avg",
    assign="+=",
    divisor="((r1 - r0) * (c1 - c0))",
    route=FIRST_LARGEST.format(assign="+="),
)


def backward_loop(**mistake) -> str:
    return BACKWARD_LOOP.format(**{**BACKWARD_RIGHT, **mistake})


POOL2D_BACKWARD = [
    Entry("pool2d_backward", "loop (correct)", backward_loop(), None),
    Entry(
        "pool2d_backward",
        "padded copy and np.add.at (correct)",
        """
def pool2d_backward(x, grad_output, pool_size, strides=None, mode="max", padding="valid"):
    kh, kw = (pool_size,) * 2 if isinstance(pool_size, int) else tuple(pool_size)
    sh, sw = (kh, kw) if strides is None else ((strides,) * 2 if isinstance(strides, int) else tuple(strides))
    n, h, w, ch = x.shape
    oh, ow = grad_output.shape[1:3]
    pad_h, pad_w = max((oh - 1) * sh + kh - h, 0), max((ow - 1) * sw + kw - w, 0)
    top, left = (pad_h // 2, pad_w // 2) if padding == "same" else (0, 0)
    fill = -np.inf if mode == "max" else np.nan
    padded = np.pad(x.astype(float), ((0, 0), (top, pad_h - top), (left, pad_w - left), (0, 0)),
                    constant_values=fill)
    grad = np.zeros(padded.shape)
    bi, ci = np.indices((n, ch))
    for i in range(oh):
        for j in range(ow):
            window = padded[:, i * sh:i * sh + kh, j * sw:j * sw + kw, :]
            g = grad_output[:, i, j, :]
            if mode == "avg":
                real = ~np.isnan(window)
                grad[:, i * sh:i * sh + kh, j * sw:j * sw + kw, :] += real * (g / real.sum(axis=(1, 2)))[:, None, None, :]
            else:
                k = window.reshape(n, kh * kw, ch).argmax(axis=1)
                np.add.at(grad, (bi, i * sh + k // kw, j * sw + k % kw, ci), g)
    return grad[:, top:top + h, left:left + w, :]
""",
        None,
    ),
    Entry(
        "pool2d_backward",
        "modes swapped",
        backward_loop(avg="max"),
        "gradient of avg pooling, not of max",
    ),
    Entry(
        "pool2d_backward",
        "grad_output ignored",
        backward_loop(share="np.ones((batch, channels))"),
        "grad_output was ignored",
    ),
    Entry(
        "pool2d_backward",
        "max gradient to the whole window",
        backward_loop(route="grad[:, r0:r1, c0:c1, :] += share[:, None, None, :]"),
        "the gradient went to every cell of the window",
    ),
    Entry(
        "pool2d_backward",
        "max gradient to every tied maximum",
        backward_loop(
            route="grad[:, r0:r1, c0:c1, :] += (window == window.max(axis=(1, 2), keepdims=True)) * share[:, None, None, :]"
        ),
        "every tied maximum",
    ),
    Entry(
        "pool2d_backward",
        "average not divided",
        backward_loop(divisor="1"),
        "each cell received the window's whole gradient",
    ),
    Entry(
        "pool2d_backward",
        "overlapping windows overwrite",
        backward_loop(assign="=", route=FIRST_LARGEST.format(assign="=")),
        "overwrote the gradient",
    ),
    Entry(
        "pool2d_backward",
        "average over the full window at the border",
        backward_loop(divisor="(kh * kw)"),
        "divided by the full window size",
    ),
    Entry(
        "pool2d_backward",
        "zero-filled border for max",
        backward_loop(
            route="""padded = np.pad(x, ((0, 0), (top, kh), (left, kw), (0, 0)))
                window = padded[:, i * sh:i * sh + kh, j * sw:j * sw + kw, :]
                k = window.reshape(batch, -1, channels).argmax(axis=1)
                rows, cols = i * sh - top + k // kw, j * sw - left + k % kw
                inside = (rows >= 0) & (rows < height) & (cols >= 0) & (cols < width)
                grad[b[inside], rows[inside], cols[inside], c[inside]] += share[inside]"""
        ),
        "'same' padding was filled with zeros: a padded cell won the max",
    ),
    Entry(
        "pool2d_backward",
        "divides a view of grad_output in place",
        backward_loop(
            share="""grad_output[:, i, j, :]
            if mode == "avg":
                share /= (r1 - r0) * (c1 - c0)  # share is a view: this divides grad_output itself""",
            divisor="1",
        ),
        "build the gradient in a new array",
    ),
    Entry(
        "pool2d_backward",
        "odd padding on top",
        backward_loop(split="(total_h - total_h // 2, total_w - total_w // 2)"),
        "the odd padding row/column went to the top/left",
    ),
]

# -- notebook 02 ---------------------------------------------------------------------------------

ZERO_PAD = [
    Entry(
        "zero_pad",
        "zeros and a slice (correct)",
        """
def zero_pad(x, pad):
    (t, b), (l, r) = ((pad, pad), (pad, pad)) if isinstance(pad, int) else pad
    out = np.zeros((x.shape[0], x.shape[1] + t + b, x.shape[2] + l + r, x.shape[3]), x.dtype)
    out[:, t : t + x.shape[1], l : l + x.shape[2], :] = x
    return out
""",
        None,
    ),
    Entry(
        "zero_pad",
        "every axis padded",
        "def zero_pad(x, pad):\n    return np.pad(x, pad) if isinstance(pad, int) else np.pad(x, ((0, 0), *pad, (0, 0)))\n",
        "batch and channel axes",
    ),
    Entry(
        "zero_pad",
        "pairs swapped",
        "def zero_pad(x, pad):\n    (t, b), (l, r) = ((pad, pad), (pad, pad)) if isinstance(pad, int) else pad\n    return np.pad(x, ((0, 0), (l, r), (t, b), (0, 0)))\n",
        "rows and columns swapped",
    ),
    Entry(
        "zero_pad",
        "edge values",
        "def zero_pad(x, pad):\n    (t, b), (l, r) = ((pad, pad), (pad, pad)) if isinstance(pad, int) else pad\n    return np.pad(x, ((0, 0), (t, b), (l, r), (0, 0)), mode='edge')\n",
        "zeros, not copies",
    ),
    Entry(
        "zero_pad",
        "an int pads after only",
        "def zero_pad(x, pad):\n    (t, b), (l, r) = ((0, pad), (0, pad)) if isinstance(pad, int) else pad\n    return np.pad(x, ((0, 0), (t, b), (l, r), (0, 0)))\n",
        "an int pads every side",
    ),
    Entry(
        "zero_pad",
        "Keras layer",
        "def zero_pad(x, pad):\n    return keras.layers.ZeroPadding2D(pad)(x).numpy()\n",
        "keras is from keras",
    ),
]

SIZE = """
def conv_output_size(n, k, s, padding):
    if padding == "valid":
        return {valid}
    if padding == "same":
        return {same}
    return {explicit}
"""


def size_function(
    valid="(n - k) // s + 1", same="math.ceil(n / s)", explicit="(n + 2 * padding - k) // s + 1"
) -> str:
    return SIZE.format(valid=valid, same=same, explicit=explicit)


CONV_OUTPUT_SIZE = [
    Entry("conv_output_size", "formula (correct)", size_function(), None),
    Entry("conv_output_size", "divmod (correct)", size_function(same="n // s + (n % s > 0)"), None),
    Entry(
        "conv_output_size",
        "no +1",
        size_function(valid="(n - k) // s", explicit="(n + 2 * padding - k) // s"),
        "needs the +1",
    ),
    Entry(
        "conv_output_size",
        "ceil",
        size_function(
            valid="math.ceil((n - k) / s) + 1", explicit="math.ceil((n + 2 * padding - k) / s) + 1"
        ),
        "floor, not ceil",
    ),
    Entry(
        "conv_output_size",
        "'same' as 'valid'",
        size_function(same="(n - k) // s + 1"),
        "'valid' formula for padding='same'",
    ),
    Entry(
        "conv_output_size",
        "padding added once",
        size_function(explicit="(n + padding - k) // s + 1"),
        "n + 2p, not n + p",
    ),
    Entry(
        "conv_output_size",
        "stride ignored",
        size_function(valid="n - k + 1", same="n", explicit="n + 2 * padding - k + 1"),
        "the stride was ignored",
    ),
    Entry(
        "conv_output_size", "true division", size_function(valid="(n - k) / s + 1"), "whole number"
    ),
]

SPLIT = """
def same_padding(n, k, s):
    total = {total}
    return {result}
"""


def split_function(
    total="max((math.ceil(n / s) - 1) * s + k - n, 0)", result="total // 2, total - total // 2"
):
    return SPLIT.format(total=total, result=result)


SAME_PADDING = [
    Entry("same_padding", "formula (correct)", split_function(), None),
    Entry(
        "same_padding",
        "odd row before",
        split_function(result="total - total // 2, total // 2"),
        "odd padding row after",
    ),
    Entry(
        "same_padding",
        "k - 1 in all",
        split_function(total="k - 1"),
        "k - 1 is the total only for stride 1",
    ),
    Entry(
        "same_padding",
        "negative total",
        split_function(total="(math.ceil(n / s) - 1) * s + k - n"),
        "cannot be negative",
    ),
    Entry(
        "same_padding",
        "a list",
        split_function(result="[total // 2, total - total // 2]"),
        "a tuple",
    ),
]

CONV = """
def conv2d(x, kernel, bias, strides=1, padding="valid"):
    kh, kw, _, filters = kernel.shape
    sh, sw = {strides}
    if padding == "same":
        x = zero_pad(x, {same_pads})
    elif padding != "valid":
        x = zero_pad(x, {explicit})
    batch, height, width, _ = x.shape
    out_h, out_w = (height - kh) // sh + 1, (width - kw) // sw + 1
    out = np.zeros((batch, out_h, out_w, filters), dtype={dtype})
    for i in range(out_h):
        for j in range(out_w):
            window = x[:, i * sh : i * sh + kh, j * sw : j * sw + kw, :]
            out[:, i, j, :] = {value}
    return out
"""
CONV_RIGHT = dict(
    strides="(strides, strides) if isinstance(strides, int) else strides",
    same_pads="(same_padding(x.shape[1], kh, sh), same_padding(x.shape[2], kw, sw))",
    explicit="padding",
    dtype="np.result_type(x, kernel)",
    value="np.tensordot(window, kernel, axes=([1, 2, 3], [0, 1, 2])) + bias",
)


def conv_loop(**mistake) -> str:
    return CONV.format(**{**CONV_RIGHT, **mistake})


CONV2D = [
    Entry("conv2d", "loop with tensordot (correct)", conv_loop(), None),
    Entry(
        "conv2d",
        "einsum over sliding windows (correct)",
        """
from numpy.lib.stride_tricks import sliding_window_view

def conv2d(x, kernel, bias, strides=1, padding="valid"):
    kh, kw = kernel.shape[:2]
    sh, sw = (strides, strides) if isinstance(strides, int) else strides
    if padding == "same":
        x = zero_pad(x, (same_padding(x.shape[1], kh, sh), same_padding(x.shape[2], kw, sw)))
    elif padding != "valid":
        x = zero_pad(x, padding)
    windows = sliding_window_view(x, (kh, kw), axis=(1, 2))[:, ::sh, ::sw]
    return np.einsum("bhwcij,ijcf->bhwf", windows, kernel) + bias
""",
        None,
    ),
    Entry(
        "conv2d",
        "im2col and a matrix product (correct)",
        """
def conv2d(x, kernel, bias, strides=1, padding="valid"):
    kh, kw, c, f = kernel.shape
    sh, sw = (strides, strides) if isinstance(strides, int) else strides
    if padding == "same":
        x = zero_pad(x, (same_padding(x.shape[1], kh, sh), same_padding(x.shape[2], kw, sw)))
    elif padding != "valid":
        x = zero_pad(x, padding)
    b, h, w, _ = x.shape
    oh, ow = (h - kh) // sh + 1, (w - kw) // sw + 1
    columns = np.stack([x[:, i * sh : i * sh + kh, j * sw : j * sw + kw, :].reshape(b, -1)
                        for i in range(oh) for j in range(ow)], axis=1)
    return (columns @ kernel.reshape(-1, f) + bias).reshape(b, oh, ow, f)
""",
        None,
    ),
    Entry(
        "conv2d",
        "warns on stderr (correct)",
        "import warnings\n"
        + conv_loop().replace(
            "    return out\n", '    warnings.warn("slow loop")\n    return out\n'
        ),
        None,
    ),
    Entry(
        "conv2d",
        "kernel flipped",
        conv_loop(
            value="np.tensordot(window, kernel[::-1, ::-1], axes=([1, 2, 3], [0, 1, 2])) + bias"
        ),
        "the kernel was flipped",
    ),
    Entry(
        "conv2d",
        "no bias",
        conv_loop(value="np.tensordot(window, kernel, axes=([1, 2, 3], [0, 1, 2]))"),
        "the bias was not added",
    ),
    Entry(
        "conv2d",
        "bias per tap",
        conv_loop(
            value="np.tensordot(window, kernel, axes=([1, 2, 3], [0, 1, 2])) + bias * kh * kw * kernel.shape[2]"
        ),
        "once per kernel tap",
    ),
    Entry("conv2d", "stride ignored", conv_loop(strides="1, 1"), "the stride was ignored"),
    Entry("conv2d", "'same' ignored", conv_loop(same_pads="0"), "padding='same' was ignored"),
    Entry(
        "conv2d",
        "'same' split evenly",
        conv_loop(
            same_pads="((same_padding(x.shape[1], kh, sh)[0],) * 2, (same_padding(x.shape[2], kw, sw)[0],) * 2)"
        ),
        "split evenly",
    ),
    Entry(
        "conv2d",
        "odd padding row on top",
        conv_loop(
            same_pads="(same_padding(x.shape[1], kh, sh)[::-1], same_padding(x.shape[2], kw, sw)[::-1])"
        ),
        "at the bottom/right, not the top/left",
    ),
    Entry(
        "conv2d",
        "kernel indexed [column, row]",
        conv_loop(
            value="np.tensordot(window, kernel.transpose(1, 0, 2, 3), axes=([1, 2, 3], [0, 1, 2])) + bias"
        ).replace("kh, kw, _, filters = kernel.shape", "kw, kh, _, filters = kernel.shape"),
        "kernel rows and columns swapped",
    ),
    Entry("conv2d", "integer output buffer", conv_loop(dtype="int"), "whole numbers"),
    Entry(
        "conv2d",
        "explicit padding after only",
        conv_loop(explicit="((0, padding), (0, padding))"),
        "padding p goes on every side",
    ),
    Entry(
        "conv2d",
        "tf.nn.conv2d in a helper",
        """
import tensorflow as tf

def _convolve(x, kernel, strides, padding):
    return tf.nn.conv2d(x, kernel, strides, padding).numpy()

def conv2d(x, kernel, bias, strides=1, padding="valid"):
    if not isinstance(padding, str):
        x, padding = zero_pad(x, padding), "valid"
    return _convolve(x, kernel, strides, padding.upper()) + bias
""",
        "conv2d -> _convolve: tf is from tensorflow",
    ),
]

SHAPE_TABLE_RIGHT = {
    "conv1": (32, 32, 16),
    "conv2": (30, 30, 32),
    "pool1": (14, 14, 32),
    "conv3": (6, 6, 64),
    "conv4": (6, 6, 64),
    "pool2": (2, 2, 64),
    "flatten": (256,),
    "logits": (10,),
}


# -- notebook 02: the backward pass of the convolution -------------------------------------------

CONV_BACKWARD = """
def conv2d_backward(x, kernel, grad_output, strides=1, padding="valid"):
    kh, kw, _, _ = kernel.shape
    sh, sw = (strides, strides) if isinstance(strides, int) else strides
    if padding == "same":
        pads = {same_pads}
    elif padding == "valid":
        pads = ((0, 0), (0, 0))
    else:
        pads = ((padding, padding), (padding, padding))
    padded = zero_pad(x, pads)
    grad_padded = np.zeros(padded.shape)
    grad_kernel = np.zeros(kernel.shape)
    for i in range(grad_output.shape[1]):
        for j in range(grad_output.shape[2]):
            rows, cols = slice(i * sh, i * sh + kh), slice(j * sw, j * sw + kw)
            g = grad_output[:, i, j, :]
            grad_padded[:, rows, cols, :] {assign} np.tensordot(g, {kernel}, axes=([1], [3]))
            grad_kernel += np.tensordot(padded[:, rows, cols, :], g, axes=([0], [0]))
    (top, _), (left, _) = pads
    grad_x = {grad_x}
    return {returned}
"""
CONV_BACKWARD_RIGHT = dict(
    same_pads="(same_padding(x.shape[1], kh, sh), same_padding(x.shape[2], kw, sw))",
    assign="+=",
    kernel="kernel",
    grad_x="grad_padded[:, top:top + x.shape[1], left:left + x.shape[2], :]",
    returned="grad_x, grad_kernel, grad_output.sum(axis=(0, 1, 2))",
)


def conv_backward_loop(**mistake) -> str:
    return CONV_BACKWARD.format(**{**CONV_BACKWARD_RIGHT, **mistake})


CONV2D_BACKWARD_ENTRIES = [
    Entry("conv2d_backward", "loop (correct)", conv_backward_loop(), None),
    Entry(
        "conv2d_backward",
        "full convolution with the flipped kernel (correct)",
        """
from numpy.lib.stride_tricks import sliding_window_view


def conv2d_backward(x, kernel, grad_output, strides=1, padding="valid"):
    kh, kw, c, f = kernel.shape
    sh, sw = (strides, strides) if isinstance(strides, int) else strides
    if padding == "same":
        pads = (same_padding(x.shape[1], kh, sh), same_padding(x.shape[2], kw, sw))
    else:
        p = 0 if padding == "valid" else padding
        pads = ((p, p), (p, p))
    padded = zero_pad(x, pads)
    b, oh, ow, _ = grad_output.shape
    # Spread grad_output back to stride 1, pad it by k - 1, then correlate with the flipped kernel.
    spread = np.zeros((b, (oh - 1) * sh + 1, (ow - 1) * sw + 1, f))
    spread[:, ::sh, ::sw, :] = grad_output
    full = np.pad(spread, ((0, 0), (kh - 1, kh - 1), (kw - 1, kw - 1), (0, 0)))
    windows = sliding_window_view(full, (kh, kw), axis=(1, 2))  # (b, H', W', f, kh, kw)
    grad_padded = np.zeros(padded.shape)
    covered = np.einsum("bhwfij,ijcf->bhwc", windows, kernel[::-1, ::-1])
    grad_padded[:, : covered.shape[1], : covered.shape[2], :] = covered
    patches = sliding_window_view(padded, (kh, kw), axis=(1, 2))[:, ::sh, ::sw][:, :oh, :ow]
    grad_kernel = np.einsum("bhwcij,bhwf->ijcf", patches, grad_output)
    (top, _), (left, _) = pads
    return grad_padded[:, top:top + x.shape[1], left:left + x.shape[2], :], grad_kernel, grad_output.sum(axis=(0, 1, 2))
""",
        None,
    ),
    Entry(
        "conv2d_backward",
        "full convolution, kernel not flipped",
        conv_backward_loop(kernel="kernel[::-1, ::-1]"),
        "the input gradient used the kernel turned by 180 degrees",
    ),
    Entry(
        "conv2d_backward",
        "overlapping windows overwrite",
        conv_backward_loop(assign="="),
        "a later window overwrote the gradient",
    ),
    Entry(
        "conv2d_backward",
        "padding not cropped",
        conv_backward_loop(grad_x="grad_padded"),
        "the gradient of the padded input was returned",
    ),
    Entry(
        "conv2d_backward",
        "odd 'same' row on top",
        conv_backward_loop(
            same_pads="(same_padding(x.shape[1], kh, sh)[::-1], same_padding(x.shape[2], kw, sw)[::-1])"
        ),
        "the odd padding row/column went to the top/left",
    ),
    Entry(
        "conv2d_backward",
        "kernel gradient averaged over the batch",
        conv_backward_loop(
            returned="grad_x, grad_kernel / len(x), grad_output.sum(axis=(0, 1, 2))"
        ),
        "averaged over the batch",
    ),
    Entry(
        "conv2d_backward",
        "kernel gradient averaged over positions",
        conv_backward_loop(
            returned="grad_x, grad_kernel / (grad_output.shape[1] * grad_output.shape[2]), "
            "grad_output.sum(axis=(0, 1, 2))"
        ),
        "averaged over the output positions",
    ),
    Entry(
        "conv2d_backward",
        "bias gradient averaged",
        conv_backward_loop(returned="grad_x, grad_kernel, grad_output.mean(axis=(0, 1, 2))"),
        "the bias gradient was averaged",
    ),
    Entry(
        "conv2d_backward",
        "returns the input gradient only",
        conv_backward_loop(returned="grad_x"),
        "return the three gradients together",
    ),
]


def shape_table(**changes) -> str:
    return f"shape_table = { ({**SHAPE_TABLE_RIGHT, **changes})!r}\n"


SHAPE_TABLE = [
    Entry("shape_table", "tuples (correct)", shape_table(), None),
    Entry(
        "shape_table",
        "lists (correct)",
        f"shape_table = { ({k: list(v) for k, v in SHAPE_TABLE_RIGHT.items()})!r}\n",
        None,
    ),
    Entry(
        "shape_table",
        "'valid' formula for conv1",
        shape_table(conv1=(30, 30, 16)),
        "'valid' formula for padding='same'",
    ),
    Entry(
        "shape_table",
        "channels multiplied by pooling",
        shape_table(pool1=(14, 14, 288)),
        "pooling keeps the number of channels",
    ),
    Entry("shape_table", "flatten of one channel", shape_table(flatten=(4,)), "Flatten multiplies"),
]

BROKEN = "broken_shapes = {shapes!r}\ncollapsing_layer = {layer!r}\n"
BROKEN_RIGHT = {"conv1": (6, 6, 96), "pool1": (2, 2, 96), "conv2": (2, 2, 256)}

BROKEN_SHAPES = [
    Entry(
        "broken_shapes",
        "the collapse found (correct)",
        BROKEN.format(shapes=BROKEN_RIGHT, layer="pool2"),
        None,
    ),
    Entry(
        "broken_shapes",
        "ceil everywhere",
        BROKEN.format(
            shapes={
                "conv1": (7, 7, 96),
                "pool1": (4, 4, 96),
                "conv2": (4, 4, 256),
                "pool2": (2, 2, 256),
            },
            layer="conv3",
        ),
        "floor, not ceil",
    ),
    Entry(
        "broken_shapes",
        "stride of conv1 ignored",
        BROKEN.format(shapes={**BROKEN_RIGHT, "conv1": (22, 22, 96)}, layer="pool2"),
        "the stride was ignored",
    ),
    Entry(
        "broken_shapes",
        "the collapse one layer late",
        BROKEN.format(shapes=BROKEN_RIGHT, layer="conv3"),
        "right after your last entry",
    ),
]

FIXED = """
def build_fixed_alexnet():
    L = keras.layers
    return keras.Sequential([
        keras.Input((32, 32, 3)),
        L.Conv2D(96, 3, padding="same", activation="relu"), {pool},
        L.Conv2D(256, 5, padding="same", activation="relu"), {pool},
        L.Conv2D(384, 3, padding="same", activation="relu"),
        L.Conv2D(384, 3, padding="same", activation="relu"),
        L.Conv2D(256, 3, padding="same", activation="relu"), {pool},
        L.Flatten(),
        L.Dense(10, activation={activation}),
    ])
"""

FIXED_ALEXNET = [
    Entry(
        "fixed_alexnet",
        "'same' convolutions (correct)",
        FIXED.format(pool="L.MaxPooling2D(3, 2)", activation='"softmax"'),
        None,
    ),
    Entry(
        "fixed_alexnet",
        "stride-2 first layer, 'valid' elsewhere (correct)",
        """
def build_fixed_alexnet():
    L = keras.layers
    inputs = keras.Input((32, 32, 3))
    x = L.Conv2D(64, 3, padding="same", activation="relu")(inputs)      # 32
    x = L.MaxPooling2D(3, 2)(x)                                          # 15
    x = L.Conv2D(128, 3, padding="same", activation="relu")(x)
    x = L.MaxPooling2D(3, 2)(x)                                          # 7
    x = L.Conv2D(192, 3, padding="same", activation="relu")(x)
    x = L.Conv2D(192, 3, padding="same", activation="relu")(x)
    x = L.Conv2D(128, 3, padding="valid", activation="relu")(x)         # 5
    x = L.MaxPooling2D(3, 2)(x)                                          # 2
    return keras.Model(inputs, L.Dense(10, activation="softmax")(L.Flatten()(x)))
""",
        None,
    ),
    Entry(
        "fixed_alexnet",
        "average pooling",
        FIXED.format(pool="L.AveragePooling2D(3, 2)", activation='"softmax"'),
        "overlapping max pooling",
    ),
    Entry(
        "fixed_alexnet",
        "2x2 pooling",
        FIXED.format(pool="L.MaxPooling2D(2, 2)", activation='"softmax"'),
        "keep AlexNet's overlapping pooling",
    ),
    Entry(
        "fixed_alexnet",
        "no softmax",
        FIXED.format(pool="L.MaxPooling2D(3, 2)", activation="None"),
        "softmax",
    ),
]

# -- notebook 04: receptive fields ----------------------------------------------------------------

FIELDS = """
def receptive_fields(layers):
    field, jump, fields = {start}, 1, []
    for kernel, stride in layers:
        {step}
        fields.append((field, jump))
    return {returned}
"""
FIELDS_RIGHT = dict(
    start="1",
    step="field += (kernel - 1) * jump\n        jump *= stride",
    returned="fields",
)


def fields_loop(**mistake) -> str:
    return FIELDS.format(**{**FIELDS_RIGHT, **mistake})


RECEPTIVE_FIELDS = [
    Entry("receptive_fields", "loop (correct)", fields_loop(), None),
    Entry(
        "receptive_fields",
        "closed form with running products (correct)",
        """
def receptive_fields(layers):
    out = []
    for depth in range(1, len(layers) + 1):
        jumps = [1]
        for _, stride in layers[:depth]:
            jumps.append(jumps[-1] * stride)
        field = 1 + sum((kernel - 1) * jumps[i] for i, (kernel, _) in enumerate(layers[:depth]))
        out.append((field, jumps[-1]))
    return out
""",
        None,
    ),
    Entry(
        "receptive_fields",
        "jump not carried",
        fields_loop(step="field += kernel - 1\n        jump *= stride"),
        "the jump was not carried",
    ),
    Entry(
        "receptive_fields",
        "stride applied first",
        fields_loop(step="jump *= stride\n        field += (kernel - 1) * jump"),
        "multiplied by the layer's stride before widening the field",
    ),
    Entry("receptive_fields", "field from 0", fields_loop(start="0"), "the field started at 0"),
    Entry(
        "receptive_fields",
        "the last layer only",
        fields_loop(returned="fields[-1]"),
        "return one (field, jump) pair per layer",
    ),
]

# -- notebook 03 ---------------------------------------------------------------------------------

LENET = """
def build_lenet5():
    L = keras.layers
    return keras.Sequential([
        keras.Input(({size}, {size}, 1)),
        L.Conv2D(6, 5, activation="{act}", padding="{padding}"), L.{pool}(2),
        L.Conv2D(16, 5, activation="tanh"), L.{pool}(2),
        L.Conv2D(120, 5, activation="tanh"), L.Flatten(),
        L.Dense(84, activation="tanh"),
        {output}
    ])
"""


def lenet(
    size=32,
    act="tanh",
    padding="valid",
    pool="AveragePooling2D",
    output='L.Dense(10, activation="softmax"),',
):
    return LENET.format(size=size, act=act, padding=padding, pool=pool, output=output)


BUILD_LENET5 = [
    Entry("build_lenet5", "Sequential (correct)", lenet(), None),
    Entry(
        "build_lenet5",
        "Dense then Softmax layer (correct)",
        lenet(output="L.Dense(10), L.Softmax(),"),
        None,
    ),
    Entry(
        "build_lenet5",
        "functional, C5 as Flatten + Dense (correct)",
        """
def build_lenet5():
    L = keras.layers
    inputs = keras.Input((32, 32, 1))
    x = L.AveragePooling2D(2)(L.Conv2D(6, 5, activation="tanh")(inputs))
    x = L.AveragePooling2D(2)(L.Activation("tanh")(L.Conv2D(16, 5)(x)))
    x = L.Dense(120, activation="tanh")(L.Flatten()(x))
    x = L.Dense(84, activation="tanh")(x)
    return keras.Model(inputs, L.Dense(10, activation="softmax")(x))
""",
        None,
    ),
    Entry("build_lenet5", "max pooling", lenet(pool="MaxPooling2D"), "subsamples by averaging"),
    Entry("build_lenet5", "ReLU", lenet(act="relu"), "tanh"),
    Entry("build_lenet5", "'same' C1", lenet(padding="same"), "'valid'"),
    Entry("build_lenet5", "28x28 input", lenet(size=28), "32x32"),
]

PRE = """
def preprocess(images):
    {body}
"""
PREPROCESS = [
    Entry(
        "preprocess",
        "pad then scale (correct)",
        PRE.format(
            body='return (-0.1 + np.pad(images, ((0, 0), (2, 2), (2, 2)))[..., None] / 255 * 1.275).astype("float32")'
        ),
        None,
    ),
    Entry(
        "preprocess",
        "scale then pad with the background value (correct)",
        PRE.format(
            body='x = (images.astype("float32") / 255) * 1.275 - 0.1\n    return np.pad(x, ((0, 0), (2, 2), (2, 2)), constant_values=-0.1)[..., None].astype("float32")'
        ),
        None,
    ),
    Entry(
        "preprocess",
        "Keras preprocessing layers (correct)",
        PRE.format(
            body='x = keras.layers.ZeroPadding2D(2)(images[..., None].astype("float32"))\n    return keras.ops.convert_to_numpy(keras.layers.Rescaling(1.275 / 255, offset=-0.1)(x))'
        ),
        None,
    ),
    Entry(
        "preprocess",
        "divided by the batch's maximum",
        PRE.format(
            body='x = np.pad(images, ((0, 0), (2, 2), (2, 2)))[..., None].astype("float32")\n    return (-0.1 + x / x.max() * 1.275).astype("float32")'
        ),
        "largest value in the batch",
    ),
    Entry(
        "preprocess",
        "scaled to 0..1",
        PRE.format(
            body='return (np.pad(images, ((0, 0), (2, 2), (2, 2)))[..., None] / 255).astype("float32")'
        ),
        "scaled to 0..1",
    ),
    Entry(
        "preprocess",
        "padded with 0 after scaling",
        PRE.format(
            body='x = (images / 255 * 1.275 - 0.1).astype("float32")\n    return np.pad(x, ((0, 0), (2, 2), (2, 2)))[..., None]'
        ),
        "padded with 0 after rescaling",
    ),
    Entry(
        "preprocess",
        "no channel axis",
        PRE.format(
            body='return (-0.1 + np.pad(images, ((0, 0), (2, 2), (2, 2))) / 255 * 1.275).astype("float32")'
        ),
        "channel axis is missing",
    ),
    Entry(
        "preprocess",
        "float64",
        PRE.format(
            body="return -0.1 + np.pad(images, ((0, 0), (2, 2), (2, 2)))[..., None] / 255 * 1.275"
        ),
        "float32",
    ),
]

FLATTEN_SIZES = [
    Entry(
        "flatten_sizes",
        "computed (correct)",
        "size_for_36 = 16 * 6 * 6\nsize_for_24 = 16 * 3 * 3\n",
        None,
    ),
    Entry(
        "flatten_sizes",
        "poolings forgotten",
        "size_for_36 = 16 * 28 * 28\nsize_for_24 = 16 * 16 * 16\n",
        "the poolings halve the size twice",
    ),
    Entry(
        "flatten_sizes",
        "one map",
        "size_for_36 = 6 * 6\nsize_for_24 = 3 * 3\n",
        "Flatten multiplies by S4's 16 maps",
    ),
]

# The recipe's compile and fit, with switches for the mistakes below.
TRAIN = """
def train_lenet5(model, training_batches, validation_data, epochs=12, callbacks=()):
    schedule = {schedule}
    model.compile(optimizer={optimizer}, loss={loss}, metrics={metrics})
    {keep}model.fit(training_batches, validation_data={validation}, epochs={epochs},
                     callbacks={callbacks}{extra})
"""
TRAIN_RIGHT = dict(
    schedule="keras.optimizers.schedules.CosineDecay(0.05, decay_steps=epochs * len(training_batches))",
    optimizer="keras.optimizers.SGD(schedule, momentum=0.9, nesterov=True)",
    loss="keras.losses.CategoricalCrossentropy(label_smoothing=0.1)",
    metrics='["accuracy"]',
    keep="return ",
    validation="validation_data",
    epochs="epochs",
    callbacks="[*callbacks, keras.callbacks.TerminateOnNaN()]",
    extra="",
)


def train(**mistake) -> str:
    return TRAIN.format(**{**TRAIN_RIGHT, **mistake})


TRAIN_LENET5 = [
    Entry("train_lenet5", "the recipe (correct)", train(), None),
    Entry(
        "train_lenet5",
        "history kept, then returned; callbacks appended (correct)",
        """
def train_lenet5(model, training_batches, validation_data, epochs=12, callbacks=()):
    steps = len(training_batches) * epochs
    sgd = keras.optimizers.SGD(learning_rate=keras.optimizers.schedules.CosineDecay(
        initial_learning_rate=0.05, decay_steps=steps, alpha=0.0), momentum=0.9, nesterov=True)
    model.compile(sgd, keras.losses.CategoricalCrossentropy(label_smoothing=0.1), metrics=["accuracy"])
    history = model.fit(training_batches, epochs=epochs, validation_data=validation_data,
                        callbacks=list(callbacks) + [keras.callbacks.TerminateOnNaN()], verbose=0)
    return history
""",
        None,
    ),
    Entry(
        "train_lenet5",
        "TerminateOnNaN that raises (correct)",
        train(callbacks="[*callbacks, keras.callbacks.TerminateOnNaN(raise_error=True)]"),
        None,
    ),
    Entry(
        "train_lenet5",
        "loss by name with smoothing in a function (correct)",
        train(loss="lambda y, p: keras.losses.categorical_crossentropy(y, p, label_smoothing=0.1)"),
        None,
    ),
    Entry(
        "train_lenet5",
        "nothing written but a return",
        "def train_lenet5(model, training_batches, validation_data, epochs=12, callbacks=()):\n    return None\n",
        "call model.compile",
    ),
    Entry(
        "train_lenet5",
        "constant learning rate",
        train(schedule="0.05"),
        "the learning rate stays 0.05",
    ),
    Entry(
        "train_lenet5",
        "decay_steps in epochs",
        train(schedule="keras.optimizers.schedules.CosineDecay(0.05, decay_steps=epochs)"),
        "decay_steps counts steps (batches)",
    ),
    Entry(
        "train_lenet5",
        "decay over the recipe's 12 epochs",
        train(schedule="keras.optimizers.schedules.CosineDecay(0.05, 12 * len(training_batches))"),
        "the recipe's 12 epochs, not `epochs`",
    ),
    Entry(
        "train_lenet5",
        "another starting rate",
        train(
            schedule="keras.optimizers.schedules.CosineDecay(0.01, epochs * len(training_batches))"
        ),
        "the recipe starts at 0.05",
    ),
    Entry(
        "train_lenet5",
        "exponential decay",
        train(
            schedule="keras.optimizers.schedules.ExponentialDecay(0.05, len(training_batches), 0.5)"
        ),
        "the recipe's schedule is CosineDecay",
    ),
    Entry(
        "train_lenet5", "Adam", train(optimizer='"adam"'), "the recipe: sgd at learning rate 0.05"
    ),
    Entry(
        "train_lenet5",
        "momentum without Nesterov",
        train(optimizer="keras.optimizers.SGD(schedule, momentum=0.9)"),
        "the recipe: sgd",
    ),
    Entry(
        "train_lenet5",
        "notebook 04's weight decay",
        train(
            optimizer="keras.optimizers.SGD(schedule, momentum=0.9, nesterov=True, weight_decay=5e-4)"
        ),
        "leave weight_decay out",
    ),
    Entry(
        "train_lenet5",
        "no label smoothing",
        train(loss='"categorical_crossentropy"'),
        "the loss has no label smoothing",
    ),
    Entry(
        "train_lenet5",
        "from_logits on softmax outputs",
        train(loss="keras.losses.CategoricalCrossentropy(from_logits=True, label_smoothing=0.1)"),
        "from_logits stays False",
    ),
    Entry("train_lenet5", "no accuracy metric", train(metrics="[]"), "metrics=['accuracy']"),
    Entry(
        "train_lenet5",
        "accuracy logged as 'acc'",  # Keras 3 logs it under the name given: no "accuracy" curve
        train(metrics='["acc"]'),
        "metrics=['accuracy']",
    ),
    Entry(
        "train_lenet5", "no validation", train(validation="None"), "validation_data=validation_data"
    ),
    Entry("train_lenet5", "the recipe's 12 epochs", train(epochs="12"), "not the recipe's 12"),
    Entry("train_lenet5", "a fixed 10 epochs", train(epochs="10"), "fit(..., epochs=epochs)"),
    Entry(
        "train_lenet5",
        "half an epoch per epoch",
        train(extra=", steps_per_epoch=len(training_batches) // 2"),
        "fit on training_batches itself",
    ),
    Entry(
        "train_lenet5",
        "the given callbacks dropped",
        train(callbacks="[keras.callbacks.TerminateOnNaN()]"),
        "pass the `callbacks` argument on to fit",
    ),
    Entry(
        "train_lenet5", "no TerminateOnNaN", train(callbacks="list(callbacks)"), "TerminateOnNaN()"
    ),
    Entry("train_lenet5", "History not returned", train(keep=""), "return model.fit(...)"),
]

# -- notebook 04 ---------------------------------------------------------------------------------

ALEX = """
def build_alexnet(groups=1):
    L = keras.layers
    return keras.Sequential([
        keras.Input(({size}, {size}, 3)),
        L.Conv2D(96, 11, strides=4, activation="relu"), {after_conv1}
        L.MaxPooling2D({pool}),
        L.Conv2D(256, {conv2}, padding="same", activation="relu", groups=groups),
        L.MaxPooling2D({pool}),
        L.Conv2D(384, 3, padding="same", activation="relu"),
        L.Conv2D(384, 3, padding="same", activation="relu", groups=groups),
        L.Conv2D(256, 3, padding="same", activation="relu", groups=groups),
        L.MaxPooling2D({pool}),
        L.Flatten(),
        L.Dense(4096, activation="relu"), {dropout}
        L.Dense(4096, activation="relu"), L.Dropout(0.5),
        L.Dense(1000, activation="softmax"),
    ])
"""


def alexnet(size=227, after_conv1="", pool="3, 2", conv2=5, dropout="L.Dropout(0.5),"):
    return ALEX.format(size=size, after_conv1=after_conv1, pool=pool, conv2=conv2, dropout=dropout)


BUILD_ALEXNET = [
    Entry("build_alexnet", "Sequential (correct)", alexnet(), None),
    Entry(
        "build_alexnet",
        "ReLU as separate layers (correct)",
        alexnet()
        .replace(', activation="relu"', "")
        .replace("L.Dense(4096),", "L.Dense(4096), L.ReLU(),")
        .replace("strides=4),", 'strides=4), L.Activation("relu"),')
        .replace('padding="same"),', 'padding="same"), L.ReLU(),')
        .replace("groups=groups),", "groups=groups), L.ReLU(),"),
        None,
    ),
    Entry("build_alexnet", "conv2 3x3", alexnet(conv2=3), "5x5"),
    Entry("build_alexnet", "2x2 pooling", alexnet(pool="2, 2"), "overlapping pooling"),
    Entry("build_alexnet", "224 input", alexnet(size=224), "227"),
    Entry(
        "build_alexnet",
        "BatchNormalization after conv1",
        alexnet(after_conv1="L.BatchNormalization(),"),
        "predates batch normalization",
    ),
    Entry(
        "build_alexnet",
        "dropout after fc6 missing",
        alexnet(dropout=""),
        "dropout follows fc6 and fc7",
    ),
]

LRN = """
def lrn(a, k=2.0, n=5, alpha=1e-4, beta=0.75):
    a = np.asarray(a, dtype=np.float64)
    channels = a.shape[-1]
    sums = np.zeros_like(a)
    for i in range(channels):
        {window}
        sums[..., i] = {terms}.sum(axis=-1)
    return {result}
"""


def lrn_function(
    window="low, high = max(0, i - n // 2), min(channels, i + n // 2 + 1)",
    terms="(a[..., low:high] ** 2)",
    result="a / (k + alpha * sums) ** beta",
):
    return LRN.format(window=window, terms=terms, result=result)


LRN_ENTRIES = [
    Entry("lrn", "loop (correct)", lrn_function(), None),
    Entry(
        "lrn",
        "cumulative sums (correct)",
        """
def lrn(a, k=2.0, n=5, alpha=1e-4, beta=0.75):
    a = np.asarray(a, dtype=np.float64)
    r, c = n // 2, a.shape[-1]
    padded = np.concatenate([np.zeros(a.shape[:-1] + (r + 1,)), a ** 2, np.zeros(a.shape[:-1] + (r,))], axis=-1)
    cumulative = np.cumsum(padded, axis=-1)
    sums = cumulative[..., 2 * r + 1 :] - cumulative[..., : c]
    return a / (k + alpha * sums) ** beta
""",
        None,
    ),
    Entry(
        "lrn",
        "alpha / n",
        lrn_function(result="a / (k + alpha / n * sums) ** beta"),
        "alpha was divided by n",
    ),
    Entry(
        "lrn",
        "window wraps around",
        lrn_function(
            window="idx = [(i + d) % channels for d in range(-(n // 2), n // 2 + 1)]",
            terms="(a[..., idx] ** 2)",
        ),
        "must not wrap around",
    ),
    Entry("lrn", "not squared", lrn_function(terms="a[..., low:high]"), "squared activations"),
    Entry(
        "lrn",
        "k outside the power",
        lrn_function(result="a / (k + (alpha * sums) ** beta)"),
        "k goes inside the power",
    ),
    Entry(
        "lrn",
        "n channels on each side",
        lrn_function(window="low, high = max(0, i - n), min(channels, i + n + 1)"),
        "n channels on each side",
    ),
    Entry(
        "lrn",
        "tf.nn",
        "import tensorflow as tf\n\ndef lrn(a, k=2.0, n=5, alpha=1e-4, beta=0.75):\n    return tf.nn.local_response_normalization(a, n // 2, k, alpha, beta).numpy()\n",
        "tf is from tensorflow",
    ),
]

MACS = """
def multiply_adds(layer):
    {body}
"""
MULTIPLY_ADDS = [
    Entry(
        "multiply_adds",
        "kernel size times output positions (correct)",
        MACS.format(
            body="return int(np.prod(layer.kernel.shape)) * int(np.prod(layer.output.shape[1:-1]))"
        ),
        None,
    ),
    Entry(
        "multiply_adds",
        "from the config, with groups (correct)",
        MACS.format(
            body="""config = layer.get_config()
    if "units" in config:
        return int(np.prod(layer.input.shape[1:])) // layer.input.shape[-1] * layer.input.shape[-1] * config["units"]
    kh, kw = config["kernel_size"]
    c_in = layer.input.shape[-1] // config["groups"]
    h, w = layer.output.shape[1:3]
    return kh * kw * c_in * config["filters"] * h * w"""
        ),
        None,
    ),
    Entry(
        "multiply_adds",
        "FLOPs",
        MACS.format(
            body="return 2 * int(np.prod(layer.kernel.shape)) * int(np.prod(layer.output.shape[1:-1]))"
        ),
        "that is FLOPs",
    ),
    Entry(
        "multiply_adds",
        "bias counted",
        MACS.format(
            body="return (int(np.prod(layer.kernel.shape)) + layer.kernel.shape[-1]) * int(np.prod(layer.output.shape[1:-1]))"
        ),
        "a bias is an addition",
    ),
    Entry(
        "multiply_adds",
        "groups ignored",
        MACS.format(
            body="""if len(layer.kernel.shape) == 2:
        return int(np.prod(layer.kernel.shape)) * int(np.prod(layer.output.shape[1:-1]))
    kh, kw, _, filters = layer.kernel.shape
    return kh * kw * layer.input.shape[-1] * filters * int(np.prod(layer.output.shape[1:3]))"""
        ),
        "each filter sees only its group's",
    ),
    Entry(
        "multiply_adds",
        "weights only",
        MACS.format(body="return int(np.prod(layer.kernel.shape))"),
        "used again at every output position",
    ),
    Entry(
        "multiply_adds",
        "float",
        MACS.format(
            body="return float(np.prod(layer.kernel.shape) * np.prod(layer.output.shape[1:-1]))"
        ),
        "whole number",
    ),
]

CIFAR = """
def build_cifar_alexnet():
    L = keras.layers

    def block(filters, kernel):
        return [{conv}, L.BatchNormalization(), L.ReLU()]

    return keras.Sequential([
        keras.Input((32, 32, 3)),
        {front}
        *block(32, 3), L.MaxPooling2D({pool}),
        *block(64, 5), L.MaxPooling2D({pool}),
        *block(96, 3), *block(96, 3), *block(64, 3), L.MaxPooling2D({pool}),
        L.Flatten(),
        L.Dense(512, activation="relu"), L.Dropout(0.3),
        L.Dense(512, activation="relu"), L.Dropout(0.3),
        {output}
    ])
"""


def cifar(
    conv='L.Conv2D(filters, kernel, padding="same", use_bias=False)',
    front='L.RandomFlip("horizontal"), L.Rescaling(1 / 255),',
    pool="3, 2",
    output='L.Dense(10, activation="softmax"),',
):
    return CIFAR.format(conv=conv, front=front, pool=pool, output=output)


BUILD_CIFAR_ALEXNET = [
    Entry("build_cifar_alexnet", "Sequential (correct)", cifar(), None),
    Entry(
        "build_cifar_alexnet",
        "rescaling before the flip, Dense then Softmax (correct)",
        cifar(
            front='L.Rescaling(1 / 255), L.RandomFlip("horizontal"),',
            output="L.Dense(10), L.Softmax(),",
        ),
        None,
    ),
    Entry(
        "build_cifar_alexnet",
        "ZeroPadding2D and 'valid' convolutions (correct)",
        cifar(
            conv="*[L.ZeroPadding2D(kernel // 2), L.Conv2D(filters, kernel, use_bias=False)]"
        ).replace("return [*[", "return [*["),
        None,
    ),
    Entry(
        "build_cifar_alexnet",
        "biases in the convolutions",
        cifar(conv='L.Conv2D(filters, kernel, padding="same")'),
        "use_bias=False",
    ),
    Entry("build_cifar_alexnet", "2x2 pooling", cifar(pool="2, 2"), "overlapping pooling"),
    Entry(
        "build_cifar_alexnet",
        "vertical flips",
        cifar(front='L.RandomFlip("vertical"), L.Rescaling(1 / 255),'),
        "left-right",
    ),
    Entry("build_cifar_alexnet", "no flip", cifar(front="L.Rescaling(1 / 255),"), "RandomFlip"),
]

# The CIFAR-10 recipe's compile and fit: notebook 03's, with a warm-up and weight decay.
TRAIN_CIFAR = """
def train_cifar_alexnet(model, training_batches, validation_data, epochs=6, callbacks=()):
    warmup_steps = len(training_batches)
    schedule = {schedule}
    model.compile(optimizer={optimizer}, loss=keras.losses.CategoricalCrossentropy(label_smoothing=0.1),
                  metrics=["accuracy"])
    return model.fit(training_batches, validation_data=validation_data, epochs=epochs,
                     callbacks=[*callbacks, keras.callbacks.TerminateOnNaN()])
"""
TRAIN_CIFAR_RIGHT = dict(
    schedule="keras.optimizers.schedules.CosineDecay(0.0, epochs * len(training_batches) - warmup_steps, "
    "warmup_target=0.08, warmup_steps=warmup_steps)",
    optimizer="keras.optimizers.SGD(schedule, momentum=0.9, nesterov=True, weight_decay=5e-4)",
)


def train_cifar(**mistake) -> str:
    return TRAIN_CIFAR.format(**{**TRAIN_CIFAR_RIGHT, **mistake})


TRAIN_CIFAR_ALEXNET = [
    Entry("train_cifar_alexnet", "the recipe (correct)", train_cifar(), None),
    Entry(
        "train_cifar_alexnet",
        "keyword arguments, alpha=0 spelt out (correct)",
        train_cifar(
            schedule="keras.optimizers.schedules.CosineDecay(initial_learning_rate=0.0, "
            "decay_steps=(epochs - 1) * len(training_batches), alpha=0.0, warmup_target=0.08, "
            "warmup_steps=len(training_batches))"
        ),
        None,
    ),
    Entry(
        "train_cifar_alexnet",
        "nothing written but a return",
        "def train_cifar_alexnet(model, training_batches, validation_data, epochs=6, callbacks=()):\n"
        "    return None\n",
        "call model.compile",
    ),
    Entry(
        "train_cifar_alexnet",
        "notebook 03's schedule: no warm-up",
        train_cifar(
            schedule="keras.optimizers.schedules.CosineDecay(0.08, epochs * len(training_batches))"
        ),
        "the recipe rises from 0 over the first epoch",
    ),
    Entry(
        "train_cifar_alexnet",
        "the warm-up counted in decay_steps",
        train_cifar(
            schedule="keras.optimizers.schedules.CosineDecay(0.0, epochs * len(training_batches), "
            "warmup_target=0.08, warmup_steps=warmup_steps)"
        ),
        "decay_steps counts the steps after the warm-up",
    ),
    Entry(
        "train_cifar_alexnet",
        "the recipe's 6 epochs",
        train_cifar(
            schedule="keras.optimizers.schedules.CosineDecay(0.0, 6 * len(training_batches) - warmup_steps, "
            "warmup_target=0.08, warmup_steps=warmup_steps)"
        ),
        "the recipe's 6 epochs, not `epochs`",
    ),
    Entry(
        "train_cifar_alexnet",
        "no weight decay",
        train_cifar(optimizer="keras.optimizers.SGD(schedule, momentum=0.9, nesterov=True)"),
        "weight_decay=0.0005",
    ),
    Entry(
        "train_cifar_alexnet",
        "Adam",
        train_cifar(optimizer="keras.optimizers.Adam(schedule)"),
        "the recipe: sgd at learning rate 0.08",
    ),
]

# More single mistakes, one for each remaining cause the checks can name.
MORE = [
    Entry(
        "pool2d",
        "mean for every mode",
        pool_loop().replace('"max": np.nanmax', '"max": np.nanmean'),
        "you computed avg pooling, not max pooling",
    ),
    Entry(
        "pool2d",
        "min as max(-x)",
        pool_loop(
            assign='out[:, i, j, :] = np.nanmax(-window, axis=(1, 2)) if mode == "min" else reduce(window, axis=(1, 2))'
        ),
        "negated the input but not the output",
    ),
    Entry(
        "pool2d",
        "zeros counted in the average",
        pool_loop().replace(
            "constant_values=np.nan", 'constant_values=0 if mode == "avg" else np.nan'
        ),
        "padded zeros were counted in the mean",
    ),
    Entry(
        "pool2d",
        "'valid' padded as 'same'",
        pool_loop().replace('if padding == "valid":', "if False:"),
        "you padded as for 'same'",
    ),
    Entry(
        "pool_output_shape",
        "strides=None taken as 1",
        SHAPE_FUNCTION.replace(
            "sh, sw = (kh, kw) if strides is None", "sh, sw = (1, 1) if strides is None"
        ).format(
            valid="((height - kh) // sh + 1, (width - kw) // sw + 1, channels)",
            same="(math.ceil(height / sh), math.ceil(width / sw), channels)",
        ),
        "strides=None means strides = pool_size",
    ),
    Entry(
        "pool_output_shape",
        "'same' formula for 'valid'",
        shape_function(valid="(math.ceil(height / sh), math.ceil(width / sw), channels)"),
        "you used the 'same' formula for padding='valid'",
    ),
    Entry("conv_output_size", "floor in 'same'", size_function(same="n // s"), "'same' rounds up"),
    Entry(
        "lrn",
        "multiplied",
        lrn_function(result="a * (k + alpha * sums) ** beta"),
        "do not multiply",
    ),
    Entry(
        "lrn",
        "no power",
        lrn_function(result="a / (k + alpha * sums)"),
        "raise the denominator to the power beta",
    ),
    Entry(
        "preprocess",
        "not rescaled",
        PRE.format(
            body='return np.pad(images, ((0, 0), (2, 2), (2, 2)))[..., None].astype("float32")'
        ),
        "the pixels were not rescaled",
    ),
    Entry(
        "zero_pad",
        "pairs read as (after, before)",
        "def zero_pad(x, pad):\n    (b, t), (r, l) = ((pad, pad), (pad, pad)) if isinstance(pad, int) else pad\n    return np.pad(x, ((0, 0), (t, b), (l, r), (0, 0)))\n",
        "each pair is (before, after)",
    ),
    Entry(
        "same_padding",
        "split evenly",
        split_function(result="total // 2, total // 2"),
        "cannot be split symmetrically",
    ),
    Entry(
        "conv2d",
        "explicit padding ignored",
        conv_loop(explicit="0"),
        "the explicit padding was ignored",
    ),
]

# One wrong answer for each cause not named above (tests/test_answer_corpus.py checks that
# every cause in grader/checks is named for some answer).
COVERAGE = [
    Entry(
        "pool2d",
        "np.mean where a window holds padding",
        pool_loop().replace('"avg": np.nanmean', '"avg": np.mean'),
        "your output contains NaN",
    ),
    Entry(
        "pool2d",
        "one window short in 'valid'",
        pool_loop(valid_size="(height - kh) // sh, (width - kw) // sw"),
        "one window short along each axis",
    ),
    Entry(
        "pool2d",
        "zeros in min pooling's 'same' border",
        pool_loop().replace(
            "constant_values=np.nan", 'constant_values=0 if mode == "min" else np.nan'
        ),
        "min pooling must ignore padded cells",
    ),
    Entry(
        "pool2d",
        "pool_size and strides both read as (width, height)",
        pool_loop()
        .replace("kh, kw = (pool_size, pool_size)", "kw, kh = (pool_size, pool_size)")
        .replace("sh, sw = (strides, strides)", "sw, sh = (strides, strides)"),
        "rows and columns swapped",
    ),
    Entry(
        "pool2d",
        "reduced over the batch too",
        pool_loop(assign="out[:, i, j, :] = reduce(window, axis=(0, 1, 2))"),
        "reduced over the batch too",
    ),
    Entry(
        "pool2d",
        "negates x in place for min pooling",
        pool_loop().replace(
            "    batch, height, width, channels = x.shape\n",
            "    batch, height, width, channels = x.shape\n"
            '    if mode == "min":\n'
            "        np.negative(x, out=x)\n"
            '        return -pool2d(x, pool_size, strides, "max", padding)\n',
        ),
        "copy the input",
    ),
    Entry(
        "pool_output_shape",
        "pool_size and strides read as (width, height)",
        shape_function(
            valid="((height - kw) // sw + 1, (width - kh) // sh + 1, channels)",
            same="(math.ceil(height / sw), math.ceil(width / sh), channels)",
        ),
        "rows and columns swapped",
    ),
    Entry(
        "MinPooling2D",
        "strides default to 1 in the layer",
        min_layer().replace("strides=None, padding", "strides=1, padding"),
        "strides must default to the pool size",
    ),
    Entry(
        "MinPooling2D",
        "compute_output_shape drops the batch axis",
        min_layer(shape="self.max_pool.compute_output_shape(input_shape)[1:]"),
        "return a tuple like the input_shape you were given",
    ),
    Entry(
        "invariance_score",
        "shifted left",
        INVARIANCE.format(
            shift="np.zeros_like(images); shifted[:, :, : images.shape[2] - shift] = images[:, :, shift:]",
            score=PER_IMAGE,
        ),
        "shifted left (or down), not right",
    ),
    Entry(
        "invariance_score",
        "overlapping windows",
        INVARIANCE.format(shift=ZERO_SHIFT, score=PER_IMAGE).replace(
            "pool_size).reshape", "pool_size, strides=1).reshape"
        ),
        "must not overlap here",
    ),
    Entry(
        "invariance_score",
        "one score per image",
        INVARIANCE.format(
            shift=ZERO_SHIFT,
            score="return np.sum(a * b, axis=1) / (np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1))",
        ),
        "average the per-image similarities",
    ),
    Entry(
        "zero_pad",
        "clears the input after padding",
        """
def zero_pad(x, pad):
    (t, b), (l, r) = ((pad, pad), (pad, pad)) if isinstance(pad, int) else pad
    out = np.pad(x, ((0, 0), (t, b), (l, r), (0, 0)))
    x.fill(0)  # free the input's values: they live on in the padded copy
    return out
""",
        "build a new array",
    ),
    Entry(
        "conv_output_size",
        "'same' as padding (k - 1) // 2",
        size_function(same="(n + 2 * ((k - 1) // 2) - k) // s + 1"),
        "'same' is not 'pad (k - 1) // 2 on each side'",
    ),
    Entry(
        "shape_table",
        "batch axis included",
        shape_table(conv1=(None, 32, 32, 16)),
        "no batch axis",
    ),
    Entry(
        "shape_table",
        "a guess for conv1",
        shape_table(conv1=(31, 31, 16)),
        "work it out from the layer's settings",
    ),
    Entry(
        "shape_table",
        "a layer left out",
        f"shape_table = { ({k: v for k, v in SHAPE_TABLE_RIGHT.items() if k != 'logits'})!r}\n",
        "missing ['logits']",
    ),
    Entry(
        "shape_table",
        "layers in another order",
        f"shape_table = {dict(reversed(list(SHAPE_TABLE_RIGHT.items())))!r}\n",
        "list the layers in the model's order",
    ),
    Entry(
        "shape_table",
        "a misspelt name",
        f"shape_table = { ({**SHAPE_TABLE_RIGHT, 'dense': (10,)})!r}\n",
        "name no layer of the model",
    ),
    Entry(
        "broken_shapes",
        "a shape listed for the layer that collapses",
        BROKEN.format(shapes={**BROKEN_RIGHT, "pool2": (0, 0, 256)}, layer="pool2"),
        "a layer that Keras cannot build",
    ),
    Entry(
        "broken_shapes",
        "stops before conv2",
        BROKEN.format(
            shapes={k: v for k, v in BROKEN_RIGHT.items() if k != "conv2"}, layer="conv2"
        ),
        "the table stops too early",
    ),
    Entry(
        "broken_shapes",
        "a layer the model does not have",
        BROKEN.format(shapes=BROKEN_RIGHT, layer="conv2d_3"),
        "is not a layer of the model",
    ),
    Entry(
        "fixed_alexnet",
        "grayscale input",
        FIXED.format(pool="L.MaxPooling2D(3, 2)", activation='"softmax"').replace(
            "(32, 32, 3)", "(32, 32, 1)"
        ),
        "32x32 with 3 channels",
    ),
    Entry(
        "fixed_alexnet",
        "a convolution left out",
        FIXED.format(pool="L.MaxPooling2D(3, 2)", activation='"softmax"').replace(
            '        L.Conv2D(384, 3, padding="same", activation="relu"),\n', "", 1
        ),
        "keep AlexNet's structure",
    ),
    Entry(
        "fixed_alexnet",
        "ImageNet's 1000 classes",
        FIXED.format(pool="L.MaxPooling2D(3, 2)", activation='"softmax"').replace(
            "Dense(10,", "Dense(1000,"
        ),
        "end with Dense(10, activation='softmax')",
    ),
    Entry(
        "build_lenet5",
        "RGB input",
        lenet().replace("(32, 32, 1)", "(32, 32, 3)"),
        "one channel",
    ),
    Entry("build_lenet5", "no softmax", lenet(output="L.Dense(10),"), "class probabilities"),
    Entry(
        "build_lenet5",
        "'same' C3",
        lenet().replace(
            'L.Conv2D(16, 5, activation="tanh")',
            'L.Conv2D(16, 5, activation="tanh", padding="same")',
        ),
        "14x14 becomes 10x10",
    ),
    Entry(
        "build_lenet5",
        "3x3 C5",
        lenet().replace("L.Conv2D(120, 5", "L.Conv2D(120, 3"),
        "C5 is a 5x5 convolution on the 5x5 map",
    ),
    Entry(
        "build_lenet5",
        "a second output layer",
        lenet(output='L.Dense(10, activation="softmax"), L.Dense(10, activation="softmax"),'),
        "remove the extra layers",
    ),
    Entry(
        "preprocess",
        "4 pixels on one side",
        PRE.format(
            body='return (-0.1 + np.pad(images, ((0, 0), (0, 4), (0, 4)))[..., None] / 255 * 1.275).astype("float32")'
        ),
        "not 4 on one side",
    ),
    Entry(
        "build_alexnet",
        "7x7 conv1",
        alexnet().replace("Conv2D(96, 11,", "Conv2D(96, 7,"),
        "conv1 has 96 kernels of 11x11x3",
    ),
    Entry(
        "build_alexnet",
        "conv1 stride 5",
        alexnet().replace("strides=4", "strides=5"),
        "strides=4",
    ),
    Entry(
        "build_alexnet",
        "'same' conv1",
        alexnet().replace(
            'strides=4, activation="relu"', 'strides=4, padding="same", activation="relu"'
        ),
        "conv1 is 'valid'",
    ),
    Entry(
        "build_alexnet",
        "128 kernels in conv2",
        alexnet().replace("L.Conv2D(256, 5,", "L.Conv2D(128, 5,"),
        "conv2 has 256 kernels",
    ),
    Entry(
        "build_alexnet",
        "'valid' conv3",
        alexnet().replace('L.Conv2D(384, 3, padding="same"', 'L.Conv2D(384, 3, padding="valid"', 1),
        "keep the map size",
    ),
    Entry(
        "build_alexnet",
        "tanh in conv3",
        alexnet().replace(
            'L.Conv2D(384, 3, padding="same", activation="relu")',
            'L.Conv2D(384, 3, padding="same", activation="tanh")',
            1,
        ),
        "uses ReLU",
    ),
    Entry(
        "build_alexnet",
        "no softmax",
        alexnet().replace('L.Dense(1000, activation="softmax")', "L.Dense(1000)"),
        "class probabilities: softmax",
    ),
    Entry(
        "build_alexnet",
        "dropout 0.3",
        alexnet(dropout="L.Dropout(0.3),"),
        "drops half",
    ),
    Entry(
        "build_alexnet",
        "LRN as a Lambda layer",
        alexnet(after_conv1="L.Lambda(lambda t: t / 2.0),"),
        "the reference model leaves LRN out",
    ),
    Entry(
        "build_alexnet(groups=2)",
        "groups ignored",
        alexnet().replace(", groups=groups", ""),
        "groups=2",
    ),
    Entry(
        "lrn",
        "across the width",
        """
def lrn(a, k=2.0, n=5, alpha=1e-4, beta=0.75):
    a = np.swapaxes(np.asarray(a, dtype=np.float64), -1, -2)
    sums = np.zeros_like(a)
    for i in range(a.shape[-1]):
        low, high = max(0, i - n // 2), min(a.shape[-1], i + n // 2 + 1)
        sums[..., i] = (a[..., low:high] ** 2).sum(axis=-1)
    return np.swapaxes(a / (k + alpha * sums) ** beta, -1, -2)
""",
        "normalise across channels",
    ),
    Entry(
        "multiply_adds",
        "Dense as if on a flat input",
        MACS.format(
            body="""if len(layer.kernel.shape) == 2:
        return int(np.prod(layer.kernel.shape))
    return int(np.prod(layer.kernel.shape)) * int(np.prod(layer.output.shape[1:-1]))"""
        ),
        "Dense acts on the last axis at every other position",
    ),
    Entry(
        "build_cifar_alexnet",
        "grayscale input",
        cifar().replace("(32, 32, 3)", "(32, 32, 1)"),
        "32x32 with 3 channels",
    ),
    Entry(
        "build_cifar_alexnet",
        "rescaled to -1..1",
        cifar(front='L.RandomFlip("horizontal"), L.Rescaling(1 / 127.5, offset=-1),'),
        "maps 0..255 to 0..1",
    ),
    Entry(
        "build_cifar_alexnet",
        "'valid' first convolution",
        cifar(
            conv='L.Conv2D(filters, kernel, padding="valid" if filters == 32 else "same", use_bias=False)'
        ),
        "keep the map size",
    ),
    Entry(
        "build_cifar_alexnet",
        "ReLU inside the convolution",
        cifar(conv='L.Conv2D(filters, kernel, padding="same", use_bias=False, activation="relu")'),
        "Conv2D (no activation), BatchNormalization, then ReLU",
    ),
    Entry(
        "build_cifar_alexnet",
        "ReLU before BatchNormalization",
        cifar().replace(
            "return [{conv}, L.BatchNormalization(), L.ReLU()]".format(
                conv='L.Conv2D(filters, kernel, padding="same", use_bias=False)'
            ),
            'return [L.Conv2D(filters, kernel, padding="same", use_bias=False), L.ReLU(), L.BatchNormalization()]',
        ),
        "Conv2D (no activation), BatchNormalization, then ReLU",
    ),
    Entry(
        "build_cifar_alexnet",
        "ReLU left out",
        cifar().replace(", L.BatchNormalization(), L.ReLU()]", ", L.BatchNormalization()]"),
        "a ReLU follows each BatchNormalization",
    ),
    Entry(
        "build_cifar_alexnet",
        "AlexNet's dropout rate",
        cifar().replace("L.Dropout(0.3)", "L.Dropout(0.5)"),
        "after fc6 and fc7",
    ),
]

CORPUS: list[Entry] = [
    *POOL2D,
    *POOL_OUTPUT_SHAPE,
    *MIN_POOLING_LAYER,
    *INVARIANCE_SCORE,
    *POOL2D_BACKWARD,
    *ZERO_PAD,
    *CONV_OUTPUT_SIZE,
    *SAME_PADDING,
    *CONV2D,
    *CONV2D_BACKWARD_ENTRIES,
    *SHAPE_TABLE,
    *BROKEN_SHAPES,
    *FIXED_ALEXNET,
    *BUILD_LENET5,
    *PREPROCESS,
    *FLATTEN_SIZES,
    *TRAIN_LENET5,
    *BUILD_ALEXNET,
    *LRN_ENTRIES,
    *MULTIPLY_ADDS,
    *RECEPTIVE_FIELDS,
    *BUILD_CIFAR_ALEXNET,
    *TRAIN_CIFAR_ALEXNET,
    *MORE,
    *COVERAGE,
]
