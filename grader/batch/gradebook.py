"""The one gradebook: only the process that runs ``grader grade`` writes to it.

Workers never open the gradebook; their results come back to the main process, which saves
them one after another with nbgrader's own SaveAutoGrades. So SQLite never sees two writers
(no "database is locked"), and any database nbgrader's ``db_url`` reaches (PostgreSQL
included) works the same way.
"""

from __future__ import annotations

import csv
import datetime
import shutil
import warnings
from dataclasses import dataclass
from pathlib import Path

import nbformat
from nbgrader.api import Gradebook
from nbgrader.preprocessors import SaveAutoGrades
from nbgrader.utils import parse_utc
from sqlalchemy.exc import SAWarning

# nbgrader's gradebook API triggers SQLAlchemy's autoflush warnings on every new submission;
# they are about nbgrader's own session handling and say nothing to an instructor.
warnings.filterwarnings("ignore", category=SAWarning)


@dataclass(frozen=True)
class Grade:
    """One graded cell of one student's submission: the one score record."""

    student: str
    assignment: str
    notebook: str
    grade_id: str
    score: float
    max_score: float


def nbgrader_resources(notebook: str, assignment: str, student: str, db_url: str) -> dict:
    """What nbgrader's preprocessors read to find a notebook in the gradebook."""
    return {
        "nbgrader": {
            "notebook": notebook,
            "assignment": assignment,
            "student": student,
            "db_url": db_url,
        }
    }


def notebook_names(db_url: str, assignment: str) -> list[str]:
    with Gradebook(db_url) as gradebook:
        return sorted(n.name for n in gradebook.find_assignment(assignment).notebooks)


def setup_source(db_url: str, assignment: str, notebook: str) -> str:
    """The source notebook's setup cell, as the gradebook stores it (the checker runs it)."""
    with Gradebook(db_url) as gradebook:
        cells = gradebook.find_notebook(notebook, assignment).source_cells
        return "\n".join(c.source for c in cells if c.name == "setup")


def save(
    db_url: str,
    assignment: str,
    student: str,
    executed: dict[str, nbformat.NotebookNode],
    timestamp_file: Path | None = None,
) -> None:
    """Record a student's autograded notebooks; a notebook missing from ``executed`` scores 0."""
    with Gradebook(db_url) as gradebook:
        gradebook.update_or_create_student(student)
        timestamp = _timestamp(timestamp_file)
        if timestamp is not None:
            gradebook.update_or_create_submission(assignment, student, timestamp=timestamp)
        else:
            gradebook.update_or_create_submission(assignment, student)
    for name in notebook_names(db_url, assignment):
        if name in executed:
            resources = nbgrader_resources(name, assignment, student, db_url)
            SaveAutoGrades().preprocess(executed[name], resources)
        else:
            with Gradebook(db_url) as gradebook:
                submitted = gradebook.find_submission_notebook(name, assignment, student)
                for grade in submitted.grades:
                    grade.auto_score = 0
                    grade.needs_manual_grade = False
                gradebook.db.commit()


def grades(db_url: str, assignment: str | None = None, student: str | None = None) -> list[Grade]:
    """Every graded cell of every submission in the gradebook (SQLite or PostgreSQL), or of
    one assignment, or of one student's submission of it; sorted."""
    found = []
    with Gradebook(db_url) as gradebook:
        names = [assignment] if assignment else [a.name for a in gradebook.assignments]
        for name in names:
            if student:
                submissions = [gradebook.find_submission(name, student)]
            else:
                submissions = gradebook.assignment_submissions(name)
            for submission in submissions:
                found += [
                    Grade(
                        submission.student.id,
                        name,
                        notebook.name,
                        grade.name,
                        float(grade.score),
                        float(grade.max_score),
                    )
                    for notebook in submission.notebooks
                    for grade in notebook.grades
                ]
    return sorted(found, key=lambda g: (g.student, g.assignment, g.notebook, g.grade_id))


def export_csv(course, path: Path, db_url: str) -> Path:
    """nbgrader's grades CSV (``nbgrader export``), safe to open in a spreadsheet: a cell that
    a spreadsheet would run as a formula (a student named "=HYPERLINK(...)") is quoted."""
    path = Path(path).resolve()
    course.nbgrader("export", f"--to={path}", f"--db={db_url}")
    with open(path, newline="", encoding="utf-8") as handle:
        rows = list(csv.reader(handle))
    with open(path, "w", newline="", encoding="utf-8") as handle:
        csv.writer(handle).writerows([[_inert(cell) for cell in row] for row in rows])
    return path


def _inert(cell: str) -> str:
    """OWASP's rule for CSV injection: text starting with = + - @ tab or CR gets a leading '
    (numbers such as -1.5 stay numbers)."""
    if cell[:1] in ("=", "+", "-", "@", "\t", "\r"):
        try:
            float(cell)
        except ValueError:
            return "'" + cell
    return cell


def write_autograded(
    folder: Path, executed: dict[str, nbformat.NotebookNode], submitted: Path
) -> None:
    """nbgrader's autograded/<student>/<assignment>/: the executed notebooks beside the
    student's other files, where formgrader and manual grading expect them."""
    if folder.exists():
        shutil.rmtree(folder)
    # Links are copied as links (the upload's, refused for grading): never what they point to.
    shutil.copytree(submitted, folder, symlinks=True, ignore=shutil.ignore_patterns("*.ipynb"))
    for name, notebook in executed.items():
        nbformat.write(notebook, str(folder / f"{name}.ipynb"))


def _timestamp(path: Path | None) -> datetime.datetime | None:
    if path is None or not path.is_file():
        return None
    try:
        return parse_utc(path.read_text().strip())
    except Exception:
        return None
