"""An nbgrader course folder, and the nbgrader commands run on it.

Our layout (nbgrader_config.py): solutions/ is nbgrader's source, notebooks/ its release;
submitted/, autograded/, feedback/ and gradebook.db are nbgrader's own working state.
"""

from __future__ import annotations

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


class Course:
    def __init__(self, root: Path | str = REPO_ROOT):
        self.root = Path(root).resolve()

    @classmethod
    def scratch_copy(cls, source: Course, root: Path | str) -> Course:
        """A fresh course folder holding ``source``'s solutions and nbgrader config only,
        so that grading there never touches ``source``'s gradebook or submissions."""
        root = Path(root)
        if root.exists():
            shutil.rmtree(root)
        root.mkdir(parents=True)
        shutil.copytree(
            source.root / "solutions",
            root / "solutions",
            ignore=shutil.ignore_patterns(".ipynb_checkpoints", "__pycache__"),
        )
        shutil.copy2(source.root / "nbgrader_config.py", root / "nbgrader_config.py")
        return cls(root)

    # -- folders ------------------------------------------------------------------
    def assignments(self) -> list[str]:
        return sorted(p.name for p in (self.root / "solutions").iterdir() if any(p.glob("*.ipynb")))

    def solution_notebooks(self, assignment: str) -> list[Path]:
        return sorted((self.root / "solutions" / assignment).glob("*.ipynb"))

    def release_notebook(self, assignment: str, notebook: str) -> Path:
        return self.root / "notebooks" / assignment / f"{notebook}.ipynb"

    def submission_dir(self, student: str, assignment: str) -> Path:
        return self.root / "submitted" / student / assignment

    @property
    def db_url(self) -> str:
        """The course's own gradebook (``grader grade --db-url`` may name another)."""
        return f"sqlite:///{self.root / 'gradebook.db'}"

    def feedback_file(self, student: str, assignment: str, notebook: str) -> Path:
        return self.root / "feedback" / student / assignment / f"{notebook}.html"

    # -- nbgrader steps -------------------------------------------------------------
    def nbgrader(self, *args: str) -> str:
        env = dict(os.environ)
        # nbgrader runs helper programs (alembic) by name: make this interpreter's
        # scripts findable even when the virtual environment is not activated.
        env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
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
        leftovers = sorted((self.root / "solutions" / assignment).glob("*.weights.h5"))
        if leftovers:
            names = ", ".join(str(p.relative_to(self.root)) for p in leftovers)
            raise NbgraderError(
                f"not releasing {assignment}: {names} would ship to students; delete it first"
            )
        self.nbgrader("generate_assignment", assignment, "--force")

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
