"""Benchmark: how much faster this machine does two independent jobs at once than one after
the other, for the work that dominates grading a notebook.

`class_grading.py` measures `grader grade`'s speed-up with 2 workers over 1. That figure
cannot exceed what the machine itself gives two processes that share nothing, so this script
measures that ceiling on the same machine, for three kinds of work:

- importing TensorFlow and Keras in a fresh interpreter (what every grading kernel and every
  checker does first; mostly page faults and relocation, so memory-bound);
- float32 matrix products on one thread (compute-bound, cache-friendly);
- a pure-Python loop (one core, almost no memory traffic).

Each job runs `--jobs` times one after the other, then `--jobs` times two at a time; the
speed-up is the serial wall time over the paired wall time (2.0 if two cores do two jobs
exactly as fast as one core does one).

    python bench/core_scaling.py            # about 2 minutes on 2 cores
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

RESULTS = Path(__file__).parent / "results" / "core_scaling.json"

JOBS = {
    "import tensorflow and keras": "import tensorflow, keras",
    "float32 matrix products, one thread": (
        "import numpy as np\n"
        "a = np.random.default_rng(0).random((1200, 1200), dtype=np.float32)\n"
        "for _ in range(60): a @ a\n"
    ),
    "pure-Python loop": "s = 0\nfor i in range(25_000_000): s += i\n",
}
ONE_THREAD = {"OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}


def _run(code: str, at_once: int) -> float:
    """Wall seconds for ``at_once`` fresh interpreters running ``code`` side by side."""
    environment = {**os.environ, **ONE_THREAD, "TF_CPP_MIN_LOG_LEVEL": "3"}
    started = time.perf_counter()
    processes = [
        subprocess.Popen([sys.executable, "-c", code], env=environment) for _ in range(at_once)
    ]
    for process in processes:
        if process.wait() != 0:
            raise RuntimeError(f"the job failed: {code!r}")
    return time.perf_counter() - started


def measure(code: str, jobs: int) -> dict:
    _run(code, 1)  # warm the page cache: every later run reads the same files from memory
    serial = [_run(code, 1) for _ in range(jobs)]
    paired = [_run(code, 2) for _ in range(jobs // 2)]
    return {
        "serial_s": [round(s, 2) for s in serial],
        "paired_s": [round(s, 2) for s in paired],
        "median_one_job_s": round(statistics.median(serial), 2),
        "median_two_jobs_at_once_s": round(statistics.median(paired), 2),
        "speedup_2_over_1": round(sum(serial) / sum(paired), 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=8, help="jobs per kind (even)")
    args = parser.parse_args()
    results = {}
    for name, code in JOBS.items():
        print(f"{name}: {args.jobs} jobs one at a time, then two at a time...", flush=True)
        results[name] = measure(code, args.jobs)
        print(json.dumps(results[name]), flush=True)
    record = {
        "benchmark": "two independent jobs at once against one after the other",
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
        f"Python {sys.version.split()[0]}",
        "jobs": results,
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(record, indent=1) + "\n")
    print(f"written to {RESULTS}")


if __name__ == "__main__":
    main()
