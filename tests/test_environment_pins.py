"""What each audience installs, and the exact versions the suite runs against, agree:
pyproject.toml's ranges (by audience), constraints.txt (what `make` installs) and
environment.yml (conda)."""

import re
import tomllib

import yaml
from packaging.requirements import Requirement
from packaging.version import Version

from grader.course import REPO_ROOT

SELF = "cnn-course"


def pyproject_requirements() -> dict[str, Requirement]:
    project = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())["project"]
    lines = list(project["dependencies"])
    for extra, requirements in project["optional-dependencies"].items():
        if extra != "gpu":  # CUDA libraries: not installed where the suite runs
            lines += requirements
    requirements = {}
    for line in lines:
        requirement = Requirement(line)
        if requirement.name != SELF:  # an extra that includes other extras
            requirements[requirement.name.lower()] = requirement
    return requirements


def constraint_pins() -> dict[str, str]:
    pins = {}
    for line in (REPO_ROOT / "constraints.txt").read_text().splitlines():
        line = line.split("#")[0].strip()
        if line:
            name, version = re.fullmatch(r"([A-Za-z0-9_.-]+)==([\w.]+)", line).groups()
            pins[name.lower()] = version
    return pins


def environment_pins() -> dict[str, str]:
    environment = yaml.safe_load((REPO_ROOT / "environment.yml").read_text())
    pins = {}
    for dependency in environment["dependencies"]:
        if isinstance(dependency, dict):
            for requirement in dependency["pip"]:
                if not requirement.startswith("-e"):
                    name, version = requirement.split("==")
                    pins[name.lower()] = version
        elif "=" in dependency:
            name, version = dependency.split("=")
            pins[name.lower()] = version
    return pins


def test_every_constraint_is_one_exact_version_of_a_declared_dependency():
    assert constraint_pins().keys() == pyproject_requirements().keys()


def test_every_pinned_version_is_inside_the_range_pyproject_declares():
    requirements = pyproject_requirements()
    for name, version in constraint_pins().items():
        assert requirements[name].specifier.contains(Version(version)), (
            f"constraints.txt pins {name}=={version}, outside pyproject.toml's {requirements[name]}"
        )


def test_conda_and_pip_environments_pin_the_same_versions():
    conda = environment_pins()
    assert conda.pop("python") == "3.11"
    assert conda == constraint_pins()


def test_the_base_install_is_what_a_student_needs():
    project = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())["project"]
    base = {Requirement(line).name for line in project["dependencies"]}
    assert {"tensorflow", "keras", "numpy", "matplotlib", "nbgrader", "jupyterlab"} <= base
    assert not base & {"dask", "distributed", "psycopg", "psycopg-binary", "pytest", "ruff"}


def test_python_version_agrees():
    project = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())["project"]
    assert project["requires-python"] == ">=3.11,<3.12"
