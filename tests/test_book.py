"""The reader's edition (grader/book.py), built from the solutions and read in a real browser:
every page loads cleanly, its figures decode, its links resolve, the navigation works, the math
is typeset, and no page shows what readers must not see."""

import html
import re
import shutil
import zipfile
from urllib.parse import urldefrag, urljoin

import pytest

from grader import book
from grader.book import STUB_NOTE
from grader.course import Course
from grader.notebook_cells import nbgrader_meta, read
from tests.book_browser import chromium, served

pytestmark = [pytest.mark.slow, pytest.mark.long]

COURSE = Course()
NOTEBOOKS = [p.stem for a in COURSE.assignments() for p in COURSE.solution_notebooks(a)]
NEVER_SHOWN = (
    "BEGIN HIDDEN TESTS",
    "END HIDDEN TESTS",
    "### BEGIN SOLUTION",
    "### END SOLUTION",
    "# Test: ",  # how every test cell begins
    "absl::InitializeLog",  # TensorFlow's runtime lines
    "oneDNN custom operations",
    "cudart_stub",
)


def answer_cells():
    return [
        cell
        for assignment in COURSE.assignments()
        for path in COURSE.solution_notebooks(assignment)
        for cell in read(path).cells
        if nbgrader_meta(cell).get("solution")
    ]


def reference_answer_lines():
    """Distinctive lines of the reference answers: none may appear in the reader's edition."""
    lines = set()
    for cell in answer_cells():
        if "### BEGIN SOLUTION" in cell.source:
            answer = cell.source.split("### BEGIN SOLUTION")[1].split("### END SOLUTION")[0]
            lines |= {line.strip() for line in answer.splitlines() if len(line.strip()) > 40}
    return lines


@pytest.fixture(scope="module")
def reader_site(tmp_path_factory):
    if shutil.which("chromium") is None:
        pytest.skip("Debian's chromium is not installed (apt-get install chromium)")
    return book.build(output=tmp_path_factory.mktemp("book") / "html", quiet=True)


@pytest.fixture(scope="module")
def solutions_site(tmp_path_factory, reader_site):
    # Built after the reader's edition: every notebook comes from the execution cache.
    return book.build(
        with_solutions=True, output=tmp_path_factory.mktemp("book") / "html", quiet=True
    )


@pytest.fixture(scope="module")
def pages_read(reader_site):
    """Every page of the reader's edition as Chromium renders it, with what went wrong loading it."""
    pages = {}
    with served(reader_site.html) as base, chromium() as browser:
        page = browser.new_page()
        for name in reader_site.pages:
            errors, failed = [], []
            page.on("console", lambda m, errors=errors: m.type == "error" and errors.append(m.text))
            page.on("requestfailed", lambda r, failed=failed: failed.append(r.url))
            page.on(
                "response",
                lambda r, failed=failed: r.status >= 400 and failed.append(f"{r.status} {r.url}"),
            )
            page.goto(base + f"{name}.html", wait_until="networkidle")
            images = page.eval_on_selector_all(
                "article img",
                "els => els.map(i => [i.src, i.complete, i.naturalWidth, i.naturalHeight])",
            )
            links = page.eval_on_selector_all("a[href]", "els => els.map(a => a.href)")
            pages[name] = {
                "url": page.url,
                "text": page.inner_text("body"),
                "html": page.content(),
                "errors": errors,
                "failed": failed,
                "images": images,
                "links": links,
                "math": page.eval_on_selector_all(
                    "article math", "els => els.map(m => m.getBoundingClientRect().height)"
                ),
                "next": page.eval_on_selector_all("a.right-next", "els => els.map(a => a.href)"),
                "previous": page.eval_on_selector_all("a.left-prev", "els => els.map(a => a.href)"),
                "sidebar": page.eval_on_selector_all(
                    "nav.bd-links a", "els => els.map(a => a.href)"
                ),
            }
            # A fresh page per URL keeps one page's events out of the next page's lists.
            page.close()
            page = browser.new_page()
        # Every internal link, fetched once.
        status = {}
        for seen in pages.values():
            for link in seen["links"]:
                target, fragment = urldefrag(link)
                if target.startswith(base) and target not in status:
                    status[target] = page.request.get(target).status
        pages["_links"] = status
        pages["_base"] = base
    return pages


def test_the_site_has_a_landing_page_and_every_notebook_in_order(reader_site):
    assert reader_site.pages == ["index", *NOTEBOOKS]
    for name in reader_site.pages:
        assert (reader_site.html / f"{name}.html").is_file()


def test_every_page_loads_without_a_console_error_or_a_failed_request(pages_read):
    for name in ["index", *NOTEBOOKS]:
        assert pages_read[name]["errors"] == [], name
        assert pages_read[name]["failed"] == [], name


def test_every_figure_decodes_and_every_notebook_has_figures(pages_read):
    for name in NOTEBOOKS:
        images = pages_read[name]["images"]
        assert images, f"{name} shows no figure"
        for src, complete, width, height in images:
            assert complete and width > 0 and height > 0, (name, src)


def test_every_internal_link_resolves(pages_read):
    broken = {url: code for url, code in pages_read["_links"].items() if code != 200}
    assert not broken


def test_the_sidebar_and_previous_next_links_walk_the_course_in_order(pages_read):
    base = pages_read["_base"]
    order = ["index", *NOTEBOOKS]
    for name in order:
        sidebar = {urldefrag(u)[0] for u in pages_read[name]["sidebar"]}
        assert {urljoin(base, f"{n}.html") for n in NOTEBOOKS} <= sidebar, name
    for before, after in zip(order, order[1:], strict=False):
        assert [urldefrag(u)[0] for u in pages_read[before]["next"]] == [
            urljoin(base, f"{after}.html")
        ]
        assert [urldefrag(u)[0] for u in pages_read[after]["previous"]] == [
            urljoin(base, f"{before}.html")
        ]


def test_math_is_typeset_with_no_script_or_network(pages_read):
    # Notebooks 01 (min as a max) and 04 (LRN's formula) display equations, as MathML the
    # browser lays out itself.
    for name in ("01_pooling", "04_alexnet"):
        heights = pages_read[name]["math"]
        assert heights and all(h > 0 for h in heights), name
        assert "\\max(-x_1" not in pages_read[name]["text"]  # typeset, not left as TeX


def test_no_page_shows_hidden_tests_solution_markers_or_runtime_lines(pages_read):
    for name in ["index", *NOTEBOOKS]:
        for text in NEVER_SHOWN:
            assert text not in pages_read[name]["text"], (name, text)


def test_the_readers_edition_shows_stubs_not_answers(pages_read):
    shown = "\n".join(html.unescape(pages_read[name]["text"]) for name in NOTEBOOKS)
    assert shown.count(STUB_NOTE) == len(
        answer_cells()
    )  # every answer cell, as students receive it
    leaked = [line for line in reference_answer_lines() if line in shown]
    assert not leaked


def test_every_page_says_how_to_run_it(pages_read):
    assert "Run it yourself" in pages_read["index"]["text"]
    for name in NOTEBOOKS:
        assert re.search(r"run it yourself", pages_read[name]["text"], re.I), name


def test_the_instructors_edition_shows_the_answers(solutions_site):
    text = "\n".join(
        html.unescape(re.sub(r"<[^>]+>", "", (solutions_site.html / f"{n}.html").read_text()))
        for n in NOTEBOOKS
    )
    assert STUB_NOTE not in text and "### BEGIN SOLUTION" not in text
    assert reference_answer_lines() & set(line.strip() for line in text.splitlines())


def test_the_landing_page_links_the_student_bundle_without_answers(reader_site):
    (link,) = re.findall(
        r'href="(_downloads/[^"]+\.zip)"', (reader_site.html / "index.html").read_text()
    )
    with zipfile.ZipFile(reader_site.html / link) as bundle:
        names = bundle.namelist()
    assert {f"cnn-course/notebooks/{n}/{n}.ipynb" for n in NOTEBOOKS} <= set(names)
    assert not [n for n in names if n.endswith(("references.py", "exact.py", ".h5", ".npz"))]
