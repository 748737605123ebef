"""The package works outside this checkout: the built wheel carries what it reads at run time
(calibration records, dataset checksums), and a notebook's setup cell runs with it installed
in a fresh virtual environment elsewhere, its datasets found through CNN_COURSE_DATA."""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile

import pytest
from fresh_environment import fresh_environment

from grader.course import REPO_ROOT
from grader.notebook_cells import read

pytestmark = pytest.mark.slow  # builds a wheel (about 20 s)


@pytest.fixture(scope="module")
def wheel(tmp_path_factory):
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
         "-w", str(out), str(REPO_ROOT)],
        check=True, capture_output=True, text=True,
    )  # fmt: skip
    (path,) = out.glob("cnn_course-*.whl")
    return path


def test_the_wheel_carries_what_the_package_reads_at_run_time(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    assert {"grader/calibration/lenet5.json", "grader/calibration/cifar_alexnet.json"} <= names
    assert "grader/dataset_checksums.json" in names
    assert "grader/checks/layer_tables.json" in names
    assert not any(name.startswith(("solutions/", "tests/", "notebooks/")) for name in names)


def test_a_setup_cell_runs_with_the_wheel_installed_in_a_fresh_environment(wheel, tmp_path):
    python = fresh_environment(tmp_path / "env", wheel)
    setup = read(REPO_ROOT / "notebooks" / "04_alexnet" / "04_alexnet.ipynb").cells
    source = next(c.source for c in setup if c.cell_type == "code")
    check = (
        "\nimport grader\n"
        "from grader.thresholds import CIFAR_ALEXNET_MIN_TEST_ACCURACY as threshold\n"
        "print('package', grader.__file__)\n"
        "print('threshold', threshold)\n"
        "print('train', x_train.shape)\n"
    )
    work = tmp_path / "student"
    work.mkdir()
    environment = {
        key: value for key, value in os.environ.items() if key not in ("PYTHONPATH", "VIRTUAL_ENV")
    }
    environment.update({"CNN_COURSE_DATA": str(REPO_ROOT / "data"), "TF_CPP_MIN_LOG_LEVEL": "3"})
    result = subprocess.run(
        [str(python), "-c", source + check], cwd=work, env=environment,
        capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    assert f"package {tmp_path / 'env'}" in result.stdout
    assert "threshold 0.7" in result.stdout and "train (50000, 32, 32, 3)" in result.stdout
