"""The checks are split by concern: one module per notebook's exercises, and what they share
(the Keras oracles, output sizes and shape tables, comparison) in modules of its own. A
notebook's module never imports another notebook's, and a notebook imports no other
notebook's checks: each can change without breaking the others."""

from __future__ import annotations

import ast

import pytest

from grader.course import REPO_ROOT
from grader.notebook_cells import read

CHECKS = REPO_ROOT / "grader" / "checks"
EXERCISES = {  # each notebook's own module of checks
    "01_pooling": "pooling",
    "02_padding": "padding",
    "03_lenet5": "lenet",
    "04_alexnet": "alexnet",
}


def imported_check_modules(source: str) -> set[str]:
    """The grader.checks modules a piece of code imports."""
    found = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ImportFrom) and node.module:
            if node.module == "grader.checks":
                found |= {alias.name for alias in node.names}
            elif node.module.startswith("grader.checks."):
                found.add(node.module.split(".")[2])
        elif isinstance(node, ast.Import):
            found |= {
                alias.name.split(".")[2]
                for alias in node.names
                if alias.name.startswith("grader.checks.")
            }
    return found


@pytest.mark.parametrize("notebook", EXERCISES)
def test_a_notebooks_checks_import_no_other_notebooks(notebook):
    own = EXERCISES[notebook]
    others = set(EXERCISES.values()) - {own}
    source = (CHECKS / f"{own}.py").read_text()
    assert not imported_check_modules(source) & others


@pytest.mark.parametrize("notebook", EXERCISES)
def test_a_notebook_imports_its_own_checks_and_no_other_notebooks(notebook):
    cells = read(REPO_ROOT / "solutions" / notebook / f"{notebook}.ipynb").cells
    source = "\n".join(
        cell.source for cell in cells if cell.cell_type == "code" and "import" in cell.source
    )
    imported = imported_check_modules(source)
    assert EXERCISES[notebook] in imported
    assert not imported & (set(EXERCISES.values()) - {EXERCISES[notebook]})


def test_the_shared_modules_import_no_notebooks_checks():
    for path in CHECKS.glob("*.py"):
        if path.stem not in EXERCISES.values():
            assert not imported_check_modules(path.read_text()) & set(EXERCISES.values()), path


def test_no_check_module_is_a_grab_bag():
    """Past 600 lines a module has usually grown a second concern (padding.py had five)."""
    sizes = {path.name: len(path.read_text().splitlines()) for path in CHECKS.glob("*.py")}
    assert max(sizes.values()) <= 700, sizes


def test_the_imported_modules_exist():
    assert {path.stem for path in CHECKS.glob("*.py")} >= set(EXERCISES.values()) | {
        "oracle",
        "shapes",
        "compare",
    }
