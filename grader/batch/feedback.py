"""Students' feedback: every test's result and the checks' explanations, never hidden tests.

nbgrader's own ``generate_feedback`` renders the autograded notebook as it is, hidden tests
and their tracebacks included (nbgrader issue #917). Here the hidden-test regions are cut
out with nbgrader's ClearHiddenTests, every error under a graded test cell is reduced to
its explanation (a traceback would quote the hidden line that failed), and what the grader
found wrong with the submission itself (edited or deleted cells, timeouts) heads the page.

The page reads like the notebook: each test is listed by its grade id (nbgrader says "Test
cell" for all of them), cells left unanswered get no "No response." comment box (the test
under them already says so), figures shrink to the page's width, and math is MathML,
typeset by the browser itself: nbgrader's page loads MathJax from the internet, so offline
it showed raw LaTeX.
"""

from __future__ import annotations

import copy
import html
import os
import re
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
    for cell in notebook.cells:
        meta = nbgrader_meta(cell)
        if meta.get("comment") == NO_RESPONSE:
            meta["comment"] = None
        if cell.cell_type == "markdown":
            cell.source = with_mathml(cell.source)
    page, _ = _exporter().from_notebook_node(notebook, resources=resources)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(readable(page), encoding="utf-8")


NO_RESPONSE = "No response."  # nbgrader's automatic comment on an unchanged answer cell

# Code spans are kept as they are; $$...$$ is display math, $...$ inline math.
_MATH = re.compile(r"(`+)(?:.+?)\1|\$\$(.+?)\$\$|\$([^$\n]+?)\$", re.DOTALL)


def with_mathml(markdown: str) -> str:
    """Markdown with its LaTeX math replaced by MathML (latex2mathml), which needs no script."""
    from latex2mathml.converter import convert

    def replace(match: re.Match) -> str:
        display, inline = match.group(2), match.group(3)
        if display is None and inline is None:
            return match.group(0)  # a code span
        latex = display if display is not None else inline
        try:
            mathml = convert(latex.strip(), display="block" if display is not None else "inline")
        except Exception:  # LaTeX latex2mathml cannot read: shown as written
            return match.group(0)
        return f"\n\n<div class='math'>{mathml}</div>\n\n" if display is not None else mathml

    return _MATH.sub(replace, markdown)


_TEST_CELL_LINK = re.compile(r'<a href="#([^"]+)">Test cell</a>')
_MATHJAX = re.compile(
    r"<script[^>]*>(?:(?!</script>).)*?MathJax(?:(?!</script>).)*</script>|"
    r"<script[^>]*mathjax[^>]*>\s*</script>|"
    r"<!--[^>]*mathjax[^>]*-->",  # the template's comments around them
    re.DOTALL | re.IGNORECASE,
)
_PAGE_STYLE = "<style>img{max-width:100%;height:auto}div.math{overflow-x:auto}</style>"


def readable(page: str) -> str:
    """nbgrader's feedback page, with each test listed by its grade id, no MathJax (the math
    is MathML already) and images no wider than the page."""
    page = _TEST_CELL_LINK.sub(
        lambda m: f'<a href="#{m.group(1)}">{html.escape(m.group(1))}</a>', page
    )
    page = _MATHJAX.sub("", page)
    return page.replace("</head>", f"{_PAGE_STYLE}\n</head>", 1)


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
