"""Shared fixtures: the reference answers, taken from the solution notebooks themselves."""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import pytest  # noqa: E402

from grader.course import REPO_ROOT  # noqa: E402
from grader.notebook_cells import load_answers  # noqa: E402


@pytest.fixture(scope="session")
def pooling_reference():
    return load_answers(REPO_ROOT / "solutions" / "01_pooling" / "01_pooling.ipynb")


@pytest.fixture(scope="session")
def padding_reference():
    return load_answers(REPO_ROOT / "solutions" / "02_padding" / "02_padding.ipynb")


@pytest.fixture(scope="session")
def lenet_reference():
    return load_answers(REPO_ROOT / "solutions" / "03_lenet5" / "03_lenet5.ipynb")


@pytest.fixture(scope="session")
def alexnet_reference():
    return load_answers(REPO_ROOT / "solutions" / "04_alexnet" / "04_alexnet.ipynb")


def pytest_terminal_summary(terminalreporter):
    """The answer corpus's rates, when its tests ran (tests/test_answer_corpus.py)."""
    import sys

    corpus = sys.modules.get("test_answer_corpus")
    if corpus is None or not corpus.RESULTS:
        return
    rates = corpus.corpus_rates(list(corpus.RESULTS))
    wrong = max(rates["wrong answers"], 1)
    terminalreporter.section("answer corpus")
    terminalreporter.write_line(
        f"{wrong} wrong answers, {rates['correct alternatives']} correct alternatives: "
        f"false passes {rates['false passes']}, false fails {rates['false fails']}, "
        f"right cause {rates['right cause']} ({rates['right cause'] / wrong:.0%}), "
        f"right among others {rates['right cause among others']}, unsure {rates['unsure']}, "
        f"wrong cause {rates['wrong cause']}"
    )


# CI sets CNN_COURSE_NO_SKIPS=1 (.ci/run): there a test that skips (no bubblewrap, no
# PostgreSQL, not root) fails instead, so nothing is skipped silently where everything exists.
NO_SKIPS = "CNN_COURSE_NO_SKIPS"


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if os.environ.get(NO_SKIPS) == "1" and report.skipped and not hasattr(report, "wasxfail"):
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else report.longrepr
        report.outcome = "failed"
        report.longrepr = f"skipped where {NO_SKIPS}=1 forbids skips: {reason}"
