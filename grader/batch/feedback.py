"""Students' feedback: every test's result and the checks' explanations, never hidden tests.

nbgrader's own ``generate_feedback`` renders the autograded notebook as it is, hidden tests
and their tracebacks included (nbgrader issue #917). Here the hidden-test regions are cut
out with nbgrader's ClearHiddenTests, every error under a graded test cell is reduced to
its explanation (a traceback would quote the hidden line that failed), and what the grader
found wrong with the submission itself (edited or deleted cells, timeouts) heads the page.
"""

from __future__ import annotations

import copy
import os
from pathlib import Path

import nbformat
from nbconvert.exporters import HTMLExporter
from nbgrader.preprocessors import ClearHiddenTests, GetGrades
from traitlets.config import Config

from grader.batch.gradebook import nbgrader_resources
from grader.notebook_cells import nbgrader_meta


def without_hidden_tests(notebook: nbformat.NotebookNode) -> nbformat.NotebookNode:
    notebook = copy.deepcopy(notebook)
    notebook, _ = ClearHiddenTests().preprocess(notebook, {})
    for cell in notebook.cells:
        meta = nbgrader_meta(cell)
        if cell.cell_type != "code" or not meta.get("grade") or meta.get("solution"):
            continue
        for output in cell.get("outputs", []):
            if output.get("output_type") == "error":
                output["traceback"] = [
                    f"{output.get('ename', 'Error')}: {output.get('evalue', '')}"
                ]
    return notebook


def write(
    path: Path,
    autograded: nbformat.NotebookNode,
    db_url: str,
    assignment: str,
    student: str,
    notes: list[str],
) -> None:
    notebook = without_hidden_tests(autograded)
    if notes:
        text = "**The grader's notes on this submission**\n\n" + "\n".join(f"- {n}" for n in notes)
        notebook.cells.insert(0, nbformat.v4.new_markdown_cell(text))
    resources = nbgrader_resources(path.stem, assignment, student, db_url)
    notebook, resources = GetGrades().preprocess(notebook, resources)
    html, _ = _exporter().from_notebook_node(notebook, resources=resources)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(html, encoding="utf-8")


def _exporter() -> HTMLExporter:
    # nbgrader's feedback template (scores beside each test), as nbgrader's generate_feedback uses it
    import nbgrader

    formgrader = Path(nbgrader.__file__).parent / "server_extensions" / "formgrader"
    config = Config()
    config.HTMLExporter.template_name = "feedback"
    config.HTMLExporter.extra_template_basedirs = [os.fspath(formgrader / "templates")]
    css = formgrader / "static" / "node_modules" / "bootstrap" / "dist" / "css"
    config.HTMLExporter.extra_template_paths = [os.fspath(css)]
    return HTMLExporter(config=config)
