"""The example students' trained weights are committed, current, small, and do what they say."""

import pytest

from grader import example_weights
from grader.course import REPO_ROOT
from grader.datasets import load_cifar10, load_mnist
from grader.notebook_cells import load_answers
from grader.thresholds import CIFAR_ALEXNET_MIN_TEST_ACCURACY, LENET5_MIN_TEST_ACCURACY
from grader.training import accuracy

WEIGHTS = [
    (assignment, kind)
    for assignment in example_weights.BY_ASSIGNMENT
    for kind in example_weights.KINDS
]


@pytest.mark.parametrize("assignment, kind", WEIGHTS, ids=lambda v: v)
def test_the_committed_weights_were_trained_from_the_current_reference_solution(assignment, kind):
    problem = example_weights.committed_problem(assignment, kind)
    assert problem is None, f"{problem}: run `python -m grader.example_weights` and commit"
    assert example_weights.weights_for(assignment, kind) == example_weights.committed_path(
        assignment, kind
    )


@pytest.mark.parametrize("assignment, kind", WEIGHTS, ids=lambda v: v)
def test_the_committed_weights_hold_the_layers_only(assignment, kind):
    """No optimizer state: a fresh model ignores it, and it doubles the file."""
    import h5py

    with h5py.File(example_weights.committed_path(assignment, kind)) as weights:
        assert set(weights) <= {"layers", "vars"}, set(weights)


@pytest.mark.slow
@pytest.mark.parametrize("assignment, kind", WEIGHTS, ids=lambda v: v)
def test_reference_weights_pass_the_accuracy_test_and_undertrained_ones_fail_it(assignment, kind):
    spec = example_weights.BY_ASSIGNMENT[assignment]
    answers = load_answers(REPO_ROOT / "solutions" / assignment / f"{assignment}.ipynb")
    if assignment == "03_lenet5":
        model, threshold = answers["build_lenet5"](), LENET5_MIN_TEST_ACCURACY
        _, (x_test, y_test) = load_mnist()
        x_test = answers["preprocess"](x_test)
    else:
        model, threshold = answers["build_cifar_alexnet"](), CIFAR_ALEXNET_MIN_TEST_ACCURACY
        _, (x_test, y_test) = load_cifar10()
    model.load_weights(example_weights.committed_path(assignment, kind))
    score = accuracy(model, x_test, y_test)
    assert spec.file_name.endswith(".weights.h5")
    if kind == "reference":
        assert score >= threshold
    else:
        assert score < threshold


def _lenet_solutions_with_a_change_to(grade_id: str, folder):
    """A solutions folder whose notebook 03 has one answer cell changed (a comment added)."""
    import nbformat

    from grader.notebook_cells import answer_cells, read

    notebook = read(REPO_ROOT / "solutions" / "03_lenet5" / "03_lenet5.ipynb")
    answer_cells(notebook)[grade_id].source += "\n# a change to the reference"
    (folder / "03_lenet5").mkdir()
    nbformat.write(notebook, str(folder / "03_lenet5" / "03_lenet5.ipynb"))
    return folder


def test_weights_trained_from_another_reference_solution_are_not_used(tmp_path):
    _lenet_solutions_with_a_change_to("build_lenet5", tmp_path)
    problem = example_weights.committed_problem("03_lenet5", "reference", solutions=tmp_path)
    assert (
        problem
        == "03_lenet5-reference.weights.h5 was trained from another reference solution or recipe"
    )
    assert (
        example_weights.cached_path("03_lenet5", "reference", tmp_path).parent
        == example_weights.CACHE_DIR
    )


def test_a_change_to_an_exercise_the_training_does_not_read_keeps_the_weights(tmp_path):
    _lenet_solutions_with_a_change_to("flatten_sizes", tmp_path)
    assert example_weights.committed_problem("03_lenet5", "reference", solutions=tmp_path) is None
