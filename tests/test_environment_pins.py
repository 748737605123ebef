"""environment.yml (conda) and pyproject.toml (pip) pin the same versions."""

import re
import tomllib

import yaml

from grader.course import REPO_ROOT


def pyproject_pins() -> dict[str, str]:
    project = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())["project"]
    requirements = project["dependencies"] + project["optional-dependencies"]["dev"]
    pins = {}
    for requirement in requirements:
        name, version = re.fullmatch(r"([A-Za-z0-9_.-]+)==([\w.]+)", requirement).groups()
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


def test_every_pyproject_pin_is_exact():
    project = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())["project"]
    for requirement in project["dependencies"] + project["optional-dependencies"]["dev"]:
        assert "==" in requirement, f"{requirement} is not pinned to one version"


def test_conda_and_pip_environments_pin_the_same_versions():
    conda = environment_pins()
    assert conda.pop("python") == "3.11"
    assert conda == pyproject_pins()


def test_python_version_agrees():
    project = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())["project"]
    assert project["requires-python"] == ">=3.11,<3.12"
