"""Grading leaves out the instructors' demonstration cells that nothing graded depends on."""

import nbformat
import pytest

from grader.batch.demonstrations import TAG, demonstration_sources, left_out
from grader.course import Course
from grader.notebook_cells import graded_cells, read

FIGURE = "plt.imshow(digits[0])\nplt.show()"
TABLE = "table = {n: n // 2 for n in (28, 32)}\nprint(table)"


def test_a_demonstration_nothing_reads_is_left_out():
    cells = ["import numpy as np", FIGURE, "def pool2d(x):\n    return x", "check(pool2d)"]
    assert left_out(cells, frozenset({FIGURE})) == {1}


def test_a_demonstration_whose_name_a_later_test_reads_runs():
    cells = [TABLE, "check.check_table(table)"]
    assert left_out(cells, frozenset({TABLE})) == set()


def test_a_demonstration_an_answer_needs_through_another_demonstration_runs():
    make = "sizes = [28, 14]"
    use = "halves = [s // 2 for s in sizes]"
    answer = "def flatten_size():\n    return halves[-1] * 16"
    assert left_out([make, use, answer], frozenset({make, use})) == set()
    assert left_out([make, use], frozenset({make, use})) == {0, 1}


def test_a_demonstration_that_reassigns_a_name_a_later_cell_reads_runs():
    shrink = "x_train = x_train[:100]"
    assert left_out([shrink, "check(x_train)"], frozenset({shrink})) == set()


def test_a_demonstration_defining_a_function_a_test_calls_runs():
    helper = "def show(x):\n    return x"
    assert left_out([helper, "check(lambda v: show(v))"], frozenset({helper})) == set()


def test_a_demonstration_the_student_edited_runs():
    assert left_out([FIGURE + "\nprint('mine')"], frozenset({FIGURE})) == set()


def test_a_later_cell_that_is_not_python_keeps_every_earlier_demonstration():
    assert left_out([FIGURE, "print(digits[0]"], frozenset({FIGURE})) == set()
    assert left_out([FIGURE, "%matplotlib inline"], frozenset({FIGURE})) == {0}


def test_only_the_instructors_tag_marks_a_demonstration():
    notebook = nbformat.v4.new_notebook(
        cells=[nbformat.v4.new_code_cell(FIGURE), nbformat.v4.new_code_cell(TABLE)]
    )
    notebook.cells[0].metadata["tags"] = [TAG]
    assert demonstration_sources(notebook) == frozenset({FIGURE})


@pytest.mark.parametrize("assignment", Course().assignments())
def test_no_course_test_reads_a_name_only_a_demonstration_defines(assignment):
    """In every solution notebook, grading leaves out only tagged cells, and never one whose
    names a graded test or an answer reads (the reference solutions then still earn every
    point: tests/test_grading_chain.py)."""
    [path] = Course().solution_notebooks(assignment)
    notebook = read(path)
    demonstrations = demonstration_sources(notebook)
    code = [c for c in notebook.cells if c.cell_type == "code"]
    skipped = {code[i].source for i in left_out([c.source for c in code], demonstrations)}
    assert skipped <= demonstrations
    assert skipped, f"{assignment}: grading runs every demonstration"
    graded = {c.source for c in graded_cells(notebook).values()}
    assert not skipped & graded
