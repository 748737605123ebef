"""The checker: a trusted process that runs a notebook's graded test cells outside the
student's kernel.

    python -m grader.batch.checker        (started by grader/batch/execute.py, in its sandbox)

The grader sends it the instructors' setup cell, then each graded test cell (hidden tests
included), over its stdin and stdout. It imports the grader, the oracle and the datasets
itself. Every name a test uses that the setup cell does not define is the student's: it is
looked up in the student's kernel and stood in for here by a proxy (:class:`RemoteFunction`,
a layer class from :func:`remote_layer_class`, or the plain value itself), whose calls go to
the kernel through the grader and come back as plain data (grader/batch/transport.py). The
test's verdict (passed, or the failure and its explanation) is the checker's alone: nothing
the student's code does can reach this process's memory, its checks or its numpy.
"""

from __future__ import annotations

import builtins
import contextlib
import io
import os
import sys
import traceback

import numpy as np

from grader.batch import transport
from grader.batch.cell_names import global_names
from grader.checks.compare import InstancesElsewhere, SourceOnly
from grader.checks.source_rules import framework_uses_in_source


class StudentCodeError(Exception):
    """The student's code raised an exception of a kind that is not a builtin one."""


class Channel:
    """Requests to the student's kernel, relayed by the grader over this process's pipes."""

    def __init__(self, reader, writer):
        self.reader, self.writer = reader, writer

    def request(self, header: dict, args=(), kwargs=None):
        blobs: list[bytes] = []
        document = {
            **header,
            "args": transport.encode(tuple(args), blobs),
            "kwargs": transport.encode(dict(kwargs or {}), blobs),
        }
        transport.write_message(self.writer, {"kind": "request", "request": document}, blobs)
        reply, reply_blobs = transport.read_message(self.reader)
        if "error" in reply:
            raise _student_exception(reply)
        return transport.decode(reply.get("value"), reply_blobs)


def _student_exception(reply: dict) -> BaseException:
    """The student's exception, re-raised here with its type when it is a builtin one (a
    check may expect ValueError from Keras, say), and its traceback in the message."""
    name, message = str(reply.get("error")), str(reply.get("message", ""))
    kind = getattr(builtins, name, None)
    if isinstance(kind, type) and issubclass(kind, Exception) and kind.__module__ == "builtins":
        try:
            return kind(message)
        except Exception:
            pass
    if name == "TimeoutError":
        return TimeoutError(message)
    return StudentCodeError(f"{name}: {message}")


class RemoteFunction(SourceOnly):
    """The student's function: a call runs it in the student's kernel."""

    def __init__(self, channel: Channel, name: str, cells: list[str]):
        self._channel, self.__name__, self.__qualname__ = channel, name, name
        self._cells = cells

    def __call__(self, *args, **kwargs):
        return self._channel.request({"op": "call", "name": self.__name__}, args, kwargs)

    def call_each(self, calls: list[tuple[tuple, dict]]):
        calls = [(tuple(args), dict(kwargs)) for args, kwargs in calls]
        return _results_of_each(self._channel, {"op": "call_each", "name": self.__name__}, calls)

    def observe_training(self, spec: dict) -> dict:
        from grader.checks.fitting import well_formed

        observation = self._channel.request(
            {"op": "observe_training", "name": self.__name__}, (spec,)
        )
        if not well_formed(observation):
            raise StudentCodeError("your kernel's answer did not match the grader's request")
        return observation

    def framework_uses(self) -> list[str]:
        return framework_uses_in_source(self._cells, self.__name__)

    def __repr__(self) -> str:
        return f"<your function {self.__name__}>"


def _results_of_each(channel: Channel, header: dict, calls: list):
    """The results of several calls, from one round trip to the kernel; the student's
    exception is raised where its call comes. A reply that does not account for every call
    is refused: a kernel must not make a check skip cases."""
    reply = channel.request(header, (calls,))
    values = reply.get("values") if isinstance(reply, dict) else None
    failure = reply.get("failure") if isinstance(reply, dict) else None
    complete = isinstance(values, list) and (
        len(values) == len(calls)
        if failure is None
        else isinstance(failure, dict) and len(values) < len(calls)
    )
    if not complete:
        raise StudentCodeError("your kernel's answer did not match the grader's request")
    yield from values
    if failure is not None:
        raise _student_exception(failure)


def remote_layer_class(channel: Channel, name: str, overrides_shape: bool) -> type:
    """A Keras layer class standing in for the student's: its instances live in the kernel;
    calling one sends the inputs there and returns the outputs (eager calls only)."""
    import keras

    class Remote(InstancesElsewhere, keras.layers.Layer):
        def __init__(self, *args, _handle=None, **kwargs):
            base = {k: kwargs.pop(k) for k in ("name", "dtype", "trainable") if k in kwargs}
            super().__init__(**base)
            self._handle = _handle or channel.request({"op": "new", "name": name}, args, kwargs)

        def call(self, inputs):
            x = np.asarray(keras.ops.convert_to_numpy(inputs))
            got = channel.request(
                {"op": "method", "handle": self._handle.id, "method": "__call__"}, (x,)
            )
            return keras.ops.convert_to_tensor(np.asarray(got))

        def get_config(self):
            return channel.request(
                {"op": "method", "handle": self._handle.id, "method": "get_config"}
            )

        @classmethod
        def from_config(cls, config):
            return cls(_handle=channel.request({"op": "from_config", "name": name}, (config,)))

        @classmethod
        def results_of_each(cls, calls):
            calls = [(dict(settings), str(method), tuple(args)) for settings, method, args in calls]
            return _results_of_each(channel, {"op": "new_each", "name": name}, calls)

    if overrides_shape:

        def compute_output_shape(self, input_shape):
            return channel.request(
                {"op": "method", "handle": self._handle.id, "method": "compute_output_shape"},
                (tuple(input_shape),),
            )

        Remote.compute_output_shape = compute_output_shape
    Remote.__name__ = Remote.__qualname__ = name
    return Remote


def free_names(source: str, defined: dict) -> list[str]:
    """The names a test cell reads that neither it, the setup cell nor Python defines.

    A lambda's or a function's own parameters and locals (``train=lambda model: ...``) are
    not the student's names; a name a nested scope reads from the cell's globals is."""
    read, written = global_names(source)
    return [
        name
        for name in read
        if name not in written and name not in defined and not hasattr(builtins, name)
    ]


class Checker:
    def __init__(self, channel: Channel):
        self.channel = channel
        self.namespace: dict = {"__name__": "__main__"}
        self.cells: list[str] = []

    def setup(self, source: str) -> dict:
        """A new notebook: nothing of the last one's names, models or layer names is kept."""
        import keras

        keras.backend.clear_session()
        self.namespace, self.cells = {"__name__": "__main__"}, []
        return self._run(source, "setup", self.namespace)

    def test(self, source: str, grade_id: str, cells: list[str]) -> dict:
        self.cells = cells
        namespace = dict(self.namespace)
        try:
            for name in free_names(source, namespace):
                namespace[name] = self._stand_in(name)
        except Exception as error:
            return _failure(error, "")
        return self._run(source, grade_id, namespace)

    def _stand_in(self, name: str):
        description = self.channel.request({"op": "describe", "name": name})
        kind = description.get("kind") if isinstance(description, dict) else None
        if kind == "function":
            return RemoteFunction(self.channel, name, self.cells)
        if kind == "layer class":
            return remote_layer_class(
                self.channel, name, bool(description.get("compute_output_shape"))
            )
        if kind == "value":
            return description.get("value")
        if kind == "missing":
            raise NameError(f"name '{name}' is not defined (run the cell that defines it)")
        return transport.Opaque(str(description.get("type", "object")))

    @staticmethod
    def _run(source: str, label: str, namespace: dict) -> dict:
        output = io.StringIO()
        try:
            with contextlib.redirect_stdout(output), contextlib.redirect_stderr(output):
                exec(compile(source, f"<{label}>", "exec"), namespace)
        except BaseException as error:  # the test failed: the verdict says why
            return _failure(error, output.getvalue())
        return {"passed": True, "output": output.getvalue()}


def _failure(error: BaseException, output: str) -> dict:
    lines = traceback.format_exception_only(type(error), error)
    return {
        "passed": False,
        "output": output,
        "ename": type(error).__name__,
        "evalue": str(error),
        "traceback": [line.rstrip("\n") for line in lines],
    }


def main() -> None:
    # The protocol owns the original stdout; anything else written to fd 1 (TensorFlow's C++
    # logs, a stray print) goes to stderr, the grader's log.
    protocol_out = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)
    sys.stdout = sys.__stdout__ = io.TextIOWrapper(os.fdopen(1, "wb"), write_through=True)
    reader = sys.stdin.buffer
    channel = Channel(reader, protocol_out)
    checker = Checker(channel)
    while True:
        try:
            message, _ = transport.read_message(reader)
        except EOFError:
            return
        if message.get("kind") == "setup":
            verdict = checker.setup(message["source"])
        elif message.get("kind") == "test":
            verdict = checker.test(message["source"], message["grade_id"], message.get("cells", []))
        else:
            return
        transport.write_message(protocol_out, {"kind": "verdict", "verdict": verdict}, [])


if __name__ == "__main__":
    main()
