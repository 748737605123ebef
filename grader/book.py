"""The reader's edition: the course as an executed, navigable static site, built with Sphinx and
myst-nb from the solutions (``grader book``, ``make book``).

What a reader sees is decided here, cell by cell:

- every explanation, figure and computed number, from the solutions executed as they are;
- an answer cell shows the stub the student receives (from the release in ``notebooks/``), its code
  hidden but its outputs kept, so readers see what a right answer produces; ``with_solutions``
  shows the answers instead (an instructor's edition);
- test cells run (they check the reference) but never appear, and hidden tests are removed
  before anything runs; TensorFlow's C-level runtime lines never reach a page, because the
  book's kernel leaves the process's own stderr alone (``capture_fd_output=False``).

Notebooks 03 and 04 load the example students' reference weights instead of training, and
myst-nb's cache (jupyter-cache) keeps every executed notebook, keyed on its code: an unchanged
notebook is not executed again. Math is converted to MathML while the site is built
(latex2mathml), which browsers typeset themselves: the site needs no script and no internet for it.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path

import nbformat

from grader import example_weights
from grader.course import REPO_ROOT, Course
from grader.notebook_cells import SOLUTION_MARKERS, nbgrader_meta, read

BOOK_DIR = REPO_ROOT / "build" / "book"
KERNEL_NAME = "cnn-course-book"
HIDDEN_TESTS = re.compile(r"\n?[ \t]*### BEGIN HIDDEN TESTS.*?### END HIDDEN TESTS[ \t]*\n?", re.S)
# The student bundle, zipped into the site for readers who want to do the exercises.
BUNDLE_ZIP = "cnn-course-student-bundle.zip"
# What precedes the stub of each answer cell in the reader's edition.
STUB_NOTE = "Your answer goes here. The cell as you receive it:"
SOLUTION_NOTE = "The answer (instructors' edition):"
# The landing page is README's opening: what the course is, its notebooks, the twelve questions.
LANDING_FROM, LANDING_TO = "# ", "## Quick start"

# A 3x3 grid with its largest cell marked: max pooling, as the site's icon.
FAVICON = """<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 3 3">
<rect width="3" height="3" fill="#e8eef7"/><rect x="2" y="0" width="1" height="1" fill="#1f5fa8"/>
<path d="M1 0V3M2 0V3M0 1H3M0 2H3" stroke="#1f5fa8" stroke-width="0.08"/></svg>
"""


@dataclass(frozen=True)
class Edition:
    html: Path
    pages: list[str]


def build(with_solutions: bool = False, output: Path | None = None, quiet: bool = False) -> Edition:
    """Write the site to ``output`` (default build/book/html, or html-solutions) and return it."""
    from sphinx.application import Sphinx

    name = "solutions" if with_solutions else "reader"
    source = BOOK_DIR / f"src-{name}"
    output = Path(output) if output else BOOK_DIR / ("html-solutions" if with_solutions else "html")
    shutil.rmtree(source, ignore_errors=True)
    source.mkdir(parents=True)
    course = Course()
    pages = []
    for assignment in course.assignments():
        for path in course.solution_notebooks(assignment):
            release = read(course.release_notebook(assignment, path.stem))
            notebook = reader_notebook(read(path), release, with_solutions)
            nbformat.write(notebook, source / path.name)
            pages.append(path.stem)
        if assignment in example_weights.BY_ASSIGNMENT:
            weights = example_weights.BY_ASSIGNMENT[assignment]
            trained = example_weights.weights_for(assignment, "reference")
            shutil.copy2(trained, source / weights.file_name)
            if example_weights.curves_of(trained).exists():  # the learning curves' figure
                shutil.copy2(
                    example_weights.curves_of(trained),
                    example_weights.curves_of(source / weights.file_name),
                )
    _student_bundle(course, source / BUNDLE_ZIP)
    (source / "index.md").write_text(landing_page(pages, with_solutions))
    (source / "_static").mkdir()
    (source / "_static" / "favicon.svg").write_text(FAVICON)
    kernels = _install_kernel(BOOK_DIR / "jupyter")
    app = Sphinx(
        srcdir=str(source),
        confdir=None,
        outdir=str(output),
        doctreedir=str(BOOK_DIR / f"doctrees-{name}"),
        buildername="html",
        confoverrides=sphinx_config(with_solutions),
        status=None if quiet else sys.stdout,
        warning=sys.stderr,
        freshenv=True,
    )
    with _jupyter_path(kernels):
        app.build()
    if app.statuscode:
        raise RuntimeError(f"the book did not build (Sphinx status {app.statuscode})")
    return Edition(output, ["index", *pages])


# "[02 · Padding ...](../02_padding/02_padding.ipynb)": the course's folders, one per notebook.
SIBLING_NOTEBOOK = re.compile(r"\]\(\.\./([^/)]+)/\1\.ipynb\)")


def reader_notebook(solution, release, with_solutions: bool):
    """The solution notebook as a reader sees it (see the module's docstring)."""
    stubs = {
        nbgrader_meta(c)["grade_id"]: c.source
        for c in release.cells
        if nbgrader_meta(c).get("solution")
    }
    notebook = nbformat.from_dict(json.loads(json.dumps(solution)))
    cells = []
    for cell in notebook.cells:
        meta = nbgrader_meta(cell)
        tags = cell.metadata.setdefault("tags", [])
        if cell.cell_type == "code" and meta.get("grade") and not meta.get("solution"):
            cell.source = HIDDEN_TESTS.sub("\n", cell.source).strip()
            tags.append("remove-cell")  # a test: it runs, and is never shown
        elif cell.cell_type == "code" and meta.get("solution"):
            # Both editions show the answer cell's code as a markdown block (the stub, or the
            # answer without its markers) and run the reference with its input removed: the
            # code cells, and so the execution cache, are the same in both.
            if with_solutions:
                answer = "\n".join(
                    line
                    for line in cell.source.splitlines()
                    if line.strip() not in SOLUTION_MARKERS
                )
                shown = f"{SOLUTION_NOTE}\n\n```python\n{answer}\n```"
            else:
                shown = (
                    f"{STUB_NOTE}\n\n```python\n{stubs[meta['grade_id']]}\n```\n\n"
                    "What follows is computed from a right answer."
                )
            display = nbformat.v4.new_markdown_cell(shown)
            display["id"] = f"{cell.get('id', meta['grade_id'])}-shown"
            cells.append(display)
            tags.append("remove-input")
        if cell.cell_type == "markdown":  # the notebooks' links to each other: pages here
            cell.source = SIBLING_NOTEBOOK.sub(r"](\1.ipynb)", cell.source)
        cell.metadata.pop("nbgrader", None)
        cells.append(cell)
    notebook.cells = cells[:1] + [_run_it_yourself()] + cells[1:]
    notebook.metadata["kernelspec"] = {
        "name": KERNEL_NAME,
        "display_name": "Python 3 (CNN course book)",
        "language": "python",
    }
    return notebook


def _student_bundle(course: Course, target: Path) -> None:
    from grader.bundle import build as build_bundle

    folder = BOOK_DIR / "student-bundle"
    shutil.rmtree(folder, ignore_errors=True)
    build_bundle(course, folder / "cnn-course")
    shutil.make_archive(str(target.with_suffix("")), "zip", folder, "cnn-course")


def _run_it_yourself():
    cell = nbformat.v4.new_markdown_cell(
        "*To run this notebook yourself, and to do its exercises, see {ref}`run-it-yourself`.*"
    )
    cell["id"] = "book-run-it-yourself"
    return cell


def landing_page(pages: list[str], with_solutions: bool) -> str:
    readme = (REPO_ROOT / "README.md").read_text()
    opening = readme[readme.index(LANDING_FROM) : readme.index(LANDING_TO)]
    # README links the release notebooks; here each links its page.
    opening = re.sub(r"\]\(notebooks/[^/)]+/([^/)]+)\.ipynb\)", r"](\1.ipynb)", opening)
    opening = opening.replace("\n### ", "\n## ")  # its sections sit under the title here
    edition = (
        "This is the instructors' edition: the answers are shown."
        if with_solutions
        else "Answers are not shown: each exercise shows the cell as students receive it, then "
        "what a right answer produces."
    )
    toctree = "\n".join(pages)
    return f"""{opening}
## Reading this edition

Every page is a notebook of the course, executed: its explanations, figures and computed numbers.
{edition}

(run-it-yourself)=
## Run it yourself

Download {{download}}`the student bundle <{BUNDLE_ZIP}>`: the notebooks as students receive them,
the part of the `grader` package they import (no answers, no hidden tests), and a README that says
how to install it, work and check your answers. Unzip it, follow its README, and open the notebooks
in JupyterLab; every exercise's test cell checks your answer against Keras on the spot. (Students
of a class get the same bundle from their instructor, who builds it with `grader release --bundle`.)

```{{toctree}}
:maxdepth: 1
:caption: Notebooks

{toctree}
```
"""


def sphinx_config(with_solutions: bool) -> dict:
    return {
        "project": "CNN course: pooling, padding, LeNet-5 and AlexNet",
        "extensions": ["myst_nb", "grader.book"],
        "html_theme": "sphinx_book_theme",
        "html_title": "CNN course" + (" (instructors' edition)" if with_solutions else ""),
        "html_static_path": ["_static"],
        "html_theme_options": {
            "home_page_in_toc": True,
            "show_navbar_depth": 1,
            "use_download_button": False,
            "use_fullscreen_button": False,
        },
        "html_show_sourcelink": False,
        "html_favicon": "_static/favicon.svg",
        # The theme's light/dark switch starts from this (unset, it logs a console error).
        "html_context": {"default_mode": "light"},
        # Math becomes MathML when the site is built (see mathml_renderer): browsers typeset it
        # with no script, font or network access.
        "html_math_renderer": "mathml",
        "exclude_patterns": ["_build", "**.ipynb_checkpoints"],
        "myst_enable_extensions": ["dollarmath", "amsmath"],
        "myst_heading_anchors": 3,
        "nb_execution_mode": "cache",
        "nb_execution_cache_path": str(BOOK_DIR / "jupyter_cache"),
        "nb_execution_timeout": 1800,
        "nb_execution_raise_on_error": True,
        "nb_execution_show_tb": True,
        "nb_merge_streams": True,
        "suppress_warnings": ["mystnb.unknown_mime_type"],
    }


def _install_kernel(jupyter_dir: Path) -> Path:
    """A kernel spec for the build: the running Python, leaving C-level output (TensorFlow's
    runtime lines) on the process's stderr instead of in the pages."""
    spec = jupyter_dir / "kernels" / KERNEL_NAME
    spec.mkdir(parents=True, exist_ok=True)
    kernel = {
        "argv": [
            sys.executable,
            "-m",
            "ipykernel_launcher",
            "-f",
            "{connection_file}",
            "--IPKernelApp.capture_fd_output=False",
            "--HistoryManager.hist_file=:memory:",
        ],
        "display_name": "Python 3 (CNN course book)",
        "language": "python",
        "env": {"TF_CPP_MIN_LOG_LEVEL": "3"},
    }
    (spec / "kernel.json").write_text(json.dumps(kernel, indent=1))
    return jupyter_dir


class _jupyter_path:
    """JUPYTER_PATH with the book's kernel first, for the build only."""

    def __init__(self, directory: Path):
        self.directory = str(directory)

    def __enter__(self):
        self.before = os.environ.get("JUPYTER_PATH")
        os.environ["JUPYTER_PATH"] = os.pathsep.join(filter(None, [self.directory, self.before]))

    def __exit__(self, *exc):
        if self.before is None:
            os.environ.pop("JUPYTER_PATH", None)
        else:
            os.environ["JUPYTER_PATH"] = self.before


def _mathml(latex: str, display: str) -> str:
    from latex2mathml.converter import convert

    return convert(latex, display=display)


def _visit_inline_math(translator, node):
    from docutils.nodes import SkipNode

    translator.body.append(_mathml(node.astext(), "inline"))
    raise SkipNode


def _visit_block_math(translator, node):
    if node.get("number") and node["ids"]:  # a labelled equation: its anchor, for {eq} references
        translator.body.append(f'<span class="eqno" id="{node["ids"][0]}"></span>')
    translator.body.append(f'<div class="math">{_mathml(node.astext(), "block")}</div>')
    from docutils.nodes import SkipNode

    raise SkipNode


def setup(app):
    """Sphinx extension: the "mathml" math renderer (``html_math_renderer``)."""
    app.add_html_math_renderer(
        "mathml",
        inline_renderers=(_visit_inline_math, None),
        block_renderers=(_visit_block_math, None),
    )
    return {"parallel_read_safe": True, "parallel_write_safe": True}
