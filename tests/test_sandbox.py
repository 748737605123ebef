"""The sandbox a student's kernel runs in: no network, no course folder, bounded memory."""

from __future__ import annotations

import socket
import subprocess
import sys
import threading

import pytest

from grader.batch.limits import GIB
from grader.batch.sandbox import Sandbox, bubblewrap_problem, course_sandbox


def test_without_isolation_the_memory_limit_still_applies(tmp_path):
    command = Sandbox(isolate=False, memory_bytes=2 * GIB).command(["python"], tmp_path)
    assert command == ["prlimit", f"--as={2 * GIB}", "--", "python"]


def test_isolated_kernels_lose_the_network_and_the_hidden_folders(tmp_path):
    hidden = tmp_path / "course"
    hidden.mkdir()
    command = Sandbox(True, GIB, readable=(), hidden=(str(hidden),)).command(["python"], tmp_path)
    assert "--unshare-all" in command
    assert command[command.index("--tmpfs") + 1] == str(hidden)
    assert command[command.index("--bind") + 1] == str(tmp_path)


def test_turning_isolation_off_is_reported(tmp_path):
    sandbox, problem = course_sandbox(tmp_path, (), GIB, isolate=False)
    assert not sandbox.isolate and "turned off" in problem


needs_bwrap = pytest.mark.skipif(bubblewrap_problem() is not None, reason=str(bubblewrap_problem()))


def _run_inside(course, workspace, code: str) -> subprocess.CompletedProcess:
    sandbox, problem = course_sandbox(course, (), 2 * GIB)
    assert problem is None
    return subprocess.run(
        sandbox.command([sys.executable, "-c", code], workspace), capture_output=True, text=True
    )


@pytest.fixture
def course_and_workspace(tmp_path_factory):
    course = tmp_path_factory.mktemp("course")
    (course / "gradebook.db").write_text("secret")
    workspace = tmp_path_factory.mktemp("workspace")
    return course, workspace


@needs_bwrap
def test_student_code_cannot_read_the_course_folder(course_and_workspace):
    course, workspace = course_and_workspace
    result = _run_inside(course, workspace, f"open({str(course / 'gradebook.db')!r})")
    assert "FileNotFoundError" in result.stderr


@needs_bwrap
def test_student_code_can_write_its_workspace_only(course_and_workspace):
    course, workspace = course_and_workspace
    result = _run_inside(course, workspace, "open('model.weights.h5', 'w').write('w')")
    assert result.returncode == 0 and (workspace / "model.weights.h5").read_text() == "w"


@needs_bwrap
def test_student_code_has_no_network(course_and_workspace):
    course, workspace = course_and_workspace
    server = socket.create_server(("127.0.0.1", 0))
    port = server.getsockname()[1]
    accepted = []
    threading.Thread(target=lambda: accepted.append(server.accept()), daemon=True).start()
    code = f"import socket; socket.create_connection(('127.0.0.1', {port}), timeout=5)"
    result = _run_inside(course, workspace, code)
    server.close()
    assert result.returncode != 0 and not accepted
    assert "ConnectionRefusedError" in result.stderr or "OSError" in result.stderr


@needs_bwrap
def test_allocations_past_the_memory_limit_fail_in_python(course_and_workspace):
    course, workspace = course_and_workspace
    code = "import numpy as np\nhoard = [np.ones(10**8) for _ in range(10)]"  # 8 GB > 2 GiB
    result = _run_inside(course, workspace, code)
    assert "MemoryError" in result.stderr
