"""LeNet-5 on MNIST: the course recipe's time to accuracy, against the classic recipe, and the
calibration of the notebook's accuracy threshold.

    .venv/bin/python bench/lenet5.py                # 3 seeds of each recipe (about 20 minutes on 2 cores)
    .venv/bin/python bench/lenet5.py --calibrate    # also rewrite grader/calibration/lenet5.json

Each run trains the reference solution (build_lenet5 and preprocess, taken from
solutions/03_lenet5) from scratch and evaluates the MNIST test set after every epoch. Training
time excludes those evaluations. Results go to bench/results/lenet5.json; medians and ratios are
printed and belong in bench/README.md.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import time
from datetime import UTC, datetime

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from grader.course import REPO_ROOT  # noqa: E402
from grader.datasets import load_mnist  # noqa: E402
from grader.notebook_cells import load_answers  # noqa: E402
from grader.thresholds import CALIBRATION_DIR, threshold_from  # noqa: E402
from grader.training import CLASSIC, LENET5, Recipe, accuracy, train_from_scratch  # noqa: E402

TARGET = 0.99
MARGIN = 0.0015  # 0.15 points: another seed, or another CPU summing floats in another order, lands a little lower


class EpochClock(keras.callbacks.Callback):
    """Training seconds (evaluation excluded) and test accuracy after each epoch."""

    def __init__(self, x_test, y_test):
        super().__init__()
        self.x_test, self.y_test, self.curve, self.trained = x_test, y_test, [], 0.0

    def on_train_begin(self, logs=None):
        # The recipe may call fit once per epoch (fresh augmentation each time): start the clock
        # once, and restart it after each evaluation, so augmentation counts as training time.
        if not self.curve and not hasattr(self, "started"):
            self.started = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        self.trained += time.perf_counter() - self.started
        self.curve.append((round(self.trained, 1), accuracy(self.model, self.x_test, self.y_test)))
        print(
            f"    epoch {epoch + 1}: {self.trained:6.1f} s trained, test accuracy {self.curve[-1][1]:.4f}",
            flush=True,
        )
        self.started = time.perf_counter()


def run(recipe: Recipe, build, x_train, y_train, x_test, y_test, seed: int) -> dict:
    clock = EpochClock(x_test, y_test)
    train_from_scratch(build, x_train, y_train, recipe, seed=seed, callbacks=[clock])
    reached = next((seconds for seconds, acc in clock.curve if acc >= TARGET), None)
    return {
        "seed": seed,
        "curve": clock.curve,
        "train_seconds": clock.curve[-1][0],
        "final_accuracy": clock.curve[-1][1],
        "seconds_to_target": reached,
    }


def time_to(curve, level):
    return next((seconds for seconds, acc in curve if acc >= level), None)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument(
        "--calibrate", action="store_true", help="write grader/calibration/lenet5.json"
    )
    parser.add_argument("--skip-classic", action="store_true")
    args = parser.parse_args()

    answers = load_answers(REPO_ROOT / "solutions" / "03_lenet5" / "03_lenet5.ipynb")
    build, preprocess = answers["build_lenet5"], answers["preprocess"]
    (x_train, y_train), (x_test, y_test) = load_mnist()
    course_inputs = (preprocess(x_train), y_train, preprocess(x_test), y_test)

    def unnormalised(images):  # the classic recipe: padded, raw 0..255 values
        return np.pad(images, ((0, 0), (2, 2), (2, 2)))[..., None].astype("float32")

    classic_inputs = (unnormalised(x_train), y_train, unnormalised(x_test), y_test)

    results = {
        "machine": {
            "processor": platform.processor() or platform.machine(),
            "cores": os.cpu_count(),
            "tensorflow": tf.__version__,
            "keras": keras.__version__,
        },
        "date": datetime.now(UTC).strftime("%Y-%m-%d"),
        "target_accuracy": TARGET,
        "recipes": {},
    }
    plans = [(LENET5, course_inputs)] + ([] if args.skip_classic else [(CLASSIC, classic_inputs)])
    for recipe, inputs in plans:
        runs = []
        for seed in args.seeds:
            print(f"{recipe.name}, seed {seed}: {recipe.describe()}", flush=True)
            runs.append(run(recipe, build, *inputs, seed=seed))
        reached = [r["seconds_to_target"] for r in runs if r["seconds_to_target"] is not None]
        results["recipes"][recipe.name] = {
            "description": recipe.describe(),
            "runs": runs,
            "median_train_seconds": statistics.median(r["train_seconds"] for r in runs),
            "median_final_accuracy": statistics.median(r["final_accuracy"] for r in runs),
            "worst_final_accuracy": min(r["final_accuracy"] for r in runs),
            "runs_reaching_target": f"{len(reached)} of {len(runs)}",
            "median_seconds_to_target": statistics.median(reached)
            if len(reached) == len(runs)
            else None,
        }

    course = results["recipes"][LENET5.name]
    if CLASSIC.name in results["recipes"]:
        classic = results["recipes"][CLASSIC.name]
        # Time for each recipe to reach the classic recipe's median final accuracy.
        level = classic["median_final_accuracy"]
        course_times = [time_to(r["curve"], level) for r in course["runs"]]
        classic_times = [time_to(r["curve"], level) for r in classic["runs"]]
        if all(t is not None for t in course_times + classic_times):
            results["speedup_to_classic_final_accuracy"] = {
                "level": level,
                "course_median_seconds": statistics.median(course_times),
                "classic_median_seconds": statistics.median(classic_times),
                "ratio": round(
                    statistics.median(classic_times) / statistics.median(course_times), 2
                ),
            }
    out = REPO_ROOT / "bench" / "results" / "lenet5.json"
    out.write_text(json.dumps(results, indent=2) + "\n")
    print(json.dumps({k: v for k, v in results.items() if k != "recipes"}, indent=2))
    for name, summary in results["recipes"].items():
        print(name, {k: v for k, v in summary.items() if k != "runs"})

    if args.calibrate:
        accuracies = [r["final_accuracy"] for r in course["runs"]]
        record = {
            "command": "python bench/lenet5.py --calibrate",
            "date": results["date"],
            "machine": results["machine"],
            "recipe": LENET5.describe(),
            "seeds": args.seeds,
            "final_test_accuracies": accuracies,
            "margin": MARGIN,
            "threshold": threshold_from(accuracies, MARGIN),
            "rule": "threshold = worst final test accuracy - margin, rounded down to 0.01 percentage points",
        }
        (CALIBRATION_DIR / "lenet5.json").write_text(json.dumps(record, indent=2) + "\n")
        print("calibration:", json.dumps(record))


if __name__ == "__main__":
    main()
