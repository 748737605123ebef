"""LeNet-5 on MNIST: the course recipe's time to accuracy, against the classic recipe, judged
on the validation set. (The notebook's accuracy threshold is calibrated by bench/calibrate.py.)

    .venv/bin/python bench/lenet5.py                # 3 seeds of each recipe (about 20 minutes on 2 cores)

Each run trains the reference solution (build_lenet5 and preprocess, taken from
solutions/03_lenet5) from scratch on the first 55,000 training digits, as the notebook does,
and evaluates the 5,000 held-out validation digits after every epoch: the recipes are compared
on those curves. The test set is measured once per run, after the last epoch. Training time
excludes the evaluations. Results go to bench/results/lenet5.json; medians and ratios are
printed and belong in bench/README.md.
"""

from __future__ import annotations

import argparse
import json
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402
from recipe_runs import header, run, speedup, summarize  # noqa: E402

from grader.course import REPO_ROOT  # noqa: E402
from grader.datasets import load_mnist  # noqa: E402
from grader.notebook_cells import load_answers  # noqa: E402
from grader.training import CLASSIC, LENET5, hold_out_validation  # noqa: E402

TARGET = 0.99


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--skip-classic", action="store_true")
    args = parser.parse_args()

    answers = load_answers(REPO_ROOT / "solutions" / "03_lenet5" / "03_lenet5.ipynb")
    build, preprocess = answers["build_lenet5"], answers["preprocess"]
    (x_train, y_train), (x_test, y_test) = load_mnist()

    def split(prepare):
        """(fit images, labels, validation images, labels), and the test set apart."""
        (x_fit, y_fit), (x_val, y_val) = hold_out_validation(prepare(x_train), y_train)
        return (x_fit, y_fit, x_val, y_val), (prepare(x_test), y_test)

    def unnormalised(images):  # the classic recipe: padded, raw 0..255 values
        return np.pad(images, ((0, 0), (2, 2), (2, 2)))[..., None].astype("float32")

    course_inputs, classic_inputs = split(preprocess), split(unnormalised)

    results = header(TARGET)
    plans = [(LENET5, course_inputs)] + ([] if args.skip_classic else [(CLASSIC, classic_inputs)])
    for recipe, (inputs, test) in plans:
        runs = []
        for seed in args.seeds:
            print(f"{recipe.name}, seed {seed}: {recipe.describe()}", flush=True)
            runs.append(run(recipe, build, *inputs, seed=seed, target=TARGET, test=test))
        results["recipes"][recipe.name] = summarize(recipe, runs)

    if CLASSIC.name in results["recipes"]:
        ratio = speedup(results["recipes"][LENET5.name], results["recipes"][CLASSIC.name])
        if ratio:
            results["speedup_to_classic_final_accuracy"] = ratio
    out = REPO_ROOT / "bench" / "results" / "lenet5.json"
    out.write_text(json.dumps(results, indent=2) + "\n")
    print(json.dumps({k: v for k, v in results.items() if k != "recipes"}, indent=2))
    for name, summary in results["recipes"].items():
        print(name, {k: v for k, v in summary.items() if k != "runs"})


if __name__ == "__main__":
    main()
