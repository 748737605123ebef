"""Calibrate a notebook's accuracy threshold over seeds and platform configurations.

    .venv/bin/python bench/calibrate.py lenet5 --seeds 0 1 2 3 4 5 6 7            # runs only
    .venv/bin/python bench/calibrate.py lenet5 --seeds 0 1 2 3 4 5 6 7 --calibrate

Each (configuration, seed) trains the reference solution from scratch as a student does (its
own training function, on the training set less the 5,000 validation images), in its own
process so that the configuration's environment (TF_ENABLE_ONEDNN_OPTS, DNNL_MAX_CPU_ISA)
takes effect before TensorFlow loads, and records the final validation and test accuracies
in bench/results/calibration_<notebook>.json as soon as it finishes (a run already recorded
under the same PROTOCOL is not repeated, so an interrupted calibration resumes). ``--calibrate`` then writes
grader/calibration/<notebook>.json from every recorded run:

    threshold = min(worst run, mean - k * sd), rounded down to 0.01 points,

where k is the one-sided normal tolerance factor for 99% coverage at 95% confidence
(grader.thresholds.tolerance_factor) for the number of distinct seeds (one seed on two
configurations is not two independent draws): if honest students' final accuracies are normal
around the recipe's mean (different seeds and CPUs change the order of float sums, nothing
else), at most 1% of them fall below the threshold, with 95% confidence given the number of
runs measured. The record states the estimated false-fail rate at the fitted mean and sd.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CONFIGURATIONS = {
    "onednn-on": {"TF_ENABLE_ONEDNN_OPTS": "1"},
    "onednn-off": {"TF_ENABLE_ONEDNN_OPTS": "0"},
    "onednn-avx2": {"TF_ENABLE_ONEDNN_OPTS": "1", "DNNL_MAX_CPU_ISA": "AVX2"},
}


# How a run trains and is measured; runs recorded under another protocol are not counted.
PROTOCOL = (
    "the reference solution's own training function (train_lenet5 / train_cifar_alexnet, or the "
    "recipe's compile and fit where the notebook has none), fit on the training set less its "
    "last 5,000 images (hold_out_validation), final accuracy on the test set"
)


def one_run(notebook: str, seed: int) -> dict:
    """Train the reference with the course recipe as a student does and return the final
    validation and test accuracies."""
    import time

    import keras
    import tensorflow as tf

    from grader.datasets import load_cifar10, load_mnist
    from grader.notebook_cells import load_answers
    from grader.training import (
        CIFAR_ALEXNET,
        LENET5,
        accuracy,
        hold_out_validation,
        train_from_scratch,
    )

    if notebook == "lenet5":
        answers = load_answers(ROOT / "solutions" / "03_lenet5" / "03_lenet5.ipynb")
        build, prepare = answers["build_lenet5"], answers["preprocess"]
        train = answers.get("train_lenet5")
        (x_train, y_train), (x_test, y_test) = load_mnist()
        x_train, x_test, recipe = prepare(x_train), prepare(x_test), LENET5
    else:
        answers = load_answers(ROOT / "solutions" / "04_alexnet" / "04_alexnet.ipynb")
        build, train = answers["build_cifar_alexnet"], answers.get("train_cifar_alexnet")
        (x_train, y_train), (x_test, y_test) = load_cifar10("jpeg")
        recipe = CIFAR_ALEXNET
    (x_fit, y_fit), validation = hold_out_validation(x_train, y_train)
    started = time.perf_counter()
    model = train_from_scratch(
        build, x_fit, y_fit, recipe, seed=seed, validation=validation, train=train
    )
    return {
        "seed": seed,
        "final_accuracy": accuracy(model, x_test, y_test),
        "final_validation_accuracy": accuracy(model, *validation),
        "train_seconds": round(time.perf_counter() - started, 1),
        "recipe": recipe.describe(),
        "protocol": PROTOCOL,
        "machine": machine(),
        "tensorflow": tf.__version__,
        "keras": keras.__version__,
    }


def machine() -> str:
    from grader.doctor import cpu_flags

    avx512 = any(flag.startswith("avx512") for flag in cpu_flags())
    return f"{platform.machine()}, {os.cpu_count()} cores, {'AVX-512' if avx512 else 'no AVX-512'}"


def results_path(notebook: str) -> Path:
    return ROOT / "bench" / "results" / f"calibration_{notebook}.json"


def load_results(notebook: str) -> dict:
    path = results_path(notebook)
    results = json.loads(path.read_text()) if path.exists() else {"notebook": notebook, "runs": []}
    results["runs"] = [run for run in results["runs"] if run.get("protocol") == PROTOCOL]
    return results


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("notebook", choices=["lenet5", "cifar_alexnet"])
    parser.add_argument("--seeds", type=int, nargs="+", default=list(range(8)))
    parser.add_argument(
        "--configs", nargs="*", choices=sorted(CONFIGURATIONS), default=["onednn-on", "onednn-off"]
    )
    parser.add_argument("--calibrate", action="store_true", help="write the calibration record")
    parser.add_argument("--one-run", type=int, help=argparse.SUPPRESS)  # the child process
    args = parser.parse_args()

    if args.one_run is not None:
        print(json.dumps(one_run(args.notebook, args.one_run)))
        return

    results = load_results(args.notebook)
    for config in args.configs:
        for seed in args.seeds:
            if any(r["config"] == config and r["seed"] == seed for r in results["runs"]):
                continue
            print(f"{args.notebook}: {config}, seed {seed}", flush=True)
            env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", **CONFIGURATIONS[config]}
            child = subprocess.run(
                [sys.executable, __file__, args.notebook, "--one-run", str(seed)],
                env=env,
                capture_output=True,
                text=True,
                check=True,
            )
            run = json.loads(child.stdout.strip().splitlines()[-1])
            run["config"] = config
            run["date"] = datetime.now(UTC).strftime("%Y-%m-%d")
            results["runs"].append(run)
            results_path(args.notebook).write_text(json.dumps(results, indent=2) + "\n")
            print(
                f"    final validation accuracy {run['final_validation_accuracy']:.4f}, "
                f"test accuracy {run['final_accuracy']:.4f} ({run['train_seconds']} s)"
            )

    if args.calibrate:
        from grader.thresholds import CALIBRATION_DIR, calibrated_threshold

        runs = results["runs"]
        record = {
            "command": f"python bench/calibrate.py {args.notebook} --calibrate",
            "date": datetime.now(UTC).strftime("%Y-%m-%d"),
            "recipe": runs[-1]["recipe"],
            "data": "load_mnist()" if args.notebook == "lenet5" else "load_cifar10('jpeg')",
            "protocol": PROTOCOL,
            "runs": [
                {
                    k: r[k]
                    for k in (
                        "config",
                        "seed",
                        "final_accuracy",
                        "final_validation_accuracy",
                        "train_seconds",
                        "machine",
                    )
                }
                for r in runs
            ],
            # Runs of one seed on several configurations are not independent draws.
            **calibrated_threshold(
                [r["final_accuracy"] for r in runs], len({r["seed"] for r in runs})
            ),
        }
        path = CALIBRATION_DIR / f"{args.notebook}.json"
        path.write_text(json.dumps(record, indent=2) + "\n")
        print(json.dumps({k: v for k, v in record.items() if k != "runs"}, indent=2))


if __name__ == "__main__":
    main()
