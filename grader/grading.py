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

# Arguments for every grading kernel (nbgrader's, via nbgrader_config.py, and grader grade's).
# nbgrader scores a test cell 0 as soon as it wrote anything to stderr (nbgrader.utils.
# determine_grade). TensorFlow's C++ logs (e.g. "failed call to cuInit" on machines without a
# GPU) reach stderr in whichever cell happens to be running, so graded kernels keep C-level
# output out of the notebook, and ignore Python warnings: neither is a failed test.
KERNEL_ARGUMENTS = (
    "--HistoryManager.hist_file=:memory:",
    "--IPKernelApp.capture_fd_output=False",
    "--IPKernelApp.exec_lines=import warnings; warnings.simplefilter('ignore')",
    # A lone surrogate printed by student code would stall every later flush by 10 s.
    "--Session.packer=grader.kernel_messages.json_packer",
)


def grading_mode(cwd: Path | None = None) -> bool:
    if os.environ.get(GRADING_VARIABLE) == "1":
        return True
    cwd = (cwd or Path.cwd()).resolve()
    return len(cwd.parts) >= 3 and cwd.parts[-3] == "autograded"


def retrain_requested() -> bool:
    """The instructor's spot-check option: retrain from the student's code when grading."""
    return os.environ.get(RETRAIN_VARIABLE) == "1"
