"""Notebook 04, Section 5: the paper's "ReLU reaches 25% training error six times sooner than
tanh", in the notebook's miniature (its four-layer network, 2,000 CIFAR-10 training images,
SGD with momentum 0.9, batch 64, 15 epochs), over learning rates and seeds, since the paper
tuned the learning rate for each activation.

    .venv/bin/python bench/relu_tanh.py     # 16 runs, about 5 minutes on 2 cores

Results go to bench/results/relu_tanh.json: each run's training error after every epoch and
the first epoch below 25% (null: not within 15 epochs).
"""

from __future__ import annotations

import json
import os
import platform
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras  # noqa: E402

from grader.course import REPO_ROOT  # noqa: E402
from grader.datasets import load_cifar10  # noqa: E402
from grader.reproducibility import seed_everything  # noqa: E402

LEARNING_RATES = (0.003, 0.01, 0.03, 0.1)
SEEDS = (2012, 0)
TARGET = 0.25


def four_layer_cnn(activation: str) -> keras.Model:
    """The notebook's network (Section 5), layer for layer."""
    layers = keras.layers
    return keras.Sequential(
        [
            keras.Input((32, 32, 3)),
            layers.Conv2D(16, 5, padding="same", activation=activation),
            layers.MaxPooling2D(3, 2),
            layers.Conv2D(32, 5, padding="same", activation=activation),
            layers.MaxPooling2D(3, 2),
            layers.Flatten(),
            layers.Dense(64, activation=activation),
            layers.Dense(10, activation="softmax"),
        ]
    )


def main() -> None:
    (x_train, y_train), _ = load_cifar10()
    images = x_train[:2000].astype("float32") / 255 - 0.5
    labels = y_train[:2000]
    runs = []
    for seed in SEEDS:
        for learning_rate in LEARNING_RATES:
            for activation in ("relu", "tanh"):
                seed_everything(seed)
                model = four_layer_cnn(activation)
                model.compile(
                    keras.optimizers.SGD(learning_rate, momentum=0.9),
                    "sparse_categorical_crossentropy",
                    metrics=["accuracy"],
                )
                started = time.perf_counter()
                history = model.fit(images, labels, batch_size=64, epochs=15, verbose=0)
                errors = [round(1 - a, 3) for a in history.history["accuracy"]]
                first = next((i + 1 for i, e in enumerate(errors) if e < TARGET), None)
                runs.append(
                    dict(
                        seed=seed,
                        lr=learning_rate,
                        act=activation,
                        first=first,
                        err=errors,
                        s=round(time.perf_counter() - started, 1),
                    )
                )
                print(runs[-1], flush=True)
    record = {
        "command": "python bench/relu_tanh.py",
        "machine": f"{platform.machine()}, {os.cpu_count()} cores",
        "onednn": os.environ.get("TF_ENABLE_ONEDNN_OPTS", "default (on)"),
        "runs": runs,
    }
    (REPO_ROOT / "bench" / "results" / "relu_tanh.json").write_text(
        json.dumps(record, indent=1) + "\n"
    )


if __name__ == "__main__":
    main()
