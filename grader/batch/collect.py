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

import hashlib
import shutil
from pathlib import Path

# Files named <student>_<notebook or weights file>, as LMS downloads often are, e.g.
# "ada_01_pooling.ipynb" for student "ada". Instructors override it with --zip-regexp.
DEFAULT_ZIP_REGEXP = r".*/(?P<student_id>[^/_]+)_(?P<file_id>[^/]+)$"


class CollectError(RuntimeError):
    """The submissions cannot be found where the instructor pointed."""


def submitted_dir(course_root: Path, student: str, assignment: str) -> Path:
    return course_root / "submitted" / student / assignment


def students(course_root: Path, assignment: str) -> list[str]:
    root = course_root / "submitted"
    if not root.is_dir():
        return []
    return sorted(p.parent.name for p in root.glob(f"*/{assignment}") if p.is_dir())


def from_folder(source: Path, course_root: Path, assignment: str) -> list[str]:
    """Copy ``source/<student>/[<assignment>/]...`` into submitted/; return the students."""
    source = source.resolve()
    if not source.is_dir():
        raise CollectError(f"no folder of submissions at {source}")
    if source == (course_root / "submitted").resolve():
        return students(course_root, assignment)
    found = []
    for folder in sorted(p for p in source.iterdir() if p.is_dir() and not p.name.startswith(".")):
        files = folder / assignment if (folder / assignment).is_dir() else folder
        target = submitted_dir(course_root, folder.name, assignment)
        if target.exists():
            shutil.rmtree(target)
        shutil.copytree(files, target, ignore=shutil.ignore_patterns(".ipynb_checkpoints"))
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
    return students(course.root, assignment)


def content_hash(folder: Path, *also: bytes) -> str:
    """A submission's identity for re-runs: its files, plus what grades them (``also``)."""
    digest = hashlib.sha256()
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        if path.name == "timestamp.txt":
            continue
        digest.update(str(path.relative_to(folder)).encode() + b"\0")
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    for part in also:
        digest.update(hashlib.sha256(part).digest())
    return digest.hexdigest()
