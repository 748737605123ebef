"""Realistic answers (tests/answer_corpus.py) through the notebooks' own test cells: every
correct alternative passes, every wrong answer fails with its cause named. The rates are
printed at the end of the run (tests/conftest.py)."""

from __future__ import annotations

import contextlib
import functools
import io
import re
from collections import Counter

import pytest
from answer_corpus import CORPUS, Entry
from cause_catalog import all_causes

from grader.checks import CheckFailure
from grader.course import REPO_ROOT
from grader.notebook_cells import graded_cells, load_answers, read

NOTEBOOKS = {
    "01_pooling": "pooling",
    "02_padding": "padding",
    "03_lenet5": "lenet",
    "04_alexnet": "alexnet",
}
# The answer each entry replaces -> (notebook, the test cells that grade it, in order).
TESTS = {
    "pool2d": ("01_pooling", ["test_pool2d_valid", "test_pool2d_same", "test_pool2d_min"]),
    "pool_output_shape": ("01_pooling", ["test_pool_output_shape"]),
    "MinPooling2D": ("01_pooling", ["test_min_pooling_layer"]),
    "invariance_score": ("01_pooling", ["test_invariance_score"]),
    "pool2d_backward": ("01_pooling", ["test_pool2d_backward"]),
    "zero_pad": ("02_padding", ["test_zero_pad"]),
    "conv_output_size": ("02_padding", ["test_conv_output_size"]),
    "same_padding": ("02_padding", ["test_same_padding"]),
    "conv2d": ("02_padding", ["test_conv2d_valid", "test_conv2d_padded"]),
    "conv2d_backward": ("02_padding", ["test_conv2d_backward"]),
    "shape_table": ("02_padding", ["test_shape_table"]),
    "broken_shapes": ("02_padding", ["test_broken_shapes"]),
    "fixed_alexnet": ("02_padding", ["test_fixed_alexnet"]),
    "build_lenet5": ("03_lenet5", ["test_build_lenet5"]),
    "preprocess": ("03_lenet5", ["test_preprocess"]),
    "flatten_sizes": ("03_lenet5", ["test_flatten_sizes"]),
    "train_lenet5": ("03_lenet5", ["test_train_lenet5"]),
    "build_alexnet": ("04_alexnet", ["test_build_alexnet"]),
    # The notebook's optional, ungraded two-GPU check (a source line instead of a grade_id).
    "build_alexnet(groups=2)": (
        "04_alexnet",
        ["check.check_build_alexnet(build_alexnet, groups=2)"],
    ),
    "lrn": ("04_alexnet", ["test_lrn"]),
    "multiply_adds": ("04_alexnet", ["test_multiply_adds"]),
    "receptive_fields": ("04_alexnet", ["test_receptive_fields"]),
    "build_cifar_alexnet": ("04_alexnet", ["test_build_cifar_alexnet"]),
    "train_cifar_alexnet": ("04_alexnet", ["test_train_cifar_alexnet"]),
}
HIDDEN_SEED = 20260  # hidden parts draw with seed=None when grading; a fixed seed here


@functools.cache
def _notebook(notebook: str):
    path = REPO_ROOT / "solutions" / notebook / f"{notebook}.ipynb"
    return load_answers(path), graded_cells(read(path))


RESULTS: dict[Entry, tuple[bool, str | None, str]] = {}


def grade(entry: Entry) -> tuple[bool, str | None, str]:
    """(passed, likely cause, the failure's text) for one entry, graded once."""
    if entry not in RESULTS:
        RESULTS[entry] = _grade(entry)
    return RESULTS[entry]


def _grade(entry: Entry) -> tuple[bool, str | None, str]:
    import importlib

    notebook, test_ids = TESTS[entry.answer]
    answers, tests = _notebook(notebook)
    namespace = dict(answers)
    namespace["check"] = importlib.import_module(f"grader.checks.{NOTEBOOKS[notebook]}")
    exec(compile(entry.code, f"<{entry.answer}: {entry.name}>", "exec"), namespace)
    for test_id in test_ids:
        source = tests[test_id].source if test_id in tests else test_id
        source = re.sub(r"seed=None", f"seed={HIDDEN_SEED}", source)
        try:
            with contextlib.redirect_stdout(io.StringIO()):
                exec(compile(source, test_id, "exec"), namespace)
        except CheckFailure as failure:
            return False, failure.cause, str(failure)
        except Exception as error:  # the student's code crashed: 0 points, no diagnosis
            return False, None, f"{type(error).__name__}: {error}"
    return True, None, ""


def outcome(entry: Entry) -> str:
    passed, cause, _ = grade(entry)
    if entry.correct:
        return "right" if passed else "false fail"
    if passed:
        return "false pass"
    if not cause:
        return "no cause"
    hedged = cause.startswith(("possibly", "one of these"))
    if entry.cause in cause:
        return "right, among others" if hedged else "right"
    return "unsure" if hedged else "wrong cause"


@pytest.mark.parametrize("entry", CORPUS, ids=lambda e: f"{e.answer}: {e.name}")
def test_each_answer_gets_its_verdict_and_cause(entry):
    passed, cause, text = grade(entry)
    if entry.correct:
        assert passed, f"a correct answer failed:\n{text}"
    else:
        assert not passed, "a wrong answer passed every test cell"
        assert cause and entry.cause in cause, text


def corpus_rates(entries=CORPUS) -> dict:
    wrong = [e for e in entries if not e.correct]
    counts = Counter(outcome(e) for e in wrong)
    right = [e for e in entries if e.correct]
    return {
        "wrong answers": len(wrong),
        "correct alternatives": len(right),
        "false passes": counts["false pass"],
        "false fails": sum(outcome(e) == "false fail" for e in right),
        "right cause": counts["right"],
        "right cause among others": counts["right, among others"],
        "unsure": counts["unsure"] + counts["no cause"],
        "wrong cause": counts["wrong cause"],
    }


def test_the_corpus_meets_the_courses_targets():
    rates = corpus_rates()
    assert rates["wrong answers"] >= 60 and rates["correct alternatives"] >= 20
    assert rates["false passes"] == 0 and rates["false fails"] == 0
    assert rates["wrong cause"] == 0
    assert rates["right cause"] >= 0.8 * rates["wrong answers"]


def test_every_cause_the_checks_can_print_is_named_for_some_answer():
    """Each likely cause in grader/checks (tests/cause_catalog.py reads them from the code)
    is the cause the checks give to at least one wrong answer of the corpus. The accuracy
    check's causes are about submitted weights files, not answers: tests/test_lenet_checks.py
    produces each of them."""
    printed = [cause for entry in CORPUS if (cause := grade(entry)[1])]
    never = [
        c
        for c in all_causes()
        if c.module != "accuracy.py" and not any(re.search(c.pattern, p) for p in printed)
    ]
    assert not never, f"{len(never)} causes no answer of the corpus produces:\n" + "\n".join(
        map(str, never)
    )
