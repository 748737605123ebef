"""Keras, verified, is the oracle: a platform that computes wrong values never fails a
correct student, and the student is told what happened."""

import sys

import keras
import numpy as np
import pytest

from grader.checks import CheckFailure, exact, float64, oracle, references
from grader.checks import alexnet as alexnet_checks
from grader.checks import padding as padding_checks
from grader.checks import pooling as pooling_checks

# TensorFlow 2.21's oneDNN Conv2D on AVX-512 CPUs: batch >= 2, one input channel,
# strides (1, s > 1), output width 1 (maximum error 5.5 on the machine that found it).
ONEDNN_BUG_CASE = dict(x_shape=(2, 5, 5, 1), kernel_shape=(2, 4, 1, 1), strides=(1, 2))


def test_the_oracle_gives_the_exact_convolution_where_onednn_is_known_to_be_wrong():
    rng = np.random.default_rng(0)
    x = rng.standard_normal(ONEDNN_BUG_CASE["x_shape"]).astype("float32")
    kernel = rng.standard_normal(ONEDNN_BUG_CASE["kernel_shape"]).astype("float32")
    bias = np.zeros(1, "float32")
    got = oracle.keras_conv2d(x, kernel, bias, ONEDNN_BUG_CASE["strides"], "valid")
    direct = np.zeros((2, 4, 1, 1))
    for b in range(2):
        for i in range(4):
            direct[b, i, 0, 0] = np.sum(x[b, i : i + 2, 0:4, 0] * kernel[:, :, 0, 0])
    np.testing.assert_allclose(got, direct, atol=1e-5)
    oracle.take_disagreements()


@pytest.mark.parametrize(
    "exact_function, computed_by_keras, settings",
    [
        (
            exact.pool,
            oracle.keras_pool,
            dict(pool_size=(3, 2), strides=(2, 1), padding="same", mode="avg"),
        ),
        (
            exact.pool,
            oracle.keras_pool,
            dict(pool_size=3, strides=2, padding="same", mode="max"),
        ),
        (
            exact.pool,
            oracle.keras_pool,
            dict(pool_size=2, strides=None, padding="valid", mode="min"),
        ),
    ],
)
def test_the_exact_pooling_is_what_keras_computes(exact_function, computed_by_keras, settings):
    x = np.random.default_rng(1).standard_normal((2, 7, 6, 3)).astype("float32")
    np.testing.assert_allclose(
        exact_function(x, **settings), computed_by_keras(x, **settings), atol=1e-6
    )
    assert oracle.take_disagreements() == []


def test_the_exact_lrn_is_tensorflows():
    a = np.abs(np.random.default_rng(2).normal(0, 60, (2, 3, 3, 9)))
    for n in (1, 3, 5, 7):
        np.testing.assert_allclose(
            exact.lrn(a, 2.0, n, 1e-4, 0.75),
            oracle.keras_lrn(a, 2.0, n, 1e-4, 0.75),
            rtol=1e-5,
        )
    assert oracle.take_disagreements() == []


def test_a_disagreement_is_recorded_and_the_exact_value_used():
    exact = np.arange(4.0)
    assert oracle.verified("Conv2D", exact + 1e-7, exact) is not exact
    assert oracle.take_disagreements() == []
    result = oracle.verified("Conv2D", exact + 5.5, exact, "x (2, 5, 5, 1)")
    np.testing.assert_array_equal(result, exact)
    (disagreement,) = oracle.take_disagreements()
    assert disagreement.operation == "Conv2D" and disagreement.max_error == pytest.approx(5.5)
    note = oracle.platform_note([disagreement])
    assert "independent values" in note and "not affected" in note and "grader doctor" in note


# -- a faulty platform, injected ----------------------------------------------------------------


class FaultyConv2D(keras.layers.Conv2D):
    """A Conv2D as a buggy kernel computes it: right shape, one value off by 5.5."""

    def call(self, inputs):
        out = super().call(inputs)
        return out + keras.ops.pad(
            keras.ops.full((1, 1, 1, 1), 5.5),
            [
                (0, out.shape[0] - 1),
                (0, out.shape[1] - 1),
                (0, out.shape[2] - 1),
                (0, out.shape[3] - 1),
            ],
        )


class FaultyMaxPooling2D(keras.layers.MaxPooling2D):
    def call(self, inputs):
        return super().call(inputs) * 0.5


@pytest.fixture
def faulty_platform(monkeypatch):
    monkeypatch.setattr(oracle.keras.layers, "Conv2D", FaultyConv2D)
    monkeypatch.setattr(oracle.keras.layers, "MaxPooling2D", FaultyMaxPooling2D)
    yield
    oracle.take_disagreements()


@pytest.mark.parametrize("second_computation", [exact, float64], ids=["checker", "bundle"])
def test_a_correct_conv2d_passes_on_a_faulty_platform_and_is_told_why(
    faulty_platform, padding_reference, capsys, monkeypatch, second_computation
):
    monkeypatch.setattr(oracle, "independent", second_computation)
    padding_checks.check_conv2d(padding_reference["conv2d"], paddings=("valid", "same", 1))
    out = capsys.readouterr().out
    assert "\N{CHECK MARK} conv2d matches" in out
    assert f"TensorFlow's Conv2D disagreed with {second_computation.DESCRIPTION}" in out


def test_a_correct_pool2d_passes_on_a_faulty_platform(faulty_platform, pooling_reference, capsys):
    pooling_checks.check_pool2d(
        pooling_reference["pool2d"], modes=("max", "min"), paddings=("valid", "same")
    )
    assert "TensorFlow's pooling disagreed" in capsys.readouterr().out


def test_a_correct_pool2d_backward_passes_on_a_faulty_platform(
    faulty_platform, pooling_reference, capsys
):
    pooling_checks.check_pool2d_backward(pooling_reference["pool2d_backward"], modes=("max",))
    out = capsys.readouterr().out
    assert "\N{CHECK MARK} pool2d_backward matches" in out
    assert "pooling gradient disagreed with" in out


def test_a_wrong_conv2d_still_fails_for_its_own_mistake_on_a_faulty_platform(
    faulty_platform, padding_reference
):
    def no_bias(x, kernel, bias, strides=1, padding="valid"):
        return padding_reference["conv2d"](x, kernel, np.zeros_like(bias), strides, padding)

    with pytest.raises(CheckFailure) as failure:
        padding_checks.check_conv2d(no_bias)
    assert failure.value.cause == "the bias was not added"
    assert "independent values" in str(failure.value)


def test_multiply_adds_of_a_grouped_layer_come_from_the_cost_model_of_one_group():
    model = references.reference_alexnet(groups=2)
    conv2 = model.get_layer("conv2")
    assert alexnet_checks.tensorflow_multiply_adds(conv2) == 27 * 27 * 5 * 5 * 48 * 256
    assert oracle.take_disagreements() == []


# -- the student's own stderr --------------------------------------------------------------------


def test_a_correct_answer_that_writes_to_stderr_keeps_stderr_clean(pooling_reference, capsys):
    def chatty_pool2d(*args, **kwargs):
        print("debug: pooling", file=sys.stderr)
        return pooling_reference["pool2d"](*args, **kwargs)

    pooling_checks.check_pool2d(chatty_pool2d)
    captured = capsys.readouterr()
    assert captured.err == ""
    assert "debug: pooling" in captured.out and "does not affect the grade" in captured.out


# -- the student bundle's second computation -----------------------------------------------


def _equal(a, b):
    np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("seed", range(3))
def test_tensorflows_float64_kernels_compute_what_the_exact_numpy_computes(seed):
    """The student bundle verifies Keras with TensorFlow's float64 kernels, the checker with
    exact NumPy: on random layers of every kind the two give the same values."""
    rng = np.random.default_rng(seed)
    for _ in range(15):
        shape = tuple(
            int(v) for v in (rng.integers(1, 3), *rng.integers(1, 9, 2), rng.integers(1, 4))
        )
        x = rng.standard_normal(shape)
        k = (int(rng.integers(1, shape[1] + 1)), int(rng.integers(1, shape[2] + 1)))
        s = (int(rng.integers(1, 4)), int(rng.integers(1, 4)))
        for padding in ("valid", "same"):
            for mode in ("max", "avg", "min"):
                _equal(float64.pool(x, k, s, padding, mode), exact.pool(x, k, s, padding, mode))
            tied = rng.integers(0, 3, size=shape).astype(float)  # ties: which cell wins matters
            for mode in ("max", "avg"):
                for values in (x, tied):
                    g = rng.standard_normal(exact.pool(values, k, s, padding, mode).shape)
                    _equal(
                        float64.pool_gradient(values, g, k, s, padding, mode),
                        exact.pool_gradient(values, g, k, s, padding, mode),
                    )
        kernel, bias = rng.standard_normal((*k, shape[3], 2)), rng.standard_normal(2)
        for padding in ("valid", "same", int(rng.integers(0, 3)), ((1, 0), (0, 2))):
            _equal(
                float64.conv2d(x, kernel, bias, s, padding),
                exact.conv2d(x, kernel, bias, s, padding),
            )
            if not isinstance(padding, str):
                _equal(float64.zero_pad(x, padding), exact.zero_pad(x, padding))
        g = rng.standard_normal(exact.conv2d(x, kernel, bias, s, "same").shape)
        for values, got in zip(
            exact.conv2d_gradients(x, kernel, g, s, "same"),
            float64.conv2d_gradients(x, kernel, g, s, "same"),
            strict=True,
        ):
            _equal(got, values)
    a = np.abs(rng.normal(0, 60, (2, 3, 3, 9)))
    for n in (1, 3, 5, 7):
        _equal(float64.lrn(a, 2.0, n, 1e-4, 0.75), exact.lrn(a, 2.0, n, 1e-4, 0.75))


def test_tensorflows_float64_sizes_and_same_splits_are_the_exact_ones():
    for n in range(1, 13):
        for k in range(1, 7):
            for s in range(1, 5):
                assert float64.same_padding(n, k, s) == exact.same_padding(n, k, s)
                for padding in ("same", "valid", 0, 1, 2):
                    p = 0 if isinstance(padding, str) else padding
                    if padding == "same" or k <= n + 2 * p:
                        assert float64.output_size(n, k, s, padding) == exact.output_size(
                            n, k, s, padding
                        ), (n, k, s, padding)
