"""Checks that compare a student's work with what Keras computes, and explain failures.

Each check raises :class:`CheckFailure` (an ``AssertionError``, so nbgrader counts it as a
failed test) whose message says what was expected, what came, and the likely cause.
"""

from grader.checks.failure import CheckFailure

__all__ = ["CheckFailure"]
