"""Trained weights for the example submissions, made with the course recipe and cached.

A submission of notebook 03 includes the weights its training cell saved. The example
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


LENET5_WEIGHTS = TrainedWeights("03_lenet5", "lenet5.weights.h5")
BY_ASSIGNMENT = {LENET5_WEIGHTS.assignment: LENET5_WEIGHTS}
KINDS = ("reference", "undertrained")
CACHE_DIR = REPO_ROOT / "build" / "example-weights"


def _fingerprint(solution: Path, kind: str) -> str:
    """Everything the weights depend on: the answer cells (not the prose), recipe, seed, kind."""
    from grader.notebook_cells import answer_cells, read
    from grader.training import LENET5, LENET5_SEED

    digest = hashlib.sha256()
    for grade_id, cell in sorted(answer_cells(read(solution)).items()):
        digest.update(f"{grade_id}\n{cell.source}\n".encode())
    for part in (LENET5.describe(), str(LENET5_SEED), kind):
        digest.update(part.encode())
    return digest.hexdigest()[:16]


def weights_for(assignment: str, kind: str, solutions: Path = REPO_ROOT / "solutions") -> Path:
    """The path of the cached weights file, training it first if needed."""
    if kind not in KINDS:
        raise ValueError(f"weights kind must be one of {KINDS}, not {kind!r}")
    if assignment not in BY_ASSIGNMENT:
        raise ValueError(f"no example weights are trained for {assignment}")
    solution = solutions / assignment / f"{assignment}.ipynb"
    target = CACHE_DIR / f"{assignment}-{kind}-{_fingerprint(solution, kind)}.weights.h5"
    if not target.exists():
        _train(solution, kind, target)
    return target


def _train(solution: Path, kind: str, target: Path) -> None:
    from grader.datasets import load_mnist
    from grader.notebook_cells import load_answers
    from grader.training import LENET5, LENET5_SEED, train_from_scratch

    answers = load_answers(solution)
    (x_train, y_train), _ = load_mnist()
    model = train_from_scratch(
        answers["build_lenet5"],
        answers["preprocess"](x_train),
        y_train,
        LENET5,
        seed=LENET5_SEED,
        epochs=1 if kind == "undertrained" else None,
    )
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
