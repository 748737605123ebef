"""Shared fixtures: the reference answers, taken from the solution notebooks themselves."""

import math
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from grader.course import REPO_ROOT  # noqa: E402
from grader.notebook_cells import answer_cells, read, without_markers  # noqa: E402


def load_reference(notebook: str) -> dict:
    """Run a solution notebook's answer cells (markers stripped) in a namespace with the
    setup cell's imports, and return that namespace: the reference functions by name."""
    namespace = {"np": np, "math": math, "keras": keras}
    for cell in answer_cells(read(REPO_ROOT / "solutions" / notebook)).values():
        exec(compile(without_markers(cell.source), f"<{notebook}>", "exec"), namespace)
    return namespace


@pytest.fixture(scope="session")
def pooling_reference():
    return load_reference("01_pooling/01_pooling.ipynb")


@pytest.fixture(scope="session")
def padding_reference():
    return load_reference("02_padding/02_padding.ipynb")
