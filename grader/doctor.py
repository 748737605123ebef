"""``grader doctor``: can this machine be trusted to run the course's checks?

Students and instructors run it on their own machine. It says, in plain words:

1. the oracle: whether TensorFlow/Keras here computes what an exact NumPy computation
   computes, on random cases of every operation the checks use (among them the convolution
   shapes that TensorFlow 2.21's oneDNN kernels get wrong on some AVX-512 CPUs). A
   disagreement is not the student's problem (the checks then use the exact value), but it is
   reported, with the setting that avoids it;
2. the datasets: every file in the data folder against its checksum, and what is missing;
3. the sandbox: whether bubblewrap can isolate students' code here (for ``grader grade``).

Exit status 0 unless something a user must fix was found (a corrupt dataset).
"""

from __future__ import annotations

import os
import platform
from dataclasses import dataclass
from pathlib import Path

import numpy as np

OK, NOTE, PROBLEM = "ok", "note", "problem"
MARKS = {OK: "\N{CHECK MARK}", NOTE: "!", PROBLEM: "\N{BALLOT X}"}


@dataclass(frozen=True)
class Finding:
    status: str
    topic: str
    message: str

    def line(self) -> str:
        return f"{MARKS[self.status]} {self.topic}: {self.message}"


def cpu_flags() -> set[str]:
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return set()
    for line in text.splitlines():
        if line.startswith("flags"):
            return set(line.split(":", 1)[1].split())
    return set()


def platform_finding() -> Finding:
    import keras
    import tensorflow as tf

    flags = cpu_flags()
    avx512 = sorted(f for f in flags if f.startswith("avx512"))
    cpu = f"AVX-512 ({len(avx512)} extensions)" if avx512 else "no AVX-512" if flags else "unknown"
    onednn = os.environ.get("TF_ENABLE_ONEDNN_OPTS", "default (on)")
    isa = os.environ.get("DNNL_MAX_CPU_ISA")
    return Finding(
        OK,
        "platform",
        f"TensorFlow {tf.__version__}, Keras {keras.__version__}, Python "
        f"{platform.python_version()} on {platform.machine()}; CPU: {cpu}; "
        f"TF_ENABLE_ONEDNN_OPTS={onednn}" + (f", DNNL_MAX_CPU_ISA={isa}" if isa else ""),
    )


def oracle_findings(cases: int = 300, seed: int = 0) -> list[Finding]:
    """Keras against the exact computations on ``cases`` random cases per operation."""
    from grader.checks import oracle

    rng = np.random.default_rng(seed)
    oracle.disagreement_counts.clear()
    # The shape that exposed TensorFlow 2.21's oneDNN bug, then random ones like the hidden tests'.
    oracle.keras_conv2d(
        rng.standard_normal((2, 5, 5, 1)), rng.standard_normal((2, 4, 1, 1)), np.zeros(1), (1, 2)
    )
    for _ in range(cases):
        batch, h, w, c = (
            int(v) for v in (rng.integers(1, 3), *rng.integers(3, 11, 2), rng.integers(1, 4))
        )
        x = rng.standard_normal((batch, h, w, c))
        k = (int(rng.integers(1, min(h, 5) + 1)), int(rng.integers(1, min(w, 5) + 1)))
        s = (int(rng.integers(1, 4)), int(rng.integers(1, 4)))
        padding = str(rng.choice(["valid", "same"]))
        kernel = rng.standard_normal((*k, c, int(rng.integers(1, 5))))
        oracle.keras_conv2d(x, kernel, rng.standard_normal(kernel.shape[-1]), s, padding)
        oracle.keras_pool(x, k, s, padding, str(rng.choice(["max", "avg", "min"])))
        oracle.keras_zero_pad(x, int(rng.integers(0, 4)))
        settings = dict(k=2.0, n=int(rng.choice([1, 3, 5, 7])), alpha=1e-4, beta=0.75)
        oracle.keras_lrn(np.maximum(rng.normal(0, 60, (1, 3, 3, 12)), 0), **settings)
    oracle.take_disagreements()
    counts = dict(oracle.disagreement_counts)
    if not counts:
        return [
            Finding(
                OK,
                "oracle",
                f"Keras agrees with the exact NumPy computation on {cases} random cases of "
                "convolution, pooling, padding and LRN",
            )
        ]
    wrong = ", ".join(f"{op} ({n})" for op, n in sorted(counts.items()))
    return [
        Finding(
            NOTE,
            "oracle",
            f"TensorFlow here computed wrong values for some cases: {wrong}, of about {cases} "
            "each. The checks notice this and use the exact values, so grades are not affected. "
            "To make TensorFlow itself exact here, set TF_ENABLE_ONEDNN_OPTS=0 before starting "
            "Jupyter (or DNNL_MAX_CPU_ISA=AVX2).",
        )
    ]


def dataset_findings(data_dir: Path | None = None) -> list[Finding]:
    from grader.datasets import DatasetError, DataStore

    store = DataStore(data_dir)
    findings = []
    for name in sorted(store.registry):
        if not store.has(name):
            findings.append(
                Finding(
                    NOTE,
                    f"dataset {name}",
                    f"not in {store.directory}; the notebooks download it on first use where "
                    "a download is possible (see data/README.md)",
                )
            )
            continue
        try:
            store.path(name, download=False)
        except DatasetError as error:
            findings.append(Finding(PROBLEM, f"dataset {name}", str(error)))
        else:
            findings.append(Finding(OK, f"dataset {name}", "present, checksum verified"))
    return findings


def sandbox_finding() -> Finding:
    from grader.batch.sandbox import bubblewrap_problem

    problem = bubblewrap_problem()
    if problem:
        return Finding(
            NOTE,
            "sandbox",
            f"{problem}. Only `grader grade` needs it (students do not); without it, grading "
            "runs students' code unisolated and says so",
        )
    return Finding(OK, "sandbox", "bubblewrap can isolate students' code here")


def run(cases: int = 300, data_dir: Path | None = None) -> int:
    findings = [platform_finding(), *oracle_findings(cases), *dataset_findings(data_dir)]
    findings.append(sandbox_finding())
    for finding in findings:
        print(finding.line())
    problems = [f for f in findings if f.status == PROBLEM]
    notes = [f for f in findings if f.status == NOTE]
    print(
        f"{len(findings) - len(problems) - len(notes)} fine, {len(notes)} to know about, "
        f"{len(problems)} to fix"
    )
    return 1 if problems else 0
