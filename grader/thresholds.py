"""Accuracy thresholds, read from the calibration records that produced them.

Each record in grader/calibration/ is written by bench/calibrate.py (its ``command`` field says
how): honest runs of the reference solution with the course recipe over seeds and platform
configurations, and the threshold their tolerance bound gives (``calibrated_threshold``).
tests/test_thresholds.py checks that every threshold follows from its record.
"""

from __future__ import annotations

import json
import math
import statistics
from pathlib import Path
from statistics import NormalDist

CALIBRATION_DIR = Path(__file__).resolve().parent / "calibration"


def calibration(name: str) -> dict:
    path = CALIBRATION_DIR / f"{name}.json"
    if not path.exists():
        raise FileNotFoundError(
            f"{path} is missing: create it with `python bench/{name}.py --calibrate`"
        )
    return json.loads(path.read_text())


COVERAGE, CONFIDENCE = 0.99, 0.95
TOLERANCE_RULE = (
    "threshold = min(worst run, mean - k * sd), rounded down to 0.01 percentage points; k is the "
    "one-sided normal tolerance factor for 99% coverage at 95% confidence: at most 1% of honest runs fall below it"
)


def tolerance_factor(n: int, coverage: float = COVERAGE, confidence: float = CONFIDENCE) -> float:
    """k such that, for n samples of a normal population, mean - k * sd lies below the
    population's (1 - coverage) quantile with probability ``confidence``: at most 1 - coverage
    of the population falls below it.

    The factor is the ``confidence`` quantile of (mean + z) / sd over n standard normal
    samples (z the coverage quantile), computed by simulating 400,000 sets of n with a fixed
    seed: it reproduces the published tables (4.35 for n = 8, 3.30 for n = 20) to about 0.5%.
    """
    if n < 2:
        raise ValueError("a tolerance bound needs at least two runs")
    import numpy as np

    z = NormalDist().inv_cdf(coverage)
    samples = np.random.default_rng(0).standard_normal((400_000, n))
    ratios = (samples.mean(axis=1) + z) / samples.std(axis=1, ddof=1)
    return float(np.quantile(ratios, confidence))


def calibrated_threshold(accuracies: list[float], independent_runs: int | None = None) -> dict:
    """The threshold for these honest runs' final accuracies, and how it was reached.

    ``independent_runs``: how many of the runs are independent draws, when fewer than all
    (the same seed on two platform configurations can train the very same model: the bound
    then counts seeds, not runs)."""
    mean, sd = statistics.mean(accuracies), statistics.stdev(accuracies)
    independent = independent_runs or len(accuracies)
    k = tolerance_factor(independent)
    threshold = math.floor(min(min(accuracies), mean - k * sd) * 10_000) / 10_000
    false_fail = NormalDist(mean, sd).cdf(threshold) if sd > 0 else 0.0
    return {
        "final_test_accuracies": list(accuracies),
        "independent_runs": independent,
        "mean": round(mean, 6),
        "sd": round(sd, 6),
        "tolerance_factor": round(k, 4),
        "threshold": threshold,
        "estimated_false_fail_rate": float(f"{false_fail:.2g}"),
        "rule": TOLERANCE_RULE,
    }


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
