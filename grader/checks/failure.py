"""The failure every check raises: what was expected, what came, and the likely cause."""

from __future__ import annotations


class CheckFailure(AssertionError):
    """A check found a difference from the Keras oracle.

    Subclasses ``AssertionError`` so that nbgrader scores the test cell as failed; the
    message is written for the student who reads it under the cell.
    """

    def __init__(self, what: str, expected: object, got: object, cause: str | None = None):
        self.what, self.expected, self.got, self.cause = what, expected, got, cause
        lines = [what, f"  expected: {expected}", f"  got:      {got}"]
        if cause:
            lines.append(f"  likely cause: {cause}")
        super().__init__("\n".join(lines))


def passed(message: str) -> None:
    """Tell the student what a check verified (shown under the test cell)."""
    print(f"\N{CHECK MARK} {message}")
