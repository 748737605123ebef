"""The reference networks: the answers to notebooks 03 and 04's build exercises.

Instructors' part: the student bundle leaves this module out (``grader.bundle``). The checks
compare a student's model with these networks' layer tables (``grader/checks/layer_tables.json``,
what the notebooks' tables say, as data), which ``python -m grader.checks.references`` writes
from the networks below and tests/test_layer_tables.py keeps current. The networks themselves
are used where only a network will do: to accept a model written differently that computes the
same function (in the trusted checker), to train the example students, and in the tests.
"""

from __future__ import annotations

import keras

from grader.checks.architecture import LAYER_TABLES_FILE, table_of

IMAGENET_INPUT = (227, 227, 3)

# AlexNet's plan at 32x32: five convolutions with about a quarter of its widths (96, 256, 384,
# 384, 256), three overlapping 3x3/2 max-pools (32 -> 15 -> 7 -> 3), dropout in the two hidden
# fully connected layers, and augmentation by random left-right flips done by a Keras layer
# (active in training only). BatchNormalization stands where AlexNet had LRN; it is not LRN
# (see the notebook), and it is what lets this network train in minutes on a CPU.
# Flips only and dropout 0.3 were chosen by two 6-epoch trials (bench/README.md): with random
# shifts added and dropout 0.5 the network ended lower within the 10-minute budget.
CIFAR_CONVS = (
    ("conv1", 32, 3),
    ("conv2", 64, 5),
    ("conv3", 96, 3),
    ("conv4", 96, 3),
    ("conv5", 64, 3),
)
CIFAR_POOLS_AFTER = ("conv1", "conv2", "conv5")
CIFAR_FC_UNITS, CIFAR_DROPOUT = 512, 0.3


def reference_lenet5() -> keras.Model:
    """LeNet-5 in its usual Keras form: the architecture the notebook's table describes."""
    L = keras.layers
    return keras.Sequential(
        [
            keras.Input((32, 32, 1)),
            L.Conv2D(6, 5, activation="tanh", name="C1"),
            L.AveragePooling2D(2, name="S2"),
            L.Conv2D(16, 5, activation="tanh", name="C3"),
            L.AveragePooling2D(2, name="S4"),
            L.Conv2D(120, 5, activation="tanh", name="C5"),
            L.Flatten(name="flatten"),
            L.Dense(84, activation="tanh", name="F6"),
            L.Dense(10, activation="softmax", name="output"),
        ],
        name="lenet5_reference",
    )


def reference_alexnet(groups: int = 1) -> keras.Model:
    """AlexNet as one tower (groups=1), or with the paper's two-GPU split of conv2, conv4 and
    conv5 (groups=2: each half of those layers sees only its own GPU's half of the maps).
    Local response normalisation has no parameters and is left out (the notebook studies it
    on its own)."""
    L = keras.layers
    return keras.Sequential(
        [
            keras.Input(IMAGENET_INPUT),
            L.Conv2D(96, 11, strides=4, activation="relu", name="conv1"),
            L.MaxPooling2D(3, 2, name="pool1"),
            L.Conv2D(256, 5, padding="same", activation="relu", groups=groups, name="conv2"),
            L.MaxPooling2D(3, 2, name="pool2"),
            L.Conv2D(384, 3, padding="same", activation="relu", name="conv3"),
            L.Conv2D(384, 3, padding="same", activation="relu", groups=groups, name="conv4"),
            L.Conv2D(256, 3, padding="same", activation="relu", groups=groups, name="conv5"),
            L.MaxPooling2D(3, 2, name="pool5"),
            L.Flatten(name="flatten"),
            L.Dense(4096, activation="relu", name="fc6"),
            L.Dropout(0.5, name="dropout6"),
            L.Dense(4096, activation="relu", name="fc7"),
            L.Dropout(0.5, name="dropout7"),
            L.Dense(1000, activation="softmax", name="fc8"),
        ],
        name="alexnet_reference" if groups == 1 else "alexnet_two_gpu_reference",
    )


def reference_cifar_alexnet() -> keras.Model:
    L = keras.layers
    layers = [
        keras.Input((32, 32, 3)),
        L.RandomFlip("horizontal", name="flip"),
        L.Rescaling(1 / 255, name="scale"),
    ]
    for name, filters, kernel in CIFAR_CONVS:
        layers += [
            L.Conv2D(filters, kernel, padding="same", use_bias=False, name=name),
            L.BatchNormalization(name=f"{name}_bn"),
            L.ReLU(name=f"{name}_relu"),
        ]
        if name in CIFAR_POOLS_AFTER:
            layers.append(L.MaxPooling2D(3, 2, name=f"pool{name[-1]}"))
    layers += [
        L.Flatten(name="flatten"),
        L.Dense(CIFAR_FC_UNITS, activation="relu", name="fc6"),
        L.Dropout(CIFAR_DROPOUT, name="dropout6"),
        L.Dense(CIFAR_FC_UNITS, activation="relu", name="fc7"),
        L.Dropout(CIFAR_DROPOUT, name="dropout7"),
        L.Dense(10, activation="softmax", name="fc8"),
    ]
    return keras.Sequential(layers, name="cifar_alexnet_reference")


# Each layer table's name, and the network it is read from.
REFERENCES = {
    "lenet5": reference_lenet5,
    "alexnet": reference_alexnet,
    "alexnet_two_gpu": lambda: reference_alexnet(groups=2),
    "cifar_alexnet": reference_cifar_alexnet,
}


def layer_tables() -> dict[str, dict]:
    """Every reference network's layer table, as layer_tables.json stores it."""
    return {name: table_of(build()).to_json() for name, build in REFERENCES.items()}


if __name__ == "__main__":
    import json

    LAYER_TABLES_FILE.write_text(json.dumps(layer_tables(), indent=1) + "\n")
    print(f"wrote {LAYER_TABLES_FILE}")
