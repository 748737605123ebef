"""Notebook 04's checks: AlexNet layer by layer (one tower and two GPUs), LRN against
TensorFlow, multiply-adds against TensorFlow's cost model, the CIFAR-10 network, and the
accuracy test on submitted weights."""

import keras
import numpy as np
import pytest
from check_helpers import assert_diagnosed

from grader.checks import CheckFailure, references
from grader.checks import alexnet as check
from grader.training import without_augmentation

L = keras.layers


def alexnet(swap=None, input_shape=(227, 227, 3)):
    """The reference AlexNet with one layer (by name) replaced: a student's near miss."""

    def build():
        layers = [layer for layer in references.reference_alexnet().layers]
        configs = [(type(layer), layer.get_config()) for layer in layers]
        rebuilt = [keras.Input(input_shape)]
        for kind, config in configs:
            name = config["name"]
            rebuilt.append(swap[name] if swap and name in swap else kind.from_config(config))
        return keras.Sequential(rebuilt)

    return build


def test_the_reference_passes_every_check(alexnet_reference):
    check.check_build_alexnet(alexnet_reference["build_alexnet"])
    check.check_build_alexnet(alexnet_reference["build_alexnet"], groups=2)
    check.check_lrn(alexnet_reference["lrn"], seed=None, n_random=6)
    check.check_multiply_adds(alexnet_reference["multiply_adds"], seed=None, n_random=4)
    check.check_build_cifar_alexnet(alexnet_reference["build_cifar_alexnet"])


def test_the_full_alexnet_has_the_papers_shapes_and_parameter_counts():
    model = references.reference_alexnet()
    sizes = [layer.output.shape[1] for layer in model.layers if len(layer.output.shape) == 4]
    assert sizes == [55, 27, 27, 13, 13, 13, 13, 6]
    assert model.count_params() == 62_378_344
    assert references.reference_alexnet(groups=2).count_params() == 60_965_224


@pytest.mark.parametrize(
    "build, message",
    [
        (alexnet(input_shape=(224, 224, 3)), "(227 - 11) / 4 + 1 = 55"),
        (
            alexnet({"conv2": L.Conv2D(256, 3, padding="same", activation="relu")}),
            "5x5 (retellings often say 3x3)",
        ),
        (alexnet({"pool1": L.MaxPooling2D(2, 2)}), "overlapping pooling"),
        (alexnet({"conv3": L.Conv2D(384, 3, activation="relu")}), "padding='same'"),
        (
            alexnet({"fc7": L.Dense(4096, activation="tanh")}),
            "every AlexNet layer but the last uses ReLU",
        ),
        (alexnet({"dropout6": L.Dropout(0.3)}), "Dropout(0.5)"),
    ],
)
def test_the_alexnet_check_names_the_first_difference_and_why(build, message):
    with pytest.raises(CheckFailure) as failure:
        check.check_build_alexnet(build)
    assert message in str(failure.value)


def test_the_two_gpu_check_asks_for_groups():
    with pytest.raises(CheckFailure) as failure:
        check.check_build_alexnet(lambda groups=1: references.reference_alexnet(), groups=2)
    assert "groups=2" in failure.value.cause


# -- LRN ---------------------------------------------------------------------------------------


def lrn_variant(alpha_over_n=False, radius=None, wrap=False, square=True, axis=-1, inside=True):
    """A plain NumPy LRN with one plausible mistake switched on."""

    def lrn(a, k=2.0, n=5, alpha=1e-4, beta=0.75):
        a = np.moveaxis(np.asarray(a, dtype=np.float64), axis, -1)
        terms = a**2 if square else a
        c, r = a.shape[-1], (n // 2 if radius is None else radius(n))
        sums = np.zeros_like(a)
        for i in range(c):
            window = (
                [(i + d) % c for d in range(-r, r + 1)]
                if wrap
                else range(max(0, i - r), min(c, i + r + 1))
            )
            sums[..., i] = terms[..., list(window)].sum(axis=-1)
        scale = alpha / n if alpha_over_n else alpha
        denominator = (k + scale * sums) ** beta if inside else k + (scale * sums) ** beta
        return np.moveaxis(a / denominator, -1, axis)

    return lrn


def test_a_correct_numpy_lrn_passes():
    check.check_lrn(lrn_variant(), seed=None, n_random=8)


@pytest.mark.parametrize(
    "wrong, cause",
    [
        (
            lrn_variant(alpha_over_n=True),
            "alpha was divided by n (PyTorch's and Caffe's convention)",
        ),
        (lrn_variant(radius=lambda n: n), "n // 2 on each side"),
        (lrn_variant(wrap=True), "must not wrap around"),
        (lrn_variant(square=False), "squared activations"),
        (lrn_variant(axis=2), "across channels"),
        (lrn_variant(inside=False), "k goes inside the power"),
    ],
)
def test_the_lrn_check_names_the_mistake(wrong, cause):
    assert_diagnosed(check.check_lrn, wrong, cause)


def test_lrn_must_be_written_without_tensorflow():
    def calls_the_oracle(a, k=2.0, n=5, alpha=1e-4, beta=0.75):
        import tensorflow as tf

        return tf.nn.local_response_normalization(a, n // 2, k, alpha, beta).numpy()

    with pytest.raises(CheckFailure) as failure:
        check.check_lrn(calls_the_oracle)
    assert "NumPy" in failure.value.what


# -- multiply-adds ---------------------------------------------------------------------------


def test_tensorflows_cost_model_agrees_with_the_hand_count_on_alexnets_conv1():
    model = references.reference_alexnet()
    assert check.tensorflow_multiply_adds(model.get_layer("conv1")) == 55 * 55 * 96 * 11 * 11 * 3
    assert check.tensorflow_multiply_adds(model.get_layer("fc6")) == 6 * 6 * 256 * 4096


def kernel_size(layer):
    return int(np.prod(layer.kernel.shape))


def output_positions(layer):
    return int(np.prod(layer.output.shape[1:-1]))


@pytest.mark.parametrize(
    "wrong, cause",
    [
        (lambda layer: 2 * kernel_size(layer) * output_positions(layer), "that is FLOPs"),
        (lambda layer: kernel_size(layer), "used again at every output position"),
        (
            lambda layer: kernel_size(layer) * int(np.prod(layer.input.shape[1:-1])),
            "count the output positions",
        ),
        (
            lambda layer: (
                (kernel_size(layer) + int(layer.kernel.shape[-1])) * output_positions(layer)
            ),
            "a bias is an addition",
        ),
    ],
)
def test_the_multiply_adds_check_names_the_mistake(wrong, cause):
    assert_diagnosed(check.check_multiply_adds, wrong, cause)


def test_a_float_count_is_not_accepted_silently():
    with pytest.raises(CheckFailure):
        check.check_multiply_adds(lambda layer: float(kernel_size(layer) * output_positions(layer)))


# -- the CIFAR-10 network --------------------------------------------------------------------


def cifar_variant(change):
    def build():
        model = references.reference_cifar_alexnet()
        layers = [keras.Input((32, 32, 3))]
        for layer in model.layers:
            replacement = change(layer)
            layers += replacement if isinstance(replacement, list) else [replacement]
        return keras.Sequential(layers)

    return build


def fresh(layer):
    return type(layer).from_config(layer.get_config())


@pytest.mark.parametrize(
    "change, message",
    [
        (lambda layer: [] if layer.name == "flip" else fresh(layer), "RandomFlip"),
        (
            lambda layer: (
                L.Conv2D(64, 5, padding="same", name="conv2")
                if layer.name == "conv2"
                else fresh(layer)
            ),
            "use_bias=False",
        ),
        (
            lambda layer: L.MaxPooling2D(2, 2) if layer.name == "pool2" else fresh(layer),
            "overlapping pooling",
        ),
        (
            lambda layer: [fresh(layer), L.ReLU()] if layer.name == "conv3" else fresh(layer),
            "Conv2D (no activation), BatchNormalization, then ReLU",
        ),
    ],
)
def test_the_cifar_check_names_the_first_difference_and_why(change, message):
    with pytest.raises(CheckFailure) as failure:
        check.check_build_cifar_alexnet(cifar_variant(change))
    assert message in str(failure.value)


def test_the_baseline_network_is_the_same_without_its_augmentation_layers():
    plain = without_augmentation(references.reference_cifar_alexnet)()
    kinds = {type(layer).__name__ for layer in plain.layers}
    assert not kinds & {"RandomFlip", "RandomTranslation"}
    assert plain.count_params() == references.reference_cifar_alexnet().count_params()


# -- the accuracy test -----------------------------------------------------------------------


@pytest.fixture(scope="module")
def tiny_cifar():
    """Random images and labels: the untrained model's accuracy on them sets the thresholds."""
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, size=(200, 32, 32, 3), dtype=np.uint8)
    return images, rng.integers(0, 10, size=(200, 1))


def test_missing_weights_fail_with_what_to_submit(tiny_cifar, tmp_path):
    images, labels = tiny_cifar
    with pytest.raises(CheckFailure) as failure:
        check.check_accuracy(
            references.reference_cifar_alexnet,
            tmp_path / "none.weights.h5",
            x_test=images,
            y_test=labels,
        )
    assert "submit the file with the notebook" in failure.value.cause


def test_saved_weights_are_scored_against_the_threshold(tiny_cifar, tmp_path, capsys):
    images, labels = tiny_cifar
    model = references.reference_cifar_alexnet()
    path = tmp_path / check.WEIGHTS_FILE
    model.save_weights(path)
    predicted = model.predict(images, verbose=0).argmax(axis=1)
    measured = float(np.mean(predicted == labels.ravel()))
    check.check_accuracy(
        references.reference_cifar_alexnet, path, x_test=images, y_test=labels, threshold=measured
    )
    assert f"{measured:.2%}" in capsys.readouterr().out
    with pytest.raises(CheckFailure) as failure:
        check.check_accuracy(
            references.reference_cifar_alexnet,
            path,
            x_test=images,
            y_test=labels,
            threshold=measured + 0.01,
        )
    assert "CIFAR-10 test accuracy" in failure.value.what
    assert (
        check.check_accuracy(
            references.reference_cifar_alexnet, path, x_test=images, y_test=labels, threshold=0
        )
        is None
    )


def test_the_retrain_option_trains_on_the_training_set_less_its_validation_set(
    alexnet_reference, tiny_cifar, tmp_path, monkeypatch
):
    """With the retrain option, the student's network is trained with the course recipe on
    what the notebook trains on: the training set less its validation set."""
    from grader import training

    images, labels = tiny_cifar
    rng = np.random.default_rng(3)
    x_train = rng.integers(0, 256, (training.VALIDATION_IMAGES + 10, 32, 32, 3), dtype=np.uint8)
    y_train = rng.integers(0, 10, (len(x_train), 1)).astype(np.uint8)
    monkeypatch.setenv("CNN_COURSE_GRADING", "1")
    monkeypatch.setenv("CNN_COURSE_RETRAIN", "1")
    calls = []
    monkeypatch.setattr(
        training, "train_from_scratch", lambda build, *args, **kwargs: calls.append((args, kwargs))
    )
    check.check_accuracy(
        alexnet_reference["build_cifar_alexnet"],
        tmp_path / check.WEIGHTS_FILE,
        x_test=images,
        y_test=labels,
        threshold=0.0,
        x_train=x_train,
        y_train=y_train,
    )
    [((x_fit, y_fit, recipe), settings)] = calls
    assert len(x_fit) == 10 and recipe is training.CIFAR_ALEXNET
    assert len(settings["validation"][0]) == training.VALIDATION_IMAGES
    assert settings["seed"] == training.CIFAR_ALEXNET_SEED


# -- the training exercise ---------------------------------------------------------------------


def test_the_training_exercise_passes_the_reference_and_its_hidden_cases(alexnet_reference):
    check.check_train_cifar_alexnet(alexnet_reference["train_cifar_alexnet"])
    check.check_train_cifar_alexnet(alexnet_reference["train_cifar_alexnet"], seed=None)


def cifar_training(**mistake):
    """A train_cifar_alexnet with one mistake: what students write on the way to the recipe,
    warm-up and weight decay included."""

    def train(model, training_batches, validation_data, epochs=6, callbacks=()):
        warmup = len(training_batches)
        steps_after_warmup = mistake.get("decay_steps", lambda epochs, steps: (epochs - 1) * steps)
        decay_steps = steps_after_warmup(epochs, len(training_batches))
        schedule = mistake.get(
            "learning_rate",
            keras.optimizers.schedules.CosineDecay(
                0.0, decay_steps, warmup_target=0.08, warmup_steps=warmup
            ),
        )
        optimizer = keras.optimizers.SGD(
            schedule, momentum=0.9, nesterov=True, weight_decay=mistake.get("weight_decay", 5e-4)
        )
        model.compile(
            optimizer=optimizer,
            loss=mistake.get("loss", keras.losses.CategoricalCrossentropy(label_smoothing=0.1)),
            metrics=["accuracy"],
        )
        return model.fit(
            training_batches,
            validation_data=validation_data,
            epochs=epochs,
            callbacks=[*callbacks, keras.callbacks.TerminateOnNaN()],
        )

    return train


@pytest.mark.parametrize(
    "mistake, cause",
    [
        (
            {"learning_rate": keras.optimizers.schedules.CosineDecay(0.08, 20)},
            "the first step's rate is 0.08: the recipe rises from 0 over the first epoch",
        ),
        ({"decay_steps": lambda epochs, steps: 5 * steps}, "the recipe's 6 epochs, not `epochs`"),
        (
            {"decay_steps": lambda epochs, steps: epochs * steps},
            "decay_steps counts the steps after the warm-up",
        ),
        ({"weight_decay": None}, "SGD(..., weight_decay=0.0005)"),
        ({"loss": "categorical_crossentropy"}, "the loss has no label smoothing"),
    ],
)
def test_the_cifar_training_check_explains_each_mistake(mistake, cause):
    with pytest.raises(CheckFailure) as failure:
        check.check_train_cifar_alexnet(cifar_training(**mistake))
    assert cause in (failure.value.cause or "")


# -- receptive fields ------------------------------------------------------------------------


def test_the_reference_receptive_fields_match_the_fields_measured_on_keras(alexnet_reference):
    check.check_receptive_fields(alexnet_reference["receptive_fields"], seed=None, n_random=15)


def test_alexnets_conv5_sees_163_pixels_and_pool5_195_measured_on_keras_layers():
    from grader.checks.oracle import keras_receptive_fields

    alexnet = [(11, 4), (3, 2), (5, 1), (3, 2), (3, 1), (3, 1), (3, 1), (3, 2)]
    assert keras_receptive_fields(alexnet)[-2:] == [(163, 16), (195, 32)]


def test_a_field_computed_with_the_new_jump_is_named():
    def stride_first(layers):
        field, jump, fields = 1, 1, []
        for kernel, stride in layers:
            jump *= stride
            field += (kernel - 1) * jump
            fields.append((field, jump))
        return fields

    assert_diagnosed(check.check_receptive_fields, stride_first, "before widening the field")
