"""The ``grader`` command: ``grader release``, ``grader demo``, ``grader grade``,
``grader book``, ``grader formgrader`` and ``grader doctor``."""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
import time
from pathlib import Path

from grader.batch.collect import CollectError
from grader.bundle import BundleError
from grader.bundle import build as build_bundle
from grader.course import Course, NbgraderError


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("cnn-course")
    except PackageNotFoundError:  # run from a checkout that was never installed
        return "unknown (not installed)"


def _positive(kind: type):
    def parse(text: str):
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
        if value <= 0:
            raise argparse.ArgumentTypeError(f"{text!r} must be more than 0")
        return value

    return parse


def _memory(text: str) -> int:
    from grader.batch.limits import parse_memory

    try:
        value = parse_memory(text)
    except ValueError:
        value = 0
    if value <= 0:
        raise argparse.ArgumentTypeError(f"{text!r} is not a size (e.g. 6G, 512M)")
    return value


def _cell_timeout(text: str) -> tuple[str, float]:
    grade_id, equals, seconds = text.partition("=")
    if not grade_id or not equals:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not GRADE_ID=SECONDS (e.g. test_accuracy=900)"
        )
    return grade_id, _positive(float)(seconds)


COURSE_HELP = (
    "course folder (default: the nearest folder around the working folder with an "
    "nbgrader_config.py and the source folder it names, else this checkout)"
)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="grader", description=__doc__)
    parser.add_argument("--version", action="version", version=f"%(prog)s {_version()}")
    commands = parser.add_subparsers(dest="command", required=True)

    release = commands.add_parser(
        "release", help="regenerate notebooks/ (student versions) from solutions/"
    )
    release.add_argument("assignments", nargs="*", help="e.g. 01_pooling (default: all)")
    release.add_argument("--course", type=Path, default=None, help=COURSE_HELP)
    release.add_argument(
        "--bundle",
        type=Path,
        default=None,
        metavar="DIR",
        help="also write what students receive into DIR, a new folder: the release notebooks, "
        "the student package, a README (all assignments; no solutions, hidden tests or weights)",
    )

    demo = commands.add_parser(
        "demo",
        help="build the student release, autograde the example submissions, print the grades",
    )
    demo.add_argument(
        "--workdir",
        type=Path,
        default=None,
        help="scratch course folder for the example grading (default: build/demo)",
    )

    grade = commands.add_parser(
        "grade",
        help="grade a whole class's submissions of one assignment: autograde, feedback, CSV, report",
    )
    grade.add_argument("assignment", help="e.g. 01_pooling")
    source = grade.add_mutually_exclusive_group()
    source.add_argument(
        "--submissions",
        type=Path,
        help="folder with one sub-folder per student (default: the course's submitted/)",
    )
    source.add_argument(
        "--zip", type=Path, nargs="+", help="LMS zip downloads (nbgrader zip_collect)"
    )
    grade.add_argument(
        "--zip-regexp",
        default=None,
        help="how a file name in the zips carries the student id (nbgrader's named_regexp)",
    )
    grade.add_argument("--course", type=Path, default=None, help=COURSE_HELP)
    grade.add_argument(
        "--workers",
        type=_positive(int),
        default=None,
        help="parallel submissions (default: one per core)",
    )
    grade.add_argument(
        "--scheduler", default=None, help="Dask scheduler address, e.g. tcp://host:8786"
    )
    grade.add_argument(
        "--db-url", default=None, help="nbgrader gradebook URL (default: sqlite gradebook.db)"
    )
    grade.add_argument(
        "--cell-timeout", type=_positive(float), default=None, help="seconds a cell may run"
    )
    grade.add_argument(
        "--cell-timeout-for",
        type=_cell_timeout,
        action="append",
        default=[],
        metavar="GRADE_ID=SECONDS",
        help="a cell's own limit, by grade_id (repeatable)",
    )
    grade.add_argument(
        "--submission-timeout",
        type=_positive(float),
        default=None,
        help="seconds a submission may run",
    )
    grade.add_argument("--memory-limit", type=_memory, default=None, help="per kernel, e.g. 6G")
    grade.add_argument(
        "--no-sandbox", action="store_true", help="run student code without bubblewrap"
    )
    grade.add_argument("--force", action="store_true", help="regrade unchanged submissions too")

    book = commands.add_parser(
        "book",
        help="build the reader's edition: the solutions executed, as a static site (Sphinx)",
    )
    book.add_argument(
        "--with-solutions",
        action="store_true",
        help="the instructors' edition: show the answers (default: the stubs students receive)",
    )
    book.add_argument(
        "--output",
        type=Path,
        default=None,
        metavar="DIR",
        help="where the HTML goes (default: build/book/html, or build/book/html-solutions)",
    )

    formgrader = commands.add_parser(
        "formgrader",
        help="open nbgrader's formgrader (manual grading, the gradebook) in JupyterLab on the course",
    )
    formgrader.add_argument("--course", type=Path, default=None, help=COURSE_HELP)
    formgrader.add_argument("--port", type=_positive(int), default=8888, help="default: 8888")
    formgrader.add_argument(
        "--no-browser", action="store_true", help="print the address instead of opening a browser"
    )
    formgrader.add_argument(
        "lab_options",
        nargs=argparse.REMAINDER,
        help="options passed on to JupyterLab, after -- (e.g. -- --ServerApp.ip=0.0.0.0)",
    )

    doctor = commands.add_parser(
        "doctor",
        help="check this machine: TensorFlow against exact computations, the datasets, the sandbox",
    )
    doctor.add_argument(
        "--cases",
        type=_positive(int),
        default=300,
        help="random cases per operation (default: 300)",
    )
    doctor.add_argument(
        "--data", type=Path, default=None, help="dataset folder (default: the course's data/)"
    )

    args = parser.parse_args(argv)
    if args.command in ("grade", "release", "formgrader"):
        subparser = {"grade": grade, "release": release, "formgrader": formgrader}[args.command]
        try:
            args.course = Course.find(args.course)
        except NbgraderError as error:
            subparser.error(f"--course: {error}" if args.course else str(error))
    if args.command == "grade":
        _check_grade_arguments(grade, args)
    elif args.command == "release":
        unknown = sorted(set(args.assignments) - set(args.course.assignments()))
        if unknown:
            release.error(_unknown_assignments(unknown, args.course))
        if args.bundle is not None:
            if args.assignments:
                release.error("--bundle releases and bundles every assignment: name none")
            if args.bundle.exists() and (not args.bundle.is_dir() or any(args.bundle.iterdir())):
                release.error(f"--bundle: {args.bundle} exists and is not an empty folder")
    try:
        if args.command == "release":
            course = args.course
            for assignment in args.assignments or course.assignments():
                course.release(assignment)
                print(course.release_notebook(assignment, assignment).relative_to(course.root))
            if args.bundle is not None:
                built = build_bundle(course, args.bundle)
                print(f"student bundle: {built.root} ({len(built.modules)} modules of the package)")
        elif args.command == "demo":
            from grader import demo as demo_job

            demo_job.run(workdir=args.workdir)
        elif args.command == "grade":
            return _grade(args)
        elif args.command == "book":
            from grader import book as book_job

            started = time.perf_counter()
            edition = book_job.build(with_solutions=args.with_solutions, output=args.output)
            print(
                f"{len(edition.pages)} pages in {edition.html / 'index.html'} "
                f"({time.perf_counter() - started:.0f} s)"
            )
        elif args.command == "formgrader":
            command = args.course.formgrader_command(args.port, open_browser=not args.no_browser)
            command += [option for option in args.lab_options if option != "--"]
            # JupyterLab takes this process's place: Ctrl+C and signals reach it directly.
            os.chdir(args.course.root)
            os.execve(command[0], command, args.course.tools_environment())
        elif args.command == "doctor":
            from grader import doctor as doctor_job

            return doctor_job.run(cases=args.cases, data_dir=args.data)
    except (NbgraderError, CollectError, BundleError) as error:
        print(error, file=sys.stderr)
        return 1
    return 0


def _unknown_assignments(names: list[str], course: Course) -> str:
    return (
        f"no assignment {', '.join(map(repr, names))} in {course.source_root} "
        f"(there: {', '.join(course.assignments()) or 'none'})"
    )


def _check_grade_arguments(parser: argparse.ArgumentParser, args) -> None:
    """Usage errors before any work starts: a mistyped name costs a message, not a batch."""
    course = args.course
    if args.assignment not in course.assignments():
        parser.error(_unknown_assignments([args.assignment], course))
    if args.submissions is not None and not args.submissions.is_dir():
        parser.error(f"--submissions {args.submissions}: no such folder")
    for archive in args.zip or []:
        if not archive.is_file():
            parser.error(f"--zip {archive}: no such file")
    if args.zip_regexp is not None:
        import re

        try:
            pattern = re.compile(args.zip_regexp)
        except re.error as error:
            parser.error(f"--zip-regexp: not a regular expression ({error})")
        if "student_id" not in pattern.groupindex:
            parser.error("--zip-regexp must name the student id: (?P<student_id>...)")


def _grade(args) -> int:
    from dataclasses import replace

    from grader.batch import collect
    from grader.batch.limits import Limits
    from grader.batch.runner import grade_class, summary

    limits = Limits()
    if args.cell_timeout is not None:
        limits = replace(limits, cell_timeout_s=args.cell_timeout)
    if args.cell_timeout_for:
        special = dict(limits.cell_timeouts)
        for grade_id, seconds in args.cell_timeout_for:
            special[grade_id] = seconds
        limits = replace(limits, cell_timeouts=special)
    if args.submission_timeout is not None:
        limits = replace(limits, submission_timeout_s=args.submission_timeout)
    if args.memory_limit is not None:
        limits = replace(limits, memory_bytes=args.memory_limit)
    outcome = grade_class(
        args.course.root,
        args.assignment,
        submissions=args.submissions,
        zips=args.zip,
        zip_regexp=args.zip_regexp or collect.DEFAULT_ZIP_REGEXP,
        workers=args.workers,
        scheduler=args.scheduler,
        db_url=args.db_url,
        limits=limits,
        isolate=not args.no_sandbox,
        force=args.force,
    )
    print(summary(outcome))
    return 0


def run() -> int:
    """The ``grader`` console command: main(), with TensorFlow's native log lines kept off
    the terminal."""
    with native_logs_to(NATIVE_LOG):
        return main()


# TensorFlow's C++ code writes to file descriptor 2 before any Python setting can stop it
# ("All log messages before absl::InitializeLog() ...", oneDNN and CUDA notes). The command's
# own messages, progress and tracebacks go to the terminal; those lines go to this file.
NATIVE_LOG = (
    Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "cnn-course" / "native.log"
)


@contextlib.contextmanager
def native_logs_to(path: Path):
    """Point file descriptor 2 (what native code writes to) at ``path``, and Python's
    sys.stderr at the terminal it was, for the duration."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        log = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    except OSError:  # nowhere to put them: they stay on the terminal
        yield
        return
    sys.stderr.flush()
    terminal = os.dup(2)
    os.dup2(log, 2)
    os.close(log)
    previous = sys.stderr
    encoding = getattr(previous, "encoding", None) or "utf-8"
    sys.stderr = open(terminal, "w", buffering=1, closefd=False, encoding=encoding)  # noqa: SIM115
    try:
        yield
    finally:
        sys.stderr.flush()
        sys.stderr = previous
        os.dup2(terminal, 2)
        os.close(terminal)


if __name__ == "__main__":
    sys.exit(run())
