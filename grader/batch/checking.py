"""Running a notebook's graded test cells in the checker process (grader/batch/checker.py),
from the grader's side: start the checker in its own sandbox, hand it the setup cell and
each test, and relay its requests into the student's kernel.

The relay writes a request into a folder of the student's workspace, runs the agent
(grader/batch/agent.py) in the kernel as a cell of its own, kept out of the kernel's
history, and reads the reply back: files read without following links, bounded in size,
checked by the checker's decoding. The test cell's outputs are then made from the checker's
verdict alone: its printed lines, and an error output when it failed (nbgrader scores a
test cell with an error 0, one without full marks).
"""

from __future__ import annotations

import contextlib
import json
import multiprocessing.util
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import nbformat

from grader.batch import transport
from grader.batch.collect import read_no_follow
from grader.batch.limits import Limits
from grader.batch.sandbox import Sandbox

# Files a test may read from the student's workspace (trained weights), copied for the checker.
DATA_SUFFIXES = (".h5", ".keras", ".npz", ".npy")
AGENT = "from grader.batch.agent import serve as _grader_serve\n_grader_serve({folder!r})\ndel _grader_serve"


class KernelStopped(Exception):
    """The student's kernel stopped answering (its time ran out, or it died)."""


class CheckerProcess:
    """A checker process, set up for one notebook at a time.

    A worker keeps its checker from one notebook to the next (:func:`kept_checker`): importing
    TensorFlow, about 5 s of CPU, is then paid once per worker, not once per notebook. Each
    notebook begins clean: its scratch folder emptied (:meth:`begin`), and a fresh namespace
    and Keras session in the checker (its setup message). Only data from the student's kernel
    ever reaches a checker, never code, so what one student sends cannot run there to reach
    the next one.

    A checker that stopped (killed at a test's time limit, or crashed) is replaced by a fresh
    one, set up again, before the next test: one test's failure never fails the tests after it.
    After ``RENEWED_AFTER`` notebooks a checker is replaced too, so that whatever TensorFlow
    keeps from one notebook to the next cannot pile up.
    """

    RENEWED_AFTER = 24

    def __init__(self, sandbox: Sandbox, limits: Limits, environment: dict[str, str]):
        self.sandbox, self.limits = sandbox, limits
        self.scratch = Path(tempfile.mkdtemp(prefix="checker-"))
        (self.scratch / "home").mkdir()
        home = str(self.scratch / "home")  # its private folders: all of them in its scratch
        private = ("HOME", "MPLCONFIGDIR", "KERAS_HOME", "TMPDIR", "IPYTHONDIR")
        self.environment = {**environment, **dict.fromkeys(private, home)}
        self.log = open(self.scratch.parent / f"{self.scratch.name}.log", "ab")  # noqa: SIM115
        self.setup_message: dict | None = None
        self.setup_timeout = 0.0
        self.restarts = 0
        self.notebooks = 0  # set up since this process started
        self._start()

    def begin(self) -> None:
        """Ready for the next notebook: nothing left in the scratch folder from the last one
        (its weights files, what its tests saved), and a fresh process when this one stopped
        or has served ``RENEWED_AFTER`` notebooks."""
        for entry in self.scratch.iterdir():
            if entry.is_dir() and not entry.is_symlink():
                shutil.rmtree(entry, ignore_errors=True)
            else:
                with contextlib.suppress(OSError):
                    entry.unlink()
        (self.scratch / "home").mkdir(exist_ok=True)
        self.sandbox.prepare_workspace(self.scratch)
        if self.process.poll() is not None or self.notebooks >= self.RENEWED_AFTER:
            self._stop()
            self._start()
        self.setup_message = None

    def _start(self) -> None:
        self.notebooks = 0
        self.sandbox.prepare_workspace(self.scratch)
        command = self.sandbox.command(
            [sys.executable, "-m", "grader.batch.checker"], self.scratch, self.environment
        )
        self.process = subprocess.Popen(
            command,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self.log,
            cwd=self.scratch,
            env={"PATH": os.environ.get("PATH", "/usr/bin:/bin")},
        )

    def setup(self, source: str, timeout: float) -> dict:
        self.setup_message, self.setup_timeout = {"kind": "setup", "source": source}, timeout
        self.notebooks += 1
        return self._exchange(self.setup_message, None, timeout)

    def test(self, source: str, grade_id: str, cells: list[str], relay, timeout: float) -> dict:
        if self.process.returncode is not None and self.setup_message is not None:
            self._stop()
            self._start()
            self.restarts += 1
            setup = self._exchange(self.setup_message, None, self.setup_timeout)
            if not setup.get("passed"):
                return _checker_failure(
                    "CheckerFailed",
                    f"the grader's checker could not be restarted: {setup.get('evalue')}",
                )
        return self._exchange(
            {"kind": "test", "source": source, "grade_id": grade_id, "cells": cells}, relay, timeout
        )

    def copy_data_files(self, workspace: Path) -> None:
        """The workspace's data files (trained weights), for a test that loads them."""
        for entry in os.scandir(workspace):
            if not entry.name.endswith(DATA_SUFFIXES) or not entry.is_file(follow_symlinks=False):
                continue
            if entry.stat(follow_symlinks=False).st_size > self.limits.upload_bytes:
                continue
            with contextlib.suppress(OSError):
                (self.scratch / entry.name).write_bytes(read_no_follow(Path(entry.path)))

    def _exchange(self, message: dict, relay, timeout: float) -> dict:
        """Send one message; relay the checker's requests until its verdict comes."""
        timer = threading.Timer(timeout, self.process.kill)
        timer.start()
        try:
            transport.write_message(self.process.stdin, message, [])
            while True:
                header, blobs = transport.read_message(self.process.stdout)
                if header.get("kind") == "verdict":
                    return header["verdict"]
                if header.get("kind") != "request" or relay is None:
                    raise transport.TransportError("the checker sent an unexpected message")
                reply, reply_blobs = relay(header["request"], blobs)
                transport.write_message(self.process.stdin, reply, reply_blobs)
        except (EOFError, OSError, transport.TransportError) as error:
            # Its pipes may hold half a message: this checker is never spoken to again.
            self.process.kill()
            self.process.wait()
            if not timer.is_alive():
                return _checker_failure(
                    "TimeoutError", f"the test ran past its time limit of {timeout:g} s"
                )
            return _checker_failure("CheckerFailed", f"the grader's checker stopped ({error})")
        finally:
            timer.cancel()

    def _stop(self) -> None:
        with contextlib.suppress(OSError):
            self.process.stdin.close()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        with contextlib.suppress(OSError):
            self.process.stdout.close()

    def close(self) -> None:
        self._stop()
        self.log.close()
        shutil.rmtree(self.scratch, ignore_errors=True)
        with contextlib.suppress(OSError):
            os.unlink(self.scratch.parent / f"{self.scratch.name}.log")


# The checker this thread of this worker keeps for the next notebook (a process pool's worker
# runs one task at a time; a Dask worker may run several in threads).
_kept = threading.local()


def kept_checker(sandbox: Sandbox, limits: Limits, environment: dict[str, str]) -> CheckerProcess:
    """This worker's checker for these settings, started at its first use, begun afresh for
    the next notebook, and closed when the worker exits."""
    settings = (sandbox, limits, environment)
    kept = getattr(_kept, "checker", None)
    if kept is not None and kept.settings != settings:
        kept.close()
        kept = None
    if kept is None:
        kept = CheckerProcess(sandbox, limits, environment)
        kept.settings = settings
        _kept.checker = kept
        # Run at a worker's exit, which skips atexit handlers in multiprocessing's children.
        multiprocessing.util.Finalize(kept, kept.close, exitpriority=10)
    else:
        kept.begin()
    return kept


def close_kept_checker() -> None:
    """End this thread's kept checker now, rather than at the worker's exit."""
    kept = getattr(_kept, "checker", None)
    if kept is not None:
        kept.close()
        _kept.checker = None


def _checker_failure(ename: str, evalue: str) -> dict:
    return {
        "passed": False,
        "output": "",
        "ename": ename,
        "evalue": evalue,
        "traceback": [f"{ename}: {evalue}"],
    }


class KernelRelay:
    """Carries the checker's requests into the student's kernel and the replies back."""

    def __init__(self, client, workspace: Path, sandbox: Sandbox):
        self.client, self.sandbox = client, sandbox
        self.workspace, self.folder = workspace, workspace / ".grader-io"
        self.count = 0
        self.deadline = time.monotonic()
        self.index = 0
        self.stopped: str | None = None

    def __call__(self, request: dict, blobs: list[bytes]) -> tuple[dict, list[bytes]]:
        if self.stopped:
            return _error("KernelStopped", self.stopped), []
        self.count += 1
        folder = self.folder / str(self.count)
        folder.mkdir(parents=True)
        try:
            for i, blob in enumerate(blobs):
                (folder / f"in-{i}.bin").write_bytes(blob)
            (folder / "request.json").write_text(json.dumps({**request, "blobs": len(blobs)}))
            self.sandbox.prepare_workspace(self.workspace, self.folder)
            problem = self._run_agent(folder)
            if problem:
                return _error("KernelStopped" if self.stopped else "RuntimeError", problem), []
            return self._reply(folder)
        finally:
            shutil.rmtree(folder, ignore_errors=True)

    def _run_agent(self, folder: Path) -> str | None:
        from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError

        cell = nbformat.v4.new_code_cell(AGENT.format(folder=str(folder)))
        original = self.client.nb.cells[self.index]
        self.client.timeout = max(1, int(self.deadline - time.monotonic()))
        try:
            self.client.execute_cell(cell, self.index, store_history=False)
        except CellExecutionError as error:
            return f"your kernel could not answer the grader ({error.ename}: {error.evalue})"
        except CellTimeoutError:
            self.stopped = "your code ran past the test's time limit (an endless loop?)"
            return self.stopped
        except DeadKernelError:
            self.stopped = "your kernel died while the test ran your code"
            return self.stopped
        except Exception as error:  # e.g. garbled messages from a kernel out of threads
            self.stopped = f"your kernel stopped answering properly ({error!r})"
            return self.stopped
        finally:
            self.client.nb.cells[self.index] = original
        return None

    def _reply(self, folder: Path) -> tuple[dict, list[bytes]]:
        if not (folder / "reply.json").exists():
            return _error(
                "RuntimeError",
                "your kernel did not answer the grader: code in the notebook keeps cells from "
                "running (an IPython hook or a replaced run_cell?)",
            ), []
        try:
            reply = json.loads(read_no_follow(folder / "reply.json", transport.MAX_MESSAGE_BYTES))
            count = int(reply.pop("blobs"))
            if not isinstance(reply, dict) or not 0 <= count <= 10_000:
                raise ValueError("malformed")
            blobs = [
                read_no_follow(folder / f"out-{i}.bin", transport.MAX_BLOB_BYTES)
                for i in range(count)
            ]
        except (OSError, ValueError, KeyError, TypeError) as error:
            return _error("RuntimeError", f"your kernel's answer could not be read ({error})"), []
        kept = {k: reply[k] for k in ("value", "error", "message", "traceback") if k in reply}
        return kept, blobs


def _error(name: str, message: str) -> dict:
    return {"error": name, "message": message}


def verdict_outputs(verdict: dict, limit: int) -> list:
    """The test cell's outputs, made from the checker's verdict only."""
    outputs = []
    text = str(verdict.get("output", ""))
    if len(text) > limit:
        text = text[:limit] + f"\n[output cut: more than {limit // 1024} KiB]\n"
    if text:
        outputs.append(nbformat.v4.new_output("stream", name="stdout", text=text))
    if not verdict.get("passed"):
        outputs.append(
            nbformat.v4.new_output(
                "error",
                ename=str(verdict.get("ename", "Error")),
                evalue=str(verdict.get("evalue", ""))[:limit],
                traceback=[str(line)[:limit] for line in verdict.get("traceback", [])][:20],
            )
        )
    return outputs
