"""The reference solutions pass every check's hidden part on every platform configuration,
and, where TensorFlow's kernels are exact (oneDNN off), the oracle's exact NumPy computations
never disagree with Keras: the verification is itself verified.

Draws per check: CNN_COURSE_SWEEP_DRAWS (default 200, about a minute per configuration;
`make sweep` runs 2,000, about 5 minutes per configuration on 2 cores).
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

DRAWS = int(os.environ.get("CNN_COURSE_SWEEP_DRAWS", "200"))
# Other CPUs emulated on this one: oneDNN off (TensorFlow's reference kernels), on, and on with
# its instruction set capped (a CPU without AVX-512, one with AVX-512 but none of its extensions).
CONFIGURATIONS = {
    "onednn-off": {"TF_ENABLE_ONEDNN_OPTS": "0"},
    "onednn-on": {"TF_ENABLE_ONEDNN_OPTS": "1"},
    "onednn-avx2": {"TF_ENABLE_ONEDNN_OPTS": "1", "DNNL_MAX_CPU_ISA": "AVX2"},
    "onednn-avx512-core": {"TF_ENABLE_ONEDNN_OPTS": "1", "DNNL_MAX_CPU_ISA": "AVX512_CORE"},
}
SWEEP = Path(__file__).with_name("reference_sweep.py")


def run_sweep(environment: dict) -> dict:
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("TF_ENABLE_ONEDNN_OPTS", "DNNL_MAX_CPU_ISA")
    }
    result = subprocess.run(
        [sys.executable, str(SWEEP), "--draws", str(DRAWS)],
        env={**env, **environment},
        capture_output=True,
        text=True,
        check=True,
        timeout=3600,
    )
    return json.loads(result.stdout.strip().splitlines()[-1])


@pytest.mark.slow
@pytest.mark.long
@pytest.mark.parametrize("configuration", CONFIGURATIONS)
def test_the_reference_passes_every_hidden_draw(configuration):
    results = run_sweep(CONFIGURATIONS[configuration])
    print(json.dumps({configuration: results}))
    failures = {name: r["failure"] for name, r in results.items() if r["failure"]}
    assert not failures, failures
    assert all(r["draws"] >= DRAWS for r in results.values())
    if configuration == "onednn-off":
        disagreements = {
            name: r["disagreements"] for name, r in results.items() if r["disagreements"]
        }
        assert not disagreements, (
            "the exact computations disagree with TensorFlow's reference kernels: "
            f"the oracle's NumPy side is wrong somewhere: {disagreements}"
        )
