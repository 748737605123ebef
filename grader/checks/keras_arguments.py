"""Keras's size and padding arguments (an int or a pair) in one normal form."""

from __future__ import annotations

import numpy as np

Pad = int | tuple[tuple[int, int], tuple[int, int]]


def pair(value) -> tuple[int, int]:
    """A Keras size argument (int or pair) as a pair of ints."""
    return (int(value), int(value)) if isinstance(value, int | np.integer) else tuple(value)


def explicit_padding(pad: Pad) -> tuple[tuple[int, int], tuple[int, int]]:
    """An int or ((top, bottom), (left, right)) as ((top, bottom), (left, right))."""
    if isinstance(pad, int | np.integer):
        return ((int(pad), int(pad)), (int(pad), int(pad)))
    return (tuple(pad[0]), tuple(pad[1]))
