"""A student's JupyterLab, driven in Debian's headless Chromium through Playwright: what
tests/test_lab_browser.py checks, and the screenshots README shows.

The lab runs as a student's does: JupyterLab from this environment with the student lab's
configuration (grader/bundle.py's STUDENT_LAB_CONFIG, first on JUPYTER_CONFIG_PATH), its own
empty user configuration, on a free port of 127.0.0.1 with a token.

    .venv/bin/python -m tests.lab_browser docs/     # rewrite docs/lab_*.png (after `make demo`)
"""

from __future__ import annotations

import contextlib
import os
import re
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from grader import bundle
from grader.course import REPO_ROOT
from grader.notebook_cells import nbgrader_meta, read, solution_code
from tests.book_browser import chromium

RELEASE_01 = REPO_ROOT / "notebooks" / "01_pooling" / "01_pooling.ipynb"
WRONG_POOL2D = '''import numpy as np


def pool2d(x, pool_size, strides=None, mode="max", padding="valid"):
    """Forgets the stride: a window at every position."""
    k = pool_size if isinstance(pool_size, int) else pool_size[0]
    rows, cols = x.shape[1] - k + 1, x.shape[2] - k + 1
    out = np.empty((x.shape[0], rows, cols, x.shape[3]), x.dtype)
    for i in range(rows):
        for j in range(cols):
            window = x[:, i:i + k, j:j + k, :]
            out[:, i, j, :] = window.max(axis=(1, 2)) if mode == "max" else window.mean(axis=(1, 2))
    return out
'''


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextlib.contextmanager
def student_lab(workspace: Path, scratch: Path):
    """JupyterLab serving ``workspace`` as a student's lab: yields (base URL, token)."""
    config = scratch / "student-lab-config"
    bundle.write_student_lab_config(config)
    port, token = _free_port(), secrets.token_hex(16)
    env = {
        **os.environ,
        "JUPYTER_CONFIG_PATH": str(config),
        "JUPYTER_CONFIG_DIR": str(scratch / "user-config"),
        "JUPYTER_RUNTIME_DIR": str(scratch / "runtime"),
        "JUPYTERLAB_SETTINGS_DIR": str(scratch / "lab-settings"),
        "JUPYTERLAB_WORKSPACES_DIR": str(scratch / "lab-workspaces"),
    }
    env.pop("TF_CPP_MIN_LOG_LEVEL", None)  # as on a student's machine: the setup cell hides them
    log = open(scratch / "lab.log", "w")  # noqa: SIM115 (closed below)
    lab = subprocess.Popen(
        [
            sys.executable, "-m", "jupyterlab", "--no-browser",
            f"--ServerApp.port={port}", "--ServerApp.port_retries=0",
            f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={workspace}",
            "--LabApp.news_url=", "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
            *(["--allow-root"] if os.geteuid() == 0 else []),  # CI's container runs as root
        ],
        cwd=workspace, env=env, stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                urllib.request.urlopen(f"{base}/api/status?token={token}", timeout=2)
                break
            except OSError:
                if lab.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError((scratch / "lab.log").read_text()[-3000:]) from None
                time.sleep(0.5)
        yield base, token
    finally:
        lab.terminate()
        try:
            lab.wait(20)
        except subprocess.TimeoutExpired:
            lab.kill()
        log.close()


def graded_pages(course, student: str, assignment: str, shots: Path | None = None) -> dict:
    """A student's feedback page and the class report of a graded course, as a browser shows
    them (files opened as they lie, offline): the text of each, and whether MathJax or a
    page wider than the window appears; with ``shots``, screenshots there."""
    seen = {}
    with chromium() as browser:
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        for name, path in (
            ("feedback", course.feedback_file(student, assignment, assignment)),
            ("report", course.report_file(assignment)),
        ):
            page.goto(path.as_uri(), wait_until="load")
            seen[name] = page.inner_text("body")
            seen[f"{name}_html"] = page.content()
            seen[f"{name}_too_wide"] = page.evaluate(
                "document.documentElement.scrollWidth > window.innerWidth + 1"
            )
            if name == "feedback":
                seen["mathml"] = page.locator("math").count()
            if shots is not None:
                shots.mkdir(parents=True, exist_ok=True)
                page.screenshot(path=str(shots / f"lab_{name}.png"))
    return seen


def cell_index(notebook_path: Path, grade_id: str) -> int:
    cells = read(notebook_path).cells
    return next(i for i, c in enumerate(cells) if nbgrader_meta(c).get("grade_id") == grade_id)


class NotebookPage:
    """One notebook open in the lab."""

    def __init__(self, page, base: str, token: str, name: str):
        self.page = page
        page.goto(f"{base}/lab/tree/{name}?token={token}")
        page.wait_for_selector(".jp-NotebookPanel .jp-Cell", timeout=60_000)
        self.idle()

    def idle(self, timeout_ms: int = 120_000) -> None:
        self.page.wait_for_selector(
            ".jp-NotebookPanel .jp-Notebook-ExecutionIndicator[data-status='idle']",
            timeout=timeout_ms,
        )

    def cell(self, index: int):
        return self.page.locator(".jp-NotebookPanel .jp-Notebook .jp-Cell").nth(index)

    def run(self, index: int, source: str | None = None) -> str:
        """Run cell ``index`` (after replacing its source, if given); its output's text."""
        cell = self.cell(index)
        cell.scroll_into_view_if_needed()
        prompt = cell.locator(".jp-InputArea-prompt")
        before = prompt.inner_text()
        editor = cell.locator(".jp-InputArea-editor .cm-content")
        editor.click()
        if source is not None:
            self.page.keyboard.press("Control+A")
            self.page.keyboard.insert_text(source)
        self.page.keyboard.press("Control+Enter")
        # Done when the cell shows a new execution count. The kernel's idle indicator alone is
        # no sign: on a loaded machine it still reads idle before the request has reached the
        # kernel (the setup cell's output was once read empty that way).
        deadline = time.monotonic() + 120
        while not (re.search(r"\[\d+\]", now := prompt.inner_text()) and now != before):
            if time.monotonic() > deadline:
                raise TimeoutError(f"cell {index} did not finish in 120 s (prompt {now!r})")
            self.page.wait_for_timeout(200)
        self.idle()
        return cell.locator(".jp-OutputArea").inner_text()

    def stderr_outputs(self, index: int) -> int:
        return self.cell(index).locator("[data-mime-type='application/vnd.jupyter.stderr']").count()

    def validate(self) -> str:
        """Click Validate and return the result dialog's text."""
        self.page.get_by_role("button", name="Validate").first.click()
        dialog = self.page.locator(".jp-Dialog").filter(has_text="Validat")
        dialog.get_by_text("The following cell", exact=False).first.or_(
            dialog.get_by_text("Success!", exact=False)
        ).wait_for(timeout=180_000)
        return dialog.inner_text()


def student_session(folder: Path, scratch: Path, shots: Path | None = None) -> dict:
    """Notebook 01 as a student works it: the setup cell, a wrong pool2d and its test, the
    right one, Validate. Returns what each step showed; with ``shots``, screenshots there."""
    workspace = folder / "01_pooling"
    workspace.mkdir(parents=True)
    shutil.copyfile(RELEASE_01, workspace / "01_pooling.ipynb")
    setup, answer = cell_index(RELEASE_01, "setup"), cell_index(RELEASE_01, "pool2d")
    test = cell_index(RELEASE_01, "test_pool2d_valid")
    right = solution_code(REPO_ROOT / "solutions" / "01_pooling" / "01_pooling.ipynb", "pool2d")
    seen: dict = {"seconds": {}}

    def shot(name: str, locator) -> None:
        if shots is not None:
            shots.mkdir(parents=True, exist_ok=True)
            locator.screenshot(path=str(shots / name))

    with student_lab(workspace, scratch) as (base, token), chromium() as browser:
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        started = time.perf_counter()
        notebook = NotebookPage(page, base, token, "01_pooling.ipynb")
        seen["seconds"]["open"] = time.perf_counter() - started
        seen["nbgrader_menus"] = (
            page.locator("text=Formgrader").count() + page.locator("text=Create Assignment").count()
        )

        started = time.perf_counter()
        seen["setup"] = notebook.run(setup)
        seen["seconds"]["setup cell"] = time.perf_counter() - started
        seen["setup_stderr"] = notebook.stderr_outputs(setup)
        shot("lab_setup_cell.png", notebook.cell(setup))

        notebook.run(answer, WRONG_POOL2D)
        started = time.perf_counter()
        seen["failed"] = notebook.run(test)
        seen["seconds"]["failing test cell"] = time.perf_counter() - started
        shot("lab_failed_check.png", notebook.cell(test))

        notebook.run(answer, right)
        started = time.perf_counter()
        seen["passed"] = notebook.run(test)
        seen["seconds"]["passing test cell"] = time.perf_counter() - started
        shot("lab_passed_check.png", notebook.cell(test))

        # Validate what a half-done notebook is: pool2d wrong again, the rest unanswered.
        notebook.run(answer, WRONG_POOL2D)
        page.keyboard.press("Control+S")
        page.wait_for_timeout(1000)
        started = time.perf_counter()
        seen["validate"] = notebook.validate()
        seen["seconds"]["Validate"] = time.perf_counter() - started
        shot("lab_validate.png", page.locator(".jp-Dialog-content").first)
    return seen


if __name__ == "__main__":
    import json
    import tempfile

    from grader.course import Course

    target = Path(sys.argv[1] if len(sys.argv) > 1 else "docs")
    with tempfile.TemporaryDirectory() as work:
        result = student_session(Path(work) / "student", Path(work) / "scratch", target)
    print(json.dumps(result["seconds"], indent=2))
    print(f"Validate dialog: {len(result['validate']):,} characters")
    demo = REPO_ROOT / "build" / "demo"  # `make demo` grades the example students there
    if demo.is_dir():
        graded_pages(Course(demo), "plausible_bugs", "01_pooling", target)
    else:
        print("no build/demo: run `make demo` for the feedback and report screenshots")
