"""Benchmark: `grader grade` on generated submissions of every notebook, with 1 and 2 workers.

The submissions are the example students (examples/students.json) over and over, weights
files included for 03 and 04, so every kind of result is in each batch: full marks, a
classic mistake, an untouched release, a forgotten weights file. Each batch grades a fresh
copy of the course (no re-run skipping), isolated with bubblewrap when the machine has it,
as `grader grade` does by default: each notebook's answer cells in the student's kernel,
its graded test cells in the checker process.

Reported, per notebook and worker count: the batch's wall-clock time; per submission, its
time in the worker (kernel start-up to shutdown), in the notebook's own cells (in the
student's kernel) and in its graded tests (in the checker, its start-up included); the
overhead beyond executing the notebook (task time minus cells and tests, plus the central
sanitize/save/feedback time); the CPU seconds per submission (this process and every
process it waited for: workers, kernels, checkers); and the speed-up of 2 workers over 1.
Then a whole-course submission: the four notebooks' CPU per submission, summed.
Targets (issue 12): overhead <= 10 s per submission; a whole-course submission <= 60 s of
CPU; speed-up >= 1.8x on 2 cores.

    python bench/class_grading.py                       # every notebook, 8 submissions each
    python bench/class_grading.py --assignments 01_pooling --submissions 20
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

from grader import example_weights
from grader.batch.runner import grade_class
from grader.course import REPO_ROOT, Course
from grader.demo import build_submission, load_students

RESULTS = Path(__file__).parent / "results" / "class_grading.json"


def make_submissions(course: Course, assignment: str, folder: Path, count: int) -> None:
    students = load_students()
    for i in range(count):
        student = students[i % len(students)]
        target = folder / f"s{i + 1:02d}_{student.id}"
        target.mkdir(parents=True)
        for name, notebook in build_submission(course, student, assignment).items():
            nbformat.write(notebook, str(target / f"{name}.ipynb"))
        if assignment in student.weights:
            spec = example_weights.BY_ASSIGNMENT[assignment]
            weights = example_weights.weights_for(assignment, student.weights[assignment])
            shutil.copy2(weights, target / spec.file_name)


def _cpu_seconds() -> float:
    """CPU time the whole machine spent busy (all cores; /proc/stat), so run this on an
    otherwise quiet machine. getrusage(RUSAGE_CHILDREN) misses most of it: the kernels and
    checkers run as grandchildren inside bubblewrap's pid namespaces, and on 2026-11-22 it
    reported 5.8 s per notebook-02 submission where the machine was busy for 28."""
    fields = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = fields[3] + fields[4]  # idle, iowait
    return (sum(fields[:8]) - idle) / os.sysconf("SC_CLK_TCK")


def run_batch(workdir: Path, assignment: str, workers: int, count: int) -> dict:
    if workdir.exists():
        shutil.rmtree(workdir)
    course = Course.scratch_copy(Course(), workdir / "course")
    course.release(assignment)
    make_submissions(course, assignment, workdir / "incoming", count)
    cpu, started = _cpu_seconds(), time.perf_counter()
    outcome = grade_class(
        course.root, assignment, submissions=workdir / "incoming", workers=workers
    )
    wall, cpu = time.perf_counter() - started, _cpu_seconds() - cpu  # the pool is shut down
    records = outcome.records
    cells = [r.cell_seconds for r in records]
    # The graded test cells run in the checker: their time is the tests' own work (the
    # checker's start-up, importing TensorFlow, is inside the first test's).
    tests = [sum(e["seconds"] for e in r.events if e.get("graded")) for r in records]
    overhead = [
        r.wall_seconds - r.cell_seconds - t + r.central_seconds
        for r, t in zip(records, tests, strict=True)
    ]
    return {
        "assignment": assignment,
        "workers": workers,
        "submissions": len(records),
        "isolated": outcome.isolation_problem is None,
        "batch_wall_s": round(wall, 1),
        "batch_wall_per_submission_s": round(wall / len(records), 2),
        "cpu_per_submission_s": round(cpu / len(records), 1),
        "median_task_s": round(statistics.median(r.wall_seconds for r in records), 2),
        "median_cells_s": round(statistics.median(cells), 2),
        "median_tests_s": round(statistics.median(tests), 2),
        "median_central_s": round(statistics.median(r.central_seconds for r in records), 2),
        "median_overhead_per_submission_s": round(statistics.median(overhead), 2),
        "median_overhead_with_tests_s": round(
            statistics.median(o + t for o, t in zip(overhead, tests, strict=True)), 2
        ),
        "scores": sorted(r.score for r in records),
        "problems": sorted({p for r in records for p in r.problems()})[:10],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--submissions", type=int, default=8)
    parser.add_argument("--assignments", nargs="*", default=Course().assignments())
    parser.add_argument("--workdir", type=Path, default=REPO_ROOT / "build" / "bench-class-grading")
    args = parser.parse_args()
    runs, per_notebook = [], {}
    for assignment in args.assignments:
        pair = []
        for workers in (1, 2):
            print(
                f"{assignment}: {args.submissions} submissions, {workers} worker(s)...", flush=True
            )
            pair.append(
                run_batch(
                    args.workdir / f"{assignment}-{workers}", assignment, workers, args.submissions
                )
            )
            print(json.dumps(pair[-1], indent=1), flush=True)
        runs += pair
        one, two = pair
        per_notebook[assignment] = {
            "cpu_per_submission_s": one["cpu_per_submission_s"],
            "median_cells_s": one["median_cells_s"],
            "median_tests_s": one["median_tests_s"],
            "median_overhead_per_submission_s": one["median_overhead_per_submission_s"],
            "speedup_2_over_1": round(one["batch_wall_s"] / two["batch_wall_s"], 2),
        }
    result = {
        "benchmark": f"grader grade, {args.submissions} generated submissions per notebook",
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, Python {sys.version.split()[0]}",
        "runs": runs,
        "per_notebook": per_notebook,
        "whole_course_cpu_per_submission_s": round(
            sum(n["cpu_per_submission_s"] for n in per_notebook.values()), 1
        ),
        "targets": {
            "overhead_per_submission_s": "<= 10",
            "whole_course_cpu_s": "<= 60",
            "speedup": ">= 1.8",
        },
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=1) + "\n")
    print(json.dumps(per_notebook, indent=1))
    print(
        f"whole course: {result['whole_course_cpu_per_submission_s']} s of CPU per submission; written to {RESULTS}"
    )


if __name__ == "__main__":
    main()
