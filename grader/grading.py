"""Whether a notebook is being autograded, and what the instructor allows then.

A notebook's training cell must not start a long training run while it is being graded
(the student submits the trained weights instead), but must train when a student runs it.
`grader`'s nbgrader commands set CNN_COURSE_GRADING=1 for the kernels they start; a plain
`nbgrader autograde` is recognised by the folder it executes in (autograded/<student>/...).
"""

from __future__ import annotations

import os
from pathlib import Path

GRADING_VARIABLE = "CNN_COURSE_GRADING"
RETRAIN_VARIABLE = "CNN_COURSE_RETRAIN"


def grading_mode(cwd: Path | None = None) -> bool:
    if os.environ.get(GRADING_VARIABLE) == "1":
        return True
    cwd = (cwd or Path.cwd()).resolve()
    return len(cwd.parts) >= 3 and cwd.parts[-3] == "autograded"


def retrain_requested() -> bool:
    """The instructor's spot-check option: retrain from the student's code when grading."""
    return os.environ.get(RETRAIN_VARIABLE) == "1"
