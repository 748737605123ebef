"""The student bundle (`grader release --bundle DIR`) is exactly what students receive: the
release notebooks and the part of the package they import, with no answer in it (no solution
code, no hidden test, no trained weights, no reference implementation or network), and the
notebooks' visible checks pass for a correct student from the bundle alone."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import pytest
from fresh_environment import fresh_environment

from grader import bundle
from grader.course import REPO_ROOT, Course
from grader.grading import GRADING_VARIABLE
from grader.notebook_cells import answer_cells, graded_cells, read

ASSIGNMENTS = Course(REPO_ROOT).assignments()
TEXT_SUFFIXES = (".py", ".ipynb", ".md", ".toml", ".txt", ".json")


@pytest.fixture(scope="module")
def student_bundle(tmp_path_factory) -> bundle.Bundle:
    return bundle.build(Course(REPO_ROOT), tmp_path_factory.mktemp("bundle") / "cnn-course")


def bundle_texts(root: Path) -> dict[Path, str]:
    return {
        path: path.read_text()
        for path in sorted(root.rglob("*"))
        if path.is_file() and path.name.endswith(TEXT_SUFFIXES)
    }


def marked_lines(source: str, begin: str, end: str) -> list[str]:
    """The lines between nbgrader's markers, e.g. ### BEGIN SOLUTION and ### END SOLUTION."""
    found, inside = [], False
    for line in source.splitlines():
        if line.strip().startswith(begin):
            inside = True
        elif line.strip().startswith(end):
            inside = False
        elif inside:
            found.append(line.strip())
    return found


def distinctive(lines: list[str]) -> list[str]:
    """Lines long enough to be an answer rather than a commonplace (`return x`, `)`), not
    comments."""
    return [line for line in lines if len(line) >= 30 and not line.startswith("#")]


def test_the_bundle_holds_the_notebooks_the_student_package_and_instructions(student_bundle):
    root = student_bundle.root
    top = sorted(p.name for p in root.iterdir())
    assert top == [
        "README.md",
        "constraints.txt",
        "data",
        "grader",
        "jupyter-config",
        "nbgrader_config.py",
        "notebooks",
        "pyproject.toml",
    ]
    assert sorted(p.parent.name for p in root.glob("notebooks/*/*.ipynb")) == ASSIGNMENTS
    assert (root / "grader" / "checks" / "layer_tables.json").is_file()
    readme = (root / "README.md").read_text()
    for step in (
        "pip install -c constraints.txt .",
        "jupyter lab",
        "nbgrader validate",
        "Validate",
    ):
        assert step in readme
    assert (root / "notebooks" / "README.md").read_text().startswith("# The notebooks")


def test_the_bundle_installs_the_student_labs_configuration(student_bundle):
    """`pip install .` puts the lab's configuration into the environment's etc/jupyter
    (setuptools data-files; an editable install would leave them out)."""
    project = tomllib.loads((student_bundle.root / "pyproject.toml").read_text())
    data_files = project["tool"]["setuptools"]["data-files"]
    installed = {
        f"{folder}/{Path(source).name}": source
        for folder, sources in data_files.items()
        for source in sources
    }
    assert installed == {
        f"etc/jupyter/{relative}": f"jupyter-config/{relative}"
        for relative in bundle.STUDENT_LAB_CONFIG
    }
    for source in installed.values():
        assert json.loads((student_bundle.root / source).read_text())


def test_no_solution_code_and_no_hidden_test_is_in_the_bundle(student_bundle):
    texts = bundle_texts(student_bundle.root)
    leaks = []
    for assignment in ASSIGNMENTS:
        solution = read(REPO_ROOT / "solutions" / assignment / f"{assignment}.ipynb")
        answers = [
            line
            for cell in answer_cells(solution).values()
            for line in distinctive(
                marked_lines(cell.source, "### BEGIN SOLUTION", "### END SOLUTION")
            )
        ]
        hidden = [
            line
            for cell in graded_cells(solution).values()
            for line in distinctive(
                marked_lines(cell.source, "### BEGIN HIDDEN TESTS", "### END HIDDEN TESTS")
            )
        ]
        assert answers and hidden, f"{assignment}: the scan would find nothing to look for"
        for line in answers + hidden:
            leaks += [f"{path.name}: {line}" for path, text in texts.items() if line in text]
    assert leaks == []


def test_no_weights_datasets_or_gradebooks_are_in_the_bundle(student_bundle):
    files = [p for p in student_bundle.root.rglob("*") if p.is_file()]
    assert [p for p in files if p.name.endswith(bundle.FORBIDDEN_SUFFIXES)] == []
    assert not any(part in ("solutions", "examples", "tests") for p in files for part in p.parts)


def test_no_reference_implementation_or_network_is_in_the_bundle(student_bundle):
    answer_names = re.compile(r"(?<![\w/])(reference_\w+|exact_\w+)")
    found = {
        f"{path.relative_to(student_bundle.root)}: {match}"
        for path, text in bundle_texts(student_bundle.root).items()
        for match in answer_names.findall(text)
    }
    assert found == set()
    package = student_bundle.root / "grader"
    for module in bundle.INSTRUCTORS_ONLY:
        assert not (package.parent / (module.replace(".", "/") + ".py")).exists(), module


def test_the_bundle_leaves_out_the_grading_machinery(student_bundle):
    assert "grader.checks.oracle" in student_bundle.modules
    assert not [m for m in student_bundle.modules if m.startswith("grader.batch")]
    assert "grader.cli" not in student_bundle.modules


def test_the_bundles_package_data_is_what_pyproject_declares():
    declared = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    assert tuple(declared["package-data"]["grader"]) == bundle.PACKAGE_DATA


def test_a_bundle_is_never_written_over_an_existing_folder(tmp_path):
    (tmp_path / "mine.txt").write_text("a student's work")
    with pytest.raises(bundle.BundleError, match="not an empty folder"):
        bundle.build(Course(REPO_ROOT), tmp_path)
    assert [p.name for p in tmp_path.iterdir()] == ["mine.txt"]


def test_release_bundle_refuses_a_folder_in_use_with_a_usage_message(tmp_path):
    (tmp_path / "mine.txt").write_text("keep")
    result = subprocess.run(
        [sys.executable, "-m", "grader.cli", "release", "--bundle", str(tmp_path)],
        capture_output=True, text=True, cwd=REPO_ROOT,
    )  # fmt: skip
    assert result.returncode == 2 and "not an empty folder" in result.stderr
    assert "Traceback" not in result.stderr
    assert (tmp_path / "mine.txt").read_text() == "keep"


# -- the bundle on its own ---------------------------------------------------------------------

RUNNER = """
import json, sys
import nbformat
from nbclient import NotebookClient

path, report = sys.argv[1], sys.argv[2]
notebook = nbformat.read(path, as_version=4)
client = NotebookClient(notebook, timeout=900, kernel_name="python3", allow_errors=True,
                        resources={"metadata": {"path": str(__import__("pathlib").Path(path).parent)}})
client.execute()
errors = {}
for cell in notebook.cells:
    for output in cell.get("outputs", []):
        if output.get("output_type") == "error":
            grade_id = cell.metadata.get("nbgrader", {}).get("grade_id", cell.get("id"))
            errors[grade_id] = output["ename"] + ": " + output["evalue"][:500]
last = "".join(o.get("text", "") for o in notebook.cells[-1].outputs)
json.dump({"errors": errors, "last": last}, open(report, "w"))
"""

WHERE_FROM = (
    "import grader, grader.checks.oracle as oracle, importlib.util\n"
    "print('package', grader.__file__)\n"
    "print('second computation', oracle.independent.__name__)\n"
    "print('exact importable', importlib.util.find_spec('grader.checks.exact') is not None)"
)


@pytest.fixture(scope="module")
def installed_bundle(student_bundle, tmp_path_factory):
    """The bundle's package built as a wheel from its own pyproject.toml and installed in a
    fresh environment that cannot see this checkout."""
    out = tmp_path_factory.mktemp("bundle-wheel")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
         "-w", str(out), str(student_bundle.root)],
        check=True, capture_output=True, text=True,
    )  # fmt: skip
    (wheel,) = out.glob("cnn_course_student-*.whl")
    return wheel, fresh_environment(tmp_path_factory.mktemp("student-env") / "env", wheel)


@pytest.mark.slow  # builds a wheel (about 20 s)
def test_the_bundles_package_installs_without_the_answers(installed_bundle):
    wheel, _ = installed_bundle
    names = set(zipfile.ZipFile(wheel).namelist())
    assert "grader/checks/layer_tables.json" in names and "grader/checks/float64.py" in names
    assert not {"grader/checks/exact.py", "grader/checks/references.py"} & names
    assert not any(name.startswith("grader/batch/") for name in names)


@pytest.mark.slow  # runs the four notebooks (about 4 minutes on 2 cores)
@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_a_correct_student_passes_every_visible_check_from_the_bundle_alone(
    assignment, student_bundle, installed_bundle, tmp_path
):
    """A student who wrote the reference answers (and, for 03 and 04, trained the weights)
    works in a copy of the bundle with its package installed: every cell runs, every visible
    check passes, and the checks ran on the bundle's package, without the exact versions."""
    _, python = installed_bundle
    work = tmp_path / assignment
    shutil.copytree(student_bundle.root / "notebooks" / assignment, work)
    path = work / f"{assignment}.ipynb"
    notebook = read(path)
    solution = answer_cells(read(REPO_ROOT / "solutions" / assignment / f"{assignment}.ipynb"))
    for grade_id, cell in answer_cells(notebook).items():
        cell.source = solution[grade_id].source
    notebook.cells.append(notebook.cells[0].__class__(cell_type="code", source=WHERE_FROM,
                                                      metadata={}, outputs=[],
                                                      execution_count=None))  # fmt: skip
    path.write_text(json.dumps(notebook))
    weights = REPO_ROOT / "examples" / "weights" / f"{assignment}-reference.weights.h5"
    if weights.exists():
        from grader.example_weights import BY_ASSIGNMENT

        shutil.copyfile(weights, work / BY_ASSIGNMENT[assignment].file_name)
    environment = {
        key: value for key, value in os.environ.items() if key not in ("PYTHONPATH", "VIRTUAL_ENV")
    }
    environment.update({"CNN_COURSE_DATA": str(REPO_ROOT / "data"), "TF_CPP_MIN_LOG_LEVEL": "3"})
    # Skip the cells that only measure (ReLU against tanh: a minute), as grading does.
    environment[GRADING_VARIABLE] = "1"
    report = tmp_path / "report.json"
    subprocess.run(
        [str(python), "-c", RUNNER, str(path), str(report)], cwd=work, env=environment,
        check=True, capture_output=True, text=True, timeout=1500,
    )  # fmt: skip
    result = json.loads(report.read_text())
    assert result["errors"] == {}
    assert f"package {python.parent.parent}" in result["last"]
    assert "second computation grader.checks.float64" in result["last"]
    assert "exact importable False" in result["last"]
