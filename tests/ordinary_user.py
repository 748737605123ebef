"""Running the grader as an ordinary user from a test suite that runs as root (as .ci/run does).

Root's Python usually lives under /root (mode 0700, like any home), which an ordinary user
cannot enter. In a private mount namespace (the host is untouched), that one folder is replaced
by a traversable view holding only the entry on the way to Python; then root becomes the
ordinary user for good with setpriv: no capability is kept, so bubblewrap runs unprivileged,
with --unshare-user, as it does for any instructor without root.
"""

from __future__ import annotations

import os
import pwd
import stat
import subprocess
import sys
import tempfile
from pathlib import Path

USER = pwd.getpwnam("nobody")

# Passed on to the ordinary user's process: the platform the tests emulate.
PASSED_ON = ("TF_ENABLE_ONEDNN_OPTS", "DNNL_MAX_CPU_ISA")

BECOME_ORDINARY_USER = """
closed=$1 entry=$2 view=$3 uid=$4 gid=$5; shift 5
mount --make-rprivate /
if [ -n "$closed" ]; then
  mkdir -p "$view/$entry" && chmod 0755 "$view"
  mount --rbind "$closed/$entry" "$view/$entry"
  mount --rbind "$view" "$closed"
fi
exec setpriv --reuid="$uid" --regid="$gid" --clear-groups --inh-caps=-all --bounding-set=-all "$@"
"""


def folder(prefix: str) -> Path:
    """A fresh folder the ordinary user owns (pytest's own tmp folders are root's, 0700)."""
    path = Path(tempfile.mkdtemp(prefix=prefix))
    give(path)
    return path


def give(path: Path) -> None:
    """Make ``path`` and everything below it the ordinary user's."""
    for item in [path, *path.rglob("*")]:
        os.lchown(item, USER.pw_uid, USER.pw_gid)


def run(argv: list[str], home: Path, environment: dict[str, str], **kwargs):
    """``argv`` run as the ordinary user with ``home`` as HOME and only ``environment`` (plus
    PATH and the emulated platform's variables) set; subprocess.run's keyword arguments."""
    closed, entry = "", ""
    python = Path(sys.base_prefix).resolve()
    for parent in reversed(python.parents):  # the first folder on the way it cannot enter
        if parent != Path("/") and not parent.stat().st_mode & stat.S_IXOTH:
            closed, entry = str(parent), python.relative_to(parent).parts[0]
            break
    environment = {
        "PATH": os.environ["PATH"],
        "HOME": str(home),
        "MPLCONFIGDIR": str(home),
        **{k: v for k, v in os.environ.items() if k in PASSED_ON},
        **environment,
    }
    with tempfile.TemporaryDirectory(prefix="python-view-") as view:
        return subprocess.run(
            ["unshare", "--mount", "sh", "-ec", BECOME_ORDINARY_USER, "sh", closed, entry,
             view, str(USER.pw_uid), str(USER.pw_gid),
             "env", "-i", *(f"{k}={v}" for k, v in environment.items()), *argv],
            cwd=home, **kwargs,
        )  # fmt: skip
