"""`grader grade` on a class: broken and hostile submissions graded in one batch, re-runs."""

from __future__ import annotations

import csv
import json
import os
import shutil
import socket
import sys
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

import hostile_submissions
import ordinary_user
import pytest
from hostile_submissions import ASSIGNMENT, CORPUS, host_socket_path
from nbgrader.api import Gradebook

import grader
from grader.batch.limits import GIB, MIB, Limits
from grader.batch.runner import BatchOutcome, SubmissionRecord, grade_class
from grader.batch.sandbox import bubblewrap_problem
from grader.course import Course
from grader.demo import build_submission, load_students

# Short limits keep the batch quick; the setup cell imports TensorFlow (5-15 s on 2 cores).
LIMITS = Limits(
    cell_timeout_s=60,
    cell_timeouts={"setup": 180},
    submission_timeout_s=400,
    memory_bytes=3 * GIB,
    disk_bytes=512 * MIB,
    file_bytes=128 * MIB,
    notebook_output_bytes=1 * MIB,
)
UNREADABLE = {"invalid_json", "deep_json"}  # no notebook to give feedback on
SECRET = "CNN_COURSE_GRADER_SECRET"


GRADERS = ["root", "ordinary user"]


@dataclass
class GradedClass:
    course: Course
    incoming: Path
    outcome: BatchOutcome
    grade: Callable[[], BatchOutcome]  # grade the class again, as the same user


@pytest.fixture(scope="module", params=GRADERS, ids=lambda who: f"graded as {who}")
def graded_class(request, tmp_path_factory):
    """The corpus graded in one batch by root (as .ci/run grades) and by an ordinary user."""
    if bubblewrap_problem() is not None:  # CI installs it, and there a skip fails
        pytest.skip(f"isolated grading is not possible here: {bubblewrap_problem()}")
    as_root = request.param == "root"
    if as_root and os.geteuid() != 0:
        pytest.skip("grading as root needs root")
    if as_root or os.geteuid() != 0:  # grade in this process, as whoever runs the tests
        root = tmp_path_factory.mktemp("class")
    else:  # root drops to an ordinary user: the class lives where that user may write
        root = ordinary_user.folder("cnn-course-class-")
        request.addfinalizer(lambda: shutil.rmtree(root, ignore_errors=True))
    course = Course.scratch_copy(Course(), root / "course")
    course.release(ASSIGNMENT)
    honest = next(s for s in load_students() if s.id == "full_marks")
    reference = build_submission(course, honest, ASSIGNMENT)[ASSIGNMENT]
    incoming = root / "incoming"
    hostile_submissions.write(incoming, reference, course.root)
    # A host service the sandbox must keep students from: tries_escape connects if it can.
    listener = socket.socket(socket.AF_UNIX)
    listener.bind(str(host_socket_path(course.root)))
    listener.listen()
    os.chmod(host_socket_path(course.root), 0o777)
    request.addfinalizer(listener.close)

    if as_root or os.geteuid() != 0:

        def grade() -> BatchOutcome:
            os.environ[SECRET] = "hunter2"  # in the grader's environment: never a student's
            try:
                return grade_class(
                    course.root, ASSIGNMENT, submissions=incoming, workers=2, limits=LIMITS
                )
            finally:
                del os.environ[SECRET]
    else:
        ordinary_user.give(root)

        def grade() -> BatchOutcome:
            return _grade_as_ordinary_user(course.root, incoming, root / "home")

    return GradedClass(course, incoming, grade(), grade)


# Run by the ordinary user: grade the class with the tests' limits, write the outcome as JSON.
GRADE_AND_REPORT = """
import json, sys
from dataclasses import asdict
from pathlib import Path
from grader.batch.limits import Limits
from grader.batch.runner import grade_class
course, assignment, incoming, limits, out = sys.argv[1:]
outcome = grade_class(Path(course), assignment, submissions=Path(incoming), workers=2,
                      limits=Limits(**json.loads(limits)))
Path(out).write_text(json.dumps({
    "records": [asdict(r) for r in outcome.records],
    "isolation_problem": outcome.isolation_problem, "executor": outcome.executor,
    "seconds": outcome.seconds, "csv_path": str(outcome.csv_path),
    "report_path": str(outcome.report_path),
}))
"""


def _grade_as_ordinary_user(course_root: Path, incoming: Path, home: Path) -> BatchOutcome:
    home.mkdir(exist_ok=True)
    ordinary_user.give(home)
    result = home / "outcome.json"
    ordinary_user.run(
        [sys.executable, "-c", GRADE_AND_REPORT, str(course_root), ASSIGNMENT, str(incoming),
         json.dumps(asdict(LIMITS)), str(result)],
        home,
        {SECRET: "hunter2"},  # in the grader's environment: never a student's
        check=True,
    )  # fmt: skip
    data = json.loads(result.read_text())
    return BatchOutcome(
        ASSIGNMENT,
        [SubmissionRecord(**record) for record in data["records"]],
        data["isolation_problem"],
        LIMITS,
        data["executor"],
        data["seconds"],
        Path(data["csv_path"]),
        Path(data["report_path"]),
    )


pytestmark = [pytest.mark.slow, pytest.mark.hostile_class]


def test_every_submission_gets_a_result(graded_class):
    outcome = graded_class.outcome
    assert sorted(r.student for r in outcome.records) == sorted(h.student for h in CORPUS)
    assert outcome.isolation_problem is None


@pytest.mark.parametrize("hostile", CORPUS, ids=lambda h: h.student)
def test_each_submission_scores_what_it_earned_and_says_why(graded_class, hostile):
    outcome = graded_class.outcome
    record = next(r for r in outcome.records if r.student == hostile.student)
    by_cell = {s["grade_id"]: s["score"] for s in record.scores}
    problems = "\n".join(record.problems())
    assert record.score == hostile.expected_score, f"{hostile.what}:\n{problems}"
    for grade_id in hostile.zero:
        assert by_cell[grade_id] == 0, f"{hostile.what}: {grade_id} should score 0\n{problems}"
    if hostile.expected_note:
        assert hostile.expected_note in problems, (
            f"{hostile.what}: expected a note saying {hostile.expected_note!r}, got:\n{problems}"
        )
    if hostile.student == "honest":
        assert not record.problems()


def test_nothing_of_the_grader_leaks_into_feedback_and_nothing_escapes(graded_class):
    course = graded_class.course
    for page in (course.root / "feedback").rglob("*.html"):
        text = page.read_text()
        assert SECRET not in text and "hunter2" not in text, page
        # A page grows with what the student wrote (each cell's HTML is a few times its
        # JSON), never with what their code printed past the limits (a cell's 64 KiB, a
        # notebook's 1 MiB here; 20 MB printed by one cell would break this bound).
        student = page.relative_to(course.root / "feedback").parts[0]
        submitted = (
            course.root / "submitted" / student / ASSIGNMENT / page.with_suffix(".ipynb").name
        )
        limit = 2_000_000 + 4 * submitted.stat().st_size  # 10,000 cells: 7.2 of 8.7 MB
        assert page.stat().st_size < limit, f"{page} is {page.stat().st_size:,} bytes"
    assert not (course.root / "pwned").exists()


def test_feedback_never_shows_hidden_tests(graded_class):
    course = graded_class.course
    pages = list((course.root / "feedback").rglob("*.html"))
    assert len(pages) == len(CORPUS) - len(UNREADABLE)
    for page in pages:
        text = page.read_text()
        assert "HIDDEN TESTS" not in text and "n_random" not in text, page
    tampered = (
        course.root / "feedback" / "tampered_tests" / ASSIGNMENT / f"{ASSIGNMENT}.html"
    ).read_text()
    assert "was edited" in tampered  # the grader's notes head the student's page


def test_csv_and_report_cover_the_class(graded_class):
    outcome = graded_class.outcome
    with open(outcome.csv_path) as f:
        rows = {row["student_id"]: float(row["score"]) for row in csv.DictReader(f)}
    # A name a spreadsheet would run as a formula is quoted.
    assert rows == {
        ("'" if h.student[0] == "=" else "") + h.student: h.expected_score for h in CORPUS
    }
    report = outcome.report_path.read_text()
    for hostile in CORPUS:
        assert hostile.student in report
    assert "Isolated with bubblewrap" in report
    assert (outcome.report_path.parent / "report.png").stat().st_size > 10_000


def test_the_submission_time_is_the_collections_not_the_students(graded_class):
    course = graded_class.course
    with Gradebook(f"sqlite:///{course.root / 'gradebook.db'}") as gradebook:
        submitted = gradebook.find_submission(ASSIGNMENT, "own_timestamp").timestamp
    assert submitted is not None and submitted.year > 2000


def test_no_process_outlives_its_submission(graded_class):
    # A leftover may have left its parent, so it is looked for machine-wide, by command line:
    # each sandboxed kernel runs under its own bwrap, which names the grader package it lets the
    # kernel read, and anything left in the kernel's PID namespace keeps that bwrap alive. So
    # this checkout's leftovers are found, and another checkout's suite grading beside this one
    # (another package path) is not counted.
    this_grader = str(Path(grader.__file__).resolve().parent).encode()
    leftovers = []
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            try:
                command = Path(entry.path, "cmdline").read_bytes().replace(b"\0", b" ")
            except OSError:
                continue
            if b"ipykernel_launcher" in command and b"grade-" in command and this_grader in command:
                leftovers.append(command.decode(errors="replace"))
    assert not leftovers


def test_a_rerun_grades_only_what_changed(graded_class):
    incoming = graded_class.incoming
    changed = incoming / "honest" / f"{ASSIGNMENT}.ipynb"
    shutil.copy(incoming / "tampered_tests" / f"{ASSIGNMENT}.ipynb", changed)
    outcome = graded_class.grade()
    regraded = sorted(r.student for r in outcome.records if not r.reused)
    assert regraded == ["honest"]
    honest = next(r for r in outcome.records if r.student == "honest")
    tampered = next(h for h in CORPUS if h.student == "tampered_tests")
    assert (
        honest.score == tampered.expected_score
    )  # it is now the tampered submission, graded afresh
