"""Trained weights for the example submissions, made with the course recipe.

A submission of notebook 03 or 04 includes the weights its training cell saved. The example
students' weights are trained from the reference solution: "reference" with the full recipe,
"undertrained" with its first epoch only (an honest model that misses the threshold).

They are committed in examples/weights/ (0.25 MB per LeNet-5 file, 3.3 MB per AlexNet one:
the layers' weights, without the optimizer's state), each with its checksum and the
fingerprint of everything it was trained from (the reference answer cells the training reads,
the recipe, the seed), so that `make demo` and the tests need not train for 15 minutes first. When the
reference solution or the recipe changes, the committed files no longer match and are not
used: the weights are trained again (deterministic, cached under build/example-weights/), and
`python -m grader.example_weights` commits the new ones. This repository is the
instructors'; the student bundle never carries them.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
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
    # The answer cells (grade_ids) the training reads: a change elsewhere in the notebook
    # leaves the weights as they are.
    answers: tuple[str, ...]
    # The notebook's training function (one of ``answers``), which trains on the training set
    # less its validation set, as the student does; None: the recipe on the whole set.
    train_function: str | None = None


LENET5_WEIGHTS = TrainedWeights(
    "03_lenet5",
    "lenet5.weights.h5",
    "LENET5",
    "LENET5_SEED",
    ("build_lenet5", "preprocess", "train_lenet5"),
    train_function="train_lenet5",
)
CIFAR_ALEXNET_WEIGHTS = TrainedWeights(
    "04_alexnet",
    "cifar_alexnet.weights.h5",
    "CIFAR_ALEXNET",
    "CIFAR_ALEXNET_SEED",
    ("build_cifar_alexnet", "train_cifar_alexnet"),
    train_function="train_cifar_alexnet",
)
BY_ASSIGNMENT = {w.assignment: w for w in (LENET5_WEIGHTS, CIFAR_ALEXNET_WEIGHTS)}
KINDS = ("reference", "undertrained")
CACHE_DIR = REPO_ROOT / "build" / "example-weights"
COMMITTED_DIR = REPO_ROOT / "examples" / "weights"
REGISTRY = COMMITTED_DIR / "weights.json"


def _recipe_and_seed(weights: TrainedWeights):
    from grader import training

    return getattr(training, weights.recipe), getattr(training, weights.seed)


def _fingerprint(solution: Path, weights: TrainedWeights, kind: str) -> str:
    """Everything the weights depend on: the answer cells the training reads (not the prose,
    not the other exercises), recipe, seed, kind."""
    from grader.notebook_cells import answer_cells, read

    recipe, seed = _recipe_and_seed(weights)
    digest = hashlib.sha256()
    cells = answer_cells(read(solution))
    for grade_id in weights.answers:
        digest.update(f"{grade_id}\n{cells[grade_id].source}\n".encode())
    for part in (recipe.describe(), str(seed), kind):
        digest.update(part.encode())
    if weights.train_function:  # trained as the student trains: the validation set held out
        digest.update(b"validation held out")
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


def committed_path(assignment: str, kind: str) -> Path:
    return COMMITTED_DIR / f"{assignment}-{kind}.weights.h5"


def _registry() -> dict:
    return json.loads(REGISTRY.read_text()) if REGISTRY.exists() else {"files": {}}


def committed_problem(assignment: str, kind: str, solutions: Path = REPO_ROOT / "solutions"):
    """Why the committed weights of this kind cannot stand for the current reference
    solution (None when they can)."""
    path = committed_path(assignment, kind)
    record = _registry()["files"].get(path.name)
    if record is None or not path.exists():
        return f"{path.name} is not committed"
    solution = solutions / assignment / f"{assignment}.ipynb"
    if record["fingerprint"] != _fingerprint(solution, BY_ASSIGNMENT[assignment], kind):
        return f"{path.name} was trained from another reference solution or recipe"
    from grader.datasets import sha256_of

    if sha256_of(path) != record["sha256"]:
        return f"{path.name} does not match its checksum"
    return None


def weights_for(assignment: str, kind: str, solutions: Path = REPO_ROOT / "solutions") -> Path:
    """The weights file for these example weights: the committed one when it was trained
    from the current reference solution, else the cached one, trained first if needed."""
    if committed_problem(assignment, kind, solutions) is None:
        return committed_path(assignment, kind)
    target = cached_path(assignment, kind, solutions)
    if not target.exists():
        solution = solutions / assignment / f"{assignment}.ipynb"
        store(_train(solution, BY_ASSIGNMENT[assignment], kind), target)
    return target


def _reference_builder(solution: Path, weights: TrainedWeights):
    from grader.notebook_cells import load_answers

    name = "build_lenet5" if weights is LENET5_WEIGHTS else "build_cifar_alexnet"
    return load_answers(solution)[name]


def _train(solution: Path, weights: TrainedWeights, kind: str):
    from grader.notebook_cells import load_answers
    from grader.training import hold_out_validation, train_from_scratch

    recipe, seed = _recipe_and_seed(weights)
    answers = load_answers(solution)
    build = _reference_builder(solution, weights)
    if weights is LENET5_WEIGHTS:
        from grader.datasets import load_mnist

        (x_train, y_train), _ = load_mnist()
        x_train = answers["preprocess"](x_train)
    else:
        from grader.datasets import load_cifar10

        (x_train, y_train), _ = load_cifar10()
    validation = None
    if weights.train_function:  # as the student trains: the validation set held out
        (x_train, y_train), validation = hold_out_validation(x_train, y_train)
    return train_from_scratch(
        build,
        x_train,
        y_train,
        recipe,
        seed=seed,
        validation=validation,
        train=answers[weights.train_function] if weights.train_function else None,
        stop_after=1 if kind == "undertrained" else None,
    )


def store(model, target: Path) -> None:
    """Save a model's weights at ``target`` atomically (a reader never sees half a file),
    without the optimizer's state, which a trained model's save_weights would add (twice
    the size) and which loading into a fresh model ignores; and, when the model was just
    trained, its learning curves beside them (``curves_of``), as the notebook's cell does."""
    import keras

    history = getattr(getattr(model, "history", None), "history", None)
    if getattr(model, "optimizer", None) is not None:
        weights = model.get_weights()
        model = keras.models.clone_model(model)  # the same layers, never compiled
        model.set_weights(weights)
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
    if history:
        curves = {name: [float(v) for v in values] for name, values in history.items()}
        curves_of(target).write_text(json.dumps(curves, indent=1) + "\n")


def curves_of(weights: Path) -> Path:
    """The learning curves recorded when ``weights`` were trained (lenet5.history.json beside
    lenet5.weights.h5, as the notebook's training cell writes them)."""
    from grader.training import history_path

    return history_path(weights)


def commit() -> None:
    """Put the example weights for the current reference solutions in examples/weights/,
    training those that are not cached yet, and record their checksums and fingerprints."""
    from grader.datasets import sha256_of

    files = {}
    for assignment, spec in BY_ASSIGNMENT.items():
        solution = REPO_ROOT / "solutions" / assignment / f"{assignment}.ipynb"
        for kind in KINDS:
            target = committed_path(assignment, kind)
            if committed_problem(assignment, kind) is not None:
                model = _reference_builder(solution, spec)()
                trained = weights_for(assignment, kind)
                model.load_weights(trained)
                store(model, target)  # the layers' weights only, whatever the cache holds
                if curves_of(trained).exists():
                    shutil.copyfile(curves_of(trained), curves_of(target))
            files[target.name] = {
                "sha256": sha256_of(target),
                "bytes": target.stat().st_size,
                "fingerprint": _fingerprint(solution, spec, kind),
            }
            print(f"{target.relative_to(REPO_ROOT)}: {files[target.name]['bytes']:,} bytes")
    REGISTRY.write_text(
        json.dumps(
            {
                "about": "The example students' trained weights (grader/example_weights.py): "
                "each file's SHA-256 and the fingerprint of the reference answer cells, recipe, "
                "seed and kind it was trained from. Made by `python -m grader.example_weights`.",
                "files": files,
            },
            indent=1,
        )
        + "\n"
    )


if __name__ == "__main__":
    argparse.ArgumentParser(description=commit.__doc__).parse_args()
    commit()
