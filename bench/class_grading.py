"""Benchmark: `grader grade` on 20 generated submissions of notebook 01, with 1 and 2 workers.

The submissions are the four example students (examples/students.json) five times each,
so every kind of result is in the batch: full marks, a classic mistake, an untouched
release, a forgotten weights file. Each batch grades a fresh copy of the course (no
re-run skipping), isolated with bubblewrap when the machine has it, as `grader grade` does
by default.

Reported, per worker count: the batch's wall-clock time; per submission, its time in the
worker (kernel start-up to shutdown) and in the notebook's own cells; the overhead beyond
executing the notebooks, both as seen per submission (task time minus cell time, plus the
central sanitize/save/feedback time) and as the batch's wall time per submission, times the
workers, minus the median cell time; and the speed-up of 2 workers over 1.
Targets (issue 6): speed-up >= 1.8x on 2 cores; overhead <= 10 s per submission.

    python bench/class_grading.py            # about 8 minutes on the 2-core machine
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import nbformat

from grader.batch.runner import grade_class
from grader.course import REPO_ROOT, Course
from grader.demo import build_submission, load_students

ASSIGNMENT = "01_pooling"
RESULTS = Path(__file__).parent / "results" / "class_grading.json"


def make_submissions(course: Course, folder: Path, count: int) -> None:
    students = load_students()
    for i in range(count):
        student = students[i % len(students)]
        notebook = build_submission(course, student, ASSIGNMENT)[ASSIGNMENT]
        target = folder / f"s{i + 1:02d}_{student.id}"
        target.mkdir(parents=True)
        nbformat.write(notebook, str(target / f"{ASSIGNMENT}.ipynb"))


def run_batch(workdir: Path, workers: int, count: int) -> dict:
    if workdir.exists():
        shutil.rmtree(workdir)
    course = Course.scratch_copy(Course(), workdir / "course")
    course.release(ASSIGNMENT)
    make_submissions(course, workdir / "incoming", count)
    started = time.perf_counter()
    outcome = grade_class(
        course.root, ASSIGNMENT, submissions=workdir / "incoming", workers=workers
    )
    wall = time.perf_counter() - started
    records = outcome.records
    task = [r.wall_seconds for r in records]
    cells = [r.cell_seconds for r in records]
    central = [r.central_seconds for r in records]
    per_submission_overhead = [r.wall_seconds - r.cell_seconds + r.central_seconds for r in records]
    return {
        "workers": workers,
        "submissions": len(records),
        "isolated": outcome.isolation_problem is None,
        "batch_wall_s": round(wall, 1),
        "batch_wall_per_submission_s": round(wall / len(records), 2),
        "median_task_s": round(statistics.median(task), 2),
        "median_cells_s": round(statistics.median(cells), 2),
        "median_central_s": round(statistics.median(central), 2),
        "median_overhead_per_submission_s": round(statistics.median(per_submission_overhead), 2),
        "batch_overhead_per_submission_s": round(
            wall * workers / len(records) - statistics.median(cells), 2
        ),
        "scores": sorted(r.score for r in records),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--submissions", type=int, default=20)
    parser.add_argument("--workdir", type=Path, default=REPO_ROOT / "build" / "bench-class-grading")
    args = parser.parse_args()
    runs = []
    for workers in (1, 2):
        print(f"Grading {args.submissions} submissions with {workers} worker(s)...", flush=True)
        runs.append(run_batch(args.workdir / f"workers-{workers}", workers, args.submissions))
        print(json.dumps(runs[-1], indent=1), flush=True)
    one, two = runs
    result = {
        "benchmark": "grader grade, 20 generated submissions of 01_pooling",
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, Python {sys.version.split()[0]}",
        "runs": runs,
        "speedup_2_over_1": round(one["batch_wall_s"] / two["batch_wall_s"], 2),
        "targets": {"speedup": ">= 1.8", "overhead_per_submission_s": "<= 10"},
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=1) + "\n")
    print(f"speed-up with 2 workers: {result['speedup_2_over_1']}x; written to {RESULTS}")


if __name__ == "__main__":
    main()
