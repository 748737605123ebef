"""What the training benchmarks share: train a recipe over several seeds, timing each epoch
(evaluation excluded), and summarise the runs as medians and ratios.

Recipes are compared on the accuracy curve of an evaluation set measured after every epoch:
the validation set (the last 5,000 training images, never trained on) where the benchmark
holds one out, so that the test set plays no part in choosing a recipe and is measured once,
after the last epoch."""

from __future__ import annotations

import math
import os
import platform
import statistics
import time
from datetime import UTC, datetime

import keras
import tensorflow as tf

from grader.training import Recipe, accuracy, train_from_scratch


class EpochClock(keras.callbacks.Callback):
    """Training seconds (evaluation excluded) and the evaluation set's accuracy after each
    epoch."""

    def __init__(self, x_eval, y_eval, name: str = "validation"):
        super().__init__()
        self.x_eval, self.y_eval, self.name, self.curve, self.trained = (
            x_eval,
            y_eval,
            name,
            [],
            0.0,
        )

    def on_train_begin(self, logs=None):
        # The recipe may call fit once per epoch (fresh augmentation each time): start the clock
        # once, and restart it after each evaluation, so augmentation counts as training time.
        if not self.curve and not hasattr(self, "started"):
            self.started = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        self.trained += time.perf_counter() - self.started
        self.curve.append((round(self.trained, 1), accuracy(self.model, self.x_eval, self.y_eval)))
        print(
            f"    epoch {epoch + 1}: {self.trained:6.1f} s trained, {self.name} accuracy {self.curve[-1][1]:.4f}",
            flush=True,
        )
        self.started = time.perf_counter()


def time_to(curve, level):
    """Seconds of training until the curve's accuracy first reached ``level`` (None: never)."""
    return next((seconds for seconds, acc in curve if acc >= level), None)


def run(
    recipe: Recipe,
    build,
    x_train,
    y_train,
    x_eval,
    y_eval,
    seed: int,
    target: float,
    callbacks=(),
    test: tuple | None = None,
) -> dict:
    """One run of ``recipe``, its curve measured on (x_eval, y_eval) after every epoch. With
    ``test`` (images, labels), (x_eval, y_eval) is a validation set and the test set is
    measured once, at the end; without, the curve is the test set's (the older protocol)."""
    clock = EpochClock(x_eval, y_eval, "validation" if test is not None else "test")
    model = train_from_scratch(
        build, x_train, y_train, recipe, seed=seed, callbacks=[clock, *callbacks]
    )
    result = {
        "seed": seed,
        "curve": clock.curve,
        "curve_of": clock.name,
        "train_seconds": clock.curve[-1][0],
        "final_accuracy": clock.curve[-1][1],
        "seconds_to_target": time_to(clock.curve, target),
    }
    if test is not None:
        result["final_test_accuracy"] = accuracy(model, *test)
    return result


def summarize(recipe: Recipe, runs: list[dict]) -> dict:
    reached = [r["seconds_to_target"] for r in runs if r["seconds_to_target"] is not None]
    return {
        "description": recipe.describe(),
        "runs": runs,
        "median_train_seconds": statistics.median(r["train_seconds"] for r in runs),
        "median_final_accuracy": statistics.median(r["final_accuracy"] for r in runs),
        "worst_final_accuracy": min(r["final_accuracy"] for r in runs),
        **(
            {
                "median_final_test_accuracy": statistics.median(
                    r["final_test_accuracy"] for r in runs
                )
            }
            if all("final_test_accuracy" in r for r in runs)
            else {}
        ),
        "runs_reaching_target": f"{len(reached)} of {len(runs)}",
        "median_seconds_to_target": statistics.median(reached)
        if len(reached) == len(runs)
        else None,
    }


def epochs_to(curve, level):
    """Epochs of training until the curve's accuracy first reached ``level`` (None: never)."""
    return next((epoch for epoch, (_, acc) in enumerate(curve, 1) if acc >= level), None)


def _median_or_never(values):
    """Median where None means "never reached"; None if the median run never reached it."""
    middle = statistics.median(math.inf if v is None else v for v in values)
    return None if math.isinf(middle) else middle


def speedup(course: dict, baseline: dict) -> dict | None:
    """Time (and epochs) for each recipe's median run to reach the baseline's median final
    accuracy, and their ratios. The epoch ratio does not depend on how busy the machine was."""
    level = baseline["median_final_accuracy"]
    seconds = {
        name: _median_or_never(time_to(r["curve"], level) for r in summary["runs"])
        for name, summary in (("course", course), ("baseline", baseline))
    }
    epochs = {
        name: _median_or_never(epochs_to(r["curve"], level) for r in summary["runs"])
        for name, summary in (("course", course), ("baseline", baseline))
    }
    if None in seconds.values() or None in epochs.values():
        return None
    return {
        "level": level,
        "course_median_seconds": seconds["course"],
        "baseline_median_seconds": seconds["baseline"],
        "ratio": round(seconds["baseline"] / seconds["course"], 2),
        "course_median_epochs": epochs["course"],
        "baseline_median_epochs": epochs["baseline"],
        "epoch_ratio": round(epochs["baseline"] / epochs["course"], 2),
    }


def header(target: float) -> dict:
    return {
        "machine": {
            "processor": platform.processor() or platform.machine(),
            "cores": os.cpu_count(),
            "tensorflow": tf.__version__,
            "keras": keras.__version__,
        },
        "date": datetime.now(UTC).strftime("%Y-%m-%d"),
        "target_accuracy": target,
        "recipes": {},
    }
