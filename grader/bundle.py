"""The student bundle: exactly what students receive, built from a course by `grader release
--bundle DIR`.

This repository is the instructors': it holds the solutions, the hidden tests, the example
students' trained weights and the reference implementations the checker uses. The bundle
holds the release notebooks (solutions and hidden tests stripped by nbgrader), the part of
the ``grader`` package the notebooks import, a pyproject.toml to install it with the base
dependencies, a student README (install, work, validate, submit), data instructions, and
JupyterLab's configuration for a student's lab (``STUDENT_LAB_CONFIG``): nbgrader's
instructor tools disabled, Validate kept, installed with the package.

Which modules students get is worked out, not listed: every ``grader`` module the release
notebooks import, and every module those import in turn, except ``INSTRUCTORS_ONLY`` (the
answers: the exact NumPy versions of the exercises and the reference networks). The checks
work without those (``grader.checks.oracle`` verifies Keras with TensorFlow's float64 kernels
instead; ``grader.checks.architecture`` compares models with the layer tables).
tests/test_bundle.py builds a bundle and proves it holds no answer and runs on its own.
"""

from __future__ import annotations

import ast
import json
import shutil
import tomllib
from dataclasses import dataclass
from pathlib import Path

import grader
from grader.course import Course
from grader.notebook_cells import read

# The answers: never in a bundle, and never needed by what is.
INSTRUCTORS_ONLY = frozenset({"grader.checks.exact", "grader.checks.references"})
# Files the bundled modules read at run time (the same as pyproject.toml's package-data;
# tests/test_bundle.py keeps the two in step).
PACKAGE_DATA = ("calibration/*.json", "dataset_checksums.json", "checks/layer_tables.json")
# Files that must never reach a student, whatever folder they sit in.
FORBIDDEN_SUFFIXES = (".h5", ".keras", ".weights.h5", ".npz", ".db")

PACKAGE_ROOT = Path(grader.__file__).resolve().parent

# A student's JupyterLab, through JupyterLab's own configuration: nbgrader's instructor tools
# off (Create Assignment shows grade ids and points and edits cell metadata; Formgrader
# writes a gradebook.db into the student's folder; the course and assignment lists need an
# nbgrader exchange that a bundle has none of), Validate kept. The bundle's pyproject.toml
# installs these files into the environment's etc/jupyter/ (`pip install .`); the server
# file's name sorts after nbgrader's own nbgrader.json there, which enables the extensions,
# so that it overrides it. `JUPYTER_CONFIG_PATH=<bundle>/jupyter-config` applies them too.
NBGRADER_INSTRUCTOR_PLUGINS = (
    "assignment-list",
    "course-list",
    "create-assignment",
    "formgrader",
    "menu",
)
NBGRADER_INSTRUCTOR_SERVER_EXTENSIONS = ("assignment_list", "course_list", "formgrader")
# JupyterLab's news announcements are off too: a toast asking to fetch news from the internet
# over the student's first notebook.
STUDENT_LAB_CONFIG = {
    "labconfig/page_config.json": {
        "disabledExtensions": {
            **{f"@jupyter/nbgrader:{p}": True for p in NBGRADER_INSTRUCTOR_PLUGINS},
            "@jupyterlab/apputils-extension:announcements": True,
        }
    },
    "jupyter_server_config.d/student_lab.json": {
        "ServerApp": {
            "jpserver_extensions": {
                f"nbgrader.server_extensions.{e}": False
                for e in NBGRADER_INSTRUCTOR_SERVER_EXTENSIONS
            }
        }
    },
}


class BundleError(RuntimeError):
    """The bundle cannot be built as asked (the message says why; nothing was written)."""


@dataclass(frozen=True)
class Bundle:
    root: Path
    notebooks: list[Path]
    modules: list[str]


def _module_file(module: str) -> Path | None:
    relative = Path(*module.split(".")[1:])
    for candidate in (PACKAGE_ROOT / relative / "__init__.py", PACKAGE_ROOT / f"{relative}.py"):
        if candidate.is_file():
            return candidate
    return None


def _imported_modules(source: str, importer: str | None = None) -> set[str]:
    """The ``grader`` modules a source file imports anywhere in it (at the top, in a
    function, under try)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level and importer:  # relative imports: resolve against the importer
                parts = importer.split(".")[: -node.level]
                base = ".".join([*parts, base] if base else parts)
            # `from grader.checks import pooling` imports the module grader.checks.pooling
            names = [base, *(f"{base}.{alias.name}" for alias in node.names)]
        else:
            continue
        found.update(n for n in names if n.split(".")[0] == "grader" and _module_file(n))
    return found


def _with_parents(module: str) -> set[str]:
    parts = module.split(".")
    return {".".join(parts[:i]) for i in range(1, len(parts) + 1)}


def student_modules(notebooks: list[Path]) -> list[str]:
    """Every ``grader`` module the notebooks need, with the modules those import, and the
    packages around them; never one of ``INSTRUCTORS_ONLY``."""
    queue: set[str] = set()
    for path in notebooks:
        notebook = read(path)
        for cell in notebook.cells:
            if cell.cell_type == "code":
                source = "\n".join(
                    line
                    for line in cell.source.splitlines()
                    if not line.lstrip().startswith(("%", "!"))
                )
                queue |= _imported_modules(source)
    needed: set[str] = set()
    while queue:
        module = queue.pop()
        if module in needed or module in INSTRUCTORS_ONLY:
            continue
        needed |= _with_parents(module)
        source = _module_file(module).read_text()
        queue |= _imported_modules(source, module) - needed
    return sorted(needed - INSTRUCTORS_ONLY)


def build(course: Course, destination: Path | str) -> Bundle:
    """Write the student bundle of ``course``'s released notebooks into ``destination``
    (a new or empty folder). The notebooks are taken as released: run `grader release` first."""
    destination = Path(destination)
    if destination.exists() and (not destination.is_dir() or any(destination.iterdir())):
        raise BundleError(f"{destination} exists and is not an empty folder: choose a new one")
    released = []
    for assignment in course.assignments():
        folder = course.release_notebook(assignment, assignment).parent
        if not folder.is_dir():
            raise BundleError(f"{assignment} is not released yet: run `grader release` first")
        forbidden = [p.name for p in folder.rglob("*") if p.name.endswith(FORBIDDEN_SUFFIXES)]
        if forbidden:
            raise BundleError(f"{folder} holds {', '.join(forbidden)}: not for students")
        released.append(folder)
    notebooks = [folder / f"{folder.name}.ipynb" for folder in released]
    modules = student_modules(notebooks)

    destination.mkdir(parents=True, exist_ok=True)
    for folder in released:
        shutil.copytree(folder, destination / "notebooks" / folder.name)
    shutil.copyfile(released[0].parent / "README.md", destination / "notebooks" / "README.md")
    for module in modules:
        source = _module_file(module)
        target = destination / source.relative_to(PACKAGE_ROOT.parent)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, target)
    for pattern in PACKAGE_DATA:
        for source in PACKAGE_ROOT.glob(pattern):
            target = destination / source.relative_to(PACKAGE_ROOT.parent)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, target)
    _write_pyproject(course, destination)
    shutil.copyfile(course.root / "constraints.txt", destination / "constraints.txt")
    (destination / "nbgrader_config.py").write_text(NBGRADER_CONFIG)
    write_student_lab_config(destination / "jupyter-config")
    (destination / "data").mkdir()
    (destination / "data" / "README.md").write_text(DATA_README)
    (destination / "README.md").write_text(
        README.format(notebooks="\n".join(f"- `notebooks/{f.name}/`" for f in released))
    )
    return Bundle(
        destination,
        [destination / "notebooks" / n.parent.name / n.name for n in notebooks],
        modules,
    )


def write_student_lab_config(folder: Path) -> None:
    """``STUDENT_LAB_CONFIG`` as files under ``folder`` (a Jupyter configuration folder)."""
    for relative, settings in STUDENT_LAB_CONFIG.items():
        target = folder / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(json.dumps(settings, indent=2) + "\n")


def _write_pyproject(course: Course, destination: Path) -> None:
    """The student package's pyproject.toml: the course's name, version and base
    dependencies (what the notebooks import, and nbgrader for Validate); no extras, no
    `grader` command (grading is the instructors' business)."""
    project = tomllib.loads((course.root / "pyproject.toml").read_text())["project"]

    def toml_list(values) -> str:
        return "[\n" + "".join(f"    {json.dumps(v)},\n" for v in values) + "]"

    data_files = "\n".join(
        f'"etc/jupyter/{Path(relative).parent}" = ["jupyter-config/{relative}"]'
        for relative in STUDENT_LAB_CONFIG
    )
    text = f"""# The course's student package: what the notebooks import, and nothing else.
# Install with the tested versions: pip install -c constraints.txt .
# (not -e: an editable install leaves out the lab's configuration, data-files below)
[build-system]
requires = ["setuptools>=68"]
build-backend = "setuptools.build_meta"

[project]
name = {json.dumps(project["name"] + "-student")}
version = {json.dumps(project["version"])}
description = "The student side of the CNN course: notebooks' checks, datasets, figures."
requires-python = {json.dumps(project["requires-python"])}
dependencies = {toml_list(project["dependencies"])}

[tool.setuptools.packages.find]
include = ["grader*"]

[tool.setuptools.package-data]
grader = {toml_list(PACKAGE_DATA)}

# A student's JupyterLab: nbgrader's instructor tools off, Validate kept.
[tool.setuptools.data-files]
{data_files}
"""
    (destination / "pyproject.toml").write_text(text)


NBGRADER_CONFIG = '''"""nbgrader's configuration for a student's copy of the course (`nbgrader validate`)."""

c = get_config()  # noqa: F821 (provided by traitlets when nbgrader loads this file)
c.CourseDirectory.course_id = "cnn-course"
'''

DATA_README = """# data/

The datasets the notebooks load. On first use the loader downloads each missing file here
(MNIST, about 11 MB; CIFAR-10, about 163 MB, converted once) and checks its SHA-256 sum: a
corrupt or truncated file is an error that names the file, never a silently different
dataset.

Without internet: copy `mnist.npz` and `cifar10.npz` (or the course machines'
`cifar10_jpeg.npz`) from your course's shared folder into this folder, or point the
environment variable `CNN_COURSE_DATA` at a folder that holds them.
"""

README = """# CNN course: your copy

Four notebooks on convolutional networks, each with exercises that check themselves:

{notebooks}

## Set up (once)

Python 3.11, then, in this folder:

    python3.11 -m venv .venv
    . .venv/bin/activate
    pip install -c constraints.txt .

That installs TensorFlow, Keras, JupyterLab and nbgrader at the versions the course is
tested with, this folder's `grader` package, which the notebooks import for their checks,
datasets and figures, and the lab's configuration for students (nbgrader's Validate button;
its instructor tools switched off). The datasets download on first use (see
`data/README.md`).

## Work

    jupyter lab notebooks/

Open the notebooks in order. Run the setup cell first. Replace every
`raise NotImplementedError()` with your code, then run the test cell under it: a check says
what it verified, or what is wrong and why. The checks compare your answers with what
Keras computes on random inputs; when grading, the same checks run on fresh inputs you
have not seen, so make your code right, not just right for the visible cases.

Notebooks 03 and 04 train a model and save its weights next to the notebook
(`lenet5.weights.h5`, `cifar_alexnet.weights.h5`). If you change the model, delete the file
and run the training cell again.

## Validate and submit

Each notebook ends with a "Submitting" section; in short:

1. **Validate first.** Save the notebook and click **Validate** in the notebook's toolbar
   (or run `nbgrader validate notebooks/01_pooling/01_pooling.ipynb` in a terminal). It runs
   the whole notebook from the top, as the grader will, and lists the tests that fail.
2. **Submit the files**, unrenamed: the notebook (`01_pooling.ipynb`, ...), and for notebooks
   03 and 04 also the weights file the training cell saved next to it (`lenet5.weights.h5`,
   `cifar_alexnet.weights.h5`): the grader evaluates those weights and never trains.
3. **Where:** as your instructor says: usually an upload to the course's learning platform,
   or nbgrader's exchange when the course runs one (then switch the lab's assignment list
   back on: `jupyter labextension enable @jupyter/nbgrader:assignment-list` and
   `jupyter server extension enable nbgrader.server_extensions.assignment_list`).

Do not rename the notebooks or the weights files, and do not delete or copy cells: grading
finds your answers by the cells' ids. Each exercise's heading shows its points; hidden tests
with fresh inputs decide them when your work is graded.
"""
