"""Feedback pages and the class report read like the notebook: tests titled by grade id, math
without MathJax, images within the page; the report in notebook order, each student linked
to their feedback, the likely causes counted, and only real trouble listed to look at."""

from __future__ import annotations

from pathlib import Path

from grader.batch import report
from grader.batch.execute import likely_cause
from grader.batch.feedback import readable, with_mathml
from grader.batch.limits import Limits
from grader.batch.runner import BatchOutcome, SubmissionRecord


def test_math_becomes_mathml_and_code_spans_stay_as_written():
    text = with_mathml("Output size $\\lfloor n/s \\rfloor$; `echo $HOME` stays.\n\n$$a^2 + b^2$$")
    assert "<math" in text and "$" not in text.replace("`echo $HOME`", "")
    assert "`echo $HOME`" in text
    assert 'display="block"' in text


def test_tests_are_listed_by_grade_id_and_mathjax_is_gone():
    page = (
        "<html><head><!-- Load mathjax --><script src='https://cdn/mathjax/MathJax.js?config=TeX'></script>"
        "<script type='text/x-mathjax-config'>MathJax.Hub.Config({})</script></head><body>"
        '<li><a href="#test_pool2d_same">Test cell</a> (Score: 0 / 2)</li></body></html>'
    )
    fixed = readable(page)
    assert '<a href="#test_pool2d_same">test_pool2d_same</a>' in fixed
    assert "MathJax" not in fixed and "mathjax" not in fixed
    assert "img{max-width:100%" in fixed


def test_the_likely_cause_is_read_from_a_checks_failure():
    lines = ["pool2d, case 3", "  expected: 2x2", "  got:      3x3", "  likely cause: no stride"]
    assert likely_cause(lines) == "no stride"
    assert likely_cause(["NameError: name 'x' is not defined"]) == ""


def _record(student, failed_cause=None, timeout=False):
    events = [
        {"notebook": "01", "index": 3, "grade_id": "test_b", "status": "ok", "seconds": 1.0,
         "explanation": "", "graded": True, "cause": ""},
        {"notebook": "01", "index": 5, "grade_id": "test_a", "seconds": 1.0, "graded": True,
         "status": "error" if failed_cause else "ok",
         "explanation": "CheckFailure: pool2d, case 3" if failed_cause else "",
         "cause": failed_cause or ""},
    ]  # fmt: skip
    if timeout:
        events.append(
            {"notebook": "01", "index": 7, "grade_id": None, "status": "timeout", "seconds": 60.0,
             "explanation": "cell 8 ran past its time limit of 60 s", "graded": False}
        )  # fmt: skip
    scores = [
        {"grade_id": "test_a", "score": 0.0 if failed_cause else 2.0, "max_score": 2.0},
        {"grade_id": "test_b", "score": 1.0, "max_score": 1.0},
    ]
    return SubmissionRecord(student, "01", "hash", events=events, scores=scores, wall_seconds=3.0)


def test_the_report_reads_in_notebook_order_and_lists_only_real_trouble(tmp_path: Path):
    records = [
        _record("ada"),
        _record("bob", failed_cause="the window is not moved by the stride"),
        _record("cy", failed_cause="the window is not moved by the stride", timeout=True),
    ]
    outcome = BatchOutcome("01", records, None, Limits(), "2 workers", 9.0)
    outcome.question_order = ["test_b", "test_a"]  # alphabetical order would put test_a first
    outcome.feedback_pages = {r.student: f"../../feedback/{r.student}/01/01.html" for r in records}
    page = report.write(tmp_path / "report.html", outcome).read_text()
    header = page[page.index("<h2>Every student</h2>") :]
    assert header.index("test_<wbr>b") < header.index("test_<wbr>a")
    assert "<a href='../../feedback/bob/01/01.html'>bob</a>" in page
    to_look_at = page[page.index("Submissions to look at") : page.index("Why points were lost")]
    assert "(1)" in to_look_at and ">cy</a>" in to_look_at and ">bob</a>" not in to_look_at
    lost = page[page.index("Why points were lost") : page.index("Slowest submissions")]
    assert "test_a (2)</td><td>2</td>" in lost
    assert "2 × the window is not moved by the stride" in lost
    assert records[1].problems() and not records[1].needs_a_look()
