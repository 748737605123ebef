"""The whole grading chain, as nbgrader's own docs course tests it: the solutions pass their
tests, and fake students are released to, submit, and are graded by `grader grade` (the one
grading path: isolated, in parallel, tests in the checker), with feedback and a CSV export.

Golden file: tests/golden/example_grades.csv holds every graded cell's expected score.
After an intended change to the notebooks' points, rewrite it with
``UPDATE_GOLDEN=1 pytest tests/test_grading_chain.py`` and review the diff.
"""

import csv
import html
import io
import os
import shutil

import nbformat
import pytest
from nbclient import NotebookClient

from grader import example_weights
from grader.batch import gradebook
from grader.batch.runner import Progress
from grader.course import Course
from grader.demo import format_grades, grade_examples, load_students
from tests.lab_browser import graded_pages

GOLDEN = os.path.join(os.path.dirname(__file__), "golden", "example_grades.csv")
COURSE = Course()
ARTIFACTS = COURSE.root / "build" / "test-artifacts" / "lab"

pytestmark = [pytest.mark.slow, pytest.mark.long]


@pytest.mark.parametrize("assignment", COURSE.assignments())
def test_the_solutions_pass_all_their_visible_and_hidden_tests(assignment, tmp_path):
    for path in COURSE.solution_notebooks(assignment):
        # Run a copy, with the reference weights beside it where the notebook trains a model:
        # the training cell then loads them (trained once, cached) instead of training again.
        shutil.copy2(path, tmp_path / path.name)
        if assignment in example_weights.BY_ASSIGNMENT:
            weights = example_weights.weights_for(assignment, "reference")
            copy = tmp_path / example_weights.BY_ASSIGNMENT[assignment].file_name
            shutil.copy2(weights, copy)
            if example_weights.curves_of(weights).exists():  # so the curves' cell draws them
                shutil.copy2(example_weights.curves_of(weights), example_weights.curves_of(copy))
        notebook = nbformat.read(tmp_path / path.name, as_version=4)
        client = NotebookClient(
            notebook,
            timeout=600,
            kernel_name="python3",
            resources={"metadata": {"path": str(tmp_path)}},
        )
        client.execute()
        errors = [
            o
            for c in notebook.cells
            if c.cell_type == "code"
            for o in c.outputs
            if o.output_type == "error"
        ]
        assert not errors


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    quiet = Progress(io.StringIO())
    course_root = tmp_path_factory.mktemp("chain") / "course"
    return grade_examples(COURSE, course_root, say=lambda _: None, progress=quiet)


def test_the_example_students_get_exactly_the_golden_grades(graded):
    rows = [
        {
            "student": g.student,
            "assignment": g.assignment,
            "grade_id": g.grade_id,
            "score": f"{g.score:g}",
            "max_score": f"{g.max_score:g}",
        }
        for g in gradebook.grades(graded.db_url)
    ]
    if os.environ.get("UPDATE_GOLDEN"):
        with open(GOLDEN, "w", newline="") as f:
            writer = csv.DictWriter(f, fieldnames=list(rows[0]))
            writer.writeheader()
            writer.writerows(rows)
    with open(GOLDEN, newline="") as f:
        assert rows == list(csv.DictReader(f)), "\n" + format_grades(
            gradebook.grades(graded.db_url)
        )


def test_the_untouched_release_fails_every_test_and_the_reference_passes_every_test(graded):
    for grade in gradebook.grades(graded.db_url):
        if grade.student == "untouched_release":
            assert grade.score == 0, grade
        if grade.student == "full_marks":
            assert grade.score == grade.max_score, grade


def test_the_exported_csv_totals_agree_with_the_gradebook(graded):
    with open(graded.root / "grades.csv", newline="") as f:
        exported = {
            (r["student_id"], r["assignment"]): (float(r["score"]), float(r["max_score"]))
            for r in csv.DictReader(f)
        }
    totals = {}
    for g in gradebook.grades(graded.db_url):
        score, max_score = totals.get((g.student, g.assignment), (0.0, 0.0))
        totals[g.student, g.assignment] = (score + g.score, max_score + g.max_score)
    assert exported == totals


def test_every_student_gets_feedback_and_a_failure_explains_itself(graded):
    for student in load_students():
        for assignment in graded.assignments():
            assert graded.feedback_file(student.id, assignment, assignment).exists()
    explanations = {
        ("plausible_bugs", "01_pooling"): "likely cause: 'same' padding was filled with zeros",
        (
            "plausible_bugs",
            "02_padding",
        ): "TensorFlow puts the odd padding row after (bottom/right), not before",
        (
            "plausible_bugs",
            "03_lenet5",
        ): "likely cause: train with the notebook's recipe to the end",
        ("forgot_weights", "03_lenet5"): "then submit the file with the notebook",
        (
            "plausible_bugs",
            "04_alexnet",
        ): "alpha was divided by n (PyTorch's and Caffe's convention)",
        ("forgot_weights", "04_alexnet"): "then submit the file with the notebook",
    }
    for (student, assignment), explanation in explanations.items():
        feedback = html.unescape(graded.feedback_file(student, assignment, assignment).read_text())
        assert explanation in feedback, (student, assignment)


def test_a_feedback_page_and_the_report_read_well_in_a_browser(graded):
    """Offline, as files: no MathJax, math as MathML, no page wider than the window, tests
    titled by grade id, the report linking each student to their feedback."""
    seen = graded_pages(graded, "plausible_bugs", "01_pooling", ARTIFACTS)
    assert "MathJax" not in seen["feedback_html"] and seen["mathml"] > 0
    assert not seen["feedback_too_wide"] and not seen["report_too_wide"]
    assert "test_pool2d_same" in seen["feedback"] and "Test cell" not in seen["feedback"]
    assert "No response." not in seen["feedback"]
    assert "feedback/plausible_bugs/01_pooling/01_pooling.html" in seen["report_html"]
    assert "Why points were lost" in seen["report"]
    assert "'same' padding was filled with zeros" in seen["report"]  # the likely cause, counted
