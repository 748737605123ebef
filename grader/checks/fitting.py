"""Checks of a notebook's training function (notebooks 03 and 04): the student's own
``compile`` and ``fit``, against the recipe the notebook gives.

The student's function runs for a couple of epochs on a small model and random images
(seconds, not the real run's minutes), watched by a callback the check passes in. What it did
comes back as plain data (``observe_training``; when the checker grades, the student's kernel
runs it and sends the data back, as it sends any answer), and the check compares that data
with the recipe (``check_training_function``).

Oracles: the recipe's Keras objects (grader.training.Recipe: its optimizer settings, its
learning-rate schedule, its loss), the schedule and the loss each verified by a NumPy formula.
"""

from __future__ import annotations

import contextlib
import io
import logging
import math
from collections.abc import Callable

import keras
import numpy as np

from grader.checks.compare import SourceOnly
from grader.checks.failure import CheckFailure, passed
from grader.checks.oracle import verified
from grader.training import Recipe, TrainingBatches, one_hot

# The small problem the training function is run on: images of this shape, as many as give
# two to four batches of the recipe's size.
IMAGE_SHAPE = (8, 8, 1)
VALIDATION_IMAGES = 40


class _Watcher(keras.callbacks.Callback):
    """What fit did, seen from inside: epochs, batches per epoch, the learning rate applied
    at every step, the logs at every epoch's end."""

    def __init__(self):
        super().__init__()
        self.batches: list[int] = []
        self.learning_rates: list[float] = []
        self.epoch_log_names: list[list[str]] = []

    def on_epoch_begin(self, epoch, logs=None):
        self.batches.append(0)

    def on_train_batch_begin(self, batch, logs=None):
        if not self.batches:  # fit skipped on_epoch_begin: count the batch anyway
            self.batches.append(0)
        self.batches[-1] += 1
        rate = getattr(self.model.optimizer, "learning_rate", None)
        self.learning_rates.append(float(keras.ops.convert_to_numpy(rate)))

    def on_epoch_end(self, epoch, logs=None):
        self.epoch_log_names.append(sorted(logs or {}))


def _small_model(seed: int) -> keras.Model:
    keras.utils.set_random_seed(seed)
    return keras.Sequential(
        [
            keras.Input(IMAGE_SHAPE),
            keras.layers.Flatten(),
            keras.layers.Dense(10, activation="softmax"),
        ]
    )


def _problem(spec: dict, *, poisoned: bool = False):
    rng = np.random.default_rng(spec["seed"])
    images = rng.random((spec["images"], *IMAGE_SHAPE), dtype=np.float32)
    labels = rng.integers(0, 10, spec["images"])
    validation = rng.random((VALIDATION_IMAGES, *IMAGE_SHAPE), dtype=np.float32)
    validation_labels = rng.integers(0, 10, VALIDATION_IMAGES)
    if poisoned:  # every input NaN: the loss is NaN from the first batch on
        images = np.full_like(images, np.nan)
    batches = TrainingBatches(
        images,
        labels,
        spec["batch_size"],
        seed=spec["seed"],
        max_shift=spec["max_shift"],
    )
    return batches, (validation, one_hot(validation_labels))


def loss_case(seed: int) -> tuple[np.ndarray, np.ndarray]:
    """One-hot targets and softmax outputs on which a compiled loss is evaluated."""
    rng = np.random.default_rng(seed + 1)
    targets = one_hot(rng.integers(0, 10, 16))
    logits = rng.normal(size=(16, 10))
    outputs = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    return targets.astype(np.float32), outputs.astype(np.float32)


def observe_training(train: Callable, spec: dict) -> dict:
    """Run ``train(model, training_batches, validation_data, epochs=..., callbacks=[watcher])``
    on the small problem ``spec`` describes, then once more on NaN images, and return what it
    did as plain data. Runs wherever the student's function lives (the notebook's kernel)."""
    # Each small model's fit is a new tf.function: after five, TensorFlow logs a retracing
    # warning to stderr, and nbgrader scores a test cell that wrote to stderr as failed.
    tensorflow_log = logging.getLogger("tensorflow")
    level = tensorflow_log.level
    tensorflow_log.setLevel(logging.ERROR)
    try:
        return _observe_here(train, spec)
    finally:
        tensorflow_log.setLevel(level)


def _observe_here(train: Callable, spec: dict) -> dict:
    model = _small_model(spec["seed"])
    batches, validation_data = _problem(spec)
    watcher = _Watcher()
    with contextlib.redirect_stdout(io.StringIO()):  # fit's progress bars: not the check's output
        returned = train(
            model, batches, validation_data, epochs=spec["epochs"], callbacks=[watcher]
        )
    optimizer = getattr(model, "optimizer", None)
    observation = {
        "compiled": bool(getattr(model, "compiled", False)) and optimizer is not None,
        "batches": watcher.batches,
        "learning_rates": watcher.learning_rates,
        "epoch_log_names": watcher.epoch_log_names,
        "returned": type(returned).__name__,
        "history": None,
        "optimizer": None,
        "loss": None,
        "nan_run_batches": None,
    }
    if isinstance(returned, keras.callbacks.History):
        observation["history"] = {
            name: [float(v) for v in values] for name, values in returned.history.items()
        }
    if optimizer is not None:
        observation["optimizer"] = {
            "class": type(optimizer).__name__,
            "momentum": getattr(optimizer, "momentum", None),
            "nesterov": getattr(optimizer, "nesterov", None),
            "weight_decay": optimizer.weight_decay,
        }
    loss = getattr(model, "loss", None)
    if loss is not None:
        targets, outputs = loss_case(spec["seed"])
        loss = keras.losses.get(loss) if isinstance(loss, str) else loss
        # A loss function given by name returns one value per example: compile averages them.
        observation["loss"] = float(np.mean(keras.ops.convert_to_numpy(loss(targets, outputs))))

    poisoned_watcher = _Watcher()
    poisoned_batches, validation_data = _problem(spec, poisoned=True)
    with contextlib.redirect_stdout(io.StringIO()), contextlib.suppress(RuntimeError):
        # TerminateOnNaN(raise_error=True) stops the run by raising: a stop all the same.
        train(
            _small_model(spec["seed"]),
            poisoned_batches,
            validation_data,
            epochs=spec["epochs"],
            callbacks=[poisoned_watcher],
        )
    observation["nan_run_batches"] = sum(poisoned_watcher.batches)
    return observation


def _observe(train: Callable, spec: dict) -> dict:
    """``observe_training`` where the student's function lives: in this process, or in the
    student's kernel for the checker's stand-in (which refuses a report not shaped as
    ``well_formed`` says)."""
    if isinstance(train, SourceOnly):
        return train.observe_training(spec)
    return observe_training(train, spec)


def _numbers(values) -> bool:
    return isinstance(values, list) and all(
        isinstance(v, int | float) and not isinstance(v, bool) for v in values
    )


def well_formed(seen) -> bool:
    """Whether a report has the shape observe_training gives it: what the checker requires
    of one that comes from the student's kernel, before the check reads it."""
    if not isinstance(seen, dict):
        return False
    optimizer, history = seen.get("optimizer"), seen.get("history")
    return (
        isinstance(seen.get("compiled"), bool)
        and _numbers(seen.get("batches"))
        and _numbers(seen.get("learning_rates"))
        and isinstance(seen.get("epoch_log_names"), list)
        and all(
            isinstance(names, list) and all(isinstance(n, str) for n in names)
            for names in seen["epoch_log_names"]
        )
        and isinstance(seen.get("returned"), str)
        and (
            history is None
            or (isinstance(history, dict) and all(_numbers(v) for v in history.values()))
        )
        and (optimizer is not None or not seen["compiled"])
        and (
            optimizer is None
            or (
                isinstance(optimizer, dict)
                and isinstance(optimizer.get("class"), str)
                and all(
                    optimizer.get(name) is None or isinstance(optimizer[name], int | float)
                    for name in ("momentum", "nesterov", "weight_decay")
                )
            )
        )
        and (seen.get("loss") is None or isinstance(seen["loss"], int | float))
        and isinstance(seen.get("nan_run_batches"), int)
    )


def _cosine(step: np.ndarray, recipe: Recipe, warmup: int, total: int) -> np.ndarray:
    """The recipe's learning rate at each step, written out: linear warm-up from 0, then a
    cosine from the recipe's rate down to 0 at the last step of the run."""
    peak = recipe.learning_rate
    if not recipe.cosine_decay:
        return np.full(step.shape, peak)
    decayed = (
        peak
        * 0.5
        * (1 + np.cos(np.pi * np.minimum(step - warmup, total - warmup) / (total - warmup)))
    )
    return np.where(step < warmup, peak * step / max(warmup, 1), decayed)


def expected_learning_rates(recipe: Recipe, steps_per_epoch: int, epochs: int) -> np.ndarray:
    """The rate Keras's schedule for the recipe gives at every step, verified by the formula."""
    total = steps_per_epoch * epochs
    steps = np.arange(total)
    schedule = recipe.schedule_for(steps_per_epoch, epochs)
    keras_rates = [
        float(keras.ops.convert_to_numpy(schedule(step))) if callable(schedule) else schedule
        for step in steps
    ]
    warmup = round(recipe.warmup_epochs * steps_per_epoch)
    return verified(
        "learning-rate schedule",
        keras_rates,
        _cosine(steps, recipe, warmup, total),
        f"{epochs} epochs of {steps_per_epoch} steps",
    )


def expected_loss(recipe: Recipe, targets: np.ndarray, outputs: np.ndarray) -> float:
    """The recipe's loss on one case, verified by the formula: cross-entropy against targets
    smoothed towards the uniform distribution, averaged over the batch."""
    k = targets.shape[1]
    smoothed = (
        targets.astype(np.float64) * (1 - recipe.label_smoothing) + recipe.label_smoothing / k
    )
    formula = -np.mean(np.sum(smoothed * np.log(outputs.astype(np.float64)), axis=1))
    keras_value = float(keras.ops.convert_to_numpy(recipe.loss()(targets, outputs)))
    return float(verified("cross-entropy", keras_value, formula, "label smoothing", atol=1e-5))


def schedule_in_keras(recipe: Recipe) -> str:
    """The recipe's schedule as the Keras call that makes it, for the failure's hint."""
    steps = "epochs * len(training_batches)"
    if not recipe.warmup_epochs:
        return f"CosineDecay({recipe.learning_rate:g}, decay_steps={steps})"
    warmup = f"{recipe.warmup_epochs:g} * len(training_batches)"
    return (
        f"CosineDecay(0.0, decay_steps={steps} - warmup_steps, warmup_target="
        f"{recipe.learning_rate:g}, warmup_steps={warmup})"
    )


def _schedule_mistake(got: np.ndarray, recipe: Recipe, steps_per_epoch: int, epochs: int) -> str:
    """Why a learning-rate sequence differs from the recipe's, when it is a known mistake."""
    shape = schedule_in_keras(recipe)
    if np.allclose(got, got[0], rtol=1e-6) and recipe.cosine_decay:
        return (
            f"the learning rate stays {got[0]:g}: the recipe decays it along a cosine to 0 over "
            f"the whole run: {shape}"
        )
    warmup = round(recipe.warmup_epochs * steps_per_epoch)
    for wrong_total, why in (
        (recipe.epochs * steps_per_epoch, f"the recipe's {recipe.epochs} epochs, not `epochs`"),
        (
            epochs,
            "epochs, where decay_steps counts steps (batches): epochs * len(training_batches)",
        ),
        (
            # Keras's decay_steps counts only the steps after the warm-up.
            epochs * steps_per_epoch + warmup if warmup else 0,
            "the whole run plus the warm-up: decay_steps counts the steps after the warm-up, "
            "epochs * len(training_batches) - warmup_steps",
        ),
    ):
        if wrong_total == epochs * steps_per_epoch or wrong_total <= warmup:
            continue
        steps = np.arange(len(got))
        if np.allclose(got, _cosine(steps, recipe, warmup, wrong_total), rtol=1e-4, atol=1e-7):
            return f"the schedule decays over {why}"
    if not math.isclose(
        got[0], expected_learning_rates(recipe, steps_per_epoch, epochs)[0], rel_tol=1e-4
    ):
        start = (
            "rises from 0 over the first epoch" if warmup else f"starts at {recipe.learning_rate:g}"
        )
        return f"the first step's rate is {got[0]:g}: the recipe {start}, as {shape} does"
    return f"the recipe's schedule is {shape}"


def _optimizer_mistake(optimizer: dict, recipe: Recipe) -> str:
    """Why the compiled optimizer is not the recipe's, when only its weight decay is wrong."""
    momentum_right = (
        optimizer["class"] == "SGD"
        and optimizer["momentum"] is not None
        and math.isclose(optimizer["momentum"], 0.9)
        and optimizer["nesterov"] is True
    )
    if recipe.optimizer == "sgd" and momentum_right:
        if recipe.weight_decay:
            return (
                f"SGD(..., weight_decay={recipe.weight_decay:g}): the recipe shrinks every weight "
                "a little at each step, against overfitting"
            )
        return "the recipe's SGD has no weight decay: leave weight_decay out"
    return f"the recipe: {recipe.describe()}"


def _loss_mistake(got: float, recipe: Recipe, targets, outputs) -> str:
    plain = float(-np.mean(np.sum(targets * np.log(outputs.astype(np.float64)), axis=1)))
    if recipe.label_smoothing and math.isclose(got, plain, rel_tol=1e-4):
        return (
            f"the loss has no label smoothing: CategoricalCrossentropy(label_smoothing="
            f"{recipe.label_smoothing:g})"
        )
    return (
        f"the recipe's loss is CategoricalCrossentropy(label_smoothing={recipe.label_smoothing:g})"
        " on the softmax outputs (from_logits stays False: the model ends in softmax)"
    )


def check_training_function(
    train: Callable, recipe: Recipe, name: str, *, seed: int | None = 0, epochs: int = 2
) -> None:
    """Run the student's ``train`` on a small problem and compare what it did with
    ``recipe``. ``seed=None`` draws a fresh problem (hidden cases: other sizes and epochs)."""
    rng = np.random.default_rng(seed)
    if seed is None:
        epochs = int(rng.integers(2, 4))
    steps_per_epoch = int(rng.integers(2, 5))
    spec = {
        "seed": int(rng.integers(0, 2**31)),
        "images": recipe.batch_size * (steps_per_epoch - 1)
        + int(rng.integers(1, recipe.batch_size)),
        "batch_size": recipe.batch_size,
        "max_shift": recipe.max_shift,
        "epochs": epochs,
    }
    call = f"{name}(model, training_batches, validation_data, epochs={epochs}, callbacks=[watcher])"
    seen = _observe(train, spec)

    if not seen["compiled"]:
        raise CheckFailure(
            call,
            "the model compiled, then fitted",
            "a model never compiled",
            "call model.compile(optimizer=..., loss=..., metrics=['accuracy']) before model.fit",
        )
    ran = seen["batches"]
    if not ran:
        raise CheckFailure(
            call,
            "fit calling the callbacks it was given",
            "the check's callback never called",
            "pass the `callbacks` argument on to fit: callbacks=[*callbacks, ...]",
        )
    if len(ran) != epochs:
        raise CheckFailure(
            f"epochs that fit ran for {call}",
            epochs,
            len(ran),
            f"fit(..., epochs=epochs): the argument, not the recipe's {recipe.epochs}"
            if len(ran) == recipe.epochs
            else "fit(..., epochs=epochs)",
        )
    if any(count != steps_per_epoch for count in ran):
        raise CheckFailure(
            f"batches per epoch in {call}",
            f"{steps_per_epoch} (every batch of training_batches)",
            ran,
            "fit on training_batches itself (it gives the batch size and the shifts): no batch_size or steps_per_epoch",
        )
    wanted = {"loss", "accuracy", "val_loss", "val_accuracy"}
    measured = seen["epoch_log_names"][-1] if seen["epoch_log_names"] else []
    missing = sorted(wanted - set(measured))
    if missing:
        validation = any(name.startswith("val_") for name in missing)
        raise CheckFailure(
            f"what fit measured after each epoch of {call}",
            ", ".join(sorted(wanted)),
            ", ".join(measured) or "nothing",
            "fit(..., validation_data=validation_data): the curves need the validation set"
            if validation and "accuracy" not in missing
            else "compile(..., metrics=['accuracy'])",
        )
    if seen["history"] is None or not wanted <= set(seen["history"]):
        raise CheckFailure(
            f"what {name} returns",
            "the History that model.fit returns",
            seen["returned"],
            "return model.fit(...): the notebook draws the learning curves from it",
        )

    optimizer = seen["optimizer"]
    if recipe.optimizer == "sgd":
        wanted_optimizer = "SGD with momentum 0.9 and nesterov=True"
        if recipe.weight_decay:
            wanted_optimizer += f", weight_decay={recipe.weight_decay:g}"
        right = (
            optimizer["class"] == "SGD"
            and optimizer["momentum"] is not None
            and math.isclose(optimizer["momentum"], 0.9)
            and optimizer["nesterov"] is True
            and math.isclose(optimizer["weight_decay"] or 0.0, recipe.weight_decay)
        )
    else:
        wanted_optimizer, right = "Adam", optimizer["class"] == "Adam"
    if not right:
        got = optimizer["class"]
        if optimizer["class"] == "SGD":
            got += f" (momentum {optimizer['momentum']}, nesterov={optimizer['nesterov']}, weight_decay={optimizer['weight_decay']})"
        raise CheckFailure(
            f"the optimizer {name} compiles",
            wanted_optimizer,
            got,
            _optimizer_mistake(optimizer, recipe),
        )

    expected_rates = expected_learning_rates(recipe, steps_per_epoch, epochs)
    got_rates = np.asarray(seen["learning_rates"], dtype=np.float64)
    if got_rates.shape != expected_rates.shape or not np.allclose(
        got_rates, expected_rates, rtol=1e-4, atol=1e-7
    ):
        shown = ", ".join(f"{r:.4g}" for r in expected_rates)
        raise CheckFailure(
            f"the learning rate at each of the {len(expected_rates)} steps of {call}",
            shown,
            ", ".join(f"{r:.4g}" for r in got_rates),
            _schedule_mistake(got_rates, recipe, steps_per_epoch, epochs),
        )

    targets, outputs = loss_case(spec["seed"])
    wanted_loss = expected_loss(recipe, targets, outputs)
    if seen["loss"] is None or not math.isclose(seen["loss"], wanted_loss, rel_tol=1e-4):
        raise CheckFailure(
            f"the loss {name} compiles, on 16 one-hot targets and softmax outputs",
            f"{wanted_loss:.5f}",
            "no loss" if seen["loss"] is None else f"{seen['loss']:.5f}",
            _loss_mistake(seen["loss"] or 0.0, recipe, targets, outputs),
        )

    if seen["nan_run_batches"] != 1:
        raise CheckFailure(
            f"a run of {name} whose loss is NaN from the first batch (NaN images)",
            "training stopped after that batch",
            f"{seen['nan_run_batches']} batches trained",
            "the recipe's callbacks include keras.callbacks.TerminateOnNaN(): a run that diverged stops at once",
        )
    passed(
        f"{name} compiles {wanted_optimizer} with the recipe's learning rate at every step, "
        f"its loss (label smoothing {recipe.label_smoothing:g}) and accuracy, fits every batch for "
        f"`epochs` epochs with validation after each, passes your callbacks on, stops a NaN run, "
        "and returns the History"
    )
