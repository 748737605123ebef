"""Plain data between the checker and a student's kernel: no pickle, ever.

A value travels as a JSON document plus a list of blobs. Arrays go as ``.npy`` bytes read
with ``allow_pickle=False``; numbers, strings, None, lists, tuples and dicts as tagged JSON;
a Keras model as its JSON config and its weights (arrays), rebuilt on the other side with
Keras's safe mode (no Python code in a config); a Keras layer the checker passes to a
student's function as its config and input shape. Anything else arrives as an
:class:`Opaque` stand-in that names its type, so a check can say "expected an array, got
Foo" without ever holding the student's object.

The same module is imported by the kernel's agent (grader/batch/agent.py) and by the
checker (grader/batch/checker.py); what the kernel sends is untrusted, so decoding checks
every tag and bounds every size.
"""

from __future__ import annotations

import io
import json
import math
import struct
from dataclasses import dataclass

import numpy as np

MAX_MESSAGE_BYTES = 64 * 1024**2
MAX_BLOB_BYTES = 1024**3
MAX_DEPTH = 64


class TransportError(ValueError):
    """A message that is not what the protocol allows (oversized, malformed, unknown tag)."""


@dataclass(frozen=True)
class Opaque:
    """A student's value the protocol cannot carry: only its type's name comes across."""

    type_name: str

    def __repr__(self) -> str:
        return f"<a {self.type_name} object>"


@dataclass(frozen=True)
class Handle:
    """An object living in the student's kernel (an instance of the student's layer)."""

    id: int


def encode(value, blobs: list[bytes], depth: int = 0):
    if depth > MAX_DEPTH:
        raise TransportError("the value is nested too deeply")
    if value is None or isinstance(value, bool | str):
        return value
    if isinstance(value, int):
        return value if abs(value) < 2**63 else {"__bigint__": str(value)}
    if isinstance(value, float):
        return value if math.isfinite(value) else {"__float__": repr(value)}
    if isinstance(value, np.generic) and not isinstance(value, np.object_):
        return {"__numpy__": value.dtype.str, "value": encode(value.item(), blobs, depth + 1)}
    if isinstance(value, np.ndarray):
        if value.dtype.hasobject:
            return {"__opaque__": "numpy array of Python objects"}
        buffer = io.BytesIO()
        np.save(buffer, value, allow_pickle=False)
        blobs.append(buffer.getvalue())
        return {"__array__": len(blobs) - 1}
    if isinstance(value, tuple):
        return {"__tuple__": [encode(v, blobs, depth + 1) for v in value]}
    if isinstance(value, list):
        return [encode(v, blobs, depth + 1) for v in value]
    if isinstance(value, dict):
        return {
            "__dict__": [
                [encode(k, blobs, depth + 1), encode(v, blobs, depth + 1)] for k, v in value.items()
            ]
        }
    if isinstance(value, Handle):
        return {"__handle__": value.id}
    keras_form = _keras_form(value, blobs)
    if keras_form is not None:
        return keras_form
    return {"__opaque__": type(value).__name__}


def _keras_form(value, blobs: list[bytes]):
    """A Keras model or layer as data; None for anything else (Keras is not imported here
    unless the value came from it)."""
    import sys

    if "keras" not in sys.modules:
        return None
    import keras

    if isinstance(value, keras.Model):
        weights = [encode(np.asarray(w), blobs) for w in value.get_weights()]
        return {"__model__": value.to_json(), "weights": weights}
    if isinstance(value, keras.layers.Layer):
        config = keras.saving.serialize_keras_object(value)
        shape = list(value.input.shape[1:]) if _has_input(value) else None
        return {"__layer__": json.dumps(config), "input_shape": shape}
    if isinstance(value, keras.KerasTensor):
        return {"__opaque__": "KerasTensor (a symbolic tensor, not data)"}
    try:  # a TensorFlow/JAX tensor: its values
        return encode(np.asarray(keras.ops.convert_to_numpy(value)), blobs)
    except Exception:
        return None


def _has_input(layer) -> bool:
    try:
        layer.input  # noqa: B018 (raises for a layer never called)
    except (AttributeError, ValueError):
        return False
    return True


def decode(document, blobs: list[bytes], depth: int = 0, *, layers: bool = False):
    """The value a document describes. ``layers``: accept Keras layers (only the kernel's
    agent does, for the checker's layers; the checker never rebuilds a layer it is sent)."""
    if depth > MAX_DEPTH:
        raise TransportError("the value is nested too deeply")
    if document is None or isinstance(document, bool | int | float | str):
        return document
    if isinstance(document, list):
        return [decode(v, blobs, depth + 1, layers=layers) for v in document]
    if not isinstance(document, dict) or len(document) not in (1, 2):
        raise TransportError(f"unexpected {type(document).__name__} in a message")
    tag = next(iter(document))
    body = document[tag]
    if tag == "__tuple__" and isinstance(body, list):
        return tuple(decode(v, blobs, depth + 1, layers=layers) for v in body)
    if tag == "__dict__" and isinstance(body, list):
        pairs = [decode(pair, blobs, depth + 1, layers=layers) for pair in body]
        if not all(isinstance(p, list) and len(p) == 2 for p in pairs):
            raise TransportError("a malformed dict")
        try:
            return {k: v for k, v in pairs}
        except TypeError as error:
            raise TransportError(f"a dict with a key that cannot be one: {error}") from None
    if tag == "__array__":
        return _array(blobs, body)
    if tag == "__numpy__" and isinstance(body, str):
        return np.dtype(body).type(decode(document.get("value"), blobs, depth + 1))
    if tag == "__bigint__" and isinstance(body, str):
        return int(body)
    if tag == "__float__" and body in ("nan", "inf", "-inf"):
        return float(body)
    if tag == "__handle__" and isinstance(body, int):
        return Handle(body)
    if tag == "__opaque__" and isinstance(body, str):
        return Opaque(body[:200])
    if tag == "__model__" and isinstance(body, str):
        weights = document.get("weights", [])
        if not isinstance(weights, list) or not all(isinstance(w, dict) for w in weights):
            raise TransportError("a model without a list of weights")
        return _model(body, [_array(blobs, w.get("__array__")) for w in weights])
    if tag == "__layer__" and isinstance(body, str) and layers:
        return _layer(body, document.get("input_shape"))
    raise TransportError(f"unknown tag {tag!r}")


def _array(blobs: list[bytes], index) -> np.ndarray:
    if not isinstance(index, int) or not 0 <= index < len(blobs):
        raise TransportError("an array that was not sent")
    array = np.load(io.BytesIO(blobs[index]), allow_pickle=False)
    if not isinstance(array, np.ndarray):
        raise TransportError("not an array")
    return array


class ModelRebuildError(ValueError):
    """A model whose config Keras cannot rebuild safely (custom code, a Lambda layer)."""


def _model(config: str, weights: list):
    """The student's model, rebuilt from its config in Keras's safe mode: no code runs."""
    import keras

    try:
        model = keras.models.model_from_json(config)
        model.set_weights(weights)
    except Exception as error:
        first = str(error).strip().splitlines()[0][:300] if str(error).strip() else ""
        raise ModelRebuildError(
            f"the grader could not rebuild your model from its configuration "
            f"({type(error).__name__}: {first}); use Keras's built-in layers only "
            "(a Lambda layer or a layer class of your own cannot be rebuilt safely)"
        ) from None
    return model


def _layer(config: str, input_shape):
    """A layer of the checker's, rebuilt in the kernel with the same input shape."""
    import keras

    layer = keras.saving.deserialize_keras_object(json.loads(config))
    if input_shape is not None:
        keras.Sequential([keras.Input(tuple(input_shape)), layer])
    return layer


# -- framing: a message is a JSON header and its blobs, each with an 8-byte length ----------


def write_message(stream, header: dict, blobs: list[bytes]) -> None:
    text = json.dumps({**header, "blobs": len(blobs)}).encode()
    stream.write(struct.pack("<Q", len(text)) + text)
    for blob in blobs:
        stream.write(struct.pack("<Q", len(blob)))
        stream.write(blob)
    stream.flush()


def read_message(stream) -> tuple[dict, list[bytes]]:
    header = json.loads(_read_sized(stream, MAX_MESSAGE_BYTES))
    if not isinstance(header, dict) or not isinstance(header.get("blobs"), int):
        raise TransportError("a message without a header")
    count = header.pop("blobs")
    if not 0 <= count <= 10_000:
        raise TransportError("too many blobs")
    return header, [_read_sized(stream, MAX_BLOB_BYTES) for _ in range(count)]


def _read_sized(stream, limit: int) -> bytes:
    prefix = _read_exactly(stream, 8)
    (size,) = struct.unpack("<Q", prefix)
    if size > limit:
        raise TransportError(f"a message part of {size:,} bytes (at most {limit:,})")
    return _read_exactly(stream, size)


def _read_exactly(stream, size: int) -> bytes:
    chunks, left = [], size
    while left:
        chunk = stream.read(left)
        if not chunk:
            raise EOFError("the other side closed the channel")
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)
