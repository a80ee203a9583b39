"""The Poisson loss: exponential link, half the Poisson deviance, gradient exp(z) - y."""

from __future__ import annotations

import numpy as np
import pytest

from mlpzero import MLP
from mlpzero.losses import Poisson, get

RNG = np.random.default_rng(0)


def test_value_is_half_the_poisson_deviance():
    z = RNG.normal(size=(40, 2))
    y = RNG.poisson(3.0, size=(40, 2)).astype(float)
    mu = np.exp(z)
    # the deviance written out by hand, with 0 log 0 = 0
    with np.errstate(divide="ignore", invalid="ignore"):
        y_log = np.where(y > 0, y * np.log(y / mu), 0.0)
    expected = np.mean(np.sum(y_log - y + mu, axis=1))
    assert get("poisson").value(z, y) == pytest.approx(expected, rel=1e-12)
    assert get("poisson").value(np.log(np.maximum(y, 1e-300)), y) == pytest.approx(0, abs=1e-9)


def test_value_matches_scikit_learn_deviance():
    metrics = pytest.importorskip("sklearn.metrics")
    z = RNG.normal(size=(50, 1))
    y = RNG.poisson(2.0, size=(50, 1)).astype(float)
    half = metrics.mean_poisson_deviance(y[:, 0], np.exp(z[:, 0])) / 2
    assert get("poisson").value(z, y) == pytest.approx(half, rel=1e-10)


def test_gradient_is_exp_minus_y_and_matches_finite_differences():
    loss = Poisson()
    z = RNG.normal(size=(6, 3))
    y = RNG.poisson(1.5, size=(6, 3)).astype(float)
    w = RNG.uniform(0.5, 2.0, size=6)
    gradient = loss.gradient(z, y, w)
    np.testing.assert_allclose(gradient, w[:, None] / w.sum() * (np.exp(z) - y), rtol=1e-12)
    eps = 1e-6
    numeric = np.empty_like(z)
    for index in np.ndindex(*z.shape):
        up, down = z.copy(), z.copy()
        up[index] += eps
        down[index] -= eps
        numeric[index] = (loss.value(up, y, w) - loss.value(down, y, w)) / (2 * eps)
    np.testing.assert_allclose(gradient, numeric, rtol=1e-6, atol=1e-9)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_extreme_logits_stay_finite_without_warnings(dtype):
    loss = Poisson()
    z = np.array([[-1e30], [-50.0], [0.0], [80.0], [1e30]], dtype=dtype)
    y = np.array([[0.0], [1.0], [2.0], [0.0], [3.0]], dtype=dtype)
    assert np.isfinite(loss.per_sample(z, y)).all()
    assert np.isfinite(loss.link(z.copy())).all()
    assert np.isfinite(loss.gradient(z, y)).all()


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_the_value_of_several_extreme_logits_saturates_without_overflowing(dtype):
    # Each clipped term must leave room for a sum over outputs and samples, as the
    # cross-entropies' terms do (they saturate near 1e300).
    loss = Poisson()
    z = np.full((3, 3), 1e30, dtype=dtype)
    y = np.ones_like(z)
    assert np.isfinite(loss.per_sample(z, y)).all()
    value = loss.value(z, y)
    assert np.isfinite(value) and value > 1e300


def test_mlp_trains_on_counts_and_predicts_positive_means():
    # Its own generator: drawn from the module's, the data depended on which tests ran
    # first, and on 300 rows the fit's correlation ranged from 0.92 to 0.99 across draws.
    # On 2,000 rows it is 0.992 or more for every draw tried.
    rng = np.random.default_rng(0)
    X = rng.uniform(-1, 1, size=(2000, 2))
    rate = np.exp(0.8 * X[:, 0] - 0.5 * X[:, 1] + 0.3)
    y = rng.poisson(rate).astype(float)
    model = MLP(hidden=(8,), loss="poisson", seed=0, dtype="float64")
    model.fit(X, y, epochs=60, learning_rate=0.05, batch_size=64, optimizer="adam")
    predicted = model.predict(X)
    assert model.task == "regression" and (predicted > 0).all()
    assert np.corrcoef(predicted, rate)[0, 1] > 0.98


def test_negative_counts_are_refused():
    X = RNG.normal(size=(10, 2))
    with pytest.raises(ValueError, match=r"poisson loss needs non-negative targets.*-1"):
        MLP(hidden=(3,), loss="poisson").fit(X, np.r_[np.ones(9), -1.0], epochs=1)


def test_a_poisson_model_saves_and_loads(tmp_path):
    from mlpzero import load

    X = RNG.normal(size=(40, 2))
    y = RNG.poisson(2.0, size=40).astype(float)
    model = MLP(hidden=(3,), loss="poisson", seed=0).fit(X, y, epochs=3)
    model.save(tmp_path / "counts.npz")
    loaded = load(tmp_path / "counts.npz")
    assert loaded.loss_.name == "poisson"
    np.testing.assert_array_equal(loaded.predict(X), model.predict(X))


def test_evaluate_reports_the_mean_squared_error_of_a_poisson_model():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((200, 3))
    y = rng.poisson(np.exp(0.5 * X[:, 0])).astype(float)
    model = MLP(hidden=(4,), loss="poisson", seed=0, dtype="float64")
    model.fit(X, y, epochs=50, optimizer="adam", learning_rate=0.05)
    expected = np.mean((model.predict(X).ravel() - y) ** 2)
    assert model.evaluate(X, y)["mse"] == pytest.approx(expected, rel=1e-12)
    assert model.score(X, y) == pytest.approx(expected, rel=1e-12)


def test_poisson_refuses_negative_counts_in_evaluate_and_trains_from_a_generator():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((40, 3))
    y = rng.poisson(1.0, 40).astype(float)
    model = MLP(hidden=(4,), loss="poisson", seed=0)
    model.fit(lambda: iter([(X[:20], y[:20]), (X[20:], y[20:])]), epochs=2)
    assert model.history.epochs == 2
    with pytest.raises(ValueError, match=r"non-negative targets .* smallest value of -\d+\.0$"):
        model.evaluate(X, -y - 1)
    with pytest.raises(ValueError, match="non-negative targets"):
        MLP(hidden=(4,), loss="poisson").fit(lambda: iter([(X, -y - 1)]), epochs=1)


def test_poisson_checks_every_batch_of_a_generator_not_only_the_first():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((60, 3))
    y = rng.poisson(1.0, 60).astype(float)
    y[45] = -2.0  # in the third batch of 20

    def batches():
        return iter([(X[i : i + 20], y[i : i + 20]) for i in range(0, 60, 20)])

    with pytest.raises(ValueError, match=r"batch 2: y: the poisson loss .* smallest value of -2"):
        MLP(hidden=(4,), loss="poisson", seed=0).fit(batches, epochs=2)


def test_negative_validation_counts_are_refused_by_name():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((40, 3))
    y = rng.poisson(1.0, 40).astype(float)
    message = r"^validation_data: y: the poisson loss needs non-negative targets"
    with pytest.raises(ValueError, match=message):
        MLP(hidden=(4,), loss="poisson").fit(X, y, epochs=1, validation_data=(X, -y - 1))


@pytest.mark.parametrize("labels", [np.array(["a", "b"]), np.array(["a", "b"], dtype=object)])
def test_text_targets_are_refused_by_name_in_fit_and_evaluate(labels):
    rng = np.random.default_rng(0)
    X = rng.standard_normal((20, 3))
    y = labels[np.arange(20) % 2]
    message = rf"^y: the poisson loss needs numbers \(counts or rates\), got dtype {y.dtype}"
    with pytest.raises(ValueError, match=message):
        MLP(hidden=(4,), loss="poisson").fit(X, y, epochs=1)
    model = MLP(hidden=(4,), loss="poisson", seed=0).fit(X, np.arange(20.0), epochs=1)
    with pytest.raises(ValueError, match=message):
        model.evaluate(X, y)
    with pytest.raises(ValueError, match=r"^validation_data: y: the poisson loss needs numbers"):
        model.fit(X, np.arange(20.0), epochs=1, validation_data=(X, y))
