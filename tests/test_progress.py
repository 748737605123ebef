"""`grader grade` shows its progress: a rich progress bar on a terminal with each result
printed above it, a plain line per submission in a log; student names are printed as written."""

from __future__ import annotations

import io

from grader.batch.runner import Progress, SubmissionRecord


def _record(student: str, score: float) -> SubmissionRecord:
    scores = [{"grade_id": "t", "score": score, "max_score": 12.0}]
    return SubmissionRecord(student, "01_pooling", "hash", scores=scores)


def test_a_log_gets_one_plain_line_per_submission():
    stream = io.StringIO()
    progress = Progress(stream)
    progress.start(2, "2 local worker processes")
    progress.done(_record("alice", 12))
    progress.done(_record("[bold]mallory[/bold]", 4))
    progress.finish()
    lines = stream.getvalue().splitlines()
    assert lines[0] == "Grading 2 submissions with 2 local worker processes"
    assert lines[1].startswith("1/2") and lines[1].endswith("alice: 12/12")
    assert lines[2].startswith("2/2") and lines[2].endswith("[bold]mallory[/bold]: 4/12")


def test_a_terminal_gets_a_progress_bar_with_the_results_above_it():
    stream = io.StringIO()
    progress = Progress(stream, terminal=True)
    progress.start(2, "2 local worker processes")
    assert progress.bar is not None
    progress.done(_record("alice", 12))
    progress.done(_record("bob", 4))
    progress.finish()
    text = stream.getvalue()
    assert "alice: 12/12" in text and "bob: 4/12" in text and "2/2" in text
