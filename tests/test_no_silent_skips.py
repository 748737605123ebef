"""Where CI runs (CNN_COURSE_NO_SKIPS=1), a test that would skip fails instead, with why."""

from pathlib import Path

pytest_plugins = ["pytester"]
CONFTEST = Path(__file__).with_name("conftest.py")

SKIPPING = """
import pytest

def test_needs_a_tool():
    pytest.skip("bubblewrap is not installed")

@pytest.fixture
def server():
    pytest.skip("no PostgreSQL server")

def test_needs_a_server(server):
    pass

@pytest.mark.xfail(reason="a known failure is not a skip", strict=True)
def test_known_failure():
    assert False
"""


def test_skips_fail_where_ci_forbids_them(pytester, monkeypatch):
    pytester.makeconftest(CONFTEST.read_text())
    pytester.makepyfile(SKIPPING)
    monkeypatch.setenv("CNN_COURSE_NO_SKIPS", "1")
    result = pytester.runpytest_inprocess("-p", "no:cacheprovider")
    result.assert_outcomes(failed=1, errors=1, xfailed=1)  # a fixture's skip fails its setup
    result.stdout.fnmatch_lines(["*forbids skips*bubblewrap is not installed*"])


def test_skips_stay_skips_elsewhere(pytester, monkeypatch):
    pytester.makeconftest(CONFTEST.read_text())
    pytester.makepyfile(SKIPPING)
    monkeypatch.delenv("CNN_COURSE_NO_SKIPS", raising=False)
    result = pytester.runpytest_inprocess("-p", "no:cacheprovider")
    result.assert_outcomes(skipped=2, xfailed=1)
