"""The CIFAR-10 AlexNet of notebook 04: the course recipe's validation accuracy against CPU
training time, against a plain baseline (Adam, no augmentation). (The notebook's accuracy
threshold is calibrated by bench/calibrate.py.)

    .venv/bin/python bench/cifar_alexnet.py                # 3 seeds of each recipe (about an hour on 2 cores)
    .venv/bin/python bench/cifar_alexnet.py --choices      # the network's trials (about 30 minutes)

Each run trains the reference build_cifar_alexnet() (taken from solutions/04_alexnet) from
scratch on the first 45,000 training images, as the notebook does, and evaluates the 5,000
held-out validation images after every epoch: the recipes are compared on those curves. The
test set is measured once per run, after the last epoch. Training time excludes the
evaluations. The baseline trains the same network without its augmentation layers. Data:
data/cifar10_jpeg.npz, the course machines' complete CIFAR-10 copy whose images mostly went
through JPEG (see data/README.md); the results say which file was used. Results go to
bench/results/cifar_alexnet.json; medians and ratios are printed and belong in bench/README.md.

``--choices`` measures the choices the network was made from, with the course recipe and the
notebook's seed, on the validation set: random shifts of up to 4 pixels beside the flips, and
AlexNet's dropout rate of 0.5 against the course's 0.3, each alone and both together. The
course's own network with that seed is bench/calibrate.py's run of it (oneDNN on; the same
computation), not trained again. Results go to bench/results/cifar_alexnet_choices.json.
"""

from __future__ import annotations

import argparse
import json
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from recipe_runs import header, run, speedup, summarize  # noqa: E402

from grader.course import REPO_ROOT  # noqa: E402
from grader.datasets import load_cifar10  # noqa: E402
from grader.notebook_cells import load_answers  # noqa: E402
from grader.training import (  # noqa: E402
    CIFAR_ALEXNET,
    CIFAR_ALEXNET_SEED,
    CIFAR_BASELINE,
    hold_out_validation,
    without_augmentation,
)

TARGET = 0.78  # the target: at least 78% within 10 minutes of training (stretch: 80%)
DATA_VARIANT = "jpeg"
RESULTS = REPO_ROOT / "bench" / "results" / "cifar_alexnet.json"
CURVE = REPO_ROOT / "bench" / "results" / "cifar_alexnet_curve.png"
CHOICES_RESULTS = REPO_ROOT / "bench" / "results" / "cifar_alexnet_choices.json"
LABELS = {
    "cifar_alexnet": "course recipe: SGD + warm-up + cosine, flips, label smoothing",
    "cifar_baseline": "baseline: Adam 1e-3, no augmentation",
}


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    seeds = [CIFAR_ALEXNET_SEED, CIFAR_ALEXNET_SEED + 1, CIFAR_ALEXNET_SEED + 2]
    parser.add_argument("--seeds", type=int, nargs="+", default=seeds)
    parser.add_argument("--baseline-seeds", type=int, nargs="*", default=None)
    parser.add_argument(
        "--choices", action="store_true", help="measure the network's trials (see above), only"
    )
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
    (x_train, y_train), test = load_cifar10(DATA_VARIANT)
    (x_fit, y_fit), (x_val, y_val) = hold_out_validation(x_train, y_train)

    if args.choices:
        measure_choices(build, (x_fit, y_fit, x_val, y_val), test)
        return

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
            runs.append(
                run(
                    recipe, builder, x_fit, y_fit, x_val, y_val, seed=seed, target=TARGET, test=test
                )
            )
            results["recipes"][recipe.name] = summarize(recipe, runs)
            save(results)  # after every run: a long benchmark stopped early keeps what it measured

    report(results)


# The network's trials: (random shifts beside the flips, dropout rate of fc6 and fc7).
COURSE_CHOICE = "flips, dropout 0.3 (the course's)"
CHOICES = {
    COURSE_CHOICE: (False, 0.3),
    "flips and shifts of up to 4 px, dropout 0.3": (True, 0.3),
    "flips, dropout 0.5 (AlexNet's)": (False, 0.5),
    "flips and shifts of up to 4 px, dropout 0.5": (True, 0.5),
}


def network_variant(build, *, shifts: bool, dropout: float):
    """A builder of the reference network with RandomTranslation(0.125, 0.125) after its flip
    (``shifts``) and the given dropout rate."""
    import keras

    def build_variant():
        model = build()
        layers = [keras.Input(model.input_shape[1:])]
        for layer in model.layers:
            config = layer.get_config()
            if isinstance(layer, keras.layers.Dropout):
                config["rate"] = dropout
            layers.append(type(layer).from_config(config))
            if shifts and isinstance(layer, keras.layers.RandomFlip):
                layers.append(keras.layers.RandomTranslation(0.125, 0.125, fill_mode="reflect"))
        return keras.Sequential(layers, name=f"{model.name}_variant")

    return build_variant


def measure_choices(build, data, test) -> None:
    """Train each trial network not measured yet, saving after each; print them all."""
    results = (
        json.loads(CHOICES_RESULTS.read_text())
        if CHOICES_RESULTS.exists()
        else {
            **header(TARGET),
            "data": f"load_cifar10({DATA_VARIANT!r})",
            "seed": CIFAR_ALEXNET_SEED,
            "runs": {},
        }
    )
    results.pop("recipes", None)  # header's: the trials are runs of one recipe
    results["runs"][COURSE_CHOICE] = calibration_run(CIFAR_ALEXNET_SEED)
    for name, (shifts, dropout) in CHOICES.items():
        if name in results["runs"]:
            continue
        print(f"{name}, seed {CIFAR_ALEXNET_SEED}", flush=True)
        variant = network_variant(build, shifts=shifts, dropout=dropout)
        results["runs"][name] = run(
            CIFAR_ALEXNET, variant, *data, seed=CIFAR_ALEXNET_SEED, target=TARGET, test=test
        )
        CHOICES_RESULTS.write_text(json.dumps(results, indent=2) + "\n")
    CHOICES_RESULTS.write_text(json.dumps(results, indent=2) + "\n")
    for name, one in results["runs"].items():
        print(
            f"{name}: final validation accuracy {one['final_accuracy']:.2%}, "
            f"test {one['final_test_accuracy']:.2%}"
        )


def calibration_run(seed: int) -> dict:
    """The course network's run with ``seed`` and oneDNN on, from bench/calibrate.py's record
    (the validation set held out as here), in this benchmark's terms."""
    calibration = json.loads(
        (REPO_ROOT / "bench" / "results" / "calibration_cifar_alexnet.json").read_text()
    )
    one = next(r for r in calibration["runs"] if r["seed"] == seed and r["config"] == "onednn-on")
    return {
        "seed": seed,
        "curve_of": "validation",
        "final_accuracy": one["final_validation_accuracy"],
        "final_test_accuracy": one["final_accuracy"],
        "from": "bench/results/calibration_cifar_alexnet.json (oneDNN on)",
    }


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
    """Validation accuracy against minutes of training, every run of every recipe."""
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
        xlabel="minutes of training (2-core CPU)",
        ylabel="CIFAR-10 validation accuracy (last 5,000 training images)",
        ylim=(0.1, 0.9),
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
