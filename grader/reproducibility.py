"""One call that makes a notebook's randomness repeatable."""

from __future__ import annotations

import keras
import tensorflow as tf


def seed_everything(seed: int = 42) -> None:
    """Seed Python, NumPy and TensorFlow and make TensorFlow's ops deterministic.

    Op determinism makes training bit-for-bit repeatable on the same machine and versions;
    it costs some speed, which the course accepts so that accuracy thresholds are honest.
    """
    keras.utils.set_random_seed(seed)
    tf.config.experimental.enable_op_determinism()
