"""Reading nbgrader cells out of notebooks: by grade_id, with or without solution markers."""

from __future__ import annotations

import re
from pathlib import Path

import nbformat

SOLUTION_MARKERS = ("### BEGIN SOLUTION", "### END SOLUTION")


def read(path: Path | str) -> nbformat.NotebookNode:
    return nbformat.read(str(path), as_version=4)


def nbgrader_meta(cell) -> dict:
    return cell.get("metadata", {}).get("nbgrader", {})


def answer_cells(notebook) -> dict[str, nbformat.NotebookNode]:
    """The cells a student writes in (nbgrader 'solution' cells), by grade_id."""
    return {
        nbgrader_meta(c)["grade_id"]: c for c in notebook.cells if nbgrader_meta(c).get("solution")
    }


def graded_cells(notebook) -> dict[str, nbformat.NotebookNode]:
    """The graded test cells, by grade_id."""
    return {
        nbgrader_meta(c)["grade_id"]: c
        for c in notebook.cells
        if nbgrader_meta(c).get("grade") and not nbgrader_meta(c).get("solution")
    }


def without_markers(source: str) -> str:
    """A solution cell's source as a student who solved it would write it."""
    return "\n".join(line for line in source.splitlines() if line.strip() not in SOLUTION_MARKERS)


def solution_code(notebook_path: Path | str, grade_id: str) -> str:
    return without_markers(answer_cells(read(notebook_path))[grade_id].source)


def load_answers(notebook_path: Path | str) -> dict:
    """Run a solution notebook's answer cells (markers stripped) in a namespace holding the
    setup cell's usual imports, and return that namespace: the reference answers by name.
    Tests and benchmarks use it, so that the solutions notebook stays the single source."""
    import math

    import keras
    import numpy as np

    # "__main__", as in a notebook: the checks follow a student's helpers by their module.
    namespace = {"__name__": "__main__", "np": np, "math": math, "keras": keras}
    for cell in answer_cells(read(notebook_path)).values():
        exec(
            compile(without_markers(cell.source), f"<{Path(notebook_path).name}>", "exec"),
            namespace,
        )
    return namespace


# A heading that a graded test belongs to: "### Exercise 2 — ..." or "### The accuracy test",
# with its points shown at its end, "(4 points)", as the release notebooks give them.
GRADED_HEADING = re.compile(
    r"^#{2,4} (Exercise \d+\b.*?|The accuracy test.*?)(?: \((\d+) points?\))?$"
)


def graded_sections(notebook) -> list[tuple[str, int | None, int]]:
    """(heading, points the heading shows or None, points of the graded tests under it) for
    each exercise heading, in notebook order; tests before any such heading count under "".
    """
    sections: list[list] = []
    for cell in notebook.cells:
        if cell.cell_type == "markdown":
            for line in cell.source.splitlines():
                match = GRADED_HEADING.match(line)
                if match:
                    shown = int(match.group(2)) if match.group(2) else None
                    sections.append([match.group(1), shown, 0])
        meta = nbgrader_meta(cell)
        if meta.get("grade") and not meta.get("solution"):
            if not sections:
                sections.append(["", None, 0])
            sections[-1][2] += meta.get("points", 0)
    return [tuple(section) for section in sections]
