"""Compare a student's Keras model with a reference architecture, layer by layer.

The reference is a layer table (``layer_tables.json``: what the notebook's table says, as
data, read from the reference networks of ``grader.checks.references``). Both are reduced to a list of :class:`LayerSummary` that ignores what does not change
the network: the InputLayer, an ``Activation`` or ``ReLU`` layer (folded into the layer before it), and
the two equivalent ways to write a fully connected layer on a feature map (a convolution whose
window covers the whole map, followed by ``Flatten``, equals ``Flatten`` then ``Dense``: LeNet's
C5 is written both ways). The first difference is reported with the layer's role and what
differs: kind, settings, activation, output shape or parameter count.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

import keras
import numpy as np

from grader.checks.failure import CheckFailure, passed

KINDS = {
    "Conv2D": "convolution",
    "AveragePooling2D": "average pooling",
    "MaxPooling2D": "max pooling",
    "Dense": "dense",
    "Flatten": "flatten",
    "Dropout": "dropout",
    "BatchNormalization": "batch normalization",
    "RandomFlip": "random flip",
    "RandomTranslation": "random translation",
    "Rescaling": "rescaling",
}


@dataclass(frozen=True)
class LayerSummary:
    role: str
    kind: str
    output: tuple[int, ...]
    params: int
    activation: str | None = None
    settings: dict = field(default_factory=dict)

    def describe(self) -> str:
        parts = [f"{key}={value}" for key, value in self.settings.items()]
        if self.activation:
            parts.append(f"activation={self.activation}")
        shape = "x".join(map(str, self.output))
        return f"{self.kind} ({', '.join(parts)}) -> {shape}, {self.params:,} parameters"


def _tuples(value):
    """JSON's lists back as the tuples Keras's settings are compared with."""
    if isinstance(value, list):
        return tuple(_tuples(v) for v in value)
    if isinstance(value, dict):
        return {k: _tuples(v) for k, v in value.items()}
    return value


@dataclass(frozen=True)
class LayerTable:
    """A network as the checks compare it: its input and output shapes, its layers."""

    input_shape: tuple
    output_shape: tuple
    layers: list[LayerSummary]

    @property
    def params(self) -> int:
        return sum(layer.params for layer in self.layers)

    def to_json(self) -> dict:
        return {
            "input_shape": list(self.input_shape),
            "output_shape": list(self.output_shape),
            "layers": [asdict(layer) for layer in self.layers],
        }

    @classmethod
    def from_json(cls, record: dict) -> LayerTable:
        layers = [
            LayerSummary(**{key: _tuples(value) for key, value in layer.items()})
            for layer in record["layers"]
        ]
        return cls(_tuples(record["input_shape"]), _tuples(record["output_shape"]), layers)


LAYER_TABLES_FILE = Path(__file__).with_name("layer_tables.json")


def layer_table(name: str) -> LayerTable:
    """A reference network's table: 'lenet5', 'alexnet', 'alexnet_two_gpu', 'cifar_alexnet'."""
    return LayerTable.from_json(json.loads(LAYER_TABLES_FILE.read_text())[name])


def table_of(model: keras.Model) -> LayerTable:
    return LayerTable(tuple(model.input_shape), tuple(model.output_shape), summarize(model))


def _network_for_table(name: str) -> keras.Model | None:
    """The reference network itself, where the instructors' part is installed (the trusted
    checker); None in the student bundle, which holds only the tables."""
    try:
        from grader.checks.references import REFERENCES
    except ImportError:
        return None
    return REFERENCES[name]()


def _pair(value) -> tuple[int, int]:
    return (value, value) if isinstance(value, int) else tuple(int(v) for v in value)


def _activation(config: dict) -> str | None:
    name = config.get("activation")
    if isinstance(name, dict):  # serialized custom activation
        name = name.get("config", {}).get("name") or name.get("class_name")
    return None if name in (None, "linear") else str(name)


def _settings(layer, config: dict) -> dict:
    kind = type(layer).__name__
    if kind == "Conv2D":
        return {
            "filters": config["filters"],
            "kernel": _pair(config["kernel_size"]),
            "strides": _pair(config["strides"]),
            "padding": config["padding"],
            **({"groups": config["groups"]} if config.get("groups", 1) != 1 else {}),
        }
    if kind in ("AveragePooling2D", "MaxPooling2D"):
        return {
            "pool": _pair(config["pool_size"]),
            "strides": _pair(config["strides"] or config["pool_size"]),
            "padding": config["padding"],
        }
    if kind == "Dense":
        return {"units": config["units"]}
    if kind == "Dropout":
        return {"rate": config["rate"]}
    if kind == "RandomFlip":
        return {"mode": config["mode"]}
    if kind == "RandomTranslation":
        return {
            "height_factor": config["height_factor"],
            "width_factor": config["width_factor"],
            "fill_mode": config["fill_mode"],
        }
    if kind == "Rescaling":
        return {"scale": config["scale"], "offset": config["offset"]}
    return {}


def summarize(model: keras.Model) -> list[LayerSummary]:
    """The model as a list of layers that matter, with Keras's own shapes and counts."""
    summaries: list[LayerSummary] = []
    for layer in model.layers:
        kind = type(layer).__name__
        config = layer.get_config()
        if kind == "InputLayer":
            continue
        if kind in ("Activation", "ReLU") and summaries:
            activation = _activation(config) if kind == "Activation" else "relu"
            last = summaries[-1]
            summaries[-1] = LayerSummary(
                last.role, last.kind, last.output, last.params, activation, last.settings
            )
            continue
        output = tuple(int(d) for d in layer.output.shape[1:])
        summaries.append(
            LayerSummary(
                layer.name,
                KINDS.get(kind, kind),
                output,
                int(layer.count_params()),
                _activation(config),
                _settings(layer, config),
            )
        )
    return _dense_form(summaries)


def _dense_form(layers: list[LayerSummary]) -> list[LayerSummary]:
    """Rewrite 'convolution covering the whole map, then flatten' as 'flatten, then dense'."""
    result: list[LayerSummary] = []
    i = 0
    while i < len(layers):
        layer = layers[i]
        follows = layers[i + 1] if i + 1 < len(layers) else None
        if (
            layer.kind == "convolution"
            and layer.output[:2] == (1, 1)
            and follows is not None
            and follows.kind == "flatten"
            and layer.settings["padding"] == "valid"
        ):
            result.append(
                LayerSummary(follows.role, "flatten", (layer.params // layer.output[2] - 1,), 0)
            )
            result.append(
                LayerSummary(
                    layer.role,
                    "dense",
                    (layer.output[2],),
                    layer.params,
                    layer.activation,
                    {"units": layer.output[2]},
                )
            )
            i += 2
            continue
        result.append(layer)
        i += 1
    return result


def _first_difference(
    got: LayerSummary, expected: LayerSummary
) -> tuple[str, object, object] | None:
    if got.kind != expected.kind:
        return "the kind of layer", expected.kind, got.kind
    for key, value in expected.settings.items():
        if got.settings.get(key) != value:
            return key, value, got.settings.get(key)
    if got.activation != expected.activation:
        return (
            "the activation",
            expected.activation or "none (linear)",
            got.activation or "none (linear)",
        )
    if got.output != expected.output:
        return (
            "the output shape",
            "x".join(map(str, expected.output)),
            "x".join(map(str, got.output)),
        )
    if got.params != expected.params:
        return "the number of parameters", f"{expected.params:,}", f"{got.params:,}"
    return None


def build_model(build: Callable[[], keras.Model], what: str, hint: str) -> keras.Model:
    """Call the student's builder; a model Keras refuses to build is a failure that says why."""
    try:
        model = build()
    except ValueError as error:
        reason = next((line for line in str(error).splitlines() if "size" in line), str(error))
        raise CheckFailure(
            what,
            "a model Keras can build",
            "Keras refused it",
            f"{reason.strip().rstrip('.')}: {hint}",
        ) from None
    if not isinstance(model, keras.Model):
        raise CheckFailure(what, "a keras.Model", type(model).__name__)
    return model


def compare_models(
    student: keras.Model, reference: str, what: str, hints: dict | None = None
) -> None:
    """Raise CheckFailure unless ``student`` is the network whose layer table is ``reference``.

    First layer by layer (the first difference is reported with the layer's role and what
    differs; ``hints`` maps (role, aspect) to a sentence explaining why the reference is as it
    is, e.g. ("S2", "the kind of layer"): "LeNet-5 subsamples by averaging"). A model spelled
    differently is still accepted when it computes the same function as the reference network:
    same input and output shapes, the same weights in the same order, the same training-only
    layers (dropout, augmentation), and the same outputs once both carry the same weights. That
    accepts ``Dense(10)`` + ``Softmax()``, ``ZeroPadding2D`` + a 'valid' convolution for a
    padded one, functional models, and ``input_shape=`` instead of ``keras.Input``. Only the
    trusted checker has the network to try that; the student bundle says it cannot tell.
    """
    if not isinstance(student, keras.Model):
        raise CheckFailure(what, "a keras.Model", type(student).__name__)
    table = layer_table(reference)
    if tuple(student.input_shape) != table.input_shape:
        raise CheckFailure(
            f"{what}: the input",
            table.input_shape,
            student.input_shape,
            hints.get(("input", "shape")) if hints else None,
        )
    got_layers = summarize(student)
    try:
        _compare_layer_by_layer(got_layers, table.layers, what, hints or {})
    except CheckFailure as difference:
        network = _network_for_table(reference)
        if network is None:
            if _may_compute_the_same_function(student, got_layers, table):
                difference.add_line(
                    "unsure: your model is written differently from the reference and may "
                    "still compute the same function (e.g. Dense then Softmax); the grader "
                    "checks that with the reference network, which this copy of the course "
                    "does not hold"
                )
            raise
        if not computes_the_same_function(student, network):
            raise
        passed(
            f"{what}: written differently from the reference, but computes the same function "
            f"with the same {table.params:,} parameters (checked on random weights and inputs)"
        )
        print(f"  (the first difference in how it is written: {difference.what.splitlines()[0]})")
        return
    passed(
        f"{what}: all {len(table.layers)} layers match the reference ({table.params:,} parameters)"
    )


def _may_compute_the_same_function(
    student: keras.Model, got_layers: list[LayerSummary], table: LayerTable
) -> bool:
    """What can be told without the reference network. A model with other kinds of layers
    (an extra Softmax, ZeroPadding2D before a convolution) may be another way of writing the
    same function if its output shape and number of parameters are the reference's; the
    same kinds of layers with different settings cannot be."""
    return (
        [layer.kind for layer in got_layers] != [layer.kind for layer in table.layers]
        and tuple(student.output_shape) == table.output_shape
        and student.count_params() == table.params
    )


# Layers that act only while training: invisible to a comparison of outputs at inference, so
# they must match the reference's exactly, in order.
TRAINING_ONLY = (
    "Dropout",
    "SpatialDropout2D",
    "GaussianNoise",
    "GaussianDropout",
    "RandomFlip",
    "RandomTranslation",
    "RandomRotation",
    "RandomZoom",
    "RandomCrop",
    "RandomContrast",
    "RandomBrightness",
)


def _training_only_layers(model: keras.Model) -> list[tuple[str, dict]]:
    found = []
    for layer in model.layers:
        kind = type(layer).__name__
        if kind in TRAINING_ONLY:
            found.append((kind, _settings(layer, layer.get_config())))
    return found


def computes_the_same_function(
    student: keras.Model, reference: keras.Model, *, seed: int = 0, samples: int = 4
) -> bool:
    """Whether the two models compute the same function once they carry the same weights."""
    if tuple(student.output_shape) != tuple(reference.output_shape):
        return False
    if _training_only_layers(student) != _training_only_layers(reference):
        return False
    student_weights, expected_weights = student.weights, reference.weights
    if [tuple(w.shape) for w in student_weights] != [tuple(w.shape) for w in expected_weights]:
        return False
    rng = np.random.default_rng(seed)
    values = []
    for weight in expected_weights:
        if not np.issubdtype(np.dtype(weight.dtype), np.floating):
            values.append(None)  # e.g. a random layer's seed state: not part of the function
            continue
        values.append(_random_weight(rng, weight).astype(weight.dtype))
    original = [w.numpy() for w in student_weights]
    try:
        for model_weights in (expected_weights, student_weights):
            for weight, value in zip(model_weights, values, strict=True):
                if value is not None:
                    weight.assign(value)
        # Half the inputs in [-1, 1] (LeNet's range), half in [-255, 255] (raw pixels).
        shape = (samples, *reference.input_shape[1:])
        scale = np.where(np.arange(samples) % 2, 255.0, 1.0).reshape(-1, *[1] * (len(shape) - 1))
        x = (rng.uniform(-1.0, 1.0, shape) * scale).astype("float32")
        expected = np.asarray(reference(x, training=False))
        got = np.asarray(student(x, training=False))
    finally:
        for weight, value in zip(student_weights, original, strict=True):
            weight.assign(value)
    if np.ptp(expected, axis=0).max() < 1e-3:
        # The reference's output hardly depends on its input with these weights: agreeing
        # with it would prove nothing, so the models are not taken as equal.
        return False
    return got.shape == expected.shape and bool(np.allclose(got, expected, atol=1e-5, rtol=1e-4))


def _random_weight(rng: np.random.Generator, weight) -> np.ndarray:
    """A random value for one weight that keeps the signal alive through a deep network:
    kernels with He scaling (activations keep their size through ReLU layers, so the softmax
    at the end is neither saturated nor constant), batch normalization near the identity."""
    shape, path = tuple(weight.shape), weight.path
    if len(shape) >= 2:
        return rng.normal(0.0, np.sqrt(2.0 / np.prod(shape[:-1])), shape)
    if path.endswith(("gamma", "moving_variance")):
        return 1.0 + np.abs(rng.normal(0.0, 0.1, shape))
    return rng.normal(0.0, 0.1, shape)  # biases, beta, moving_mean


def _report_inserted_or_missing(
    got_layers: list[LayerSummary],
    expected_layers: list[LayerSummary],
    position: int,
    what: str,
    hints: dict,
) -> None:
    """When the layers differ at ``position`` because the student added or left out a layer
    (the rest lines up once it is skipped), say so, rather than blame the layer that follows."""
    got, expected = got_layers[position], expected_layers[position]

    def lines_up(got_from: int, expected_from: int) -> bool:
        rest = list(zip(got_layers[got_from:], expected_layers[expected_from:], strict=False))
        return bool(rest) and all(_first_difference(g, e) is None for g, e in rest[:2])

    if got.kind != expected.kind and lines_up(position + 1, position):
        raise CheckFailure(
            f"{what}: an extra layer before layer {position + 1} ({expected.role})",
            "no layer here",
            got.describe(),
            hints.get(("extra", got.kind), f"the reference has no {got.kind} layer here"),
        )
    if got.kind != expected.kind and lines_up(position, position + 1):
        raise CheckFailure(
            f"{what}: layer {position + 1} ({expected.role}) is missing",
            expected.describe(),
            "nothing: the next layer comes straight away",
            hints.get(("missing", expected.role), hints.get((expected.role, "the kind of layer"))),
        )


def _compare_layer_by_layer(
    got_layers: list[LayerSummary], expected_layers: list[LayerSummary], what: str, hints: dict
) -> None:
    for position, expected in enumerate(expected_layers):
        if position >= len(got_layers):
            raise CheckFailure(
                f"{what}: layer {position + 1} ({expected.role})",
                expected.describe(),
                "nothing: the model ends too early",
            )
        got = got_layers[position]
        difference = _first_difference(got, expected)
        if difference:
            _report_inserted_or_missing(got_layers, expected_layers, position, what, hints)
            aspect, wanted, found = difference
            raise CheckFailure(
                f"{what}: layer {position + 1} ({expected.role}) differs in {aspect}\n"
                f"  reference layer: {expected.describe()}\n  your layer:      {got.describe()}",
                wanted,
                found,
                hints.get((expected.role, aspect)),
            )
    if len(got_layers) > len(expected_layers):
        extra = got_layers[len(expected_layers)]
        raise CheckFailure(
            f"{what}: after the last layer",
            "nothing more",
            extra.describe(),
            "the reference ends here; remove the extra layers",
        )
