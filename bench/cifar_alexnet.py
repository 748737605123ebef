"""The CIFAR-10 AlexNet of notebook 04: the course recipe's test accuracy against CPU training
time, against a plain baseline (Adam, no augmentation). Still on the older protocol (the test
set's curve, the whole training set), as notebook 04 itself until it holds out a validation
set as notebook 03 does (bench/lenet5.py shows the protocol: recipe_runs.run with ``test``).

    .venv/bin/python bench/cifar_alexnet.py                # 3 seeds of each recipe (about an hour on 2 cores)

Each run trains the reference build_cifar_alexnet() (taken from solutions/04_alexnet) from
scratch on the 50,000 training images and evaluates the 10,000 test images after every epoch;
training time excludes those evaluations. The baseline trains the same network without its
augmentation layers. Data: data/cifar10_jpeg.npz, the course machines' complete CIFAR-10 copy
whose images mostly went through JPEG (see data/README.md); the results say which file was used.
Results go to bench/results/cifar_alexnet.json; medians and ratios are printed and belong in
bench/README.md. The run with the notebook's seed also fills the example-weights cache.
"""

from __future__ import annotations

import argparse
import json
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
from recipe_runs import header, run, speedup, summarize  # noqa: E402

from grader import example_weights  # noqa: E402
from grader.course import REPO_ROOT  # noqa: E402
from grader.datasets import CIFAR10_FILES, DataStore, load_cifar10  # noqa: E402
from grader.notebook_cells import load_answers  # noqa: E402
from grader.training import (  # noqa: E402
    CIFAR_ALEXNET,
    CIFAR_ALEXNET_SEED,
    CIFAR_BASELINE,
    without_augmentation,
)

TARGET = 0.78  # the target: at least 78% within 10 minutes of training (stretch: 80%)
DATA_VARIANT = "jpeg"
RESULTS = REPO_ROOT / "bench" / "results" / "cifar_alexnet.json"
CURVE = REPO_ROOT / "bench" / "results" / "cifar_alexnet_curve.png"
LABELS = {
    "cifar_alexnet": "course recipe: SGD + warm-up + cosine, flips, label smoothing",
    "cifar_baseline": "baseline: Adam 1e-3, no augmentation",
}
# The example weights train on load_cifar10()'s default, which is this file unless the original
# CIFAR-10 is present.
DATA_VARIANT_IS_DEFAULT = not DataStore().has(CIFAR10_FILES["original"])


class KeepExampleWeights(keras.callbacks.Callback):
    """The notebook seed's run is exactly what grader/example_weights.py would train: save its
    first epoch ("undertrained") and its end ("reference") in that cache, instead of training
    them again for the grading-chain test."""

    def on_epoch_end(self, epoch, logs=None):
        if epoch == 0:
            example_weights.store(
                self.model, example_weights.cached_path("04_alexnet", "undertrained")
            )

    def on_train_end(self, logs=None):
        example_weights.store(self.model, example_weights.cached_path("04_alexnet", "reference"))


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    # The notebook's seed first: its run also gives the example students' weights.
    seeds = [CIFAR_ALEXNET_SEED, CIFAR_ALEXNET_SEED + 1, CIFAR_ALEXNET_SEED + 2]
    parser.add_argument("--seeds", type=int, nargs="+", default=seeds)
    parser.add_argument("--baseline-seeds", type=int, nargs="*", default=None)
    parser.add_argument(
        "--report-only",
        action="store_true",
        help="recompute the ratios and redraw the curve from the saved runs, without training",
    )
    args = parser.parse_args()
    if args.report_only:
        report(json.loads(RESULTS.read_text()))
        return
    baseline_seeds = args.seeds if args.baseline_seeds is None else args.baseline_seeds

    build = load_answers(REPO_ROOT / "solutions" / "04_alexnet" / "04_alexnet.ipynb")[
        "build_cifar_alexnet"
    ]
    (x_train, y_train), (x_test, y_test) = load_cifar10(DATA_VARIANT)
    data = (x_train, y_train, x_test, y_test)

    results = header(TARGET)
    results["data"] = f"load_cifar10({DATA_VARIANT!r})"
    plans = [
        (CIFAR_ALEXNET, build, args.seeds),
        (CIFAR_BASELINE, without_augmentation(build), baseline_seeds),
    ]
    for recipe, builder, seeds in plans:
        runs = []
        for seed in seeds:
            print(f"{recipe.name}, seed {seed}: {recipe.describe()}", flush=True)
            keep = (
                recipe is CIFAR_ALEXNET and seed == CIFAR_ALEXNET_SEED and DATA_VARIANT_IS_DEFAULT
            )
            callbacks = [KeepExampleWeights()] if keep else []
            runs.append(run(recipe, builder, *data, seed=seed, target=TARGET, callbacks=callbacks))
            results["recipes"][recipe.name] = summarize(recipe, runs)
            save(results)  # after every run: a long benchmark stopped early keeps what it measured

    report(results)


def report(results: dict) -> None:
    """The ratio against the baseline, the curve figure and the printed summary."""
    if CIFAR_BASELINE.name in results["recipes"]:
        ratio = speedup(
            results["recipes"][CIFAR_ALEXNET.name], results["recipes"][CIFAR_BASELINE.name]
        )
        if ratio:
            results["speedup_to_baseline_final_accuracy"] = ratio
    save(results)
    plot(results)
    print(json.dumps({k: v for k, v in results.items() if k != "recipes"}, indent=2))
    for name, summary in results["recipes"].items():
        print(name, {k: v for k, v in summary.items() if k != "runs"})


def save(results: dict) -> None:
    RESULTS.write_text(json.dumps(results, indent=2) + "\n")


def plot(results: dict) -> None:
    """Test accuracy against minutes of training, every run of every recipe."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4.5))
    for (name, summary), colour in zip(
        results["recipes"].items(), ("tab:blue", "tab:gray"), strict=False
    ):
        for number, one in enumerate(summary["runs"]):
            minutes = [0] + [seconds / 60 for seconds, _ in one["curve"]]
            accuracies = [0.1] + [acc for _, acc in one["curve"]]
            label = (
                f"{LABELS.get(name, name)} ({len(summary['runs'])} seeds)" if number == 0 else None
            )
            ax.plot(minutes, accuracies, marker="o", ms=3, color=colour, alpha=0.8, label=label)
    ax.axhline(results["target_accuracy"], color="black", ls="--", lw=1, label="target")
    ax.axvline(10, color="black", ls=":", lw=1)
    ax.set(
        xlabel="minutes of training (2-core CPU)", ylabel="CIFAR-10 test accuracy", ylim=(0.1, 0.9)
    )
    ax.set_title(
        f"AlexNet-style CIFAR-10 network, {results['data']}, {results['date']}", fontsize=10
    )
    ax.legend(fontsize=7, loc="lower right")
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(CURVE, dpi=120)


if __name__ == "__main__":
    main()
