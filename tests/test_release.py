"""notebooks/ is exactly what nbgrader generates from solutions/, and both meet the course's standards."""

import ast

import pytest
from traitlets.config.loader import PyFileConfigLoader

from grader import example_weights
from grader.course import REPO_ROOT, Course, NbgraderError
from grader.notebook_cells import answer_cells, graded_cells, graded_sections, nbgrader_meta, read

COURSE = Course()
ASSIGNMENTS = COURSE.assignments()
SOLUTIONS = [path for a in ASSIGNMENTS for path in COURSE.solution_notebooks(a)]
RELEASES = sorted((REPO_ROOT / "notebooks").glob("*/*.ipynb"))


def test_each_assignment_is_one_notebook_named_after_its_folder():
    assert ASSIGNMENTS, "no assignments found in solutions/"
    for assignment in ASSIGNMENTS:
        assert [p.name for p in COURSE.solution_notebooks(assignment)] == [f"{assignment}.ipynb"]
    assert [p.relative_to(REPO_ROOT / "notebooks") for p in RELEASES] == [
        p.relative_to(REPO_ROOT / "solutions") for p in SOLUTIONS
    ]


def test_regenerating_the_student_release_changes_nothing(tmp_path):
    scratch = Course.scratch_copy(COURSE, tmp_path / "course")
    for assignment in ASSIGNMENTS:
        scratch.release(assignment)
        for solution in COURSE.solution_notebooks(assignment):
            fresh = scratch.release_notebook(assignment, solution.stem).read_bytes()
            committed = COURSE.release_notebook(assignment, solution.stem).read_bytes()
            assert fresh == committed, (
                f"notebooks/{assignment}/{solution.name} is not what solutions/ generates: "
                f"run `grader release {assignment}` and commit the result (never edit notebooks/ by hand)"
            )
    index = scratch.release_notebook(ASSIGNMENTS[0], ASSIGNMENTS[0]).parents[1] / "README.md"
    assert index.read_text() == (REPO_ROOT / "notebooks" / "README.md").read_text()


@pytest.mark.parametrize("path", SOLUTIONS + RELEASES, ids=lambda p: str(p.relative_to(REPO_ROOT)))
def test_notebooks_are_stored_without_outputs(path):
    for cell in read(path).cells:
        if cell.cell_type == "code":
            assert not cell.outputs and cell.execution_count is None, f"cell {cell.id} has outputs"


def imports_anything(source: str) -> bool:
    return any(
        isinstance(node, ast.Import | ast.ImportFrom) for node in ast.walk(ast.parse(source))
    )


@pytest.mark.parametrize("path", SOLUTIONS, ids=lambda p: p.parent.name)
def test_each_notebook_has_one_read_only_setup_cell_that_does_all_the_imports(path):
    code = [c for c in read(path).cells if c.cell_type == "code"]
    importing = [c for c in code if imports_anything(c.source)]
    assert importing == [code[0]], "imports belong in the first code cell only"
    assert nbgrader_meta(code[0]) == {**nbgrader_meta(code[0]), "grade_id": "setup", "locked": True}


@pytest.mark.parametrize("path", SOLUTIONS, ids=lambda p: p.parent.name)
def test_each_notebook_ends_with_summary_exercises_and_how_to_submit(path):
    headings = [
        line
        for c in read(path).cells
        if c.cell_type == "markdown"
        for line in c.source.splitlines()
        if line.startswith("## ")
    ]
    assert headings[-3:] == ["## Summary", "## Exercises", "## Submitting"]
    submitting = read(path).cells[-1].source
    assert "**Validate first.**" in submitting and f"`{path.name}`" in submitting
    weights = {"03_lenet5": "lenet5.weights.h5", "04_alexnet": "cifar_alexnet.weights.h5"}
    if path.parent.name in weights:
        assert f"`{weights[path.parent.name]}`" in submitting


@pytest.mark.parametrize("path", SOLUTIONS, ids=lambda p: p.parent.name)
def test_each_exercise_heading_shows_the_points_of_its_tests(path):
    sections = graded_sections(read(path))
    assert sections and sections[0][0], "a graded test comes before any exercise heading"
    for heading, shown, points in sections:
        assert shown == points, f"{heading!r} shows {shown} points; its tests give {points}"


def test_the_notebooks_link_to_each_other_in_order_and_the_release_has_an_index():
    for i, path in enumerate(SOLUTIONS):
        links = read(path).cells[0].source.splitlines()[2]
        if i > 0:
            assert f"(../{SOLUTIONS[i - 1].parent.name}/{SOLUTIONS[i - 1].name})" in links
        if i < len(SOLUTIONS) - 1:
            assert f"(../{SOLUTIONS[i + 1].parent.name}/{SOLUTIONS[i + 1].name})" in links
    index = (REPO_ROOT / "notebooks" / "README.md").read_text()
    rows = [line for line in index.splitlines() if line.startswith("| [")]
    assert [row.split("](")[1].split(")")[0] for row in rows] == [
        p.relative_to(REPO_ROOT / "notebooks").as_posix() for p in RELEASES
    ]
    for row, path in zip(rows, SOLUTIONS, strict=True):
        assert row.endswith(f"| {sum(points for _, _, points in graded_sections(read(path)))} |")


@pytest.mark.parametrize("path", SOLUTIONS, ids=lambda p: p.parent.name)
def test_every_answer_has_a_graded_test_with_hidden_cases(path):
    notebook = read(path)
    tests = graded_cells(notebook)
    assert answer_cells(notebook) and tests
    for grade_id, cell in tests.items():
        # A test of a fixed answer (a table of shapes) cannot draw fresh inputs; it says so.
        exempt = "# No hidden tests:" in cell.source
        assert exempt or "### BEGIN HIDDEN TESTS" in cell.source, f"{grade_id} has no hidden tests"
        assert nbgrader_meta(cell)["points"] > 0


@pytest.mark.parametrize("path", RELEASES, ids=lambda p: p.parent.name)
def test_the_release_contains_no_solutions_and_no_hidden_tests(path):
    text = path.read_text()
    for secret in ("BEGIN SOLUTION", "END SOLUTION", "BEGIN HIDDEN TESTS", "seed=None"):
        assert secret not in text
    for grade_id, cell in answer_cells(read(path)).items():
        assert "raise NotImplementedError()" in cell.source, grade_id


def test_a_release_refuses_to_ship_trained_weights_left_in_solutions(tmp_path):
    scratch = Course.scratch_copy(COURSE, tmp_path / "course")
    (scratch.root / "solutions" / ASSIGNMENTS[0] / "model.weights.h5").write_bytes(b"trained")
    with pytest.raises(NbgraderError, match="would ship to students"):
        scratch.release(ASSIGNMENTS[0])
    assert not (scratch.root / "notebooks").exists()


def test_autograde_never_overwrites_submitted_weights_with_files_from_solutions():
    config = PyFileConfigLoader("nbgrader_config.py", path=str(REPO_ROOT)).load_config()
    for spec in example_weights.BY_ASSIGNMENT.values():
        assert spec.file_name in config.Autograde.exclude_overwriting[spec.assignment]
