"""Every accuracy threshold follows from its calibration record (bench/calibrate.py): honest
runs of the course recipe over seeds and platform configurations, and a tolerance bound that
at most 1% of honest students fall below."""

import pytest

from grader import thresholds
from grader.training import CIFAR_ALEXNET, LENET5

RECORDS = [("lenet5", LENET5), ("cifar_alexnet", CIFAR_ALEXNET)]


@pytest.mark.parametrize("name, recipe", RECORDS)
def test_the_threshold_is_the_tolerance_bound_of_the_recorded_runs(name, recipe):
    record = thresholds.calibration(name)
    accuracies = record["final_test_accuracies"]
    assert len(accuracies) >= 3
    assert record["recipe"] == recipe.describe(), (
        "recalibrate after changing the recipe: " + record["command"]
    )
    seeds = {run["seed"] for run in record["runs"]}
    assert record["independent_runs"] == len(seeds), "the bound counts seeds, not runs"
    recomputed = thresholds.calibrated_threshold(accuracies, len(seeds))
    assert record["threshold"] == recomputed["threshold"]
    assert record["estimated_false_fail_rate"] <= 0.01
    assert record["threshold"] <= min(accuracies)


@pytest.mark.parametrize("name", ["lenet5", "cifar_alexnet"])
def test_a_record_covers_eight_seeds_with_onednn_on_and_off(name):
    runs = thresholds.calibration(name)["runs"]
    for config in ("onednn-on", "onednn-off"):
        assert len({r["seed"] for r in runs if r["config"] == config}) >= 8, config


@pytest.mark.parametrize(
    "name, train_function, plausible_floor",
    [("lenet5", "train_lenet5", 0.9), ("cifar_alexnet", "train_cifar_alexnet", 0.6)],
)
def test_a_threshold_comes_from_runs_trained_as_the_student_trains(
    name, train_function, plausible_floor
):
    """The student's own training function on the training set less its validation set: the
    calibration runs did the same, and recorded the validation accuracy beside the test's."""
    record = thresholds.calibration(name)
    assert "hold_out_validation" in record["protocol"] and train_function in record["protocol"]
    for run in record["runs"]:
        assert plausible_floor < run["final_validation_accuracy"] <= 1


def test_the_grader_uses_the_recorded_thresholds():
    assert thresholds.calibration("lenet5")["threshold"] == thresholds.LENET5_MIN_TEST_ACCURACY
    assert (
        thresholds.calibration("cifar_alexnet")["threshold"]
        == thresholds.CIFAR_ALEXNET_MIN_TEST_ACCURACY
    )


def test_the_tolerance_factor_matches_the_published_tables():
    # One-sided normal tolerance factors, 99% coverage, 95% confidence (e.g. NIST/SEMATECH
    # e-Handbook, section 7.2.6.3): n = 3, 8, 20.
    for n, k in ((3, 10.553), (8, 4.354), (20, 3.295)):
        assert thresholds.tolerance_factor(n) == pytest.approx(k, rel=0.01)


def test_a_threshold_is_rounded_down_never_up_and_never_above_the_worst_run():
    record = thresholds.calibrated_threshold([0.9912, 0.9929, 0.9924, 0.9926])
    assert record["threshold"] <= 0.9912
    assert round(record["threshold"], 4) == record["threshold"]
    tight = thresholds.calibrated_threshold([0.99, 0.99, 0.99])
    assert tight["threshold"] == 0.99 and tight["estimated_false_fail_rate"] == 0.0
