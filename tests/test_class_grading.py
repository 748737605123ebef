"""`grader grade` on a class: broken and hostile submissions graded in one batch, re-runs."""

from __future__ import annotations

import csv
import os
import shutil
from pathlib import Path

import hostile_submissions
import pytest
from hostile_submissions import ASSIGNMENT, CORPUS
from nbgrader.api import Gradebook

from grader.batch.limits import GIB, MIB, Limits
from grader.batch.runner import grade_class
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
)
UNREADABLE = {"invalid_json", "deep_json"}  # no notebook to give feedback on
SECRET = "CNN_COURSE_GRADER_SECRET"


@pytest.fixture(scope="module")
def graded_class(tmp_path_factory):
    assert bubblewrap_problem() is None, (
        f"these tests expect isolated grading: {bubblewrap_problem()} (.ci/run installs bubblewrap)"
    )
    root = tmp_path_factory.mktemp("class")
    course = Course.scratch_copy(Course(), root / "course")
    course.release(ASSIGNMENT)
    honest = next(s for s in load_students() if s.id == "full_marks")
    reference = build_submission(course, honest, ASSIGNMENT)[ASSIGNMENT]
    incoming = root / "incoming"
    hostile_submissions.write(incoming, reference, course.root)
    os.environ[SECRET] = "hunter2"  # in the grader's environment: never in a student's
    try:
        outcome = grade_class(
            course.root, ASSIGNMENT, submissions=incoming, workers=2, limits=LIMITS
        )
    finally:
        del os.environ[SECRET]
    return course, incoming, outcome


pytestmark = pytest.mark.slow


def test_every_submission_gets_a_result(graded_class):
    _, _, outcome = graded_class
    assert sorted(r.student for r in outcome.records) == sorted(h.student for h in CORPUS)
    assert outcome.isolation_problem is None


@pytest.mark.parametrize("hostile", CORPUS, ids=lambda h: h.student)
def test_each_submission_scores_what_it_earned_and_says_why(graded_class, hostile):
    _, _, outcome = graded_class
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
    course, _, _ = graded_class
    for page in (course.root / "feedback").rglob("*.html"):
        text = page.read_text()
        assert SECRET not in text and "hunter2" not in text, page
        assert page.stat().st_size < 2_000_000, f"{page} is {page.stat().st_size:,} bytes"
    assert not (course.root / "pwned").exists()


def test_feedback_never_shows_hidden_tests(graded_class):
    course, _, outcome = graded_class
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
    course, _, outcome = graded_class
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
    course, _, outcome = graded_class
    with Gradebook(f"sqlite:///{course.root / 'gradebook.db'}") as gradebook:
        submitted = gradebook.find_submission(ASSIGNMENT, "own_timestamp").timestamp
    assert submitted is not None and submitted.year > 2000


def test_no_process_outlives_its_submission(graded_class):
    leftovers = []
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            try:
                command = Path(entry.path, "cmdline").read_bytes().replace(b"\0", b" ")
            except OSError:
                continue
            if b"ipykernel_launcher" in command and b"grade-" in command:
                leftovers.append(command.decode(errors="replace"))
    assert not leftovers


def test_a_rerun_grades_only_what_changed(graded_class):
    course, incoming, first = graded_class
    changed = incoming / "honest" / f"{ASSIGNMENT}.ipynb"
    shutil.copy(incoming / "tampered_tests" / f"{ASSIGNMENT}.ipynb", changed)
    outcome = grade_class(course.root, ASSIGNMENT, submissions=incoming, workers=2, limits=LIMITS)
    regraded = sorted(r.student for r in outcome.records if not r.reused)
    assert regraded == ["honest"]
    honest = next(r for r in outcome.records if r.student == "honest")
    assert honest.score == 4.0  # it is now the tampered submission, graded afresh
