"""Notebook 04, Section 6: the ablation of data augmentation and dropout, in the notebook's
miniature (its small network, 4,000 CIFAR-10 training images, 2,000 validation images carved from
the training set, Adam, batch 64), over seeds and for twice the notebook's 15 epochs, to learn
which of its observations hold whatever the seed and what a longer budget changes.

    .venv/bin/python bench/augment_dropout.py     # 12 runs, about 12 minutes on 2 cores

Results go to bench/results/augment_dropout.json: for each run, the validation accuracy after every
epoch, and the accuracy on the 4,000 training images (inference mode: no dropout, no augmentation)
after epochs 15 and 30.
"""

from __future__ import annotations

import json
import os
import platform
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras  # noqa: E402
import numpy as np  # noqa: E402

from grader.course import REPO_ROOT  # noqa: E402
from grader.datasets import load_cifar10  # noqa: E402
from grader.reproducibility import seed_everything  # noqa: E402

SEEDS = (2012, 0, 1)
EPOCHS = 30
TRAINING_ACCURACY_AFTER = (15, 30)
CONFIGURATIONS = {  # name: (dropout, augmentation)
    "neither": (False, False),
    "dropout": (True, False),
    "augmentation": (False, True),
    "both": (True, True),
}


def small_cnn(dropout: bool, augment: bool) -> keras.Model:
    """The notebook's network (Section 6), layer for layer."""
    layers = keras.layers
    augmentation = [
        layers.RandomFlip("horizontal"),
        layers.RandomTranslation(0.125, 0.125, fill_mode="reflect"),
    ]
    return keras.Sequential(
        [
            keras.Input((32, 32, 3)),
            *(augmentation if augment else []),
            layers.Rescaling(1 / 255),
            layers.Conv2D(16, 5, padding="same", activation="relu"),
            layers.MaxPooling2D(3, 2),
            layers.Conv2D(32, 5, padding="same", activation="relu"),
            layers.MaxPooling2D(3, 2),
            layers.Flatten(),
            layers.Dense(256, activation="relu"),
            *([layers.Dropout(0.5)] if dropout else []),
            layers.Dense(256, activation="relu"),
            *([layers.Dropout(0.5)] if dropout else []),
            layers.Dense(10, activation="softmax"),
        ]
    )


class TrainingAccuracy(keras.callbacks.Callback):
    """Accuracy on the training images as the network predicts (no dropout, no augmentation)."""

    def __init__(self, images, labels, epochs):
        super().__init__()
        self.images, self.labels, self.epochs, self.by_epoch = images, labels.ravel(), epochs, {}

    def on_epoch_end(self, epoch, logs=None):
        if epoch + 1 in self.epochs:
            predicted = self.model.predict(self.images, batch_size=500, verbose=0).argmax(axis=1)
            self.by_epoch[epoch + 1] = round(float((predicted == self.labels).mean()), 4)


def main() -> None:
    (x_train, y_train), _ = load_cifar10()
    x_fit, y_fit = x_train[:4000], y_train[:4000]
    x_val, y_val = x_train[48000:], y_train[48000:]
    runs = []
    for seed in SEEDS:
        for name, (dropout, augment) in CONFIGURATIONS.items():
            seed_everything(seed)
            model = small_cnn(dropout, augment)
            model.compile(
                keras.optimizers.Adam(1e-3), "sparse_categorical_crossentropy", metrics=["accuracy"]
            )
            training = TrainingAccuracy(x_fit, y_fit, TRAINING_ACCURACY_AFTER)
            started = time.perf_counter()
            history = model.fit(
                x_fit,
                y_fit,
                batch_size=64,
                epochs=EPOCHS,
                validation_data=(x_val, y_val),
                callbacks=[training],
                verbose=0,
            )
            validation = [round(a, 4) for a in history.history["val_accuracy"]]
            runs.append(
                dict(
                    seed=seed,
                    config=name,
                    val=validation,
                    train_after=training.by_epoch,
                    best_val_epoch=int(np.argmax(validation)) + 1,
                    s=round(time.perf_counter() - started, 1),
                )
            )
            print(runs[-1], flush=True)
    record = {
        "command": "python bench/augment_dropout.py",
        "machine": f"{platform.machine()}, {os.cpu_count()} cores",
        "onednn": os.environ.get("TF_ENABLE_ONEDNN_OPTS", "default (on)"),
        "runs": runs,
    }
    (REPO_ROOT / "bench" / "results" / "augment_dropout.json").write_text(
        json.dumps(record, indent=1) + "\n"
    )


if __name__ == "__main__":
    main()
