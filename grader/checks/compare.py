"""Compare a student's array with the oracle's, and name the mistake when one fits.

A *mistake* is a labelled function that computes what a plausible wrong implementation
would return for the same input (from Keras too, with one setting changed). When the
student's output equals a mistake's output, that mistake's label is the likely cause.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence

import numpy as np

from grader.checks.failure import CheckFailure

Mistake = tuple[str, Callable[[], np.ndarray]]

# Names whose use inside a "write it in NumPy" exercise means the student called the
# oracle instead of implementing the operation.
FRAMEWORK_NAMES = frozenset({"keras", "tf", "tensorflow", "torch", "jax", "layers"})


def as_array(what: str, got: object) -> np.ndarray:
    try:
        array = np.asarray(got, dtype=np.float64)
    except (TypeError, ValueError) as error:
        raise CheckFailure(
            what, "a NumPy array of numbers", f"{type(got).__name__} ({error})"
        ) from None
    return array


def _first_matching(mistakes: Iterable[Mistake], test: Callable[[np.ndarray], bool]) -> str | None:
    for label, compute in mistakes:
        try:
            candidate = np.asarray(compute(), dtype=np.float64)
        except Exception:  # a mistake that cannot even be computed for this case does not apply
            continue
        if test(candidate):
            return label
    return None


def assert_matches(
    what: str,
    got: object,
    expected: np.ndarray,
    mistakes: Sequence[Mistake] = (),
    *,
    atol: float = 1e-5,
    rtol: float = 1e-5,
) -> None:
    """Raise CheckFailure unless ``got`` equals ``expected`` (shape, then values)."""
    expected = np.asarray(expected, dtype=np.float64)
    got = as_array(what, got)
    if got.shape != expected.shape:
        cause = _first_matching(mistakes, lambda c: c.shape == got.shape)
        raise CheckFailure(
            f"{what}: wrong output shape", _shape(expected.shape), _shape(got.shape), cause
        )
    if np.allclose(got, expected, atol=atol, rtol=rtol, equal_nan=False):
        return
    close = lambda c: c.shape == got.shape and np.allclose(c, got, atol=atol, rtol=rtol)  # noqa: E731
    cause = _first_matching(mistakes, close)
    if np.isnan(got).any():
        cause = cause or "your output contains NaN (an empty window, or 0/0 in an average?)"
    where = np.unravel_index(
        np.nanargmax(np.abs(np.nan_to_num(got - expected, nan=np.inf))), got.shape
    )
    wrong = int(np.sum(~np.isclose(got, expected, atol=atol, rtol=rtol)))
    raise CheckFailure(
        f"{what}: {wrong} of {got.size} values differ; the first large difference is at index {tuple(map(int, where))}",
        f"{expected[where]:.6g}",
        f"{got[where]:.6g}",
        cause,
    )


def _shape(shape: tuple[int, ...]) -> str:
    return "(" + ", ".join(str(d) for d in shape) + ")"


def assert_numpy_only(function: Callable, exercise: str) -> None:
    """Fail when a NumPy exercise calls a deep-learning framework (the oracle itself)."""
    names: set[str] = set()
    stack = [getattr(function, "__code__", None)]
    while stack:
        code = stack.pop()
        if code is None:
            continue
        names.update(code.co_names)
        stack.extend(c for c in code.co_consts if hasattr(c, "co_names"))
    used = sorted(names & FRAMEWORK_NAMES)
    if used:
        raise CheckFailure(
            f"{exercise} must be written with NumPy",
            "no Keras/TensorFlow inside the function",
            f"it uses {', '.join(used)}",
            "the check compares your function with Keras; calling Keras in it would test nothing",
        )


def _value_or_none(compute: Callable[[], object]) -> object:
    try:
        return compute()
    except Exception:  # a mistaken setting Keras refuses (e.g. a window larger than the map)
        return None


def likely_mistake(case, got, answers, mistakes_of: Callable) -> str | None:
    """The label of the mistake that explains the student's answer ``got`` to ``case``.

    Several mistakes can give the same wrong answer to one case (15 rows, window 2, stride 2
    gives 8 with ceil in 'valid' and with the 'same' formula), so prefer the mistake that
    also reproduces the student's answers to every other case, right or wrong.
    ``answers`` is a list of (case, answer); ``mistakes_of(case)`` lists (label, compute).
    """
    candidates = [label for label, compute in mistakes_of(case) if _value_or_none(compute) == got]

    def explains_all(label: str) -> bool:
        for other, answer in answers:
            compute = dict(mistakes_of(other)).get(label)
            if compute is not None and _value_or_none(compute) != answer:
                return False
        return True

    return next(
        (label for label in candidates if explains_all(label)),
        candidates[0] if candidates else None,
    )
