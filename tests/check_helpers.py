"""Helpers shared by the tests of the notebooks' checks."""

import math

import pytest

from grader.checks import CheckFailure


def assert_diagnosed(run_check, wrong, cause, **settings):
    """The check must reject ``wrong`` and name ``cause`` as the likely mistake."""
    with pytest.raises(CheckFailure) as failure:
        run_check(wrong, **settings)
    assert failure.value.cause and cause in failure.value.cause, str(failure.value)


def valid_size(n, k, s):
    """Rows out of a 'valid' window of k with stride s on n rows: floor((n - k) / s) + 1."""
    return (n - k) // s + 1


def same_size(n, k, s):
    """Rows out of a 'same' window with stride s on n rows: ceil(n / s)."""
    return math.ceil(n / s)


def same_split(n, k, s):
    """(before, after) rows TensorFlow pads for 'same', written out in plain Python, as a
    student's (NumPy-only) answer would: the total is (ceil(n / s) - 1) * s + k - n, odd row after."""
    total = max((math.ceil(n / s) - 1) * s + k - n, 0)
    return total // 2, total - total // 2
