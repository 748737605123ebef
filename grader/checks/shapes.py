"""Output sizes and shape tables: what a layer's settings do to a map's size, the mistakes
that give a wrong size, and a whole model's output shapes checked layer by layer.

Notebook 02 asks for sizes (``conv_output_size``) and a model's shape table; notebook 04
describes its layers the same way. The expected shapes come from Keras's own
``compute_output_shape`` (grader.checks.oracle.keras_output_size for a single size).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import keras

from grader.checks.compare import describe_causes
from grader.checks.failure import FIXED_ANSWER, CheckFailure, passed
from grader.checks.keras_arguments import pair as _pair
from grader.checks.oracle import keras_output_size


@dataclass(frozen=True)
class SizeCase:
    n: int
    k: int
    s: int
    padding: str | int

    def describe(self) -> str:
        padding = f"'{self.padding}'" if isinstance(self.padding, str) else self.padding
        return f"conv_output_size(n={self.n}, k={self.k}, s={self.s}, padding={padding})"

    def mistakes(self) -> list[tuple[str, Callable[[], int]]]:
        n, k, s, p = self.n, self.k, self.s, self.padding
        found: list[tuple[str, Callable[[], int]]] = []
        if s != 1:
            found.append(("the stride was ignored", lambda: keras_output_size(n, k, 1, p)))
        if p == "same":
            found += [
                (
                    "you used the 'valid' formula for padding='same'",
                    lambda: keras_output_size(n, k, s, "valid"),
                ),
                (
                    "'same' rounds up: ceil(n / s), a partial window at the border still counts",
                    lambda: n // s,
                ),
                (
                    "'same' is not 'pad (k - 1) // 2 on each side': with an even kernel Keras pads k - 1 rows "
                    "in total, one more after than before",
                    lambda: (n + 2 * ((k - 1) // 2) - k) // s + 1,
                ),
            ]
            return found
        m = n + 2 * p if isinstance(p, int) else n
        found += [
            (
                "the formula needs the +1: floor((n + 2p - k) / s) + 1 counts the first window too",
                lambda: (m - k) // s,
            ),
            (
                "round down: a window that does not fit at the border is dropped, so floor, not ceil",
                lambda: math.ceil((m - k) / s) + 1,
            ),
        ]
        if p == "valid":
            found.append(
                (
                    "you used the 'same' formula for padding='valid'",
                    lambda: keras_output_size(n, k, s, "same"),
                )
            )
        else:
            found.append(
                (
                    "padding p is added on both sides: n + 2p, not n + p",
                    lambda: (n + p - k) // s + 1,
                )
            )
        return found


def layer_shape_mistakes(layer, input_shape: tuple[int, ...]) -> list[tuple[str, tuple[int, ...]]]:
    """Wrong output shapes a student might give for ``layer`` on a correct ``input_shape``."""
    found: list[tuple[str, tuple[int, ...]]] = []
    config = layer.get_config()
    if isinstance(layer, keras.layers.Flatten):
        h, w, c = input_shape
        label = "Flatten multiplies all three dimensions: height x width x channels"
        return [(label, (c,)), (label, (h * w,)), (label, (h * c,))]
    if isinstance(layer, keras.layers.Dense):
        found.append(("Dense outputs one value per unit", (input_shape[-1],)))
        return found
    if "kernel_size" not in config and "pool_size" not in config:
        return found
    k = _pair(config.get("kernel_size", config.get("pool_size")))
    s = _pair(config.get("strides") or k)
    padding = config["padding"]
    h, w, c = input_shape
    channels = config.get("filters", c)
    expected = tuple(int(d) for d in layer.compute_output_shape((None, *input_shape))[1:])
    column_mistakes = dict(SizeCase(w, k[1], s[1], padding).mistakes())
    for label, rows in SizeCase(h, k[0], s[0], padding).mistakes():
        columns = column_mistakes.get(label)
        try:
            found.append(
                (label, (int(rows()), int(columns()) if columns else expected[1], channels))
            )
        except ValueError:  # Keras refuses the mistaken setting (e.g. a window larger than the map)
            continue
    if "filters" in config:
        found.append(
            (f"a convolution outputs one channel per filter: {channels}", (*expected[:2], c))
        )
    else:
        found.append(
            (f"pooling keeps the number of channels: {c}", (*expected[:2], k[0] * k[1] * c))
        )
    return found


def describe_layer(layer) -> str:
    config = layer.get_config()
    kind = type(layer).__name__
    parts = []
    if "filters" in config:
        parts.append(f"{config['filters']} filters")
    if "units" in config:
        parts.append(f"{config['units']} units")
    for key in ("kernel_size", "pool_size", "strides"):
        if key in config and config[key] is not None:
            parts.append(f"{key}={tuple(config[key])}")
    if "padding" in config:
        parts.append(f"padding='{config['padding']}'")
    return f"{layer.name} ({kind}{': ' + ', '.join(parts) if parts else ''})"


def keras_layer_shapes(layers, input_shape) -> tuple[list[tuple[str, tuple[int, ...]]], str | None]:
    """Each layer's output shape (without the batch axis) until one cannot be built.

    Returns the shapes of the layers that build, and the name of the layer Keras refuses
    (None when every layer builds)."""
    shapes, current = [], (None, *input_shape)
    for layer in layers:
        try:
            current = layer.compute_output_shape(current)
        except ValueError:
            return shapes, layer.name
        if any(d is not None and d < 1 for d in current[1:]):
            return shapes, layer.name
        shapes.append((layer.name, tuple(int(d) for d in current[1:])))
    return shapes, None


def _as_shape(value) -> tuple[int, ...] | None:
    try:
        return tuple(int(d) for d in value)
    except (TypeError, ValueError):
        return None


def check_layer_shapes(
    layers, input_shape, table: dict, what: str, *, model_names: list[str] | None = None
) -> None:
    """The student's ``table`` (layer name -> output shape without batch axis) against Keras;
    the failure names the first wrong layer and the likely cause, without the answer.

    ``model_names``: every layer of the model when ``layers`` stops before a collapse whose
    place is part of the answer (the failure then does not say where the table should stop).
    """
    expected, _ = keras_layer_shapes(layers, input_shape)
    names = [name for name, _ in expected]
    if not isinstance(table, dict):
        raise CheckFailure(
            what, "a dict: layer name -> output shape", f"{type(table).__name__}: {table!r}"
        )
    previous = tuple(input_shape)
    by_name = {layer.name: layer for layer in layers}
    for name, shape in expected:
        if name not in table:
            break
        got = _as_shape(table[name])
        layer = describe_layer(by_name[name])
        if got is None or len(got) != len(shape):
            raise CheckFailure(
                f"{what}: {layer}",
                f"a tuple of {len(shape)} whole numbers",
                repr(table[name]),
                "give (height, width, channels) for 2D layers, (units,) after Flatten; no batch axis",
            )
        if got != shape:
            causes = [
                label
                for label, candidate in layer_shape_mistakes(by_name[name], previous)
                if candidate == got
            ]
            raise CheckFailure(
                f"{what}: {layer} on an input of shape {previous}",
                FIXED_ANSWER,
                "x".join(map(str, got)),
                describe_causes(list(dict.fromkeys(causes)), [])
                or "work it out from the layer's settings: floor((n + 2p - k) / s) + 1 rows for "
                "'valid' or explicit padding, ceil(n / s) for 'same'",
            )
        previous = shape
    if list(table) != names:
        raise CheckFailure(
            f"{what}: the layers of the table",
            "one entry per layer, in the model's order, keyed by the layer's name"
            + ("" if model_names else f": {names}"),
            list(table),
            _table_extent_cause(list(table), names, model_names),
        )
    passed(f"{what}: all {len(expected)} layer shapes match Keras")


def _table_extent_cause(keys: list, names: list[str], model_names: list[str] | None) -> str:
    unknown = [key for key in keys if key not in (model_names or names)]
    if unknown:
        return f"{unknown} name no layer of the model: use the names in the model's definition"
    if model_names is None:
        missing = [name for name in names if name not in keys]
        return f"missing {missing}" if missing else "list the layers in the model's order"
    if any(key not in names for key in keys):
        return (
            "the table lists a layer that Keras cannot build: stop before the first layer "
            "whose output would have a size below 1"
        )
    if len(keys) < len(names):
        return "the table stops too early: the model can still build the next layer"
    return "list the layers in the model's order"
