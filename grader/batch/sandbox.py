"""Where untrusted code runs when grading: bubblewrap's sandbox where the machine has it,
resource limits always.

Inside the sandbox a process sees an empty root with, read-only, only what a notebook needs:
the system's libraries (/usr), Python and the installed packages, the ``grader`` package and
the dataset files. The submission's workspace is the one writable place; /tmp and /dev are
read-only (a file written there would live in memory, past every limit). It has no network
and no host sockets (its own network namespace, and no /run), its own process tree, and a
scrubbed environment: only the variables the grader sets.

Its code never runs with root's powers. When the grader runs as root, the sandbox drops to
an unprivileged uid of its own (no account, no capabilities; ``setpriv``) before anything of
the student's runs,
so files readable only by root (the gradebook, /etc/shadow) stay closed even if they were in
view, and the process limit applies (root is exempt from it). Otherwise bubblewrap runs the
process in a new user namespace with every capability dropped.

Limits (``prlimit``): the address space (an allocation past it raises MemoryError), the
size of any one file, the number of processes and threads of the sandbox's user. The total
a submission writes is bounded by :class:`DiskQuota`, which the grader polls while cells run.

Without bubblewrap, or with ``isolate=False``, the code runs with the grader's rights (the
report says so); the resource limits apply either way.
"""

from __future__ import annotations

import dataclasses
import functools
import os
import shutil
import subprocess
import sys
import zlib
from dataclasses import dataclass, field
from pathlib import Path

from grader.batch.limits import Limits

# As root, each sandbox runs as a uid of its own, above every real account: processes are
# counted per uid, so one submission's thread bomb cannot starve another's kernel or checker.
FIRST_SANDBOX_UID = 200_000
SANDBOX_UIDS = 100_000
# Read-only system paths every Python process needs (Debian links /bin, /lib, ... into /usr).
SYSTEM_PATHS = ("/usr", "/etc/ld.so.cache", "/etc/fonts", "/etc/localtime")
USR_LINKS = ("bin", "sbin", "lib", "lib64")


@functools.cache
def bubblewrap_problem() -> str | None:
    """None when bubblewrap can sandbox here; otherwise why not (shown in the report)."""
    bwrap = shutil.which("bwrap")
    if bwrap is None:
        return "bubblewrap (bwrap) is not installed (Debian: apt-get install bubblewrap)"
    probe = subprocess.run(
        [bwrap, *_namespace_arguments(), "--ro-bind", "/", "/", "--", "true"],
        capture_output=True,
        text=True,
    )
    if probe.returncode != 0:
        return f"bubblewrap cannot create a sandbox here: {probe.stderr.strip()}"
    if os.geteuid() == 0 and shutil.which("setpriv") is None:
        return "setpriv (util-linux) is missing: student code would keep root's powers"
    return None


def _namespace_arguments() -> list[str]:
    args = ["--unshare-ipc", "--unshare-pid", "--unshare-net", "--unshare-uts"]
    args += ["--unshare-cgroup-try", "--die-with-parent", "--new-session"]
    if os.geteuid() != 0:
        # A new user namespace with no capabilities. As root the process drops to its own
        # unprivileged uid instead (setpriv, below): in a user namespace it would stay uid 0 on the host.
        args += ["--unshare-user", "--cap-drop", "ALL"]
    return args


def _ancestors(paths) -> list[str]:
    """Every folder above ``paths``, shallowest first. bubblewrap would give the folders it
    creates the host's permissions (/root is 0700), which the sandbox's uid could not pass."""
    found = {str(parent) for path in paths for parent in Path(path).parents if str(parent) != "/"}
    return sorted(found - {"/tmp"}, key=lambda p: (p.count("/"), p))


@dataclass(frozen=True)
class Sandbox:
    """How to start one untrusted process. Picklable: it travels with each grading task."""

    isolate: bool
    limits: Limits = field(default_factory=Limits)
    readable: tuple[str, ...] = ()  # shown read-only inside the sandbox
    withheld: tuple[str, ...] = ()  # files shown as grader/batch/withheld.py instead

    def for_student_code(self) -> Sandbox:
        """This sandbox, with the modules that hold answers withheld: for the student's
        kernel, never for the checker."""
        return dataclasses.replace(self, withheld=withheld_files()) if self.isolate else self

    def command(self, argv: list[str], workspace: Path, environment: dict[str, str]) -> list[str]:
        """``argv`` run in ``workspace`` with only ``environment`` set, within the limits."""
        limited = [
            "prlimit",
            f"--as={self.limits.memory_bytes}",
            f"--fsize={self.limits.file_bytes}",
            f"--nproc={self._process_limit()}",
            "--",
            *argv,
        ]
        if not self.isolate:
            return ["env", "-i", *(f"{k}={v}" for k, v in sorted(environment.items())), *limited]
        args = ["bwrap", *_namespace_arguments(), "--clearenv"]
        for key, value in sorted(environment.items()):
            args += ["--setenv", key, value]
        # /tmp first: the workspace and the datasets may lie below it and are bound on top.
        args += ["--tmpfs", "/tmp"]
        readable = [p for p in (*SYSTEM_PATHS, *self.readable) if os.path.exists(p)]
        for folder in _ancestors([*readable, str(workspace)]):
            args += ["--perms", "0755", "--dir", folder]
        for path in readable:
            args += ["--ro-bind", path, path]
        for path in self.withheld:
            args += ["--ro-bind", str(WITHHELD_STUB), path]
        for link in USR_LINKS:
            if os.path.islink(f"/{link}"):
                args += ["--symlink", os.readlink(f"/{link}"), f"/{link}"]
            elif os.path.isdir(f"/{link}"):
                args += ["--ro-bind", f"/{link}", f"/{link}"]
        args += ["--bind", str(workspace), str(workspace)]
        args += ["--proc", "/proc", "--dev", "/dev", "--remount-ro", "/dev"]
        # The sandbox's own root and /tmp are tmpfs mounts in memory, outside the disk quota;
        # as an ordinary user's sandbox owns them, so they are made read-only: the workspace
        # is the one writable place.
        args += ["--remount-ro", "/tmp", "--remount-ro", "/", "--chdir", str(workspace)]
        if os.geteuid() == 0:
            uid = sandbox_uid(workspace)
            limited = [
                "setpriv",
                f"--reuid={uid}",
                f"--regid={uid}",
                "--clear-groups",
                "--inh-caps=-all",
                "--bounding-set=-all",
                "--no-new-privs",
                "--",
                *limited,
            ]
        return [*args, "--", *limited]

    def _process_limit(self) -> int:
        """RLIMIT_NPROC counts every process of the user: a sandbox's own uid has none
        besides; an ordinary user's own processes count too, so they are added."""
        if self.isolate and os.geteuid() == 0:
            return self.limits.processes
        return self.limits.processes + _processes_of(os.getuid())

    def prepare_workspace(self, workspace: Path, part: Path | None = None) -> None:
        """Make the workspace (or only ``part`` of it) the sandbox user's, when the grader
        is root."""
        if self.isolate and os.geteuid() == 0:
            uid = sandbox_uid(workspace)
            for folder, _, files in os.walk(part or workspace):
                os.chown(folder, uid, uid, follow_symlinks=False)
                for name in files:
                    os.chown(os.path.join(folder, name), uid, uid, follow_symlinks=False)


def sandbox_uid(workspace: Path) -> int:
    """The uid a sandbox on ``workspace`` runs as when the grader is root."""
    return FIRST_SANDBOX_UID + zlib.crc32(str(workspace).encode()) % SANDBOX_UIDS


def _processes_of(uid: int) -> int:
    count = 0
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            try:
                status = Path(entry.path, "status").read_text()
            except OSError:
                continue
            uids = next((line for line in status.splitlines() if line.startswith("Uid:")), "")
            threads = next(
                (line for line in status.splitlines() if line.startswith("Threads:")), ""
            )
            if uids.split()[1:2] == [str(uid)]:
                count += int(threads.split()[1]) if threads else 1
    return count


class DiskQuota:
    """The bytes a workspace holds, against the submission's quota (polled by the grader)."""

    def __init__(self, workspace: Path, limit_bytes: int):
        self.workspace, self.limit_bytes = workspace, limit_bytes

    def used(self) -> int:
        total = 0
        for folder, _, files in os.walk(self.workspace):
            for name in files:
                try:
                    total += os.lstat(os.path.join(folder, name)).st_blocks * 512
                except OSError:
                    continue
        return total

    def exceeded(self) -> bool:
        return self.used() > self.limit_bytes


def course_sandbox(
    course_root: Path, limits: Limits, isolate: bool = True
) -> tuple[Sandbox, str | None]:
    """The sandbox for grading ``course_root``'s submissions, and why it is not isolated (or None)."""
    problem = None if isolate else "isolation was turned off (--no-sandbox)"
    if isolate:
        problem = bubblewrap_problem()
    if problem is not None:
        return Sandbox(isolate=False, limits=limits), problem
    return Sandbox(isolate=True, limits=limits, readable=readable_paths()), None


WITHHELD_STUB = Path(__file__).with_name("withheld.py")


def withheld_files() -> tuple[str, ...]:
    """The files of the modules that hold answers (``grader.bundle.INSTRUCTORS_ONLY``), with
    their compiled copies, which Python could load without the source."""
    import grader
    from grader.bundle import INSTRUCTORS_ONLY

    package = Path(grader.__file__).resolve().parent
    found = []
    for module in sorted(INSTRUCTORS_ONLY):
        source = package.joinpath(*module.split(".")[1:]).with_suffix(".py")
        found.append(source)
        found += sorted((source.parent / "__pycache__").glob(f"{source.stem}.*.pyc"))
    return tuple(str(path) for path in found if path.is_file())


def readable_paths() -> tuple[str, ...]:
    """Python, the installed packages, the grader package and the dataset files."""
    import grader
    from grader import datasets

    package = Path(grader.__file__).resolve().parent
    readable = {
        sys.base_prefix,
        sys.prefix,
        os.path.realpath(sys.base_prefix),
        os.path.realpath(sys.executable),
        str(package),
        *_site_packages(),
    }
    data_dir = datasets.default_data_dir().resolve()
    if data_dir.is_dir():
        # The files themselves, resolved: data/ may hold links to a shared copy elsewhere.
        readable |= {str(p.resolve()) for p in data_dir.iterdir() if p.is_file()}
        readable.add(str(data_dir))
    return tuple(sorted(readable, key=lambda p: (p.count("/"), p)))


def _site_packages() -> set[str]:
    import site

    return {os.path.realpath(p) for p in site.getsitepackages() if os.path.isdir(p)}
