"""The nbgrader course runner: what grading a submission must and must not depend on."""

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_notebook

from grader.batch import gradebook
from grader.course import REPO_ROOT, Course

pytestmark = pytest.mark.slow


def one_test_notebook(test_source: str) -> nbformat.NotebookNode:
    cell = new_code_cell(test_source)
    cell.metadata["nbgrader"] = {
        "grade": True,
        "grade_id": "test_noise",
        "locked": True,
        "points": 1,
        "schema_version": 3,
        "solution": False,
        "task": False,
    }
    notebook = new_notebook(cells=[cell])
    notebook.metadata["kernelspec"] = {
        "display_name": "Python 3",
        "language": "python",
        "name": "python3",
    }
    return notebook


def graded_score(tmp_path, test_source: str) -> float:
    """The score plain `nbgrader autograde` (configured by nbgrader_config.py) gives a one-cell
    notebook whose graded test cell is ``test_source``, submitted unchanged."""
    root = tmp_path / "course"
    (root / "solutions" / "noise").mkdir(parents=True)
    (root / "nbgrader_config.py").write_text((REPO_ROOT / "nbgrader_config.py").read_text())
    nbformat.write(
        one_test_notebook(test_source), str(root / "solutions" / "noise" / "noise.ipynb")
    )
    course = Course(root)
    course.release("noise")
    course.submit(
        "student", "noise", {"noise": nbformat.read(course.release_notebook("noise", "noise"), 4)}
    )
    course.nbgrader("autograde", "noise", "--force")
    [grade] = gradebook.grades(course.db_url)
    return grade.score


def test_library_noise_on_stderr_does_not_cost_a_passing_test_its_points(tmp_path):
    """nbgrader zeroes a test cell that wrote to stderr; TensorFlow's C++ logs and Python
    warnings must not do that to a student whose test passed."""
    source = (
        "import os, warnings\n"
        "os.write(2, b'E0000 cuda_platform.cc:52] failed call to cuInit\\n')  # what TensorFlow's C++ code does\n"
        "warnings.warn('a library warning')\n"
        "assert 1 + 1 == 2"
    )
    assert graded_score(tmp_path, source) == 1.0


def test_a_students_own_stderr_does_not_cost_a_passing_check_its_points(tmp_path):
    """A correct answer that prints a debug line to stderr while a check runs it keeps its
    points under plain `nbgrader autograde` too: the checks show it on stdout instead."""
    source = (
        "import sys\n"
        "from grader.checks.failure import passed, student_check\n"
        "def answer():\n"
        "    print('debug: called', file=sys.stderr)\n"
        "    return 4\n"
        "@student_check\n"
        "def check_answer(function):\n"
        "    assert function() == 4\n"
        "    passed('answer is 4')\n"
        "check_answer(answer)"
    )
    assert graded_score(tmp_path, source) == 1.0
