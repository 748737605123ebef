"""The sandbox untrusted code runs in: no network, no capabilities, nothing of the host in
view beyond Python, the packages and the datasets, bounded memory, files and processes."""

from __future__ import annotations

import importlib
import json
import os
import shutil
import socket
import subprocess
import sys
import threading
from dataclasses import asdict, dataclass
from pathlib import Path

import ordinary_user
import pytest

from grader.batch.limits import GIB, MIB, Limits
from grader.batch.sandbox import (
    DiskQuota,
    Sandbox,
    bubblewrap_problem,
    course_sandbox,
    sandbox_uid,
)

LIMITS = Limits(memory_bytes=2 * GIB, file_bytes=64 * MIB, processes=64)


def test_without_isolation_the_limits_and_the_scrubbed_environment_still_apply(tmp_path):
    command = Sandbox(isolate=False, limits=LIMITS).command(["python"], tmp_path, {"A": "1"})
    assert command[:3] == ["env", "-i", "A=1"]
    assert f"--as={2 * GIB}" in command and f"--fsize={64 * MIB}" in command
    assert command[-1] == "python"


def test_turning_isolation_off_is_reported(tmp_path):
    sandbox, problem = course_sandbox(tmp_path, LIMITS, isolate=False)
    assert not sandbox.isolate and "turned off" in problem


needs_bwrap = pytest.mark.skipif(bubblewrap_problem() is not None, reason=str(bubblewrap_problem()))


# Run by the ordinary user: the sandbox built as that user builds it, the code run inside.
SANDBOXED = """
import json, subprocess, sys
from pathlib import Path
from grader.batch.limits import Limits
from grader.batch.sandbox import course_sandbox
course, workspace, code, environment, limits, who = sys.argv[1:]
sandbox, problem = course_sandbox(Path(course), Limits(**json.loads(limits)))
assert problem is None, problem
if who == "student":
    sandbox = sandbox.for_student_code()
sandbox.prepare_workspace(Path(workspace))
command = sandbox.command([sys.executable, "-c", code], Path(workspace), json.loads(environment))
result = subprocess.run(command, capture_output=True, text=True, timeout=120)
sys.stdout.write(result.stdout)
sys.stderr.write(result.stderr)
sys.exit(result.returncode)
"""


@dataclass
class Grader:
    """Who runs the grader: this process's user (root in CI), or an ordinary user."""

    course: Path
    workspace: Path
    ordinary: bool

    def run_inside(
        self, code: str, environment=None, *, who: str = "student"
    ) -> subprocess.CompletedProcess:
        """``code`` run in the sandbox of the student's kernel (who="student") or of the
        checker (who="checker")."""
        if self.ordinary:
            return ordinary_user.run(
                [sys.executable, "-c", SANDBOXED, str(self.course), str(self.workspace), code,
                 json.dumps(environment or {}), json.dumps(asdict(LIMITS)), who],
                self.workspace.parent / "home", {k: v for k, v in os.environ.items() if k.startswith("GRADER_")},
                capture_output=True, text=True, timeout=180,
            )  # fmt: skip
        sandbox, problem = course_sandbox(self.course, LIMITS)
        assert problem is None
        if who == "student":
            sandbox = sandbox.for_student_code()
        sandbox.prepare_workspace(self.workspace)
        return subprocess.run(
            sandbox.command([sys.executable, "-c", code], self.workspace, environment or {}),
            capture_output=True,
            text=True,
            timeout=120,
        )


@pytest.fixture(params=["this user", "an ordinary user"], ids=lambda who: f"as {who}")
def grader(request, tmp_path_factory):
    ordinary = request.param == "an ordinary user"
    if ordinary and os.geteuid() != 0:
        pytest.skip("this user is an ordinary user: the other parameter covers it")
    root = ordinary_user.folder("sandbox-test-") if ordinary else tmp_path_factory.mktemp("t")
    if ordinary:
        request.addfinalizer(lambda: shutil.rmtree(root, ignore_errors=True))
    for name in ("course", "workspace", "home"):
        (root / name).mkdir()
    (root / "course" / "gradebook.db").write_text("secret")
    if ordinary:
        ordinary_user.give(root)
    return Grader(root / "course", root / "workspace", ordinary)


@needs_bwrap
def test_student_code_sees_no_course_folder_no_home_and_no_system_secrets(grader):
    code = (
        "import os\n"
        f"for path in [{str(grader.course / 'gradebook.db')!r}, '/etc/shadow', '/root/.bashrc', '/home', '/run', '/var']:\n"
        "    print(path, os.path.exists(path))\n"
    )
    result = grader.run_inside(code)
    assert result.returncode == 0, result.stderr
    assert all(line.endswith("False") for line in result.stdout.splitlines()), result.stdout


@needs_bwrap
def test_student_code_runs_without_capabilities_and_not_as_root(grader):
    code = (
        "import os\n"
        "status = open('/proc/self/status').read()\n"
        "print(next(l for l in status.splitlines() if l.startswith('CapEff')).split()[1])\n"
        "print(os.getuid())"
    )
    result = grader.run_inside(code)
    capabilities, uid = result.stdout.split()
    assert int(capabilities, 16) == 0
    assert uid != "0"
    if os.geteuid() == 0 and not grader.ordinary:
        assert uid == str(sandbox_uid(grader.workspace))  # a uid of its own


@needs_bwrap
def test_student_code_gets_only_the_environment_it_is_given(grader, monkeypatch):
    monkeypatch.setenv("GRADER_SECRET_TOKEN", "hunter2")
    code = "import os; print(sorted(os.environ))"
    result = grader.run_inside(code, {"ONLY_THIS": "1"})
    assert "GRADER_SECRET_TOKEN" not in result.stdout and "ONLY_THIS" in result.stdout


@needs_bwrap
def test_student_code_can_write_its_workspace_only(grader):
    code = (
        "open('model.weights.h5', 'w').write('w')\n"
        "for path in ['/x', '/etc/x', '/tmp/x', '/dev/shm/x', '/dev/x', '/usr/x']:\n"
        "    try:\n"
        "        open(path, 'w').write('x')\n"
        "        print('wrote', path)\n"
        "    except OSError:\n"
        "        pass\n"
    )
    result = grader.run_inside(code)
    assert result.returncode == 0, result.stderr
    assert result.stdout == "" and (grader.workspace / "model.weights.h5").read_text() == "w"


@needs_bwrap
def test_student_code_has_no_network(grader):
    server = socket.create_server(("127.0.0.1", 0))
    port = server.getsockname()[1]
    accepted = []
    threading.Thread(target=lambda: accepted.append(server.accept()), daemon=True).start()
    code = f"import socket; socket.create_connection(('127.0.0.1', {port}), timeout=5)"
    result = grader.run_inside(code)
    server.close()
    assert result.returncode != 0 and not accepted
    assert "ConnectionRefusedError" in result.stderr or "OSError" in result.stderr


@needs_bwrap
def test_allocations_past_the_memory_limit_fail_in_python(grader):
    code = "import numpy as np\nhoard = [np.ones(10**8) for _ in range(10)]"  # 8 GB > 2 GiB
    result = grader.run_inside(code)
    assert "MemoryError" in result.stderr


@needs_bwrap
def test_a_file_past_the_file_limit_cannot_be_written(grader):
    code = (
        "import signal; signal.signal(signal.SIGXFSZ, signal.SIG_IGN)\n"
        "open('big', 'wb').write(b'x' * (100 * 2**20))"  # 100 MiB > 64 MiB
    )
    result = grader.run_inside(code)
    assert "File too large" in result.stderr


@needs_bwrap
def test_a_thread_bomb_stops_at_the_process_limit(grader):
    code = (
        "import threading, time\n"
        "started = 0\n"
        "try:\n"
        "    for _ in range(1000):\n"
        "        threading.Thread(target=time.sleep, args=(3,), daemon=True).start()\n"
        "        started += 1\n"
        "except RuntimeError:\n"
        "    print('stopped after', started)\n"
    )
    result = grader.run_inside(code)
    assert result.stdout.startswith("stopped after"), result.stdout + result.stderr


def test_the_disk_quota_counts_every_file_of_the_workspace(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "weights.h5").write_bytes(os.urandom(3 * MIB))
    (tmp_path / "b.bin").write_bytes(os.urandom(2 * MIB))
    assert DiskQuota(tmp_path, 4 * MIB).exceeded()
    assert not DiskQuota(tmp_path, 8 * MIB).exceeded()


ANSWERS_WITHIN_REACH = """
import importlib, pathlib
import grader.checks.oracle as oracle
print("second computation", oracle.independent.__name__)
for module in ("grader.checks.exact", "grader.checks.references"):
    try:
        importlib.import_module(module)
        print(module, "imported")
    except ImportError:
        print(module, "withheld")
package = pathlib.Path(oracle.__file__).parent
files = [package / "exact.py", *package.glob("__pycache__/exact.*.pyc")]
print("readable answers", any(b"sliding_window_view" in f.read_bytes() for f in files))
"""


@needs_bwrap
def test_student_code_can_neither_import_nor_read_the_modules_that_hold_answers(grader):
    """While grading, the student's kernel sees the package as the student bundle has it: the
    exact NumPy versions and the reference networks are withheld, source and compiled."""
    importlib.import_module("grader.checks.exact")  # compiled: a .pyc exists to withhold

    result = grader.run_inside(ANSWERS_WITHIN_REACH, who="student")
    assert result.returncode == 0, result.stderr[-2000:]
    assert "grader.checks.exact withheld" in result.stdout
    assert "grader.checks.references withheld" in result.stdout
    assert "second computation grader.checks.float64" in result.stdout
    assert "readable answers False" in result.stdout


@needs_bwrap
def test_the_checker_sees_the_modules_that_hold_answers(grader):
    result = grader.run_inside(ANSWERS_WITHIN_REACH, who="checker")
    assert result.returncode == 0, result.stderr[-2000:]
    assert "grader.checks.exact imported" in result.stdout
    assert "second computation grader.checks.exact" in result.stdout


@needs_bwrap
def test_sandboxed_code_finds_the_datasets_the_grader_uses(grader):
    """A grading kernel (and the checker) has no course around its workspace: the grader
    tells it where the datasets are, and the sandbox shows them there, read-only."""
    from grader.batch.execute import kernel_environment
    from grader.datasets import default_data_dir

    environment = kernel_environment(grader.workspace / ".grader-home")
    code = "from grader.datasets import load_mnist\n(x, _), _ = load_mnist()\nprint(x.shape)"
    result = grader.run_inside(code, environment)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip() == "(60000, 28, 28)"
    assert environment["CNN_COURSE_DATA"] == str(default_data_dir().resolve())


def test_local_workers_share_the_cores_between_their_kernels(monkeypatch, tmp_path):
    """Each of two workers' kernels and checkers gets half the cores' threads, not all of
    them (TensorFlow's default): together they fill the machine once."""
    from grader.batch.execute import THREAD_VARIABLES, kernel_environment
    from grader.batch.runner import share_cores, threads_per_worker

    monkeypatch.setattr(os, "cpu_count", lambda: 8)
    assert [threads_per_worker(n) for n in (1, 2, 3, 16)] == [8, 4, 2, 1]
    for variable in THREAD_VARIABLES:
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.setenv("OMP_NUM_THREADS", "3")  # the instructor's own setting is kept
    share_cores(4)
    environment = kernel_environment(tmp_path)
    assert environment["TF_NUM_INTRAOP_THREADS"] == environment["TF_NUM_INTEROP_THREADS"] == "4"
    assert environment["OMP_NUM_THREADS"] == "3"
