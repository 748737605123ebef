"""Where a student's kernel runs: bubblewrap's sandbox where the machine has it, a memory limit always.

In the sandbox the kernel sees the whole file system read-only, except that the course
folder, the submissions folder, the home folder and /tmp are replaced by empty ones; back
into view come, read-only, only what the notebooks need (Python and its packages, the
``grader`` package, the datasets), plus the submission's own workspace, writable. It has no
network (its own empty network namespace) and no view of other processes. The kernel talks
to the grader over Unix sockets in the workspace, which cross network namespaces.

Without bubblewrap, or with ``isolate=False``, the kernel runs with the grader's rights;
the report says so. The memory limit (the kernel's address space, via ``prlimit``) applies
either way: an allocation past it raises MemoryError in the student's cell.
"""

from __future__ import annotations

import functools
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path


@functools.cache
def bubblewrap_problem() -> str | None:
    """None when bubblewrap can sandbox here; otherwise why not (shown in the report)."""
    bwrap = shutil.which("bwrap")
    if bwrap is None:
        return "bubblewrap (bwrap) is not installed (Debian: apt-get install bubblewrap)"
    probe = subprocess.run(
        [bwrap, "--ro-bind", "/", "/", "--unshare-all", "--die-with-parent", "--", "true"],
        capture_output=True,
        text=True,
    )
    if probe.returncode != 0:
        return f"bubblewrap cannot create a sandbox here: {probe.stderr.strip()}"
    return None


@dataclass(frozen=True)
class Sandbox:
    """How to start one kernel. Picklable: it travels with each grading task."""

    isolate: bool
    memory_bytes: int
    readable: tuple[str, ...] = ()  # shown read-only inside the sandbox
    hidden: tuple[str, ...] = ()  # replaced by empty folders inside the sandbox

    def command(self, kernel_cmd: list[str], workspace: Path) -> list[str]:
        limited = ["prlimit", f"--as={self.memory_bytes}", "--", *kernel_cmd]
        if not self.isolate:
            return limited
        args = ["bwrap", "--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc"]
        for path in self.hidden:
            if os.path.isdir(path):
                args += ["--tmpfs", path]
        for path in self.readable:
            if os.path.exists(path):
                args += ["--ro-bind", path, path]
        args += ["--bind", str(workspace), str(workspace)]
        args += ["--unshare-all", "--die-with-parent", "--new-session", "--chdir", str(workspace)]
        # ipykernel exits when its parent's pid changes; inside the sandbox's pid namespace it
        # always looks changed. --die-with-parent ends the kernel with the grader instead.
        args += ["--unsetenv", "JPY_PARENT_PID"]
        return [*args, "--", *limited]


def course_sandbox(
    course_root: Path, extra_hidden: tuple[Path, ...], memory_bytes: int, isolate: bool = True
) -> tuple[Sandbox, str | None]:
    """The sandbox for grading ``course_root``'s submissions, and why it is not isolated (or None)."""
    problem = None if isolate else "isolation was turned off (--no-sandbox)"
    if isolate:
        problem = bubblewrap_problem()
    if problem is not None:
        return Sandbox(isolate=False, memory_bytes=memory_bytes), problem

    import grader
    from grader import datasets

    package = Path(grader.__file__).resolve().parent
    readable = {
        sys.base_prefix,
        sys.prefix,
        os.path.realpath(sys.executable),
        str(package),
        *_site_packages(),
    }
    data_dir = datasets.default_data_dir().resolve()
    if data_dir.is_dir():
        readable.add(str(data_dir))
        # data/ may hold links to a shared copy of the datasets: their targets must show too.
        readable |= {str(p.resolve()) for p in data_dir.iterdir() if p.is_symlink()}
    home = Path.home().resolve()
    hidden = {str(course_root.resolve()), str(package.parent), str(home), "/tmp"}
    hidden |= {str(p.resolve()) for p in extra_hidden}
    return Sandbox(
        isolate=True,
        memory_bytes=memory_bytes,
        readable=tuple(sorted(readable)),
        hidden=tuple(sorted(hidden, key=len)),
    ), None


def _site_packages() -> set[str]:
    import site

    return {os.path.realpath(p) for p in site.getsitepackages() if os.path.isdir(p)}
