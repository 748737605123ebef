"""The part of grading that runs in the student's kernel: it answers the checker's requests.

The grader writes a request into a folder of the workspace and runs ``serve(folder)`` in
the kernel; the agent looks the name up among the notebook's variables, calls it with the
decoded arguments, and writes the result back as plain data (grader/batch/transport.py).

This code runs beside the student's, so it is not trusted, and need not be: whatever the
student's code does to it can only change the answers sent back, which the checker, in its
own process, then checks. Nothing the agent sends can be code.
"""

from __future__ import annotations

import json
import sys
import traceback
from pathlib import Path

from grader.batch import transport
from grader.checks.compare import call_on_new_layer

# Objects made in the kernel for the checker (instances of the student's layer class),
# by handle.
_objects: dict[int, object] = {}


def serve(folder: str) -> None:
    folder_path = Path(folder)
    request = json.loads((folder_path / "request.json").read_text())
    blobs = [
        (folder_path / f"in-{i}.bin").read_bytes() for i in range(int(request.get("blobs", 0)))
    ]
    out_blobs: list[bytes] = []
    reply = answer(request, blobs, sys.modules["__main__"].__dict__, out_blobs)
    for i, blob in enumerate(out_blobs):
        (folder_path / f"out-{i}.bin").write_bytes(blob)
    (folder_path / "reply.json").write_text(json.dumps({**reply, "blobs": len(out_blobs)}))


def answer(request: dict, blobs: list[bytes], namespace: dict, out_blobs: list[bytes]) -> dict:
    """The reply to one request, its arrays appended to ``out_blobs``."""
    try:
        return {"value": transport.encode(_answer(request, blobs, namespace), out_blobs)}
    except BaseException as error:  # the student's code failed: the checker reports it
        out_blobs.clear()
        return _failure(error)


def _failure(error: BaseException) -> dict:
    return {
        "error": type(error).__name__,
        "message": str(error)[:2000],
        "traceback": "".join(traceback.format_exception(error)[-6:])[-4000:],
    }


def _answer(request: dict, blobs: list[bytes], namespace: dict):
    op = request["op"]
    if op == "describe":
        return _describe(namespace, request["name"])
    args = transport.decode(request.get("args", []), blobs, layers=True)
    kwargs = transport.decode(request.get("kwargs", {"__dict__": []}), blobs, layers=True)
    if op == "call":
        return namespace[request["name"]](*args, **kwargs)
    if op == "call_each":  # a check's cases in one round trip, up to the first failure
        function, values = namespace[request["name"]], []
        for call_args, call_kwargs in args[0]:
            try:
                values.append(function(*call_args, **call_kwargs))
            except BaseException as error:
                return {"values": values, "failure": _failure(error)}
        return {"values": values, "failure": None}
    if op == "new_each":  # new instances of the student's class, one method call each
        layer_class, values = namespace[request["name"]], []
        for settings, method, method_args in args[0]:
            try:
                values.append(call_on_new_layer(layer_class, settings, method, method_args))
            except BaseException as error:
                return {"values": values, "failure": _failure(error)}
        return {"values": values, "failure": None}
    if op == "observe_training":  # the student's training function, watched on a small problem
        from grader.checks.fitting import observe_training

        return observe_training(namespace[request["name"]], *args)
    if op == "new":  # an instance of the student's class
        instance = namespace[request["name"]](*args, **kwargs)
        _objects[len(_objects) + 1] = instance
        return transport.Handle(len(_objects))
    if op == "from_config":
        instance = namespace[request["name"]].from_config(*args)
        _objects[len(_objects) + 1] = instance
        return transport.Handle(len(_objects))
    if op == "method":
        return getattr(_objects[request["handle"]], request["method"])(*args, **kwargs)
    raise ValueError(f"unknown request {op!r}")


def _describe(namespace: dict, name: str) -> dict:
    """What kind of thing ``name`` is in the notebook: what the checker needs to stand in for it."""
    if name not in namespace:
        return {"kind": "missing"}
    value = namespace[name]
    if isinstance(value, type):
        import keras

        if issubclass(value, keras.layers.Layer):
            overrides = value.compute_output_shape is not keras.layers.Layer.compute_output_shape
            return {"kind": "layer class", "compute_output_shape": overrides}
        return {"kind": "opaque", "type": "class"}
    if callable(value):
        return {"kind": "function"}
    return {"kind": "value", "value": value}
