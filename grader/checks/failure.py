"""How a check reports to the student: the failure it raises, the pass line it prints, and
the wrapper every check runs in (platform notes, the student's own stderr)."""

from __future__ import annotations

import contextlib
import functools
import io
from collections.abc import Callable
from typing import TypeVar


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


# What a fixed-answer exercise shows instead of the expected value: which entry is wrong and
# why, never the answer itself (there are no hidden cases to keep a copied answer out).
FIXED_ANSWER = "not shown (one fixed answer: the check says what is wrong, not the answer)"


def passed(message: str) -> None:
    """Tell the student what a check verified (shown under the test cell)."""
    print(f"\N{CHECK MARK} {message}")


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
        finally:
            _show_student_stderr(student_stderr.getvalue())
        note = platform_note(take_disagreements())
        if note:
            print(note)
        return result

    return run  # type: ignore[return-value]


def _show_student_stderr(text: str) -> None:
    if text.strip():
        print("(written to stderr while your code was checked; it does not affect the grade)")
        print(text.rstrip("\n"))
