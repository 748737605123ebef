"""The same grading through a Dask cluster (local here), and on a PostgreSQL gradebook."""

from __future__ import annotations

import getpass
import os
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

import nbformat
import pytest
from course_points import full_marks

from grader.batch.limits import Limits
from grader.batch.runner import grade_class
from grader.course import Course
from grader.demo import build_submission, load_students

pytestmark = [pytest.mark.slow, pytest.mark.long]

ASSIGNMENT = "01_pooling"
EXPECTED = {"full_marks": full_marks("01_pooling"), "untouched_release": 0.0}
LIMITS = Limits(cell_timeout_s=60, cell_timeouts={"setup": 180}, submission_timeout_s=400)


def _class(root: Path) -> tuple[Course, Path]:
    course = Course.scratch_copy(Course(), root / "course")
    course.release(ASSIGNMENT)
    incoming = root / "incoming"
    for student in load_students():
        if student.id in EXPECTED:
            notebook = build_submission(course, student, ASSIGNMENT)[ASSIGNMENT]
            (incoming / student.id).mkdir(parents=True)
            nbformat.write(notebook, str(incoming / student.id / f"{ASSIGNMENT}.ipynb"))
    return course, incoming


def _scores(outcome) -> dict[str, float]:
    return {r.student: r.score for r in outcome.records}


def test_a_dask_cluster_grades_like_the_local_pool(tmp_path):
    from dask.distributed import LocalCluster

    course, incoming = _class(tmp_path)
    with LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
    ) as cluster:
        outcome = grade_class(
            course.root,
            ASSIGNMENT,
            submissions=incoming,
            scheduler=cluster.scheduler_address,
            limits=LIMITS,
        )
    assert outcome.executor.startswith("Dask cluster")
    assert _scores(outcome) == EXPECTED


POSTGRES_BIN = Path("/usr/lib/postgresql/15/bin")


@pytest.fixture
def postgres():
    """A real PostgreSQL server (Debian's postgresql-15) on a free port, for this test only."""
    if not (POSTGRES_BIN / "initdb").exists():
        pytest.skip(
            "PostgreSQL 15 is not installed (Debian: apt-get install postgresql-15; .ci/run does)"
        )
    # PostgreSQL refuses to run as root: run it as Debian's postgres user then, in a folder
    # of its own (pytest's tmp_path is readable by root only).
    as_user = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
    data = Path(tempfile.mkdtemp(prefix="grader-pg-")) / "data"
    data.mkdir()
    if as_user:
        os.chmod(data.parent, 0o755)
        shutil.chown(data, "postgres")
    user = "postgres" if as_user else getpass.getuser()
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    subprocess.run(
        [*as_user, POSTGRES_BIN / "initdb", "-D", data, "-A", "trust", "-U", user],
        check=True,
        capture_output=True,
    )
    options = f"-h 127.0.0.1 -p {port} -k {data}"
    subprocess.run(
        [
            *as_user,
            POSTGRES_BIN / "pg_ctl",
            "-D",
            data,
            "-o",
            options,
            "-w",
            "start",
            "-l",
            data / "log",
        ],
        check=True,
        capture_output=True,
    )
    try:
        yield f"postgresql://{user}@127.0.0.1:{port}/postgres"
    finally:
        subprocess.run(
            [*as_user, POSTGRES_BIN / "pg_ctl", "-D", data, "-m", "immediate", "stop"],
            capture_output=True,
        )


def test_grades_land_in_a_postgresql_gradebook(tmp_path, postgres):
    from nbgrader.api import Gradebook

    course, incoming = _class(tmp_path)
    outcome = grade_class(
        course.root, ASSIGNMENT, submissions=incoming, workers=2, db_url=postgres, limits=LIMITS
    )
    assert _scores(outcome) == EXPECTED
    with Gradebook(postgres) as gradebook:
        stored = {s.student.id: s.score for s in gradebook.assignment_submissions(ASSIGNMENT)}
    assert stored == EXPECTED
    with Gradebook(f"sqlite:///{course.root / 'gradebook.db'}") as local:  # the release's
        assert local.assignment_submissions(ASSIGNMENT) == []  # nothing went to SQLite
    assert outcome.csv_path.read_text().count(ASSIGNMENT) == 2
