"""The course's main job: build the student release, autograde the example students, print grades.

The example students (examples/students.json) are built from the release itself: one fills
every answer cell with the reference solution, one hands the release back untouched, one
makes a classic mistake per notebook, one forgets to submit trained weights. Trained weights
come from grader/example_weights.py. They are graded in a scratch course folder (build/demo/
by default), so an instructor's real gradebook never sees them.
"""

from __future__ import annotations

import json
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

from grader import example_weights
from grader.batch import gradebook
from grader.batch.gradebook import Grade
from grader.course import REPO_ROOT, Course
from grader.notebook_cells import answer_cells, read, without_markers

EXAMPLES_DIR = REPO_ROOT / "examples"


@dataclass(frozen=True)
class ExampleStudent:
    id: str
    answers: str  # "reference" or "none"
    about: str = ""
    overrides: dict[str, dict[str, Path]] = field(default_factory=dict)
    weights: dict[str, str] = field(
        default_factory=dict
    )  # assignment -> "reference" | "undertrained"


def load_students(path: Path = EXAMPLES_DIR / "students.json") -> list[ExampleStudent]:
    spec = json.loads(path.read_text())["students"]
    folder = path.parent / "students"
    return [
        ExampleStudent(
            id=student_id,
            answers=entry["answers"],
            about=entry.get("about", ""),
            overrides={
                assignment: {grade_id: folder / file for grade_id, file in cells.items()}
                for assignment, cells in entry.get("overrides", {}).items()
            },
            weights=entry.get("weights", {}),
        )
        for student_id, entry in spec.items()
    ]


def build_submission(
    course: Course, student: ExampleStudent, assignment: str
) -> dict[str, nbformat.NotebookNode]:
    """The student's notebooks for ``assignment``: the release with their answers filled in."""
    overrides = student.overrides.get(assignment, {})
    notebooks = {}
    for solution_path in course.solution_notebooks(assignment):
        name = solution_path.stem
        release = read(course.release_notebook(assignment, name))
        reference = answer_cells(read(solution_path))
        for grade_id, cell in answer_cells(release).items():
            if grade_id in overrides:
                cell.source = overrides[grade_id].read_text().rstrip("\n")
            elif student.answers == "reference":
                cell.source = without_markers(reference[grade_id].source)
        notebooks[name] = release
    return notebooks


def grade_examples(
    source: Course,
    workdir: Path,
    students: list[ExampleStudent] | None = None,
    say: Callable[[str], None] = print,
    progress=None,
) -> Course:
    """Release every assignment in a scratch course, submit the example students, and grade
    them with `grader grade` (isolated, in parallel, tests in the checker): feedback, the
    report and grades.csv included. The grades are in the course's gradebook."""
    from grader.batch.runner import grade_class

    students = students if students is not None else load_students()
    course = Course.scratch_copy(source, workdir)
    for assignment in course.assignments():
        course.release(assignment)
        for student in students:
            files = {}
            if assignment in student.weights:
                spec = example_weights.BY_ASSIGNMENT[assignment]
                files[spec.file_name] = example_weights.weights_for(
                    assignment, student.weights[assignment]
                )
            course.submit(
                student.id, assignment, build_submission(course, student, assignment), files
            )
        outcome = grade_class(course.root, assignment, progress=progress)
        isolation = outcome.isolation_problem or "isolated with bubblewrap"
        say(
            f"  graded {assignment} for {len(students)} students in {outcome.seconds:.0f} s "
            f"({outcome.executor}; {isolation})"
        )
    return course


def format_grades(grades: list[Grade]) -> str:
    """A table of each student's score per assignment, then each lost test by name."""
    totals: dict[tuple[str, str], list[float]] = defaultdict(lambda: [0.0, 0.0])
    for g in grades:
        totals[g.student, g.assignment][0] += g.score
        totals[g.student, g.assignment][1] += g.max_score
    students = sorted({g.student for g in grades})
    assignments = sorted({g.assignment for g in grades})
    width = max(len("student"), *(len(s) for s in students))
    lines = ["student".ljust(width) + "".join(f"  {a:>14}" for a in assignments)]
    for student in students:
        cells = "".join(f"  {_score(*totals[student, a]):>14}" for a in assignments)
        lines.append(student.ljust(width) + cells)
    lost = [g for g in grades if g.score < g.max_score]
    if lost:
        lines.append("")
        lines.append("points lost:")
        lines += [
            f"  {g.student}: {g.assignment}/{g.grade_id} {_score(g.score, g.max_score)}"
            for g in lost
        ]
    return "\n".join(lines)


def _score(score: float, max_score: float) -> str:
    return f"{score:g} / {max_score:g}"


def run(repo: Course | None = None, workdir: Path | None = None) -> list[Grade]:
    repo = repo or Course()
    workdir = workdir or repo.root / "build" / "demo"
    started = time.perf_counter()
    print("1. Student release: regenerating notebooks/ from solutions/")
    for assignment in repo.assignments():
        repo.release(assignment)
        print(f"  {repo.release_notebook(assignment, assignment).relative_to(repo.root)}")
    print(f"2. Grading the example students with `grader grade`, in {workdir}")
    course = grade_examples(repo, workdir)
    grades = gradebook.grades(course.db_url)
    print("3. Grades\n")
    print(format_grades(grades))
    print(f"\nFeedback per student: {course.root / 'feedback'}/<student>/<assignment>/")
    print(f"Grades as CSV:        {course.root / 'grades.csv'}")
    print(f"Reports:              {course.root / 'reports'}/<assignment>/report.html")
    print(f"Done in {time.perf_counter() - started:.0f} s.")
    return grades
