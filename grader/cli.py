"""The ``grader`` command: ``grader release`` and ``grader demo``."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from grader.course import Course, NbgraderError


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="grader", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    release = commands.add_parser(
        "release", help="regenerate notebooks/ (student versions) from solutions/"
    )
    release.add_argument("assignments", nargs="*", help="e.g. 01_pooling (default: all)")

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

    args = parser.parse_args(argv)
    try:
        if args.command == "release":
            course = Course()
            for assignment in args.assignments or course.assignments():
                course.release(assignment)
                print(course.release_notebook(assignment, assignment).relative_to(course.root))
        elif args.command == "demo":
            from grader import demo as demo_job

            demo_job.run(workdir=args.workdir)
    except NbgraderError as error:
        print(error, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
