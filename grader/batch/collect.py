"""Finding the submissions to grade and placing them where nbgrader keeps them.

Whatever the source, submissions end up in the course's ``submitted/<student>/<assignment>/``
(nbgrader's layout), so that nbgrader's formgrader and manual grading see them too:

- a folder with one sub-folder per student, each holding the notebooks (and files such as
  trained weights) either directly or in an ``<assignment>/`` sub-folder;
- LMS zip downloads, through nbgrader's own ``zip_collect`` (the regular expression says how
  a file name carries the student's id);
- nothing: the course's ``submitted/`` as it is.
"""

from __future__ import annotations

import datetime
import hashlib
import os
import shutil
import stat
from pathlib import Path

# Files named <student>_<notebook or weights file>, as LMS downloads often are, e.g.
# "ada_01_pooling.ipynb" for student "ada". Instructors override it with --zip-regexp.
DEFAULT_ZIP_REGEXP = r".*/(?P<student_id>[^/_]+)_(?P<file_id>[^/]+)$"
TIMESTAMP = "timestamp.txt"  # nbgrader's: when the submission was collected


class CollectError(RuntimeError):
    """The submissions cannot be found where the instructor pointed."""


def students(course, assignment: str) -> list[str]:
    """The students with a submission of ``assignment`` in the course's submitted/."""
    root = course.submitted_root()
    if not root.is_dir():
        return []
    return sorted(
        p.name for p in root.iterdir() if course.submission_dir(p.name, assignment).is_dir()
    )


def from_folder(source: Path, course, assignment: str) -> list[str]:
    """Copy ``source/<student>/[<assignment>/]...`` into submitted/; return the students.

    Links are copied as links and special files (devices, pipes) not at all, so nothing
    outside the upload comes in with it (workspace_files then refuses the links, with a
    note); the submission time is the collection's, never a timestamp.txt in the upload."""
    source = source.resolve()
    if not source.is_dir():
        raise CollectError(f"no folder of submissions at {source}")
    if source == course.submitted_root().resolve():
        return students(course, assignment)
    found = []
    for folder in sorted(p for p in source.iterdir() if p.is_dir() and not p.name.startswith(".")):
        files = folder / assignment if (folder / assignment).is_dir() else folder
        target = course.submission_dir(folder.name, assignment)
        if target.exists():
            shutil.rmtree(target)
        shutil.copytree(files, target, symlinks=True, ignore=_not_copied)
        stamp = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M:%S.%f UTC")
        (target / TIMESTAMP).write_text(stamp)
        found.append(folder.name)
    if not found:
        raise CollectError(f"{source} holds no student folders")
    return found


def from_zips(
    zips: list[Path], course, assignment: str, regexp: str = DEFAULT_ZIP_REGEXP
) -> list[str]:
    """Collect LMS zip downloads with nbgrader's zip_collect into submitted/."""
    archive = course.root / "downloaded" / assignment / "archive"
    if archive.exists():
        shutil.rmtree(archive)
    archive.mkdir(parents=True)
    for zip_file in zips:
        if not Path(zip_file).is_file():
            raise CollectError(f"no zip file at {zip_file}")
        shutil.copy2(zip_file, archive / Path(zip_file).name)
    course.nbgrader(
        "zip_collect",
        assignment,
        "--force",
        f"--FileNameCollectorPlugin.named_regexp={regexp}",
        "--FileNameCollectorPlugin.valid_ext=['.ipynb', '.h5']",
    )
    return students(course, assignment)


def _not_copied(folder: str, names: list[str]) -> set[str]:
    skipped = {".ipynb_checkpoints", TIMESTAMP}
    for name in names:
        mode = os.lstat(os.path.join(folder, name)).st_mode
        if not (stat.S_ISREG(mode) or stat.S_ISDIR(mode) or stat.S_ISLNK(mode)):
            skipped.add(name)  # a device, pipe or socket: nothing a student uploads
    return skipped


# What a submission may hold besides its notebooks: data, such as trained weights. Code
# (a grader/ package, an IPython startup file) could shadow what the notebooks import.
CODE_SUFFIXES = (".py", ".pyc", ".pth", ".so", ".ipy", ".pyx", ".sh")


def workspace_files(folder: Path, max_bytes: int) -> tuple[dict[str, bytes], list[str]]:
    """The files of a submission that go into its workspace, and what was refused, with why.

    Never follows a link; refuses links, special files, hidden files and folders, code and
    files over ``max_bytes``. The notebooks go separately (sanitized)."""
    files: dict[str, bytes] = {}
    refused: list[str] = []
    for current, folders, names in os.walk(folder, followlinks=False):
        base = Path(current)
        for name in sorted(folders):
            if name.startswith(".") or (base / name).is_symlink():
                folders.remove(name)
                refused.append(
                    f"{(base / name).relative_to(folder)}/ was left out (a link or a hidden folder)"
                )
        for name in sorted(names):
            path = base / name
            relative = str(path.relative_to(folder))
            info = os.lstat(path)
            if name == TIMESTAMP or (path.suffix == ".ipynb" and base == folder):
                continue
            if stat.S_ISLNK(info.st_mode):
                refused.append(f"{relative} is a symbolic link: left out")
            elif not stat.S_ISREG(info.st_mode):
                refused.append(f"{relative} is not a regular file: left out")
            elif name.startswith("."):
                refused.append(f"{relative} is a hidden file: left out")
            elif path.suffix.lower() in CODE_SUFFIXES:
                refused.append(
                    f"{relative} is code, not data: left out (a submission is graded from its notebooks)"
                )
            elif info.st_size > max_bytes:
                refused.append(
                    f"{relative} is {info.st_size / 2**20:.0f} MiB, over the {max_bytes / 2**20:.0f} MiB "
                    "a file may have: left out"
                )
            else:
                files[relative] = read_no_follow(path)
    return files, refused


def read_no_follow(path: Path, limit: int | None = None) -> bytes:
    """A file's bytes, never through a link (one swapped in since it was checked included),
    and at most ``limit`` of them."""
    descriptor = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
    with os.fdopen(descriptor, "rb") as handle:
        data = handle.read(limit + 1 if limit else -1)
    if limit is not None and len(data) > limit:
        raise ValueError(f"{path.name} is larger than {limit:,} bytes")
    return data


def content_hash(folder: Path, *also: bytes) -> str:
    """A submission's identity for re-runs: its files, plus what grades them (``also``).
    Links count by where they point; nothing is followed."""
    digest = hashlib.sha256()
    for current, folders, names in sorted(os.walk(folder, followlinks=False)):
        folders.sort()
        for name in sorted(
            names + [f for f in folders if os.path.islink(os.path.join(current, f))]
        ):
            path = Path(current, name)
            relative = str(path.relative_to(folder)).encode()
            if name == TIMESTAMP and Path(current) == folder:
                continue
            if path.is_symlink():
                digest.update(relative + b"\0->" + os.readlink(path).encode())
            elif path.is_file():
                digest.update(relative + b"\0")
                with open(path, "rb") as handle:
                    digest.update(hashlib.file_digest(handle, "sha256").digest())
    for part in also:
        digest.update(hashlib.sha256(part).digest())
    return digest.hexdigest()
