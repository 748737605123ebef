"""The reference sweep: every check's hidden part, with the reference solutions, over many
random draws, in this process's platform configuration (TF_ENABLE_ONEDNN_OPTS,
DNNL_MAX_CPU_ISA are read when TensorFlow loads, so tests/test_reference_sweep.py starts one
process per configuration).

    python tests/reference_sweep.py --draws 2000

Prints one JSON object: for each check, the draws, the failure (None: the reference passed
every draw) and the oracle's disagreements with the exact computation, by operation.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
ROOT = Path(__file__).resolve().parents[1]


def sweep(draws: int, seed: int) -> dict:
    from grader.checks import CheckFailure, alexnet, lenet, oracle, padding, pooling
    from grader.notebook_cells import load_answers

    def answers(notebook: str) -> dict:
        return load_answers(ROOT / "solutions" / notebook / f"{notebook}.ipynb")

    r1, r2 = answers("01_pooling"), answers("02_padding")
    r3, r4 = answers("03_lenet5"), answers("04_alexnet")
    every_pool = dict(modes=("max", "avg", "min"), paddings=("valid", "same"))
    # check name -> (run with n random draws, how many draws one n stands for)
    checks = {
        "pool2d": (
            lambda n: pooling.check_pool2d(r1["pool2d"], **every_pool, seed=seed, n_random=n),
            1,
        ),
        "pool_output_shape": (
            lambda n: pooling.check_pool_output_shape(
                r1["pool_output_shape"], seed=seed, n_random=n
            ),
            1,
        ),
        "MinPooling2D": (
            lambda n: pooling.check_min_pooling_layer(r1["MinPooling2D"], seed=seed, n_random=n),
            1,
        ),
        "invariance_score": (
            lambda n: pooling.check_invariance_score(r1["invariance_score"], seed=seed, n_random=n),
            1,
        ),
        "pool2d_backward": (
            lambda n: pooling.check_pool2d_backward(r1["pool2d_backward"], seed=seed, n_random=n),
            1,
        ),
        "zero_pad": (lambda n: padding.check_zero_pad(r2["zero_pad"], seed=seed, n_random=n), 1),
        "conv_output_size": (
            lambda n: padding.check_conv_output_size(r2["conv_output_size"], seed=seed, n_random=n),
            1,
        ),
        "same_padding": (
            lambda n: padding.check_same_padding(r2["same_padding"], seed=seed, n_random=n),
            1,
        ),
        "conv2d": (
            lambda n: padding.check_conv2d(
                r2["conv2d"], paddings=("valid", "same", 1, 2, 3), seed=seed, n_random=n
            ),
            1,
        ),
        "conv2d_backward": (
            lambda n: padding.check_conv2d_backward(r2["conv2d_backward"], seed=seed, n_random=n),
            1,
        ),
        "preprocess": (
            lambda n: lenet.check_preprocess(r3["preprocess"], seed=seed, n_random=n),
            1,
        ),
        "lrn": (lambda n: alexnet.check_lrn(r4["lrn"], seed=seed, n_random=n), 1),
        "receptive_fields": (
            lambda n: alexnet.check_receptive_fields(r4["receptive_fields"], seed=seed, n_random=n),
            1,
        ),
        # each draw adds a convolution and a dense layer
        "multiply_adds": (
            lambda n: alexnet.check_multiply_adds(r4["multiply_adds"], seed=seed, n_random=n),
            2,
        ),
    }
    results = {}
    for name, (run, per_draw) in checks.items():
        oracle.disagreement_counts.clear()
        started = time.perf_counter()
        failure = None
        try:
            with contextlib.redirect_stdout(io.StringIO()):
                run(-(-draws // per_draw))
        except CheckFailure as error:
            failure = str(error)
        results[name] = {
            "draws": -(-draws // per_draw) * per_draw,
            "failure": failure,
            "disagreements": dict(oracle.disagreement_counts),
            "seconds": round(time.perf_counter() - started, 1),
        }
        print(f"{name}: {results[name]}", file=sys.stderr, flush=True)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--draws", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=2026)
    args = parser.parse_args()
    results = sweep(args.draws, args.seed)
    print(json.dumps(results))


if __name__ == "__main__":
    main()
