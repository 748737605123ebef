"""An nbgrader course folder, and the nbgrader commands run on it.

Our layout (nbgrader_config.py): solutions/ is nbgrader's source, notebooks/ its release;
submitted/, autograded/, feedback/ and gradebook.db are nbgrader's own working state. Every
path into a course comes from here, and every nbgrader folder from nbgrader's own
CourseDirectory as the course's nbgrader_config.py sets it up, so a course that renames
them still works. Which course: ``--course``, else the nearest folder around the working
folder with an nbgrader_config.py and the source folder it names, else this checkout.
"""

from __future__ import annotations

import functools
import os
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat

from grader.grading import GRADING_VARIABLE

REPO_ROOT = Path(__file__).resolve().parent.parent


class NbgraderError(RuntimeError):
    """An nbgrader command failed; the message carries the end of its log."""


CONFIG_FILE = "nbgrader_config.py"


class Course:
    def __init__(self, root: Path | str = REPO_ROOT):
        self.root = Path(root).resolve()

    @classmethod
    def find(cls, root: Path | str | None = None, start: Path | None = None) -> Course:
        """The course at ``root`` if given, else the nearest one around ``start`` (the working
        folder), else this checkout; NbgraderError when that is no course folder."""
        if root is not None:
            course = cls(root)
        else:
            here = (start or Path.cwd()).resolve()
            around = (cls(f) for f in (here, *here.parents) if (f / CONFIG_FILE).is_file())
            course = next((c for c in around if c.source_root.is_dir()), cls(REPO_ROOT))
        if not (course.root / CONFIG_FILE).is_file() or not course.source_root.is_dir():
            raise NbgraderError(
                f"{course.root} is not a course folder: it needs {CONFIG_FILE} and "
                f"{course.source_root.name}/ (pass --course, or run from inside a course)"
            )
        return course

    @functools.cached_property
    def directories(self):
        """nbgrader's CourseDirectory, configured by the course's nbgrader_config.py."""
        from nbgrader.coursedir import CourseDirectory
        from traitlets.config import Config
        from traitlets.config.loader import PyFileConfigLoader

        config = Config()
        if (self.root / CONFIG_FILE).is_file():
            config = PyFileConfigLoader(CONFIG_FILE, path=str(self.root)).load_config()
        return CourseDirectory(config=config, root=str(self.root))

    def _step(self, step: str, student: str, assignment: str) -> Path:
        return Path(self.directories.format_path(step, student, assignment))

    @property
    def source_root(self) -> Path:
        return self.root / self.directories.source_directory

    @classmethod
    def scratch_copy(cls, source: Course, root: Path | str) -> Course:
        """A fresh course folder holding ``source``'s solutions and nbgrader config only,
        so that grading there never touches ``source``'s gradebook or submissions."""
        root = Path(root)
        if root.exists():
            shutil.rmtree(root)
        root.mkdir(parents=True)
        shutil.copytree(
            source.source_root,
            root / source.source_root.name,
            ignore=shutil.ignore_patterns(".ipynb_checkpoints", "__pycache__"),
        )
        shutil.copy2(source.root / "nbgrader_config.py", root / "nbgrader_config.py")
        return cls(root)

    # -- folders ------------------------------------------------------------------
    def assignments(self) -> list[str]:
        return sorted(p.name for p in self.source_root.iterdir() if any(p.glob("*.ipynb")))

    def source_dir(self, assignment: str) -> Path:
        return self._step(self.directories.source_directory, ".", assignment)

    def solution_notebooks(self, assignment: str) -> list[Path]:
        return sorted(self.source_dir(assignment).glob("*.ipynb"))

    def release_notebook(self, assignment: str, notebook: str) -> Path:
        release = self._step(self.directories.release_directory, ".", assignment)
        return release / f"{notebook}.ipynb"

    def submitted_root(self) -> Path:
        return self.root / self.directories.submitted_directory

    def submission_dir(self, student: str, assignment: str) -> Path:
        return self._step(self.directories.submitted_directory, student, assignment)

    def autograded_dir(self, student: str, assignment: str) -> Path:
        return self._step(self.directories.autograded_directory, student, assignment)

    def feedback_dir(self, student: str, assignment: str) -> Path:
        return self._step(self.directories.feedback_directory, student, assignment)

    def report_file(self, assignment: str) -> Path:
        """`grader grade`'s class report (not an nbgrader folder)."""
        return self.root / "reports" / assignment / "report.html"

    @property
    def db_url(self) -> str:
        """The gradebook the course's nbgrader config names (nbgrader's default: gradebook.db
        in the course folder); ``grader grade --db-url`` may name another."""
        return self.directories.db_url

    def feedback_file(self, student: str, assignment: str, notebook: str) -> Path:
        return self.feedback_dir(student, assignment) / f"{notebook}.html"

    # -- nbgrader steps -------------------------------------------------------------
    @staticmethod
    def tools_environment() -> dict[str, str]:
        """This environment with this interpreter's scripts first on PATH: nbgrader runs
        helper programs (alembic) by name, and they must be found even when the virtual
        environment is not activated."""
        env = dict(os.environ)
        env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
        return env

    def formgrader_command(self, port: int, open_browser: bool) -> list[str]:
        """JupyterLab on the course folder, opened at nbgrader's formgrader (the instructors'
        tools; a student's lab has them disabled, see grader/bundle.py)."""
        return [
            sys.executable,
            "-m",
            "jupyterlab",
            f"--ServerApp.root_dir={self.root}",
            f"--ServerApp.port={port}",
            "--ServerApp.default_url=/formgrader",
            f"--ServerApp.open_browser={open_browser}",
        ]

    def nbgrader(self, *args: str) -> str:
        env = self.tools_environment()
        # Kernels started by nbgrader inherit this: training cells load submitted weights
        # instead of training (grader/grading.py).
        env[GRADING_VARIABLE] = "1"
        result = subprocess.run(
            [sys.executable, "-m", "nbgrader", *args],
            cwd=self.root,
            env=env,
            capture_output=True,
            text=True,
        )
        log = result.stdout + result.stderr
        if result.returncode != 0:
            tail = "\n".join(log.splitlines()[-40:])
            raise NbgraderError(f"nbgrader {' '.join(args)} failed in {self.root}:\n{tail}")
        return log

    def release(self, assignment: str) -> None:
        # nbgrader copies every file of solutions/<assignment>/ into the release: trained
        # weights there (from running the solution notebook) would hand students the answer.
        leftovers = sorted(self.source_dir(assignment).glob("*.weights.h5"))
        if leftovers:
            names = ", ".join(str(p.relative_to(self.root)) for p in leftovers)
            raise NbgraderError(
                f"not releasing {assignment}: {names} would ship to students; delete it first"
            )
        self.nbgrader("generate_assignment", assignment, "--force")
        self.write_release_index()

    def write_release_index(self) -> Path:
        """The release folder's README.md: the released notebooks in order, with their
        points (the graded tests' points, as each notebook's exercise headings show them)."""
        from grader.notebook_cells import graded_sections, read

        rows = []
        for assignment in self.assignments():
            notebook = self.release_notebook(assignment, assignment)
            if notebook.is_file():
                released = read(notebook)
                title = released.cells[0].source.splitlines()[0].lstrip("# ").strip()
                points = sum(points for _, _, points in graded_sections(released))
                link = notebook.relative_to(notebook.parents[1]).as_posix()
                rows.append(f"| [{title}]({link}) | {points} |")
        index = self.root / self.directories.release_directory / "README.md"
        index.write_text(
            "# The notebooks\n\n"
            "Open them in order: each builds on the one before, links to the next, and ends "
            "with how to submit it. Run each notebook's setup cell first.\n\n"
            "| notebook | points |\n| --- | --- |\n" + "\n".join(rows) + "\n\n"
            "(Written by `grader release` from the course's sources.)\n"
        )
        return index

    def submit(
        self,
        student: str,
        assignment: str,
        notebooks: dict[str, nbformat.NotebookNode],
        files: dict[str, Path] | None = None,
    ) -> None:
        """Place a submission as nbgrader expects it: notebooks plus any other files
        (e.g. trained weights) in submitted/<student>/<assignment>/."""
        folder = self.submission_dir(student, assignment)
        if folder.exists():
            shutil.rmtree(folder)
        folder.mkdir(parents=True)
        for name, notebook in notebooks.items():
            nbformat.write(notebook, str(folder / f"{name}.ipynb"))
        for name, source in (files or {}).items():
            shutil.copy2(source, folder / name)
