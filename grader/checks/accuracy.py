"""The trained-model check shared by the notebooks that submit weights (03 and 04).

The student's builder makes the model, the submitted weights file is loaded into it, and the
test set decides: accuracy at or above the calibrated threshold (grader/thresholds.py).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import keras
import numpy as np

from grader.checks.failure import CheckFailure, passed
from grader.grading import grading_mode, retrain_requested


def check_test_accuracy(
    build: Callable[[], keras.Model],
    weights_path: str | Path,
    x_test: np.ndarray,
    y_test: np.ndarray,
    *,
    threshold: float,
    dataset: str,
    builder: str,
    prepare: Callable[[np.ndarray], np.ndarray] = lambda images: images,
    train: Callable[[keras.Model], object] | None = None,
) -> float:
    """Load the submitted weights into ``build()`` and measure test accuracy; return it.

    In grading mode a missing weights file fails with an explanation, unless the instructor
    asked to retrain (CNN_COURSE_RETRAIN=1): then ``train(model)`` retrains it from the
    student's own code with the course recipe, and the same threshold applies.
    Callers in a test cell must not leave the returned number as the cell's value: nbgrader
    reads a number there as partial credit.
    """
    weights_path = Path(weights_path)
    model = build()
    if weights_path.exists():
        try:
            model.load_weights(weights_path)
        except (ValueError, OSError) as error:
            raise CheckFailure(
                f"loading {weights_path}",
                f"weights saved from {builder}",
                f"a file Keras cannot load into it ({str(error).splitlines()[0][:120]})",
                f"run the training cell again after changing {builder}, and submit the new file",
            ) from None
        source = f"the weights in {weights_path.name}"
    elif grading_mode() and retrain_requested() and train is not None:
        train(model)
        source = "weights retrained from your code (instructor's retrain option)"
    else:
        raise CheckFailure(
            f"the trained weights {weights_path.name}",
            f"a file {weights_path.name} next to the notebook",
            "no such file",
            "run the training cell (it saves the file), then submit the file with the notebook",
        )
    predictions = model.predict(prepare(x_test), batch_size=500, verbose=0)
    accuracy = float(np.mean(np.argmax(predictions, axis=1) == np.ravel(y_test)))
    if accuracy < threshold:
        raise CheckFailure(
            f"{dataset} test accuracy of {source}",
            f"at least {threshold:.2%}",
            f"{accuracy:.2%}",
            f"train with the notebook's recipe to the end (all epochs), from your final {builder}",
        )
    passed(f"{dataset} test accuracy {accuracy:.2%} with {source} (threshold {threshold:.2%})")
    return accuracy
