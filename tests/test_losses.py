"""The losses: values against the textbook formulas, gradients against finite differences
(of the loss alone, and through a whole model for each kind of ``y``), stability at extreme
logits, sample weights, the registry, and one end-to-end fit.
"""

import re
import warnings

import numpy as np
import pytest

from mlpzero import MLP
from mlpzero.activations import softmax
from mlpzero.gradcheck import gradcheck
from mlpzero.losses import (
    BinaryCrossEntropy,
    CategoricalCrossEntropy,
    Poisson,
    SquaredError,
    get,
)

rng = np.random.default_rng(0)


# ------------------------------------------------------------------------------------------ values
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


# --------------------------------------------------------------------------------------- gradients
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


def test_output_gradient_is_a_minus_y_for_each_link():
    z = rng.standard_normal((5, 3))
    onehot = np.eye(3)[[0, 2, 1, 1, 0]]
    labels = rng.integers(0, 2, (5, 3)).astype(float)
    values = rng.standard_normal((5, 3))
    e = np.exp(z)
    np.testing.assert_allclose(
        CategoricalCrossEntropy().gradient(z, onehot), (e / e.sum(1, keepdims=True) - onehot) / 5
    )
    np.testing.assert_allclose(
        BinaryCrossEntropy().gradient(z, labels), (1 / (1 + np.exp(-z)) - labels) / 5
    )
    np.testing.assert_allclose(SquaredError().gradient(z, values), (z - values) / 5)


# --------------------------------------------------- gradients through a model, for each kind of y
def targets(kind: str, X: np.ndarray) -> np.ndarray:
    """One ``y`` of each kind for 2-D inputs ``X``."""
    if kind == "multiclass":
        order = np.argsort(np.argsort(X[:, 0]))  # rank of each row: every class appears
        return np.array(["low", "mid", "high", "top"])[order * 4 // len(X)]
    if kind == "multilabel":
        return np.c_[X[:, 0] > 0, X[:, 1] > 0, X.sum(axis=1) > 0.5].astype(int)
    if kind == "regression_1d":
        return np.sin(X[:, 0]) + 0.3 * X[:, 1]
    if kind == "regression_2d":
        return np.c_[np.sin(X[:, 0]), X[:, 0] * X[:, 1] + 0.1]
    raise AssertionError(kind)


CASES = [
    ("multiclass", "categorical_crossentropy", 4),
    ("multilabel", "binary_crossentropy", 3),
    ("regression_1d", "squared_error", 1),
    ("regression_2d", "squared_error", 2),
]


@pytest.mark.parametrize(("kind", "loss_name", "n_outputs"), CASES)
@pytest.mark.parametrize("activation", ["tanh", "sigmoid", "relu"])
def test_gradcheck_each_task_through_the_model(kind, loss_name, n_outputs, activation):
    X = rng.standard_normal((9, 2))
    y = targets(kind, X)
    model = MLP(hidden=(5, 4), activation=activation, dtype="float64", seed=1)
    model.fit(X, y, epochs=3, learning_rate=0.1)  # builds, and moves off the initial point
    assert model.loss_.name == loss_name
    assert model.network.layer_sizes == (2, 5, 4, n_outputs)
    Y = model.encoder.encode(y, dtype=np.float64)
    result = gradcheck(model.network, model.loss_, X, Y)
    assert result.relative_error < 1e-7, result.relative_error


@pytest.mark.parametrize(("kind", "loss_name", "n_outputs"), CASES)
def test_gradcheck_each_task_with_sample_weights(kind, loss_name, n_outputs):
    X = rng.standard_normal((8, 2))
    y = targets(kind, X)
    model = MLP(hidden=(6,), activation="tanh", dtype="float64", seed=2).fit(X, y, epochs=1)
    Y = model.encoder.encode(y, dtype=np.float64)
    weights = rng.random(8) + 0.2
    result = gradcheck(model.network, model.loss_, X, Y, sample_weight=weights)
    assert result.relative_error < 1e-7, result.relative_error


# --------------------------------------------------------------------- stability at extreme logits
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


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("scale", [1.0, 1e2, 1e3, 1e4])
def test_softmax_and_cross_entropy_are_stable_at_large_logits(dtype, scale):
    base = np.array([[3.0, 1.0, -2.0], [0.5, 0.5, 0.5], [-1.0, 2.0, 0.0]])
    onehot = np.eye(3)[[2, 0, 1]]
    # softmax is shift invariant: moving every logit of a row by +-scale changes nothing,
    # so the moderate-input values are the oracle.
    e = np.exp(base)
    expected = e / e.sum(axis=1, keepdims=True)
    expected_loss = -np.log((expected * onehot).sum(axis=1))
    loss = CategoricalCrossEntropy()
    for shift in (scale, -scale):
        z = (base + shift).astype(dtype)
        with warnings.catch_warnings(), np.errstate(over="raise", divide="raise", invalid="raise"):
            warnings.simplefilter("error")
            probabilities = softmax(z)
            per_sample = loss.per_sample(z, onehot.astype(dtype))
            gradient = loss.gradient(z, onehot.astype(dtype))
        # float32 keeps about 7 significant digits: 1e4 + 0.5 is stored to within 5e-4.
        tolerance = 2e-3 if dtype == np.float32 and scale > 1 else 1e-6
        np.testing.assert_allclose(probabilities, expected, rtol=tolerance, atol=tolerance)
        np.testing.assert_allclose(per_sample, expected_loss, rtol=tolerance, atol=tolerance)
        np.testing.assert_allclose(
            gradient, (expected - onehot) / 3, rtol=tolerance, atol=tolerance
        )
        assert probabilities.dtype == dtype and gradient.dtype == dtype


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_softmax_saturates_without_overflow_at_1e4(dtype):
    z = np.array([[1e4, 0.0, -1e4], [-1e4, -1e4, -1e4], [1e4, 1e4, -1e4]], dtype=dtype)
    onehot = np.eye(3, dtype=dtype)[[2, 1, 0]]
    with warnings.catch_warnings(), np.errstate(over="raise", divide="raise", invalid="raise"):
        warnings.simplefilter("error")
        probabilities = softmax(z)
        losses = CategoricalCrossEntropy().per_sample(z, onehot)
        gradient = CategoricalCrossEntropy().gradient(z, onehot)
    np.testing.assert_allclose(
        probabilities, [[1, 0, 0], [1 / 3, 1 / 3, 1 / 3], [0.5, 0.5, 0]], atol=1e-7
    )
    # -log softmax_k = logsumexp(z) - z_k: 2e4 for the first row, log 3, log 2.
    np.testing.assert_allclose(losses, [2e4, np.log(3), np.log(2)], rtol=1e-6)
    assert np.isfinite(gradient).all()


def test_multilabel_and_regression_are_stable_at_large_logits():
    z = np.array([[1e4, -1e4, 0.0]])
    with warnings.catch_warnings(), np.errstate(over="raise", divide="raise", invalid="raise"):
        warnings.simplefilter("error")
        bce = BinaryCrossEntropy().per_sample(z, np.array([[0.0, 1.0, 1.0]]))
        se = SquaredError().per_sample(z, np.zeros((1, 3)))
    np.testing.assert_allclose(bce, [2e4 + np.log(2)])
    np.testing.assert_allclose(se, [1e8])


# ---------------------------------------------------------------------------------- sample weights
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


@pytest.mark.parametrize("bad", [-1.0, np.nan, np.inf])
@pytest.mark.parametrize("loss", [BinaryCrossEntropy(), CategoricalCrossEntropy(), SquaredError()])
def test_negative_or_non_finite_sample_weights_are_refused_by_name(loss, bad):
    # A negative weight gave a value and a gradient without a word; NaN was reported as
    # "all zero"; infinity made the value NaN.
    z, y = rng.normal(size=(4, 2)), np.eye(2)[[0, 1, 1, 0]]
    weights = np.array([bad, 1.0, 0.5, 1.0])
    for call in (loss.value, loss.gradient, loss.value_and_gradient):
        with pytest.raises(ValueError, match=r"sample_weight must be finite and non-negative, got"):
            call(z, y, weights)


@pytest.mark.parametrize(
    "loss",
    [SquaredError(), Poisson(), BinaryCrossEntropy(), CategoricalCrossEntropy(0.01)],
    ids=lambda loss: loss.name,
)
@pytest.mark.parametrize(
    ("logits_shape", "targets_shape"), [((5, 1), (5,)), ((5, 2), (5, 1)), ((5, 2), (1, 2))]
)
def test_targets_of_another_shape_than_the_logits_are_refused_by_name(
    loss, logits_shape, targets_shape, backend
):
    """A 1-D ``y`` for a one-output model broadcast against the ``(n, 1)`` logits to an
    ``(n, n)`` matrix: Poisson's value came out wrong without a word, through n * n
    temporaries, and the other losses failed with NumPy's broadcasting message. A
    ``(1, k)`` or ``(n, 1)`` target was used for every row or output."""
    logits = np.linspace(-1, 1, int(np.prod(logits_shape))).reshape(logits_shape)
    targets = np.ones(targets_shape)
    message = (
        re.escape(f"targets must have shape {logits_shape}")
        + ".*"
        + re.escape(f"got shape {targets_shape}")
    )
    with pytest.raises(ValueError, match=message):
        loss.value(logits, targets)
    with pytest.raises(ValueError, match=message):
        loss.gradient(logits, targets)
    with pytest.raises(ValueError, match=message):
        loss.value_and_gradient(logits, targets, out=np.empty_like(logits))
    with pytest.raises(ValueError, match=message):
        loss.value(logits, targets, np.ones(logits_shape[0]))


@pytest.mark.parametrize(
    "loss", [BinaryCrossEntropy(), CategoricalCrossEntropy(), SquaredError(), Poisson()]
)
def test_logits_that_are_not_two_dimensional_are_refused_by_name(loss):
    """1-D logits made the value fail inside NumPy (an axis or einsum error) while the
    gradient took each entry as a row of one output; a list failed with AttributeError
    on the numba backend only, for the value, and on both for the gradient."""
    z, y = np.array([0.5, -1.0, 2.0]), np.array([1.0, 0.0, 1.0])
    message = r"logits must have shape \(n_samples, n_outputs\).*got shape \(3,\): pass"
    with pytest.raises(ValueError, match=message):
        loss.value(z, y)
    with pytest.raises(ValueError, match=message):
        loss.gradient(z, y)
    with pytest.raises(ValueError, match=message):
        loss.value_and_gradient(z, y)
    with pytest.raises(ValueError, match=r"got shape \(1, 3, 1\)$"):
        loss.value(z.reshape(1, 3, 1), y.reshape(1, 3, 1))
    listed, targets = [[0.5], [-1.0], [2.0]], [[1.0], [0.0], [1.0]]
    expected = loss.value(np.array(listed), np.array(targets))
    assert loss.value(listed, targets) == pytest.approx(expected)
    value, gradient = loss.value_and_gradient(listed, targets)
    assert value == pytest.approx(expected)
    np.testing.assert_allclose(gradient, loss.gradient(np.array(listed), np.array(targets)))


@pytest.mark.parametrize(
    "loss", [BinaryCrossEntropy(), CategoricalCrossEntropy(), SquaredError(), Poisson()]
)
def test_no_rows_give_an_empty_gradient_and_a_nan_value(loss):
    # The gradient divided by the number of rows: ZeroDivisionError on an empty batch.
    z, y = np.zeros((0, 3)), np.zeros((0, 3))
    assert loss.gradient(z, y).shape == (0, 3)
    assert loss.gradient(z, y, out=np.empty((0, 3))).shape == (0, 3)
    value, gradient = loss.value_and_gradient(z, y, out=np.empty((0, 3)))
    assert np.isnan(value)
    assert gradient.shape == (0, 3)


@pytest.mark.parametrize(
    "loss", [BinaryCrossEntropy(), CategoricalCrossEntropy(), SquaredError(), Poisson()]
)
def test_no_rows_with_sample_weights_give_a_nan_value(loss):
    # The weighted mean of nothing is NaN as the plain one is, not NumPy's error about a
    # zero-size reduction from dividing the weights by their largest.
    z, y, w = np.zeros((0, 3)), np.zeros((0, 3)), np.zeros(0)
    assert np.isnan(loss.value(z, y, w))
    value, gradient = loss.value_and_gradient(z, y, w, out=np.empty((0, 3)))
    assert np.isnan(value)
    assert gradient.shape == (0, 3)


# ------------------------------------------------------------------------ clipped values (epsilon)
EPS64 = float(np.finfo(np.float64).eps)


def _rows_with_saturated_outputs(n_outputs):
    """Logits ``(12, n_outputs)``: half the rows moderate (|z| < 4), half saturated
    (|z| of 40 to 60, where float64's sigmoid is 0 or 1 and scikit-learn clips it)."""
    local = np.random.default_rng(7)
    z = local.uniform(-4, 4, (12, n_outputs))
    z[::2] = local.choice([-1, 1], (6, n_outputs)) * local.uniform(40, 60, (6, n_outputs))
    return z


@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "weighted"])
def test_clipped_binary_crossentropy_is_scikit_learns_binary_log_loss(weighted):
    """scikit-learn's value from probabilities clipped to [eps, 1 - eps] is the oracle; on
    one output (binary) and on three 0/1 columns (multi-label)."""
    base = pytest.importorskip("sklearn.neural_network._base")
    for n_outputs in (1, 3):
        z = _rows_with_saturated_outputs(n_outputs)
        y = np.random.default_rng(n_outputs).integers(0, 2, z.shape).astype(np.float64)
        weights = np.linspace(0.5, 2.0, len(z)) if weighted else None
        expected = base.binary_log_loss(y, 1 / (1 + np.exp(-z)), sample_weight=weights)
        loss = BinaryCrossEntropy(epsilon=EPS64)
        assert loss.value(z, y, weights) == pytest.approx(expected, rel=1e-13)
        unclipped = BinaryCrossEntropy().value(z, y, weights)
        assert abs(unclipped - expected) > 1  # the saturated rows weigh: clipping shows
        if n_outputs == 1:  # scikit-learn's two-column log_loss of a binary output agrees
            two = base.log_loss(y, 1 / (1 + np.exp(-z)), sample_weight=weights)
            assert loss.value(z, y, weights) == pytest.approx(two, rel=1e-13)


@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "weighted"])
def test_clipped_categorical_crossentropy_is_scikit_learns_log_loss(weighted):
    base = pytest.importorskip("sklearn.neural_network._base")
    z = _rows_with_saturated_outputs(4)
    z[1] = [30.0, 0.0, -2.0, 1.0]  # a small probability above eps: not clipped
    y = np.eye(4)[np.random.default_rng(3).integers(0, 4, len(z))]
    y[1] = [0, 1, 0, 0]
    shifted = np.exp(z - z.max(axis=1, keepdims=True))
    probabilities = shifted / shifted.sum(axis=1, keepdims=True)
    weights = np.linspace(2.0, 0.5, len(z)) if weighted else None
    expected = base.log_loss(y, probabilities, sample_weight=weights)
    loss = CategoricalCrossEntropy(epsilon=EPS64)
    assert loss.value(z, y, weights) == pytest.approx(expected, rel=1e-13)
    assert abs(CategoricalCrossEntropy().value(z, y, weights) - expected) > 1


@pytest.mark.parametrize("loss_type", [BinaryCrossEntropy, CategoricalCrossEntropy])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_clipping_changes_the_value_and_never_the_gradient(loss_type, dtype):
    """The gradient stays A - Y, bit for bit that of the exact loss on the same path (with
    and without sample weights, alone or with the value); the value is the clipped one on
    every path. (A one-pass value and gradient, on numba, may round the gradient's last bit
    differently from the gradient path: it shares the value's exponentials.)"""
    z = (_rows_with_saturated_outputs(3) * 2).astype(dtype)
    y = np.eye(3, dtype=dtype)[np.random.default_rng(5).integers(0, 3, len(z))]
    clipped, exact = loss_type(epsilon=1e-3), loss_type()
    weights = np.linspace(0.5, 2.0, len(z))
    for w in (None, weights):
        np.testing.assert_array_equal(clipped.gradient(z, y, w), exact.gradient(z, y, w))
        out, reference = np.empty_like(z), np.empty_like(z)
        value, gradient = clipped.value_and_gradient(z, y, w, out=out)
        _, unclipped = exact.value_and_gradient(z, y, w, out=reference)
        np.testing.assert_array_equal(gradient, unclipped)
        # within a few eps of the gradient's scale 1/m of the gradient path's A - Y
        bound = 4 * np.finfo(dtype).eps / len(z)
        np.testing.assert_allclose(gradient, exact.gradient(z, y, w), rtol=0, atol=bound)
        per_sample = clipped.per_sample(z, y)
        expected_value = np.average(per_sample, weights=w)
        assert value == pytest.approx(expected_value, rel=1e-14)
        assert clipped.value(z, y, w) == pytest.approx(expected_value, rel=1e-14)
        assert value < exact.value(z, y, w) - 1
    # epsilon bounds every output's log-probability: no sample loses more than -log(eps)
    # per output (binary: per label; categorical: the one true class)
    outputs = 3 if loss_type is BinaryCrossEntropy else 1
    assert clipped.per_sample(z, y).max() <= -np.log(1e-3) * outputs + 1e-12


def test_clipping_leaves_moderate_logits_alone_and_stays_stable_at_extremes():
    z = rng.uniform(-3, 3, (6, 3))
    y01 = rng.integers(0, 2, (6, 3)).astype(float)
    onehot = np.eye(3)[rng.integers(0, 3, 6)]
    bce, cce = BinaryCrossEntropy(EPS64), CategoricalCrossEntropy(EPS64)
    assert bce.value(z, y01) == pytest.approx(naive_bce(z, y01), rel=1e-13)
    assert cce.value(z, onehot) == pytest.approx(naive_cce(z, onehot), rel=1e-13)
    extreme = np.array([[1e300, -1e300, 0.0], [-np.finfo(np.float64).max, 1e4, -1e4]])
    with warnings.catch_warnings(), np.errstate(over="raise", divide="raise", invalid="raise"):
        warnings.simplefilter("error")
        b = bce.per_sample(extreme, np.array([[0.0, 1.0, 1.0], [1.0, 0.0, 1.0]]))
        c = cce.per_sample(extreme, np.eye(3)[[1, 0]])
    limit = -np.log(EPS64)
    np.testing.assert_allclose(b, [2 * limit + np.log(2), 3 * limit], rtol=1e-12)
    np.testing.assert_allclose(c, [limit, limit], rtol=1e-12)


def test_epsilon_zero_is_the_default_and_keeps_the_exact_value():
    z = rng.standard_normal((5, 3)) * 50
    y = np.eye(3)[rng.integers(0, 3, 5)]
    for loss_type in (BinaryCrossEntropy, CategoricalCrossEntropy):
        assert loss_type(0.0) == loss_type() and loss_type(0).epsilon == 0.0
        assert loss_type(0.0).value(z, y) == loss_type().value(z, y)


@pytest.mark.parametrize("bad", ["0.1", -1e-9, 0.5, 0.7, float("nan"), float("inf"), True, None])
def test_epsilon_must_be_a_real_number_in_zero_to_one_half(bad):
    for loss_type in (BinaryCrossEntropy, CategoricalCrossEntropy):
        with pytest.raises(ValueError, match=r"epsilon must be a real number .*got .*"):
            loss_type(epsilon=bad)
    with pytest.raises(ValueError, match="epsilon"):
        get({"name": "bce", "epsilon": bad})


def test_epsilon_is_a_hyperparameter_of_the_config():
    loss = get({"name": "cce", "epsilon": 1e-7})
    assert isinstance(loss, CategoricalCrossEntropy) and loss.epsilon == 1e-7
    assert loss.config == {"name": "categorical_crossentropy", "epsilon": 1e-7}
    assert get(loss.config) == loss and loss != CategoricalCrossEntropy()
    assert get({"name": "bce", "epsilon": np.float32(0.25)}).epsilon == 0.25


def test_a_full_batch_fit_reports_the_clipped_loss():
    """Full-batch binary gradient descent has a compiled loop that reports the exact loss:
    with epsilon the loop of batches runs, and the history holds the clipped value."""
    X = rng.standard_normal((40, 3)) * 30
    y = (X[:, 0] > 0).astype(int)
    loss = {"name": "binary_crossentropy", "epsilon": 0.05}
    model = MLP(hidden=(4,), loss=loss, dtype="float64", seed=0).build(X, y)
    Y = model.encoder.encode(y, dtype=np.float64)
    before = model.network.forward(X).copy()
    model.fit(X, y, epochs=1, learning_rate=0.1, batch_size=len(X), shuffle=False)
    expected = BinaryCrossEntropy(0.05).value(before, Y)
    assert expected < BinaryCrossEntropy().value(before, Y) - 0.1
    assert model.history["loss"][0] == pytest.approx(expected, rel=1e-12)


# ------------------------------------------------------------------------------------ the registry
def test_registry():
    assert isinstance(get("mse"), SquaredError)
    assert get("binary_crossentropy").output_activation == "sigmoid"
    assert get("categorical_crossentropy").output_activation == "softmax"
    with pytest.raises(ValueError, match="unknown loss 'hinge'"):
        get("hinge")


# -------------------------------------------------------------------------------------- end to end
def test_multiclass_model_separates_three_blobs():
    # A quick end-to-end sanity check: softmax training separates three blobs.
    centres = np.array([[0.0, 3.0], [-3.0, -2.0], [3.0, -2.0]])
    X = np.vstack([c + rng.standard_normal((40, 2)) * 0.6 for c in centres])
    y = np.repeat([0, 1, 2], 40)
    model = MLP(hidden=(8,), seed=0).fit(X, y, epochs=400, learning_rate=0.3)
    assert model.task == "multiclass"
    assert model.score(X, y) > 0.97


@pytest.mark.parametrize(
    "loss", [BinaryCrossEntropy(), CategoricalCrossEntropy(), SquaredError(), Poisson()], ids=str
)
def test_an_infinite_logit_is_not_saturated_into_a_finite_loss(loss):
    """Finite logits beyond 1e300 saturate; an infinite one comes from a forward pass that
    overflowed, and the loss must show it, or a diverged fit would go on."""
    logits = np.array([[2.0, -1.0], [np.inf, 0.5]])
    targets = np.array([[1.0, 0.0], [0.0, 1.0]])
    assert not np.isfinite(loss.value(logits, targets))
    assert not np.isfinite(loss.value(-logits, targets))
    huge = np.where(np.isinf(logits), 1e306, logits)
    assert np.isfinite(loss.value(huge, targets))


def test_a_fit_whose_outputs_overflow_is_a_divergence():
    from mlpzero import MLP
    from mlpzero.training import TrainingDivergedError

    rng = np.random.default_rng(0)
    X = rng.standard_normal((64, 3))
    y = (X[:, 0] * X[:, 1] > 0).astype(int)
    model = MLP(hidden=(5,), seed=0)  # float32: steps of 1e30 overflow the outputs
    with pytest.raises(TrainingDivergedError):
        model.fit(X, y, epochs=3, optimizer="adam", learning_rate=1e30)
    assert np.isfinite(model.network.params).all()


# ------------------------------------------------------------------- PyTorch as an oracle
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("scale", [1.0, 88.0, 709.0, 1e4])
@pytest.mark.parametrize("name", ["bce", "cce", "squared_error"])
def test_value_and_gradient_agree_with_torch(name, scale, dtype, backend):
    """Weighted and not, with logits up to ``scale`` either way, against the losses of
    ``torch.nn.functional`` and their autograd gradient, computed in float64."""
    torch = pytest.importorskip("torch")
    functional = torch.nn.functional
    local = np.random.default_rng(5)
    z = (local.normal(size=(17, 4)) * scale).astype(dtype)
    z[0, 0], z[1, 1] = scale, -scale
    if name == "cce":
        y = np.eye(4)[local.integers(0, 4, 17)]
        y[0] = 0.25  # a soft row
    elif name == "bce":
        y = local.choice([0.0, 1.0, 0.3], size=(17, 4))
    else:
        y = local.normal(size=(17, 4)) * 3
    y = y.astype(dtype)
    loss = get(name)
    for weights in (None, local.uniform(0.1, 3.0, 17)):
        logits = torch.tensor(z.astype(np.float64), requires_grad=True)
        targets = torch.tensor(y.astype(np.float64))
        if name == "bce":
            per = functional.binary_cross_entropy_with_logits(logits, targets, reduction="none")
        elif name == "cce":
            per = -targets * functional.log_softmax(logits, dim=1)
        else:
            per = 0.5 * (logits - targets) ** 2
        w = torch.ones(17, dtype=torch.float64) if weights is None else torch.tensor(weights)
        expected = (per.sum(dim=1) * w).sum() / w.sum()
        expected.backward()
        value, gradient = loss.value_and_gradient(z, y, weights, out=np.empty_like(z))
        rtol = 1e-12 if dtype == np.float64 else 1e-6
        assert value == pytest.approx(expected.item(), rel=rtol)
        assert loss.value(z, y, weights) == pytest.approx(expected.item(), rel=rtol)
        reference = logits.grad.numpy()
        atol = 10 * rtol * np.abs(reference).max()
        np.testing.assert_allclose(gradient, reference, rtol=0, atol=atol)
        np.testing.assert_allclose(loss.gradient(z, y, weights), reference, rtol=0, atol=atol)


@pytest.mark.parametrize(
    "loss",
    [SquaredError(), Poisson(), BinaryCrossEntropy(), CategoricalCrossEntropy()],
    ids=lambda loss: loss.name,
)
@pytest.mark.parametrize("targets_dtype", [np.int64, np.float64])
def test_integer_logits_give_the_gradient_of_the_same_logits_as_floats(loss, targets_dtype):
    """The squared error's link copied integer logits as integers: with integer targets
    its gradient was scaled by 1 / m in integers, that is by 0, and came out all zero;
    with float targets it failed with NumPy's "Cannot cast ufunc 'subtract' output".
    Poisson's link failed with "data type ... not inexact". Integer logits now give
    float predictions, as the cross-entropies' links already did."""
    logits = np.array([[3, 0], [1, 2], [0, 1]])
    targets = np.array([[1, 0], [1, 0], [0, 1]], dtype=targets_dtype)
    weights = np.array([1.0, 2.0, 0.5])
    floats = logits.astype(np.float64)
    np.testing.assert_allclose(loss.link(logits), loss.link(floats), rtol=1e-15)
    for w in (None, weights):
        expected = loss.gradient(floats, targets, w)
        assert np.abs(expected).max() > 0  # the check can fail
        np.testing.assert_allclose(loss.gradient(logits, targets, w), expected, rtol=1e-15)


@pytest.mark.parametrize(
    "loss",
    [SquaredError(), Poisson(), BinaryCrossEntropy(), CategoricalCrossEntropy(0.01)],
    ids=lambda loss: loss.name,
)
@pytest.mark.parametrize("shape", [(1,), (6,), (5, 1), (1, 5), ()])
def test_sample_weights_of_another_shape_than_one_per_row_are_refused_by_name(loss, shape):
    """One weight for five rows broadcast in the gradient: every row weighed the same and
    the sum of the weights was that one weight, so the gradient came out five times too
    large without a word (the value failed with NumPy's "Axis must be specified").
    Other shapes failed with NumPy's broadcasting messages or an IndexError."""
    logits = np.linspace(-1, 1, 10).reshape(5, 2)
    targets = np.tile([[1.0, 0.0]], (5, 1))
    weights = np.full(shape, 2.0)
    message = (
        re.escape("sample_weight must have shape (5,), one weight per row")
        + ".*"
        + re.escape(f"got shape {shape}")
    )
    with pytest.raises(ValueError, match=message):
        loss.gradient(logits, targets, weights)
    with pytest.raises(ValueError, match=message):
        loss.value(logits, targets, weights)
    with pytest.raises(ValueError, match=message):
        loss.value_and_gradient(logits, targets, weights, out=np.empty_like(logits))
