"""The checks compare models with layer tables (grader/checks/layer_tables.json), which the
student bundle carries instead of the reference networks: the tables are exactly what the
networks give, and without the networks a check never passes or fails a model it cannot
judge."""

import json

import keras
import pytest
from test_lenet_checks import lenet

from grader.checks import CheckFailure, architecture, references
from grader.checks import lenet as check

L = keras.layers


def test_the_committed_layer_tables_are_what_the_reference_networks_give():
    committed = json.loads(architecture.LAYER_TABLES_FILE.read_text())
    current = json.loads(json.dumps(references.layer_tables()))
    assert committed == current, "run: python -m grader.checks.references"


@pytest.mark.parametrize("name", sorted(references.REFERENCES))
def test_a_table_reads_back_as_the_networks_summary(name):
    network = references.REFERENCES[name]()
    table = architecture.layer_table(name)
    assert table == architecture.table_of(network)
    assert table.params == network.count_params()


# A student's LeNet-5 written differently (Dense then a Softmax layer), and one written as
# the table is with one wrong setting (C1's activation).
lenet_with_softmax_layer = lenet(out=L.Dense(10), extra=(L.Softmax(),))
lenet_with_relu = lenet(c1=L.Conv2D(6, 5, activation="relu"))


@pytest.fixture
def without_reference_networks(monkeypatch):
    """The student bundle: no grader.checks.references to import."""
    monkeypatch.setattr(architecture, "_network_for_table", lambda name: None)


def test_with_the_networks_a_model_written_differently_passes(capsys):
    check.check_build_lenet5(lenet_with_softmax_layer)
    assert "computes the same function" in capsys.readouterr().out


def test_without_the_networks_a_model_written_differently_is_reported_unsure(
    without_reference_networks,
):
    with pytest.raises(CheckFailure, match="unsure: your model is written differently"):
        check.check_build_lenet5(lenet_with_softmax_layer)


def test_without_the_networks_a_wrong_setting_still_fails_without_doubt(
    without_reference_networks,
):
    with pytest.raises(CheckFailure) as failure:
        check.check_build_lenet5(lenet_with_relu)
    assert "unsure" not in str(failure.value) and "activation" in str(failure.value)
