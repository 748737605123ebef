"""What a notebook is worth, read from its solution notebook's graded cells, so that no test
hard-codes a total that a new exercise would change."""

from __future__ import annotations

from grader.course import REPO_ROOT
from grader.notebook_cells import graded_cells, nbgrader_meta, read


def full_marks(assignment: str) -> float:
    solution = read(REPO_ROOT / "solutions" / assignment / f"{assignment}.ipynb")
    return float(sum(nbgrader_meta(cell)["points"] for cell in graded_cells(solution).values()))
