"""The trusted central step before a submission runs: read it, say what was tampered with,
and let nbgrader restore its test cells from the gradebook.

nbgrader's own sanitizing preprocessors do the restoring (the same ones ``nbgrader
autograde`` runs): outputs cleared, duplicated grade ids resolved, the kernelspec and every
locked or graded cell overwritten with the instructors' version (hidden tests included),
deleted graded cells added back. What this module adds is the record: every problem it
finds becomes a :class:`Finding` that the report and the student's feedback show, and a
notebook nbgrader cannot read is a result (0 points, with why), never an exception that
stops the batch.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import nbformat
from nbgrader.api import Gradebook
from nbgrader.preprocessors import (
    CheckCellMetadata,
    ClearOutput,
    DeduplicateIds,
    OverwriteCells,
    OverwriteKernelspec,
)
from traitlets.config import Config

from grader.batch.gradebook import nbgrader_resources
from grader.notebook_cells import nbgrader_meta


@dataclass(frozen=True)
class Finding:
    notebook: str
    grade_id: str | None
    problem: str


@dataclass
class Sanitized:
    notebook: nbformat.NotebookNode | None  # None: unreadable, every cell of it scores 0
    findings: list[Finding]


def sanitize(path: Path, assignment: str, student: str, db_url: str) -> Sanitized:
    name = path.stem
    findings: list[Finding] = []
    try:
        text = path.read_bytes().decode("utf-8")
        json.loads(text)
    except (UnicodeDecodeError, ValueError, RecursionError) as error:
        reason = "nested too deeply" if isinstance(error, RecursionError) else str(error)[:200]
        problem = f"{path.name} is not valid notebook JSON ({reason}); all its tests score 0"
        return Sanitized(None, [Finding(name, None, problem)])
    try:
        notebook = nbformat.reads(text, as_version=4)
        if not isinstance(notebook.get("cells"), list):
            raise ValueError("it has no list of cells")
        findings += _malformed_cells(notebook, name)
        findings += _tampering(notebook, name, assignment, db_url)
        _keep_last_copies(notebook)
    except Exception as error:
        problem = (
            f"{path.name} is not a notebook nbgrader can read ({type(error).__name__}: "
            f"{str(error)[:200]}); all its tests score 0"
        )
        return Sanitized(None, [*findings, Finding(name, None, problem)])
    resources = nbgrader_resources(name, assignment, student, db_url)
    config = Config()
    config.OverwriteCells.add_missing_cells = True
    try:
        for step in (
            ClearOutput,
            DeduplicateIds,
            OverwriteKernelspec,
            OverwriteCells,
            CheckCellMetadata,
        ):
            notebook, resources = step(config=config).preprocess(notebook, resources)
    except Exception as error:
        problem = (
            f"nbgrader could not restore this notebook's cells ({type(error).__name__}: {error}); "
            "all its tests score 0"
        )
        return Sanitized(None, [*findings, Finding(name, None, problem)])
    return Sanitized(notebook, findings)


def _malformed_cells(notebook, name: str) -> list[Finding]:
    """Cells whose nbgrader record is not the dictionary nbgrader writes (a string, a list
    as grade_id, ...): the record is dropped, so the cell is a plain cell; a graded cell of
    the instructors' is then added back by OverwriteCells, as for a deleted one."""
    found = []
    notebook.cells = [c for c in notebook.cells if isinstance(c, dict)]
    for index, cell in enumerate(notebook.cells):
        metadata = cell.get("metadata")
        if not isinstance(metadata, dict):
            cell["metadata"] = nbformat.NotebookNode()
            continue
        record = metadata.get("nbgrader")
        if record is None:
            continue
        grade_id = record.get("grade_id") if isinstance(record, dict) else None
        if not isinstance(record, dict) or not isinstance(grade_id, str):
            del metadata["nbgrader"]
            found.append(
                Finding(
                    name,
                    None,
                    f"cell {index + 1} carried a malformed nbgrader record; it is ignored",
                )
            )
    return found


def _keep_last_copies(notebook) -> None:
    """Of cells sharing a grade_id keep the last as the graded one (nbgrader's DeduplicateIds
    rule) and make the earlier ones plain cells. DeduplicateIds itself leaves them an empty
    nbgrader record, on which OverwriteCells then fails with KeyError 'grade_id'."""
    seen = set()
    for cell in reversed(notebook.cells):
        grade_id = nbgrader_meta(cell).get("grade_id")
        if grade_id is None:
            continue
        if grade_id in seen:
            del cell.metadata["nbgrader"]
        seen.add(grade_id)


def _tampering(notebook, name: str, assignment: str, db_url: str) -> list[Finding]:
    """What differs from the instructors' version: duplicated, deleted or edited graded cells."""
    cells = [c for c in notebook.cells if isinstance(c, dict)]
    ids = [nbgrader_meta(c).get("grade_id") for c in cells]
    counts = Counter(i for i in ids if i)
    found = [
        Finding(name, grade_id, f"cell {grade_id} appears {n} times; only the last copy is graded")
        for grade_id, n in sorted(counts.items())
        if n > 1
    ]
    with Gradebook(db_url) as gradebook:
        source = gradebook.find_notebook(name, assignment)
        answer_ids = {c.name for c in source.solution_cells}
        for cell in source.source_cells:
            if cell.name not in counts:
                if cell.name in answer_ids:
                    problem = f"answer cell {cell.name} was deleted; it is added back empty"
                else:
                    problem = (
                        f"cell {cell.name} was deleted; the instructors' version is added back"
                    )
                found.append(Finding(name, cell.name, problem))
                continue
            if cell.name in answer_ids:
                continue
            mine = next(c for c in cells if nbgrader_meta(c).get("grade_id") == cell.name)
            if _normalised(mine.get("source", "")) != _normalised(_visible(cell.source)):
                found.append(
                    Finding(
                        name,
                        cell.name,
                        f"cell {cell.name} was edited; it is graded as the instructors wrote it",
                    )
                )
    return found


def _visible(source: str) -> str:
    """A test cell as students see it: without the hidden tests."""
    kept, hidden = [], False
    for line in source.splitlines():
        if "BEGIN HIDDEN TESTS" in line:
            hidden = True
        elif "END HIDDEN TESTS" in line:
            hidden = False
        elif not hidden:
            kept.append(line)
    return "\n".join(kept)


def _normalised(source) -> str:
    if isinstance(source, list):
        source = "".join(source)
    return "\n".join(line.rstrip() for line in str(source).strip().splitlines())
