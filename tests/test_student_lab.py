"""What a student sees in JupyterLab: a failed check shows its explanation and no traceback
(in the lab and in nbgrader's Validate), a visible pass says that hidden cases decide the
points, the setup cell writes nothing to stderr, training says where it is, and the lab a
bundle installs has nbgrader's instructor tools switched off."""

from __future__ import annotations

import io
import json
import os
import re
import subprocess
import sys
import textwrap
from contextlib import redirect_stdout
from pathlib import Path

import keras
import nbformat
import numpy as np
import pytest
from nbclient import NotebookClient

from grader import bundle
from grader.checks import CheckFailure
from grader.checks.failure import HIDDEN_CASES_FOLLOW
from grader.course import REPO_ROOT
from grader.notebook_cells import read
from grader.runtime_log import without_runtime_log_lines
from grader.training import Recipe, TrainingProgress, train_from_scratch

SETUP_01 = read(REPO_ROOT / "solutions" / "01_pooling" / "01_pooling.ipynb").cells[1].source
WRONG_POOL2D = textwrap.dedent(
    """
    import numpy as np

    def pool2d(x, pool_size, strides=None, mode="max", padding="valid"):
        k = pool_size if isinstance(pool_size, int) else pool_size[0]
        n = x.shape[1] // k
        return np.zeros((x.shape[0], n, n, x.shape[3]), x.dtype)
    """
)


def _reference_pool2d_source() -> str:
    from grader.notebook_cells import solution_code

    return solution_code(REPO_ROOT / "solutions" / "01_pooling" / "01_pooling.ipynb", "pool2d")


def _run_in_a_kernel(sources: list[str], cwd: Path) -> nbformat.NotebookNode:
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(s) for s in sources])
    NotebookClient(
        notebook,
        timeout=300,
        kernel_name="python3",
        allow_errors=True,
        resources={"metadata": {"path": str(cwd)}},
    ).execute()
    return notebook


@pytest.fixture(scope="module")
def lab_run(tmp_path_factory):
    """The setup cell of notebook 01, a wrong pool2d with its test, then the right one."""
    test = "check.check_pool2d(pool2d, modes=('max', 'avg'), paddings=('valid',))"
    return _run_in_a_kernel(
        [SETUP_01, WRONG_POOL2D, test, _reference_pool2d_source(), test],
        tmp_path_factory.mktemp("lab"),
    )


def test_the_setup_cell_writes_nothing_to_stderr(lab_run):
    setup = lab_run.cells[0]
    assert [o for o in setup.outputs if o.output_type == "stream" and o.name == "stderr"] == []
    assert any("Keras" in o.get("text", "") for o in setup.outputs)


def test_a_failed_check_shows_its_explanation_without_a_traceback(lab_run):
    [error] = [o for o in lab_run.cells[2].outputs if o.output_type == "error"]
    text = "\n".join(error.traceback)
    assert error.ename == "CheckFailure"
    assert "\N{BALLOT X}" in text and "expected:" in text and "got:" in text
    assert "Traceback" not in text and "File " not in text and "grader/checks" not in text
    assert len(text.splitlines()) <= 8, text


def test_a_visible_pass_says_that_hidden_cases_decide_the_points(lab_run):
    passed = "".join(o.get("text", "") for o in lab_run.cells[4].outputs)
    assert "\N{CHECK MARK} pool2d matches Keras" in passed
    assert HIDDEN_CASES_FOLLOW.strip() in passed


def test_a_failure_keeps_its_likely_cause_on_the_short_page():
    failure = CheckFailure(
        "pool2d, 4x4 input", "2x2", "3x3", "the window is not moved by the stride"
    )
    lines = failure._render_traceback_()
    assert "\N{BALLOT X} pool2d, 4x4 input" in lines[0]
    assert lines[1:] == [
        "  expected: 2x2",
        "  got:      3x3",
        "  likely cause: the window is not moved by the stride",
    ]


def test_validate_shows_the_short_explanation(tmp_path):
    from nbgrader.validator import Validator

    release = read(REPO_ROOT / "notebooks" / "01_pooling" / "01_pooling.ipynb")
    for cell in release.cells:
        if cell.get("metadata", {}).get("nbgrader", {}).get("grade_id") == "pool2d":
            cell.source = WRONG_POOL2D
    path = tmp_path / "01_pooling.ipynb"
    nbformat.write(release, path)
    results = Validator().validate(str(path))
    failed = [f for f in results["failed"] if 'check_pool2d(pool2d, modes=("max"' in f["source"]]
    assert failed, results
    for failure in failed:
        error = failure["raw_error"]
        assert "Traceback" not in error and "File " not in error, error
        assert "expected:" in error and "got:" in error
        assert len(error) < 1_000, error


def test_tensorflow_runtime_lines_are_dropped_and_everything_else_kept():
    text = (
        "WARNING: All log messages before absl::InitializeLog() is called are written to STDERR\n"
        "I0000 00:00:1795393435.094496    5488 port.cc:153] oneDNN custom operations are on.\n"
        "my own warning\n"
        "E0000 00:00:1795393435.095766    5488 cuda_executor.cc:1309] could not find cuda\n"
        "E0123 12:00:00 almost a log line, but the student's\n"
    )
    assert without_runtime_log_lines(text) == (
        "my own warning\nE0123 12:00:00 almost a log line, but the student's\n"
    )


def test_importing_keras_in_a_fresh_process_prints_no_runtime_lines():
    code = (
        "import os, sys\n"
        "from grader.runtime_log import tensorflow_runtime_log_hidden\n"
        "with tensorflow_runtime_log_hidden():\n"
        "    import keras\n"
        "    os.write(2, b'written while importing\\n')\n"
        "print('imported', file=sys.stderr)\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd=REPO_ROOT
    )
    assert result.returncode == 0, result.stderr
    assert result.stderr == "written while importing\nimported\n"


def test_training_counts_epochs_over_the_whole_run_with_the_time_left():
    recipe = Recipe(
        "tiny", epochs=3, batch_size=16, optimizer="sgd", learning_rate=0.01,
        cosine_decay=True, max_shift=1,
    )  # fmt: skip

    def build():
        return keras.Sequential(
            [keras.Input((6, 6, 1)), keras.layers.Flatten(), keras.layers.Dense(10, "softmax")]
        )

    x = np.random.default_rng(0).random((64, 6, 6, 1), dtype="float32")
    y = np.arange(64) % 10
    printed = io.StringIO()
    with redirect_stdout(printed):
        train_from_scratch(build, x, y, recipe, seed=0, verbose=2)
    text = printed.getvalue()
    assert re.findall(r"^Epoch (\d)/(\d)$", text, re.M) == [("1", "3"), ("2", "3"), ("3", "3")]
    lines = re.findall(r"^epoch (\d) of 3 done: \d+:\d\d elapsed, about \d+:\d\d left$", text, re.M)
    assert lines == ["1", "2", "3"]
    assert isinstance(TrainingProgress(), keras.callbacks.ProgbarLogger)


def test_a_bundle_installs_a_student_lab_without_nbgrader_instructor_tools(tmp_path):
    bundle.write_student_lab_config(tmp_path)
    page = json.loads((tmp_path / "labconfig" / "page_config.json").read_text())
    disabled = {name for name, off in page["disabledExtensions"].items() if off}
    assert "@jupyter/nbgrader:create-assignment" in disabled
    assert "@jupyter/nbgrader:formgrader" in disabled
    assert "@jupyter/nbgrader:validate-assignment" not in disabled
    server = tmp_path / "jupyter_server_config.d" / "student_lab.json"
    extensions = json.loads(server.read_text())["ServerApp"]["jpserver_extensions"]
    assert extensions["nbgrader.server_extensions.formgrader"] is False
    assert "nbgrader.server_extensions.validate_assignment" not in extensions
    # It sorts after nbgrader's own file in the same folder, which enables them all.
    assert sorted(["nbgrader.json", server.name])[-1] == server.name


def test_the_server_loads_validate_but_not_the_instructor_extensions(tmp_path):
    """The configuration as JupyterLab's server reads it (JUPYTER_CONFIG_PATH first)."""
    bundle.write_student_lab_config(tmp_path / "config")
    code = (
        "from jupyter_server.serverapp import ServerApp\n"
        "app = ServerApp()\n"
        "app.find_server_extensions()\n"
        "import json; print(json.dumps(app.jpserver_extensions))\n"
    )
    env = {**os.environ, "JUPYTER_CONFIG_PATH": str(tmp_path / "config")}
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd=tmp_path
    )
    assert result.returncode == 0, result.stderr
    extensions = json.loads(result.stdout.strip().splitlines()[-1])
    assert extensions["nbgrader.server_extensions.validate_assignment"] is True
    for name in ("formgrader", "assignment_list", "course_list"):
        assert extensions[f"nbgrader.server_extensions.{name}"] is False
