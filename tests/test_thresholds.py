"""Every accuracy threshold follows from its calibration record, as bench/README.md describes."""

import json

import pytest

from grader import thresholds
from grader.training import CIFAR_ALEXNET, LENET5

RECORDS = [("lenet5", LENET5), ("cifar_alexnet", CIFAR_ALEXNET)]


@pytest.mark.parametrize("name, recipe", RECORDS)
def test_the_threshold_is_the_worst_calibrated_accuracy_minus_the_margin(name, recipe):
    record = thresholds.calibration(name)
    assert len(record["seeds"]) >= 3 and len(record["final_test_accuracies"]) == len(
        record["seeds"]
    )
    assert record["recipe"] == recipe.describe(), (
        "recalibrate after changing the recipe: " + record["command"]
    )
    assert 0 < record["margin"] <= 0.01
    assert record["threshold"] == thresholds.threshold_from(
        record["final_test_accuracies"], record["margin"]
    )


def test_the_grader_uses_the_recorded_thresholds():
    assert thresholds.calibration("lenet5")["threshold"] == thresholds.LENET5_MIN_TEST_ACCURACY
    assert (
        thresholds.calibration("cifar_alexnet")["threshold"]
        == thresholds.CIFAR_ALEXNET_MIN_TEST_ACCURACY
    )


def test_a_threshold_is_rounded_down_never_up():
    assert thresholds.threshold_from([0.99236, 0.9931], 0.002) == 0.9903
    assert json.dumps(thresholds.threshold_from([0.9912], 0.002)) == "0.9892"
