import warnings

import numpy as np
import pytest

from mlpzero.losses import (
    BinaryCrossEntropy,
    CategoricalCrossEntropy,
    SquaredError,
    get,
)

rng = np.random.default_rng(0)


def naive_bce(z, y):
    a = 1 / (1 + np.exp(-z))
    return (-(y * np.log(a) + (1 - y) * np.log(1 - a))).sum(axis=1).mean()


def naive_cce(z, y):
    p = np.exp(z) / np.exp(z).sum(axis=1, keepdims=True)
    return (-(y * np.log(p)).sum(axis=1)).mean()


def test_values_match_the_textbook_formulas_at_moderate_inputs():
    z = rng.standard_normal((6, 3))
    y01 = rng.integers(0, 2, (6, 3)).astype(float)
    onehot = np.eye(3)[rng.integers(0, 3, 6)]
    target = rng.standard_normal((6, 3))
    assert BinaryCrossEntropy().value(z, y01) == pytest.approx(naive_bce(z, y01), rel=1e-12)
    assert CategoricalCrossEntropy().value(z, onehot) == pytest.approx(naive_cce(z, onehot))
    expected = 0.5 * ((z - target) ** 2).sum(axis=1).mean()
    assert SquaredError().value(z, target) == pytest.approx(expected)


@pytest.mark.parametrize("loss", [BinaryCrossEntropy(), CategoricalCrossEntropy(), SquaredError()])
def test_gradient_matches_finite_differences_of_the_value(loss):
    z = rng.standard_normal((5, 3))
    if loss.name == "categorical_crossentropy":
        y = np.eye(3)[rng.integers(0, 3, 5)]
    elif loss.name == "binary_crossentropy":
        y = rng.integers(0, 2, (5, 3)).astype(float)
    else:
        y = rng.standard_normal((5, 3))
    w = rng.random(5) + 0.1
    h = 1e-6
    numeric = np.zeros_like(z)
    for index in np.ndindex(z.shape):
        plus, minus = z.copy(), z.copy()
        plus[index] += h
        minus[index] -= h
        numeric[index] = (loss.value(plus, y, w) - loss.value(minus, y, w)) / (2 * h)
    np.testing.assert_allclose(loss.gradient(z, y, w), numeric, rtol=1e-6, atol=1e-9)


def test_gradient_is_a_minus_y_over_m():
    z = rng.standard_normal((4, 1))
    y = np.array([[0.0], [1.0], [1.0], [0.0]])
    a = 1 / (1 + np.exp(-z))
    np.testing.assert_allclose(BinaryCrossEntropy().gradient(z, y), (a - y) / 4)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_stable_and_correct_at_extreme_logits(dtype):
    z = np.array([[1e4], [-1e4], [1e4], [-1e4]], dtype=dtype)
    y = np.array([[1.0], [0.0], [0.0], [1.0]], dtype=dtype)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        losses = BinaryCrossEntropy().per_sample(z, y)
        grad = BinaryCrossEntropy().gradient(z, y)
        cce = CategoricalCrossEntropy().per_sample(
            np.array([[1e4, 0, -1e4]], dtype=dtype), np.array([[0, 0, 1]], dtype=dtype)
        )
    np.testing.assert_allclose(losses, [0, 0, 1e4, 1e4])
    np.testing.assert_allclose(grad[:, 0], [0, 0, 0.25, -0.25])
    assert grad.dtype == dtype
    np.testing.assert_allclose(cce, [2e4])


def test_registry():
    assert isinstance(get("mse"), SquaredError)
    assert get("binary_crossentropy").output_activation == "sigmoid"
    assert get("categorical_crossentropy").output_activation == "softmax"
    with pytest.raises(ValueError, match="unknown loss 'hinge'"):
        get("hinge")


@pytest.mark.parametrize("loss", [BinaryCrossEntropy(), CategoricalCrossEntropy(), SquaredError()])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("scale", [1e308, 1e300, 1e-300, 5e-324])
def test_only_the_ratios_of_sample_weights_matter_however_large_or_small(loss, dtype, scale):
    z = rng.standard_normal((40, 3)).astype(dtype)
    y = np.eye(3, dtype=dtype)[rng.integers(0, 3, 40)]
    ratios = rng.uniform(0.5, 1.0, 40)
    ratios[0] = 1.0  # the largest weight is the scale itself, still finite
    if scale < 1e-320:  # subnormal: ratios cannot be represented, equal weights can
        ratios = np.ones(40)
    weights = ratios * scale
    assert loss.value(z, y, weights) == pytest.approx(loss.value(z, y, ratios), rel=1e-12)
    gradient = loss.gradient(z, y, weights)
    assert gradient.dtype == dtype
    rtol = 1e-5 if dtype == np.float32 else 1e-12
    np.testing.assert_allclose(gradient, loss.gradient(z, y, ratios), rtol=rtol)


def test_all_zero_sample_weights_are_a_value_error():
    z, y = np.zeros((3, 1)), np.ones((3, 1))
    with pytest.raises(ValueError, match="sample_weight must not be all zero"):
        SquaredError().value(z, y, np.zeros(3))
    with pytest.raises(ValueError, match="sample_weight must not be all zero"):
        SquaredError().gradient(z, y, np.zeros(3))
