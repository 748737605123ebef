"""The `grader` command: every subcommand explains itself with --help, a wrong argument is a
usage message (never a traceback) before any work starts, and an LMS zip download is graded."""

from __future__ import annotations

import csv
import zipfile

import nbformat
import pytest
from course_points import full_marks

from grader.cli import main
from grader.course import Course
from grader.demo import build_submission, load_students


def _run(capsys, *argv: str) -> tuple[int, str, str]:
    try:
        code = main(list(argv))
    except SystemExit as exit_:
        code = exit_.code
    out, err = capsys.readouterr()
    return code, out, err


def test_version(capsys):
    code, out, _ = _run(capsys, "--version")
    assert code == 0 and out.startswith("grader ") and len(out.split()) >= 2


@pytest.mark.parametrize(
    ("command", "mentions"),
    [
        ([], ["release", "demo", "grade", "doctor", "--version"]),
        (["release"], ["assignments", "--course", "--bundle"]),
        (["demo"], ["--workdir"]),
        (
            ["grade"],
            [
                "--submissions",
                "--zip",
                "--zip-regexp",
                "--workers",
                "--scheduler",
                "--db-url",
                "--cell-timeout",
                "--cell-timeout-for",
                "--memory-limit",
                "--no-sandbox",
                "--force",
            ],
        ),  # fmt: skip
        (["doctor"], ["--cases", "--data"]),
        (["formgrader"], ["--course", "--port", "--no-browser"]),
    ],
    ids=lambda value: " ".join(value) if value and value[0] != "--version" else None,
)
def test_every_subcommand_explains_itself(capsys, command, mentions):
    code, out, _ = _run(capsys, *command, "--help")
    assert code == 0
    for option in mentions:
        assert option in out, f"grader {' '.join(command)} --help does not mention {option}"


@pytest.mark.parametrize(
    ("argv", "says"),
    [
        ([], "the following arguments are required"),
        (["grade"], "the following arguments are required: assignment"),
        (["grade", "99_nothing"], "no assignment '99_nothing'"),
        (["grade", "01_pooling", "--memory-limit", "lots"], "'lots' is not a size"),
        (["grade", "01_pooling", "--memory-limit", "0"], "'0' is not a size"),
        (["grade", "01_pooling", "--cell-timeout", "-5"], "'-5' must be more than 0"),
        (["grade", "01_pooling", "--cell-timeout", "soon"], "'soon' is not a number"),
        (["grade", "01_pooling", "--cell-timeout-for", "test_accuracy"], "is not GRADE_ID=SECONDS"),
        (["grade", "01_pooling", "--cell-timeout-for", "test_accuracy=x"], "'x' is not a number"),
        (["grade", "01_pooling", "--workers", "0"], "'0' must be more than 0"),
        (["grade", "01_pooling", "--submissions", "/no/such/folder"], "no such folder"),
        (["grade", "01_pooling", "--zip", "/no/such.zip"], "no such file"),
        (["grade", "01_pooling", "--zip-regexp", "(unclosed"], "not a regular expression"),
        (["grade", "01_pooling", "--zip-regexp", ".*"], "must name the student id"),
        (["grade", "01_pooling", "--course", "/"], "is not a course folder"),
        (["grade", "01_pooling", "--submissions", ".", "--zip", "a.zip"], "not allowed with"),
        (["release", "05_resnet"], "no assignment '05_resnet'"),
        (["release", "--course", "/"], "is not a course folder"),
        (["release", "01_pooling", "--bundle", "/tmp/b"], "--bundle releases and bundles every"),
        (["release", "--bundle", "/etc/hostname"], "exists and is not an empty folder"),
        (["doctor", "--cases", "many"], "'many' is not a number"),
        (["teach"], "invalid choice: 'teach'"),
    ],
    ids=lambda value: " ".join(value) if isinstance(value, list) else None,
)
def test_a_wrong_argument_is_a_usage_message_not_a_traceback(capsys, argv, says):
    code, out, err = _run(capsys, *argv)
    assert code == 2
    assert says in err, err
    assert "usage: grader" in err and "Traceback" not in err + out


@pytest.mark.slow
@pytest.mark.long
def test_an_lms_zip_download_is_graded(tmp_path, capsys):
    """Canvas-style names (student, two LMS numbers, the file's own name) in one zip, matched
    with --zip-regexp; one student's reference answers, one student's untouched release."""
    course = Course.scratch_copy(Course(), tmp_path / "course")
    course.release("01_pooling")
    honest = next(s for s in load_students() if s.id == "full_marks")
    reference = build_submission(course, honest, "01_pooling")["01_pooling"]
    untouched = nbformat.read(course.release_notebook("01_pooling", "01_pooling"), as_version=4)
    download = tmp_path / "submissions.zip"
    with zipfile.ZipFile(download, "w") as archive:
        archive.writestr("alice_1042_77001_01_pooling.ipynb", nbformat.writes(reference))
        archive.writestr("bob_1043_77002_01_pooling.ipynb", nbformat.writes(untouched))
    code, out, err = _run(
        capsys, "grade", "01_pooling", "--course", str(course.root), "--zip", str(download),
        "--zip-regexp", r".*/(?P<student_id>[^/_]+)_\d+_\d+_(?P<file_id>[^/]+)$",
        "--workers", "2",
    )  # fmt: skip
    assert code == 0, err
    with open(course.root / "grades.csv") as f:
        scores = {row["student_id"]: float(row["score"]) for row in csv.DictReader(f)}
    full = full_marks("01_pooling")
    assert scores["alice"] == full and scores["bob"] < full, scores
    assert f"alice: {full:g}/{full:g}" in err and "bob" in err  # the progress lines
    assert "2 submissions" in out  # the summary


def test_tensorflows_native_log_lines_never_reach_the_terminal(tmp_path):
    """`grader doctor` imports TensorFlow and runs it: its C++ lines (absl, oneDNN, CUDA) go
    to the native log, the command's own report to the terminal."""
    import os
    import subprocess
    import sys

    environment = {**os.environ, "XDG_CACHE_HOME": str(tmp_path)}
    environment.pop("TF_CPP_MIN_LOG_LEVEL", None)
    result = subprocess.run(
        [sys.executable, "-m", "grader.cli", "doctor", "--cases", "3"],
        capture_output=True, text=True, env=environment, timeout=300,
    )  # fmt: skip
    terminal = result.stdout + result.stderr
    assert "TensorFlow" in terminal  # the doctor's own report
    for native in ("absl::InitializeLog", "oneDNN custom operations", "cudart_stub"):
        assert native not in terminal, terminal
    assert "absl::InitializeLog" in (tmp_path / "cnn-course" / "native.log").read_text()


def test_commands_work_on_the_course_around_the_working_folder(tmp_path, capsys, monkeypatch):
    """An instructor inside their own course folder (any sub-folder) needs no --course."""
    course = Course.scratch_copy(Course(), tmp_path / "course")
    monkeypatch.chdir(course.root / "solutions" / "01_pooling")
    code, out, _ = _run(capsys, "release", "01_pooling")
    assert code == 0 and out.strip() == "notebooks/01_pooling/01_pooling.ipynb"
    assert course.release_notebook("01_pooling", "01_pooling").is_file()


def test_formgrader_opens_on_the_course_without_an_activated_environment(tmp_path):
    """`grader formgrader`, with nothing of the virtual environment on PATH (as when it is not
    activated): formgrader's pages load (nbgrader runs alembic by name for the gradebook)."""
    import json
    import os
    import socket
    import subprocess
    import sys
    import time
    import urllib.request

    course = Course.scratch_copy(Course(), tmp_path / "course")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    grader_command = os.path.join(os.path.dirname(sys.executable), "grader")
    env = {**os.environ, "PATH": "/usr/bin:/bin", "JUPYTER_CONFIG_DIR": str(tmp_path / "cfg")}
    env["JUPYTER_RUNTIME_DIR"] = str(tmp_path / "runtime")
    log = tmp_path / "formgrader.log"
    with open(log, "w") as out:
        lab = subprocess.Popen(
            [grader_command, "formgrader", "--course", str(course.root), "--port", str(port),
             "--no-browser", "--", "--IdentityProvider.token=t", "--ServerApp.allow_root=True"],
            env=env, cwd=tmp_path, stdout=out, stderr=subprocess.STDOUT,
        )  # fmt: skip
        try:
            deadline, status = time.monotonic() + 90, None
            while status is None and time.monotonic() < deadline and lab.poll() is None:
                try:
                    status = urllib.request.urlopen(
                        f"http://127.0.0.1:{port}/formgrader/manage_assignments?token=t", timeout=30
                    ).status
                except OSError:
                    time.sleep(0.5)
            # The page's script then asks for the assignments: the gradebook is made here.
            api = f"http://127.0.0.1:{port}/formgrader/api/assignments?token=t"
            assignments = json.loads(urllib.request.urlopen(api, timeout=60).read())
        finally:
            lab.terminate()
            lab.wait(30)
    assert status == 200, log.read_text()[-3000:]
    assert (course.root / "gradebook.db").is_file()
    assert isinstance(assignments, list)
