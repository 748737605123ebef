"""Accuracy thresholds, read from the calibration records that produced them.

Each record in grader/calibration/ is written by a calibration script in bench/ (its
``command`` field says which): the reference solution trained with the course recipe over
several seeds, the worst test accuracy, the margin subtracted, and the resulting threshold.
tests/test_thresholds.py checks that every threshold follows from its record.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

CALIBRATION_DIR = Path(__file__).resolve().parent / "calibration"


def calibration(name: str) -> dict:
    path = CALIBRATION_DIR / f"{name}.json"
    if not path.exists():
        raise FileNotFoundError(
            f"{path} is missing: create it with `python bench/{name}.py --calibrate`"
        )
    return json.loads(path.read_text())


def threshold_from(accuracies: list[float], margin: float) -> float:
    """The worst accuracy minus the margin, rounded down to 0.01 percentage points."""
    return math.floor((min(accuracies) - margin) * 10_000) / 10_000


THRESHOLDS = {
    "LENET5_MIN_TEST_ACCURACY": "lenet5",
    "CIFAR_ALEXNET_MIN_TEST_ACCURACY": "cifar_alexnet",
}


def __getattr__(name: str) -> float:
    # Read on first use, so that the calibration scripts can import this module before
    # the record they are about to write exists.
    if name in THRESHOLDS:
        return calibration(THRESHOLDS[name])["threshold"]
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
