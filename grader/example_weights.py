"""Trained weights for the example submissions, made with the course recipe and cached.

A submission of notebook 03 or 04 includes the weights its training cell saved. The example
students' weights are trained here from the reference solution: "reference" with the full
recipe, "undertrained" with its first epoch only (an honest model that misses the threshold).
Training is deterministic, so the files are cached under build/example-weights/, keyed by a
hash of everything that determines them: the reference code, the recipe and the seed.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

from grader.course import REPO_ROOT


@dataclass(frozen=True)
class TrainedWeights:
    assignment: str
    file_name: str  # what the notebook's training cell saves and the test loads
    recipe: str  # names in grader.training (looked up when needed: importing it loads TensorFlow)
    seed: str


LENET5_WEIGHTS = TrainedWeights("03_lenet5", "lenet5.weights.h5", "LENET5", "LENET5_SEED")
CIFAR_ALEXNET_WEIGHTS = TrainedWeights(
    "04_alexnet", "cifar_alexnet.weights.h5", "CIFAR_ALEXNET", "CIFAR_ALEXNET_SEED"
)
BY_ASSIGNMENT = {w.assignment: w for w in (LENET5_WEIGHTS, CIFAR_ALEXNET_WEIGHTS)}
KINDS = ("reference", "undertrained")
CACHE_DIR = REPO_ROOT / "build" / "example-weights"


def _recipe_and_seed(weights: TrainedWeights):
    from grader import training

    return getattr(training, weights.recipe), getattr(training, weights.seed)


def _fingerprint(solution: Path, weights: TrainedWeights, kind: str) -> str:
    """Everything the weights depend on: the answer cells (not the prose), recipe, seed, kind."""
    from grader.notebook_cells import answer_cells, read

    recipe, seed = _recipe_and_seed(weights)
    digest = hashlib.sha256()
    for grade_id, cell in sorted(answer_cells(read(solution)).items()):
        digest.update(f"{grade_id}\n{cell.source}\n".encode())
    for part in (recipe.describe(), str(seed), kind):
        digest.update(part.encode())
    return digest.hexdigest()[:16]


def cached_path(assignment: str, kind: str, solutions: Path = REPO_ROOT / "solutions") -> Path:
    """Where the weights of this kind, for the current reference solution, are cached."""
    if kind not in KINDS:
        raise ValueError(f"weights kind must be one of {KINDS}, not {kind!r}")
    if assignment not in BY_ASSIGNMENT:
        raise ValueError(f"no example weights are trained for {assignment}")
    solution = solutions / assignment / f"{assignment}.ipynb"
    fingerprint = _fingerprint(solution, BY_ASSIGNMENT[assignment], kind)
    return CACHE_DIR / f"{assignment}-{kind}-{fingerprint}.weights.h5"


def weights_for(assignment: str, kind: str, solutions: Path = REPO_ROOT / "solutions") -> Path:
    """The path of the cached weights file, training it first if needed."""
    target = cached_path(assignment, kind, solutions)
    if not target.exists():
        solution = solutions / assignment / f"{assignment}.ipynb"
        store(_train(solution, BY_ASSIGNMENT[assignment], kind), target)
    return target


def _train(solution: Path, weights: TrainedWeights, kind: str):
    from grader.notebook_cells import load_answers
    from grader.training import train_from_scratch

    answers = load_answers(solution)
    recipe, seed = _recipe_and_seed(weights)
    if weights is LENET5_WEIGHTS:
        from grader.datasets import load_mnist

        (x_train, y_train), _ = load_mnist()
        build, x_train = answers["build_lenet5"], answers["preprocess"](x_train)
    else:
        from grader.datasets import load_cifar10

        (x_train, y_train), _ = load_cifar10()
        build = answers["build_cifar_alexnet"]
    return train_from_scratch(
        build, x_train, y_train, recipe, seed=seed, epochs=1 if kind == "undertrained" else None
    )


def store(model, target: Path) -> None:
    """Save a model's weights at ``target`` atomically (a reader never sees half a file)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, partial = tempfile.mkstemp(
        dir=target.parent, suffix=".weights.h5"
    )  # Keras wants the suffix
    os.close(handle)
    try:
        model.save_weights(partial)
        os.chmod(partial, 0o644)  # mkstemp makes it private; it is handed to graders
        os.replace(partial, target)
    finally:
        Path(partial).unlink(missing_ok=True)
