"""How a check reports to the student: the failure it raises, the pass line it prints, and
the wrapper every check runs in (platform notes, the student's own stderr)."""

from __future__ import annotations

import contextlib
import functools
import inspect
import io
from collections.abc import Callable
from typing import TypeVar

from grader.grading import grading_mode


class CheckFailure(AssertionError):
    """A check found a difference from the Keras oracle.

    Subclasses ``AssertionError`` so that nbgrader scores the test cell as failed; the
    message is written for the student who reads it under the cell.
    """

    def __init__(self, what: str, expected: object, got: object, cause: str | None = None):
        self.what, self.expected, self.got, self.cause = what, expected, got, cause
        self.notes: list[str] = []
        lines = [what, f"  expected: {expected}", f"  got:      {got}"]
        if cause:
            lines.append(f"  likely cause: {cause}")
        super().__init__("\n".join(lines))

    def add_line(self, note: str) -> None:
        self.notes.append(note)
        self.args = (f"{self.args[0]}\n  {note}",)

    def _render_traceback_(self) -> list[str]:
        """What IPython shows under the cell instead of a traceback (IPython calls this
        for any exception that has it; the lab, nbgrader's Validate and nbclient all show
        these lines). The traceback would run through the checks' own code, 25 lines that
        bury the one thing the student needs: what was checked, expected, got, and why."""
        first, *rest = str(self).splitlines()
        return [f"{_RED_BOLD}\N{BALLOT X} {first}{_RESET}", *rest]


# ANSI colours, which JupyterLab and nbgrader's Validate dialog render in error output.
_RED_BOLD, _RESET = "\x1b[1;31m", "\x1b[0m"


# What a fixed-answer exercise shows instead of the expected value: which entry is wrong and
# why, never the answer itself (there are no hidden cases to keep a copied answer out).
FIXED_ANSWER = "not shown (one fixed answer: the check says what is wrong, not the answer)"


def passed(message: str) -> None:
    """Tell the student what a check verified (shown under the test cell)."""
    print(f"\N{CHECK MARK} {message}")


# Printed under a visible check that passed when hidden cases follow at grading: a visible
# pass is not the grade (Otter-Grader's "all public tests passed" says the same).
HIDDEN_CASES_FOLLOW = "  (visible cases; when your notebook is graded, hidden cases with fresh inputs decide the points)"


def _visible_run_of_a_check_with_hidden_cases(check: Callable, args, kwargs) -> bool:
    """Checks with hidden cases take a ``seed``: the visible test uses the fixed default,
    the hidden tests pass ``seed=None`` (fresh inputs every grading)."""
    parameters = inspect.signature(check).parameters
    if "seed" not in parameters:
        return False
    bound = inspect.signature(check).bind_partial(*args, **kwargs)
    return bound.arguments.get("seed", parameters["seed"].default) is not None


Check = TypeVar("Check", bound=Callable)


def student_check(check: Check) -> Check:
    """Run ``check`` so that its verdict depends on the student's answers alone.

    - Whatever the student's code writes to ``sys.stderr`` while being checked (a debug
      print, a warning) is shown on stdout after the verdict: nbgrader scores any test cell
      that wrote to stderr as 0, even when the check passed.
    - When the platform's TensorFlow disagreed with the exact computation, the student is
      told that the exact values were used (see grader.checks.oracle).
    """

    @functools.wraps(check)
    def run(*args, **kwargs):
        # Imported here: the oracle loads Keras, which reporting a failure does not need.
        from grader.checks.oracle import platform_note, take_disagreements

        take_disagreements()
        student_stderr = io.StringIO()
        try:
            with contextlib.redirect_stderr(student_stderr):
                result = check(*args, **kwargs)
        except CheckFailure as failure:
            note = platform_note(take_disagreements())
            if note:
                failure.add_line(note)
            raise
        except NotImplementedError as error:
            if str(error):  # raised with a message: by a library, not by the released stub
                raise
            raise not_written_yet(args[0] if args else None) from None
        finally:
            _show_student_stderr(student_stderr.getvalue())
        note = platform_note(take_disagreements())
        if note:
            print(note)
        if not grading_mode() and _visible_run_of_a_check_with_hidden_cases(check, args, kwargs):
            print(HIDDEN_CASES_FOLLOW)
        return result

    return run  # type: ignore[return-value]


def not_written_yet(answer: object) -> CheckFailure:
    """The failure for an answer that still raises the released stub's bare
    ``NotImplementedError()``: one line that says so, not a traceback through the check."""
    name = getattr(answer, "__name__", None)
    return CheckFailure(
        f"{name or 'the answer'} is not written yet",
        "your code in the answer cell",
        "raise NotImplementedError() (the cell as it was released)",
        "replace `raise NotImplementedError()` with your code, run that cell, then this test",
    )


def _show_student_stderr(text: str) -> None:
    if text.strip():
        print("(written to stderr while your code was checked; it does not affect the grade)")
        print(text.rstrip("\n"))
