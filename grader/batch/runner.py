"""``grader grade <assignment>``: collect, sanitize, run in parallel, save, feed back, report.

Only this process touches the gradebook and the course folder; the executor's workers get
one :class:`~grader.batch.execute.GradingTask` each and return its result. The executor is
anything with the ``concurrent.futures.Executor`` interface: a local process pool by
default, or a Dask cluster's (``Client(address).get_executor()``) when the instructor passes
a scheduler address.
"""

from __future__ import annotations

import concurrent.futures
import hashlib
import json
import multiprocessing
import os
import statistics
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import nbformat

from grader import notebook_cells
from grader.batch import collect, feedback, gradebook
from grader.batch.demonstrations import demonstration_sources
from grader.batch.execute import (
    THREAD_VARIABLES,
    CellEvent,
    GradingTask,
    NotebookToRun,
    TaskResult,
    grade_submission,
)
from grader.batch.limits import Limits
from grader.batch.sandbox import course_sandbox
from grader.batch.sanitize import Finding, sanitize
from grader.course import Course

RUN_RECORD = ".grader-run.json"


@dataclass
class SubmissionRecord:
    """What happened to one student's submission, kept beside its autograded notebooks."""

    student: str
    assignment: str
    content_hash: str
    findings: list[dict] = field(default_factory=list)
    events: list[dict] = field(default_factory=list)
    error: str | None = None
    wall_seconds: float = 0.0  # in the worker: workspace, kernel start-up, cells, shutdown
    cell_seconds: float = 0.0  # the notebooks' own cells
    central_seconds: float = 0.0  # in this process: sanitize, save, feedback
    scores: list[dict] = field(default_factory=list)
    reused: bool = False  # unchanged since the last run: not graded again

    @property
    def score(self) -> float:
        return sum(s["score"] for s in self.scores)

    @property
    def max_score(self) -> float:
        return sum(s["max_score"] for s in self.scores)

    def problems(self) -> list[str]:
        """Everything that went wrong, failed tests included; ``needs_a_look`` is the part
        that is not an ordinary wrong answer (what the report, the summary and the head of
        the student's feedback list)."""
        notes = [f["problem"] for f in self.findings]
        notes += [
            f"{e['grade_id'] or 'cell ' + str(e['index'] + 1)}: {e['explanation']}"
            for e in self.events
            if e["status"] not in ("ok", "skipped", "error")
        ]
        notes += [  # errors in the cells nbgrader knows by name: answers and tests
            f"{e['grade_id']}: {e['explanation']}"
            for e in self.events
            if e["status"] == "error" and e["grade_id"] and e["explanation"]
        ]
        if self.error:
            notes.append(f"grading failed: {self.error}")
        return notes

    def needs_a_look(self) -> list[str]:
        """What an instructor should look at: the grader's findings (tampering, integrity),
        time-outs, memory, crashes, cells not run, errors outside the test cells (the
        notebook did not run as written) and grading failures. A test that failed is an
        ordinary wrong answer: the report counts it per question, with its likely cause."""
        notes = [f["problem"] for f in self.findings]
        notes += [
            f"{e['grade_id'] or 'cell ' + str(e['index'] + 1)}: {e['explanation']}"
            for e in self.events
            if e["status"] not in ("ok", "skipped", "error")
            or (e["status"] == "error" and not e.get("graded"))
        ]
        if self.error:
            notes.append(f"grading failed: {self.error}")
        return notes


@dataclass
class BatchOutcome:
    assignment: str
    records: list[SubmissionRecord]
    isolation_problem: str | None
    limits: Limits
    executor: str
    seconds: float
    csv_path: Path | None = None
    report_path: Path | None = None
    question_order: list[str] = field(default_factory=list)  # grade ids, in notebook order
    feedback_pages: dict[str, str] = field(default_factory=dict)  # student -> page, from the report


def grade_class(
    course_root: Path,
    assignment: str,
    *,
    submissions: Path | None = None,
    zips: list[Path] | None = None,
    zip_regexp: str = collect.DEFAULT_ZIP_REGEXP,
    workers: int | None = None,
    scheduler: str | None = None,
    db_url: str | None = None,
    limits: Limits | None = None,
    isolate: bool = True,
    force: bool = False,
    report: bool = True,
    progress=None,
) -> BatchOutcome:
    started = time.perf_counter()
    limits = limits or Limits()
    course = Course(course_root)
    db_url = db_url or course.db_url
    progress = progress or Progress()
    _register_assignment(course, assignment, db_url)
    if zips:
        students = collect.from_zips(zips, course, assignment, zip_regexp)
    elif submissions is not None:
        students = collect.from_folder(submissions, course, assignment)
    else:
        students = collect.students(course, assignment)
    sandbox, isolation_problem = course_sandbox(course.root, limits, isolate)
    fingerprint = _grading_fingerprint(course, assignment, limits)
    shown_only = {  # the instructors' demonstration cells, which grading may leave out
        path.stem: demonstration_sources(notebook_cells.read(path))
        for path in course.solution_notebooks(assignment)
    }

    records: list[SubmissionRecord] = []
    executor, executor_name, close = make_executor(workers, scheduler)
    progress.start(len(students), executor_name)
    try:
        pending = {}
        for student in students:
            folder = course.submission_dir(student, assignment)
            digest = collect.content_hash(folder, fingerprint)
            previous = _load_record(course, student, assignment)
            if previous is not None and previous.content_hash == digest and not force:
                previous.reused = True
                records.append(previous)
                progress.done(previous)
                continue
            central = time.perf_counter()
            record = SubmissionRecord(student, assignment, digest)
            try:
                task, findings = _prepare(
                    course, student, assignment, db_url, folder, limits, sandbox, shown_only
                )
            except Exception as error:  # one submission's bad input never stops the batch
                record.central_seconds = time.perf_counter() - central
                _record_failure(course, db_url, record, f"reading the submission failed: {error!r}")
                records.append(record)
                progress.done(record)
                continue
            record.findings = [asdict(f) for f in findings]
            record.central_seconds = time.perf_counter() - central
            pending[executor.submit(grade_submission, task)] = record
        for future in concurrent.futures.as_completed(pending):
            record = pending[future]
            try:
                result = future.result()
            except Exception as error:  # a worker lost (e.g. killed): record it, go on
                result = TaskResult(
                    record.student, assignment, error=f"{type(error).__name__}: {error}"
                )
            central = time.perf_counter()
            try:
                _merge(course, db_url, record, result)
            except Exception as error:  # saving one submission failed: record it, go on
                _record_failure(
                    course, db_url, record, f"saving the grades failed: {error!r}", keep=True
                )
            record.central_seconds += time.perf_counter() - central
            records.append(record)
            progress.done(record)
    finally:
        close()
    progress.finish()

    outcome = BatchOutcome(
        assignment,
        sorted(records, key=lambda r: r.student),
        isolation_problem,
        limits,
        executor_name,
        time.perf_counter() - started,
    )
    if records:
        outcome.csv_path = course.root / "grades.csv"
        gradebook.export_csv(course, outcome.csv_path, db_url)
    if report:
        from grader.batch import report as report_page

        report_file = course.report_file(assignment)
        outcome.question_order = [
            grade_id
            for notebook in course.solution_notebooks(assignment)
            for grade_id in notebook_cells.graded_cells(notebook_cells.read(notebook))
        ]
        outcome.feedback_pages = {
            r.student: os.path.relpath(
                course.feedback_file(r.student, assignment, assignment), report_file.parent
            )
            for r in records
        }
        outcome.report_path = report_page.write(report_file, outcome)
    return outcome


def make_executor(workers: int | None, scheduler: str | None):
    """A process pool (default: one worker per core), or a Dask cluster's executor; with
    its name for the report, and how to close it."""
    if scheduler:
        from dask.distributed import Client

        client = Client(scheduler)
        executor = client.get_executor(pure=False)

        def close() -> None:
            executor.shutdown(wait=True)
            client.close()

        return executor, f"Dask cluster at {scheduler}", close
    workers = workers or os.cpu_count() or 1
    # spawn: workers start clean rather than inheriting this process's threads and sockets
    pool = concurrent.futures.ProcessPoolExecutor(
        max_workers=workers,
        mp_context=multiprocessing.get_context("spawn"),
        initializer=share_cores,
        initargs=(threads_per_worker(workers),),
    )
    name = f"{workers} local worker process{'es' if workers > 1 else ''}"
    return pool, name, lambda: pool.shutdown(wait=True, cancel_futures=True)


def threads_per_worker(workers: int) -> int:
    """Each worker's share of the cores. TensorFlow starts a thread per core in every
    process by default, so two workers' kernels and checkers would each want all of them
    and spend the difference waiting for each other."""
    return max(1, (os.cpu_count() or 1) // workers)


def share_cores(threads: int) -> None:
    """A local worker's start: its kernels and checkers use ``threads`` threads (unless the
    grader was started with its own setting)."""
    for variable in THREAD_VARIABLES:
        os.environ.setdefault(variable, str(threads))


def _register_assignment(course: Course, assignment: str, db_url: str) -> None:
    """Make the gradebook hold the assignment's source cells (hidden tests included),
    from which test cells are restored. nbgrader's generate_assignment does that; its
    student version goes to a scratch folder, leaving notebooks/ alone."""
    course.nbgrader(
        "generate_assignment",
        assignment,
        "--force",
        f"--db={db_url}",
        "--CourseDirectory.release_directory=build/grading-release",
    )


def _grading_fingerprint(course: Course, assignment: str, limits: Limits) -> bytes:
    """What grades a submission: the source notebooks, the grader's code, the limits."""
    import grader

    digest = hashlib.sha256(repr(limits).encode())
    for path in course.solution_notebooks(assignment):
        digest.update(path.read_bytes())
    for path in sorted(Path(grader.__file__).parent.rglob("*.py")):
        digest.update(path.read_bytes())
    return digest.digest()


def _prepare(course, student, assignment, db_url, folder, limits, sandbox, shown_only):
    findings: list[Finding] = []
    notebooks = []
    for name in gradebook.notebook_names(db_url, assignment):
        path = folder / f"{name}.ipynb"
        if not path.is_file():
            findings.append(
                Finding(name, None, f"{name}.ipynb was not submitted; its tests score 0")
            )
            continue
        sanitized = sanitize(path, assignment, student, db_url)
        findings += sanitized.findings
        if sanitized.notebook is not None:
            setup = gradebook.setup_source(db_url, assignment, name)
            notebooks.append(
                NotebookToRun(
                    name,
                    nbformat.writes(sanitized.notebook),
                    setup,
                    shown_only.get(name, frozenset()),
                )
            )
    files, refused = collect.workspace_files(folder, limits.upload_bytes)
    findings += [Finding("upload", None, problem) for problem in refused]
    task = GradingTask(student, assignment, tuple(notebooks), files, limits, sandbox)
    return task, findings


def _merge(course: Course, db_url: str, record: SubmissionRecord, result: TaskResult) -> None:
    student, assignment = record.student, record.assignment
    record.error = result.error
    record.events = [asdict(e) for e in result.events]
    record.wall_seconds, record.cell_seconds = result.wall_seconds, result.cell_seconds
    executed = {name: nbformat.reads(text, as_version=4) for name, text in result.notebooks.items()}
    submitted = course.submission_dir(student, assignment)
    autograded = course.autograded_dir(student, assignment)
    gradebook.write_autograded(autograded, executed, submitted)
    gradebook.save(db_url, assignment, student, executed, submitted / collect.TIMESTAMP)
    record.scores = [asdict(g) for g in gradebook.grades(db_url, assignment, student)]
    notes = record.needs_a_look()  # failed tests explain themselves under their cells
    for name, notebook in executed.items():
        path = course.feedback_file(student, assignment, name)
        feedback.write(path, notebook, db_url, assignment, student, notes)
    (autograded / RUN_RECORD).write_text(json.dumps(asdict(record), indent=1))


def _record_failure(
    course: Course, db_url: str, record: SubmissionRecord, why: str, keep: bool = False
) -> None:
    """A submission that could not be graded: 0 points in the gradebook (so it is in
    grades.csv and the report, with why), never an exception that ends the batch."""
    record.error = f"{record.error}; {why}" if keep and record.error else why
    try:
        gradebook.save(db_url, record.assignment, record.student, {})
        record.scores = [
            asdict(g) for g in gradebook.grades(db_url, record.assignment, record.student)
        ]
    except Exception as error:
        record.error += f"; recording 0 points failed too: {error!r}"


def _load_record(course: Course, student: str, assignment: str) -> SubmissionRecord | None:
    path = course.autograded_dir(student, assignment) / RUN_RECORD
    try:
        data = json.loads(path.read_text())
        data.pop("reused", None)
        return SubmissionRecord(**data)
    except (OSError, ValueError, TypeError):
        return None


class Progress:
    """rich's progress bar on a terminal, each result printed above it; a plain line per
    submission otherwise (CI logs, files)."""

    def __init__(self, stream=None, terminal: bool | None = None):
        from rich.console import Console

        # terminal: None asks the stream (a terminal or not); True or False decides.
        self.console = Console(file=stream or sys.stderr, force_terminal=terminal, highlight=False)
        self.bar = None
        self.total = self.count = 0
        self.started = time.perf_counter()

    def start(self, total: int, executor: str) -> None:
        from rich import progress

        self.total, self.count, self.started = total, 0, time.perf_counter()
        self.console.print(f"Grading {total} submissions with {executor}", markup=False)
        if self.console.is_terminal:
            self.bar = progress.Progress(
                progress.TextColumn("grading"),
                progress.BarColumn(),
                progress.MofNCompleteColumn(),
                progress.TimeElapsedColumn(),
                progress.TextColumn("left"),
                progress.TimeRemainingColumn(),
                console=self.console,
            )
            self.bar.start()
            self.task = self.bar.add_task("grading", total=total)

    def done(self, record: SubmissionRecord) -> None:
        self.count += 1
        state = "unchanged" if record.reused else f"{record.score:g}/{record.max_score:g}"
        if record.needs_a_look() and not record.reused:
            state += " (see report)"
        if self.bar is not None:
            self.bar.console.print(f"{record.student}: {state}", markup=False)
            self.bar.advance(self.task)
        else:
            elapsed = time.perf_counter() - self.started
            line = f"{self.count}/{self.total} {elapsed:5.0f} s  {record.student}: {state}"
            self.console.print(line, markup=False, soft_wrap=True)

    def finish(self) -> None:
        if self.bar is not None:
            self.bar.stop()


def summary(outcome: BatchOutcome) -> str:
    records = outcome.records
    graded = [r for r in records if not r.reused]
    totals = [r.score for r in records]
    max_score = max((r.max_score for r in records), default=0)
    lines = [
        f"{outcome.assignment}: {len(records)} submissions ({len(graded)} graded, "
        f"{len(records) - len(graded)} unchanged since the last run) in {outcome.seconds:.0f} s "
        f"with {outcome.executor}",
    ]
    if totals:
        lines.append(
            f"  scores out of {max_score:g}: median {statistics.median(totals):g}, "
            f"lowest {min(totals):g}, highest {max(totals):g}"
        )
    flagged = [r for r in records if r.needs_a_look()]
    lines.append(f"  submissions to look at (errors, time-outs, tampering): {len(flagged)}")
    for r in flagged:
        lines.append(f"    {r.student}: {r.needs_a_look()[0]}")
    if outcome.isolation_problem:
        lines.append(f"  WARNING: graded WITHOUT isolation: {outcome.isolation_problem}")
    else:
        lines.append(
            "  isolation: bubblewrap (no network, no capabilities; only Python, the packages and "
            "the datasets in view)"
        )
    lines.append(f"  limits: {outcome.limits.describe()}")
    if outcome.csv_path:
        lines.append(f"  grades (CSV): {outcome.csv_path}")
    if outcome.report_path:
        lines.append(f"  report: {outcome.report_path}")
    return "\n".join(lines)


__all__ = [
    "BatchOutcome",
    "CellEvent",
    "SubmissionRecord",
    "grade_class",
    "make_executor",
    "summary",
]
