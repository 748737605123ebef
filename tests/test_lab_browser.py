"""A student's JupyterLab in headless Chromium (Playwright, Debian's chromium): notebook 01
opened, its setup cell run, a wrong pool2d checked, the right one checked, Validate clicked.
Screenshots of each step are kept in build/test-artifacts/lab/ (README's come from
`python -m tests.lab_browser docs/`)."""

from __future__ import annotations

import pytest

from grader.checks.failure import HIDDEN_CASES_FOLLOW
from grader.course import REPO_ROOT
from tests.lab_browser import student_session

pytestmark = [pytest.mark.slow, pytest.mark.long]
ARTIFACTS = REPO_ROOT / "build" / "test-artifacts" / "lab"


@pytest.fixture(scope="module")
def session(tmp_path_factory):
    return student_session(
        tmp_path_factory.mktemp("student"), tmp_path_factory.mktemp("scratch"), ARTIFACTS
    )


def test_the_lab_shows_no_instructor_tools(session):
    assert session["nbgrader_menus"] == 0


def test_the_setup_cell_prints_its_line_and_nothing_on_stderr(session):
    assert "Keras 3" in session["setup"] and "MNIST test digits" in session["setup"]
    assert session["setup_stderr"] == 0
    assert "oneDNN" not in session["setup"] and "cuda" not in session["setup"]


def test_a_wrong_answer_shows_the_explanation_and_no_traceback(session):
    failed = session["failed"]
    assert "\N{BALLOT X} pool2d(" in failed and "expected:" in failed and "got:" in failed
    assert "likely cause: possibly the stride was ignored" in failed
    assert "Traceback" not in failed and "grader/checks" not in failed and "File " not in failed


def test_the_right_answer_passes_and_says_hidden_cases_follow(session):
    passed = " ".join(session["passed"].split())
    assert "\N{CHECK MARK} pool2d matches Keras on 12 cases" in passed
    assert " ".join(HIDDEN_CASES_FOLLOW.split()) in passed


def test_validate_lists_the_failures_in_short(session):
    text = session["validate"]
    assert "Validation Results" in text and "The following cell failed" in text
    assert "expected:" in text and "Traceback" not in text and "File " not in text
    # One line of explanation per failing test, not 25 lines of traceback each.
    failing = text.count("The following cell failed")
    assert len(text) < 1_200 * failing, text


def test_the_whole_session_costs_under_two_minutes(session):
    assert sum(session["seconds"].values()) < 120, session["seconds"]
