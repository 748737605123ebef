"""Grading one submission: the pure task a process pool or a Dask worker runs.

In: the sanitized notebooks (test cells already restored by the trusted central step), the
student's other files, the limits and the sandbox. Out: the executed notebooks and what
happened in each cell. Each task gets a fresh workspace holding the student's files only:
the notebooks themselves stay in the grader's memory, so no hidden test lies on disk for
student code to read, and the workspace is deleted afterwards.

The student's kernel runs the notebook's other cells only. A graded test cell is run by the
checker process (grader/batch/checking.py), and its outputs are made from the checker's
verdict: tags, display tricks, stderr or anything else in the kernel cannot change them. A
test cell that could not run (timeout, crashed kernel, the submission's time used up)
receives an error output that explains why, so nbgrader scores it 0.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import shutil
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
from jupyter_client.manager import AsyncKernelManager
from jupyter_core.utils import run_sync
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError

from grader.batch import demonstrations
from grader.batch.checking import CheckerProcess, KernelRelay, kept_checker, verdict_outputs
from grader.batch.limits import GIB, MIB, Limits
from grader.batch.sandbox import DiskQuota, Sandbox
from grader.datasets import DATA_DIR_VARIABLE, default_data_dir
from grader.grading import GRADING_VARIABLE, KERNEL_ARGUMENTS, RETRAIN_VARIABLE
from grader.notebook_cells import nbgrader_meta


@dataclass(frozen=True)
class NotebookToRun:
    name: str
    notebook_json: str
    setup_source: str  # the instructors' setup cell, which the checker runs first
    demonstrations: frozenset[str] = frozenset()  # sources of the instructors' demonstrations


@dataclass(frozen=True)
class GradingTask:
    student: str
    assignment: str
    notebooks: tuple[NotebookToRun, ...]
    files: dict[str, bytes]
    limits: Limits
    sandbox: Sandbox
    workspace_root: str | None = None


@dataclass
class CellEvent:
    notebook: str
    index: int
    grade_id: str | None
    status: str  # ok | skipped | error | memory | timeout | crashed | not-run | untrusted
    seconds: float
    explanation: str = ""
    graded: bool = False
    cause: str = ""  # a failed check's "likely cause", for the class report


@dataclass
class TaskResult:
    student: str
    assignment: str
    notebooks: dict[str, str] = field(default_factory=dict)  # name -> executed notebook JSON
    events: list[CellEvent] = field(default_factory=list)
    wall_seconds: float = 0.0  # the whole task, kernel start-up included
    cell_seconds: float = 0.0  # time spent executing the notebooks' own cells
    error: str | None = None  # the task itself failed (not a cell)


class _WrappedKernelManager(AsyncKernelManager):
    """Starts the kernel through the sandbox's command (bubblewrap, setpriv, prlimit)."""

    sandbox: Sandbox
    workspace: Path
    environment: dict[str, str]

    def format_kernel_cmd(self, extra_arguments=None):
        command = super().format_kernel_cmd(extra_arguments)
        # The connection file is written by now; the sandbox's user must be able to read it.
        self.sandbox.prepare_workspace(self.workspace)
        return self.sandbox.for_student_code().command(command, self.workspace, self.environment)


class _BoundedClient(NotebookClient):
    """nbclient, keeping at most ``limit`` bytes of output per cell and ``notebook_limit``
    for the whole notebook: cells that print without end must not fill the grader's memory,
    its disk or the student's feedback page."""

    limit: int = 64 * 1024
    notebook_limit: int = 4 * 1024 * 1024

    def output(self, outs, msg, display_id, cell_index):
        if not hasattr(self, "_printed"):
            self._printed, self._total, self._cut, self._notebook_cut = {}, 0, set(), False
        size = len(json.dumps(msg.get("content", {}), default=str))
        self._printed[cell_index] = self._printed.get(cell_index, 0) + size
        self._total += size
        if self._printed[cell_index] <= self.limit and self._total <= self.notebook_limit:
            return super().output(outs, msg, display_id, cell_index)
        if self._total > self.notebook_limit:  # said once, where the notebook's budget ran out
            if not self._notebook_cut:
                self._notebook_cut = True
                outs.append(
                    _cut_note(f"this notebook printed more than {_size(self.notebook_limit)}")
                )
        elif cell_index not in self._cut:
            self._cut.add(cell_index)
            outs.append(_cut_note(f"this cell printed more than {_size(self.limit)}"))
        return None


def _size(limit: int) -> str:
    return f"{limit // MIB} MiB" if limit >= MIB else f"{limit // 1024} KiB"


def _cut_note(what: str):
    return _note(f"output cut: {what}")


def _note(text: str):
    """The grader's own remark in a cell's outputs, set apart from what the cell printed."""
    return nbformat.v4.new_output("stream", name="stdout", text=f"\n[{text}]\n")


def grade_submission(task: GradingTask) -> TaskResult:
    started = time.perf_counter()
    result = TaskResult(task.student, task.assignment)
    workspace = Path(tempfile.mkdtemp(prefix=f"grade-{task.assignment}-", dir=task.workspace_root))
    try:
        for relative, content in task.files.items():
            target = workspace / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(content)
        deadline = time.monotonic() + task.limits.submission_timeout_s
        for notebook in task.notebooks:
            executed = _run_notebook(task, notebook, workspace, deadline, result)
            result.notebooks[notebook.name] = _saveable(executed)
    except Exception as error:  # the batch goes on; the report shows this submission's error
        result.error = f"{type(error).__name__}: {error}"
    finally:
        shutil.rmtree(workspace, ignore_errors=True)
        result.wall_seconds = time.perf_counter() - started
    return result


def _saveable(notebook: nbformat.NotebookNode) -> str:
    """The notebook as JSON text that can be written as UTF-8: a lone surrogate printed by
    student code (which no file can hold) becomes U+FFFD instead of failing the save."""
    text = nbformat.writes(notebook)
    return text.encode("utf-8", errors="replace").decode("utf-8")


# Passed on from the grader's environment: how the instructor set up TensorFlow and the
# course. Nothing else of it reaches student code (no secrets, no paths to the course).
# How many threads TensorFlow and oneDNN may use in each kernel and checker: set in each
# local worker by grader/batch/runner.py so that the workers together fill the cores once.
THREAD_VARIABLES = ("TF_NUM_INTRAOP_THREADS", "TF_NUM_INTEROP_THREADS", "OMP_NUM_THREADS")

PASSED_ON = (
    *THREAD_VARIABLES,
    "TF_ENABLE_ONEDNN_OPTS",
    "DNNL_MAX_CPU_ISA",
    "TF_DETERMINISTIC_OPS",
    "CUDA_VISIBLE_DEVICES",
    RETRAIN_VARIABLE,
    DATA_DIR_VARIABLE,
    "LANG",
)


def grading_environment() -> dict[str, str]:
    """What every process that grading starts (kernels, checkers) finds in its environment,
    before its own private folders are added."""
    env = {k: os.environ[k] for k in PASSED_ON if k in os.environ}
    env.update(
        {
            GRADING_VARIABLE: "1",
            "PATH": os.pathsep.join((str(Path(sys.executable).parent), "/usr/bin", "/bin")),
            "MPLBACKEND": "module://matplotlib_inline.backend_inline",
            "TF_CPP_MIN_LOG_LEVEL": "3",
            "PYTHONNOUSERSITE": "1",
            "PYTHONSAFEPATH": "1",  # the working folder is not put first on sys.path
        }
    )
    # The datasets the grader itself uses, which the sandbox shows read-only at their paths:
    # sandboxed code cannot find them the way a student's notebook does (no course around
    # its workspace, no checkout in view).
    env.setdefault(DATA_DIR_VARIABLE, str(default_data_dir().resolve()))
    return env


def kernel_environment(private: Path) -> dict[str, str]:
    """The whole environment of a grading kernel; ``private`` is its home, in the workspace.
    IPython's own folder lives under a name the upload cannot contain (the grader's
    ``.grader-home``), so no uploaded startup file runs."""
    return {
        **grading_environment(),
        "HOME": str(private),
        "IPYTHONDIR": str(private / ".ipython"),
        "MPLCONFIGDIR": str(private / ".matplotlib"),
        "KERAS_HOME": str(private / ".keras"),
        "TMPDIR": str(private / "tmp"),
    }


def _run_notebook(
    task: GradingTask, to_run: NotebookToRun, workspace: Path, deadline: float, result: TaskResult
) -> nbformat.NotebookNode:
    notebook = nbformat.reads(to_run.notebook_json, as_version=4)
    kernel_dir = workspace / ".kernel"
    kernel_dir.mkdir(exist_ok=True)
    manager = _WrappedKernelManager(
        kernel_name="python3",
        transport="ipc",  # Unix sockets: they work across the sandbox's network namespace
        ip=str(kernel_dir / "ipc"),
        connection_file=str(kernel_dir / "connection.json"),
    )
    manager.sandbox = task.sandbox
    manager.workspace = workspace
    manager.environment = kernel_environment(workspace / ".grader-home")
    (workspace / ".grader-home" / "tmp").mkdir(parents=True, exist_ok=True)
    client = _BoundedClient(
        notebook,
        km=manager,
        kernel_name="python3",
        allow_errors=False,  # we catch each cell's error ourselves and go on
        interrupt_on_timeout=False,
        extra_arguments=list(KERNEL_ARGUMENTS),
        startup_timeout=120,
        iopub_timeout=10,
        record_timing=False,
    )
    client.limit = task.limits.output_bytes
    client.notebook_limit = task.limits.notebook_output_bytes
    quota = _QuotaWatch(DiskQuota(workspace, task.limits.disk_bytes), manager)
    kernel_log = open(kernel_dir / "kernel.log", "wb")  # noqa: SIM115 (closed below)
    try:
        with quota:
            return _run_cells(
                client, task, to_run, notebook, workspace, deadline, result, kernel_log, quota
            )
    finally:
        _stop_kernel(client)  # nbclient leaves running a kernel it did not start itself
        kernel_log.close()


class _QuotaWatch:
    """Kills the kernel once the workspace holds more than the quota (polled each second)."""

    def __init__(self, quota: DiskQuota, manager: AsyncKernelManager):
        self.quota, self.manager = quota, manager
        self.exceeded = False
        self._stop = threading.Event()

    def __enter__(self):
        self._thread = threading.Thread(target=self._watch, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()

    def _watch(self) -> None:
        while not self._stop.wait(1.0):
            if self.quota.exceeded():
                self.exceeded = True
                provisioner = self.manager.provisioner
                process = getattr(provisioner, "process", None)
                if process is not None:
                    with contextlib.suppress(OSError):
                        process.kill()  # bwrap: its whole sandbox goes with it
                return


def _run_cells(client, task, to_run, notebook, workspace, deadline, result, kernel_log, quota):
    checks = _NotebookChecks(task, to_run, notebook, workspace, client)
    try:
        return _run_cells_checked(
            client, task, to_run, notebook, workspace, deadline, result, kernel_log, quota, checks
        )
    finally:
        checks.close()


class _NotebookChecks:
    """The notebook's checker, started at its first graded test cell."""

    def __init__(self, task, to_run, notebook, workspace: Path, client):
        self.task, self.to_run, self.notebook, self.workspace = task, to_run, notebook, workspace
        self.relay = KernelRelay(client, workspace, task.sandbox)
        self.checker: CheckerProcess | None = None
        self.setup_failure: dict | None = None

    def run(self, cell, index: int, grade_id: str, budget: float) -> dict:
        if self.checker is None:
            self.checker = kept_checker(self.task.sandbox, self.task.limits, grading_environment())
            setup = self.checker.setup(self.to_run.setup_source, self.task.limits.for_cell("setup"))
            if not setup.get("passed"):
                self.setup_failure = {
                    **setup,
                    "evalue": f"the grader's checker could not start: {setup.get('evalue')}",
                }
        if self.setup_failure:
            return self.setup_failure
        self.relay.index, self.relay.deadline = index, time.monotonic() + budget
        self.checker.copy_data_files(self.workspace)
        cells = [c.source for c in self.notebook.cells[:index] if c.cell_type == "code"]
        return self.checker.test(cell.source, grade_id, cells, self.relay, budget + 5)

    def close(self) -> None:
        """The checker stays with this worker for its next notebook (kept_checker)."""


def _run_cells_checked(
    client, task, to_run, notebook, workspace, deadline, result, kernel_log, quota, checks
):
    stopped: str | None = None  # why the remaining cells do not run
    # The kernel's own output (TensorFlow's C++ logs, a crash message) goes to a log file,
    # not to the terminal with the progress bar.
    with client.setup_kernel(
        cwd=str(workspace),
        env={
            "PATH": os.environ.get("PATH", "/usr/bin:/bin")
        },  # for bwrap; the kernel's is set inside
        stdout=kernel_log,
        stderr=kernel_log,
    ):
        code = [i for i, cell in enumerate(notebook.cells) if cell.cell_type == "code"]
        sources = [notebook.cells[i].source for i in code]
        left_out = {code[i] for i in demonstrations.left_out(sources, to_run.demonstrations)}
        for index, cell in enumerate(notebook.cells):
            if cell.cell_type != "code":
                continue
            meta = nbgrader_meta(cell)
            grade_id = meta.get("grade_id")
            graded = bool(meta.get("grade")) and not meta.get("solution")
            label = grade_id or f"cell {index + 1}"
            event = CellEvent(to_run.name, index, grade_id, "ok", 0.0, graded=graded)
            result.events.append(event)
            if index in left_out:
                event.status, event.explanation = "skipped", demonstrations.NOTE
                cell.outputs = [_note(demonstrations.NOTE)]
                continue
            if stopped is None and time.monotonic() >= deadline:
                stopped = f"the submission's time limit ({task.limits.submission_timeout_s:g} s) was used up"
            if stopped is not None:
                event.status, event.explanation = "not-run", f"not run: {stopped}"
                _fail(cell, "NotRun", event.explanation, graded)
                continue
            if graded:  # run by the checker, in its own process: never in the kernel
                begun = time.perf_counter()
                budget = min(task.limits.for_cell(grade_id), deadline - time.monotonic())
                verdict = checks.run(cell, index, grade_id, budget)
                cell.outputs = verdict_outputs(verdict, task.limits.output_bytes)
                event.seconds = time.perf_counter() - begun
                if not verdict.get("passed"):
                    event.status = "timeout" if verdict.get("ename") == "TimeoutError" else "error"
                    lines = str(verdict.get("evalue", "")).strip().splitlines()
                    event.explanation = f"{verdict.get('ename')}: {lines[0] if lines else ''}"
                    event.cause = likely_cause(lines)
                if checks.relay.stopped:
                    stopped = f"{checks.relay.stopped} (in {label})"
                    event.status, event.explanation = "timeout", stopped
                    _stop_kernel(client)
                continue
            limit = task.limits.for_cell(grade_id)
            budget = min(limit, deadline - time.monotonic())
            client.timeout = max(1, math.ceil(budget))
            begun = time.perf_counter()
            try:
                client.execute_cell(cell, index)
            except CellExecutionError as error:
                event.status = "memory" if error.ename == "MemoryError" else "error"
                event.explanation = _explain_error(error, task.limits)
                if graded and not any(o.output_type == "error" for o in cell.outputs):
                    _fail(cell, error.ename, "the test failed but its error was hidden", graded)
            except CellTimeoutError:
                if budget < limit:
                    stopped = f"the submission's time limit ({task.limits.submission_timeout_s:g} s) was used up in {label}"
                else:
                    stopped = f"{label} ran past its time limit of {limit:g} s (an endless loop?)"
                event.status, event.explanation = "timeout", stopped
                _fail(cell, "Timeout", stopped, graded=True)
                _stop_kernel(client)
            except DeadKernelError:
                stopped = (
                    f"the kernel was stopped while running {label}: the submission wrote more "
                    f"than its {task.limits.disk_bytes / GIB:g} GiB of disk"
                    if quota.exceeded
                    else f"the kernel died while running {label} (the process crashed or exited: "
                    f"os._exit, a segmentation fault, or memory beyond the "
                    f"{task.limits.memory_bytes / GIB:g} GiB limit in native code)"
                )
                event.status, event.explanation = "crashed", stopped
                _fail(cell, "KernelDied", stopped, graded=True)
            except Exception as error:  # e.g. garbled messages from a kernel out of threads
                stopped = f"the kernel stopped answering properly while running {label} ({error!r})"
                event.status, event.explanation = "crashed", stopped
                _fail(cell, "KernelFailed", stopped, graded=True)
                _stop_kernel(client)
            finally:
                event.seconds = time.perf_counter() - begun
                result.cell_seconds += event.seconds
    return notebook


def likely_cause(failure_lines: list[str]) -> str:
    """The "likely cause: ..." line of a check's failure (grader.checks.failure), if any."""
    for line in failure_lines:
        text = line.strip()
        if text.startswith("likely cause:"):
            return text.removeprefix("likely cause:").strip()
    return ""


def _explain_error(error: CellExecutionError, limits: Limits) -> str:
    if error.ename == "MemoryError":
        return f"MemoryError: the kernel's memory limit ({limits.memory_bytes / GIB:g} GiB) was reached"
    first_line = str(error.evalue).strip().splitlines()[:1]
    return f"{error.ename}: {first_line[0] if first_line else ''}".rstrip(": ")


def _fail(cell, ename: str, explanation: str, graded: bool) -> None:
    """Give a cell an error output, so that nbgrader scores a graded one 0 and says why."""
    if not graded:
        return
    cell.outputs = list(cell.get("outputs", [])) + [
        nbformat.v4.new_output(
            "error", ename=ename, evalue=explanation, traceback=[f"{ename}: {explanation}"]
        )
    ]


def _stop_kernel(client: NotebookClient) -> None:
    with contextlib.suppress(Exception):
        run_sync(client.km.shutdown_kernel)(now=True)  # the async manager's coroutine
