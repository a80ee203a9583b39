"""Data preparation for a fit: checks, the validation split, class weights, encoding."""

import time

import numpy as np
import pytest

from mlpzero import MLP
from mlpzero.preparation import check_data, class_weights, prepare, split_validation
from mlpzero.targets import TargetEncoder


def test_validation_split_is_stratified_and_reproducible():
    y = np.array([0] * 80 + [1] * 20)
    rows, held = split_validation(100, 0.25, np.random.default_rng(0), strata=y)
    assert np.bincount(y[held]).tolist() == [20, 5]
    assert np.intersect1d(rows, held).size == 0 and rows.size + held.size == 100
    again = split_validation(100, 0.25, np.random.default_rng(0), strata=y)[1]
    np.testing.assert_array_equal(held, again)


def test_stratified_split_draws_the_rows_of_each_class_in_order():
    """Each class's rows, ascending, are permuted in turn (the draws a seed has always
    given), for labels of any kind."""
    rng = np.random.default_rng(5)
    y = rng.choice(np.array(["b", "a", "c", "d"]), 300, p=[0.5, 0.3, 0.15, 0.05])
    held = split_validation(len(y), 0.3, np.random.default_rng(7), strata=y)[1]
    draws = np.random.default_rng(7)
    expected = []
    for label in np.unique(y):
        rows = np.flatnonzero(y == label)
        take = min(max(round(0.3 * len(rows)), 1), len(rows) - 1)
        expected.append(draws.permutation(rows)[:take])
    np.testing.assert_array_equal(held, np.sort(np.concatenate(expected)))


def test_stratified_split_of_many_classes_does_not_scan_the_rows_per_class():
    """300,000 rows of 150,000 classes: a scan of every row per class makes 4.5e10
    comparisons, many seconds; grouped by one sort, the split is linear in the rows."""
    y = np.random.default_rng(0).integers(0, 150_000, 300_000)
    start = time.perf_counter()
    rows, held = split_validation(len(y), 0.5, np.random.default_rng(1), strata=y)
    assert time.perf_counter() - start < 5
    assert rows.size + held.size == len(y)


def test_validation_split_too_small_for_a_validation_set():
    with pytest.raises(ValueError, match="leaves 0 for validation"):
        split_validation(1, 0.5, np.random.default_rng(0))
    with pytest.raises(ValueError, match=r"leaves 0 for validation.*no class has two rows"):
        split_validation(3, 0.4, np.random.default_rng(0), strata=np.array([0, 1, 2]))
    rows, held = split_validation(3, 0.1, np.random.default_rng(0))
    assert (rows.size, held.size) == (2, 1)  # at least one row is held out


def test_balanced_weights_follow_n_over_k_n_c():
    y = np.array(["a"] * 6 + ["b"] * 2)
    weights = class_weights("balanced", y, np.array(["a", "b"]))
    np.testing.assert_allclose(weights, [8 / (2 * 6)] * 6 + [8 / (2 * 2)] * 2)


def test_check_data_keeps_x_uncopied_and_makes_the_weights_relative():
    X = np.arange(12, dtype=np.float32).reshape(6, 2)
    data = check_data(X, [0, 1, 0, 1, 0, 1], [1, 2, 4, 4, 2, 1], None, np.float32, 2)
    assert data.X is X  # already float32 and C-contiguous: no copy of the data
    np.testing.assert_array_equal(data.weights, [0.25, 0.5, 1, 1, 0.5, 0.25])
    assert data.validation is None
    with pytest.raises(TypeError, match=r"validation_data must be .* got ndarray"):
        check_data(X, [0, 1] * 3, None, X, np.float32, 2)
    with pytest.raises(ValueError, match="X_val"):
        check_data(X, [0, 1] * 3, None, (X[:, :1], [0] * 6), np.float32, 2)


def test_prepare_splits_weights_and_encodes_as_computed_by_hand():
    X = np.arange(16, dtype=np.float64).reshape(8, 2)
    y = np.array(["a", "a", "a", "a", "a", "a", "b", "b"])
    data = check_data(X, y, [2, 2, 2, 2, 1, 1, 1, 2], None, np.float64, None)
    encoder = TargetEncoder("binary").fit(y)
    rng = np.random.default_rng(3)
    prepared = prepare(
        data, encoder, np.float64, validation_split=0.25, class_weight="balanced", split_rng=rng
    )
    # The same draw by hand: round(0.25 * 6) = 2 of the six "a" and one "b" held out.
    rows, held = split_validation(8, 0.25, np.random.default_rng(3), strata=y)
    np.testing.assert_array_equal(prepared.validation_rows, held)
    assert sorted(y[held].tolist()) == ["a", "a", "b"]
    np.testing.assert_array_equal(prepared.X, X[rows])
    np.testing.assert_array_equal(prepared.Y[:, 0], (y[rows] == "b").astype(float))
    # Relative sample weights (largest 1) times n / (k n_c) over the five training rows.
    relative = np.array([2, 2, 2, 2, 1, 1, 1, 2]) / 2
    balanced = np.where(y[rows] == "a", 5 / (2 * 4), 5 / (2 * 1))
    np.testing.assert_allclose(prepared.sample_weight, relative[rows] * balanced)
    X_val, Y_val, w_val = prepared.validation
    np.testing.assert_array_equal(X_val, X[held])
    np.testing.assert_array_equal(Y_val[:, 0], (y[held] == "b").astype(float))
    np.testing.assert_array_equal(w_val, relative[held])  # class weights train only


def test_prepare_without_options_passes_the_data_through():
    X = np.eye(3)
    y = np.array([2, 0, 1])
    encoder = TargetEncoder("multiclass").fit(y)
    prepared = prepare(check_data(X, y, None, None, np.float64, 3), encoder, np.float64)
    assert prepared.X is X and prepared.sample_weight is None
    assert prepared.validation is None and prepared.validation_rows is None
    np.testing.assert_array_equal(prepared.Y, [[0, 0, 1], [1, 0, 0], [0, 1, 0]])


def test_class_weight_is_refused_for_regression():
    data = check_data(np.ones((4, 1)), [0.5, 1.5, 2.5, 3.5], None, None, np.float64, None)
    encoder = TargetEncoder("regression").fit(data.y)
    with pytest.raises(ValueError, match=r"class_weight applies to .* not to a regression model"):
        prepare(data, encoder, np.float64, class_weight="balanced")


@pytest.mark.skipif(
    not hasattr(getattr(np, "dtypes", None), "StringDType"), reason="NumPy before 2.0"
)
def test_class_weight_takes_labels_of_another_string_dtype_than_the_classes():
    """Labels of NumPy's StringDType with ``classes`` listed as ``str`` (or the other way
    round) trained, but a ``class_weight`` failed in NumPy's sort with "Cannot cast array
    data from dtype('<U2') to StringDType()"."""
    X = np.random.default_rng(0).standard_normal((60, 3))
    names = np.array(["a", "bb", "c"])
    labels = names[np.arange(60) % 3]
    classes = ["a", "bb", "c", "d"]
    for class_weight in ("balanced", {"bb": 3.0}):
        options = dict(epochs=1, classes=classes, class_weight=class_weight)
        plain = MLP(hidden=(3,), seed=0).fit(X, labels, **options)
        text = MLP(hidden=(3,), seed=0).fit(X, labels.astype(np.dtypes.StringDType()), **options)
        assert text.history.history == plain.history.history
        np.testing.assert_array_equal(text.network.params, plain.network.params)
    y = labels.astype(np.dtypes.StringDType())
    assert class_weights("balanced", y, names).tolist() == [1.0] * 60
    assert class_weights({"bb": 2.0}, names, names.astype(y.dtype)).tolist() == [1.0, 2.0, 1.0]


def test_a_stratified_split_that_would_hold_out_far_more_than_asked_is_refused():
    rng = np.random.default_rng(0)
    y = np.repeat(np.arange(100), 2)  # 100 classes of 2 rows: one each would be 50 %
    with pytest.raises(ValueError, match=r"validation_split=0.1 .* hold out 100 of 200 rows"):
        MLP(hidden=(2,), seed=0).fit(rng.standard_normal((200, 2)), y, validation_split=0.1)
    y = np.repeat(np.arange(3), 100)  # large classes: the fraction, class by class
    model = MLP(hidden=(2,), seed=0).fit(rng.standard_normal((300, 2)), y, validation_split=0.1)
    assert len(model.validation_rows_) == 30


def test_errors_name_class_weight_and_validation_data():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((20, 2))
    y = (X[:, 0] > 0).astype(int)
    with pytest.raises(ValueError, match=r"class_weight=\{0: 0, 1: 0\} .* every one of the 20"):
        MLP(hidden=(3,)).fit(X, y, epochs=1, class_weight={0: 0, 1: 0})
    with pytest.raises(ValueError, match=r"validation_data's y: .*\[5\]"):
        MLP(hidden=(3,)).fit(X, y, epochs=1, validation_data=(X, np.r_[5, y[1:]]))


@pytest.mark.parametrize(
    ("weights", "match"),
    [
        (np.zeros(20), r"validation_data's sample_weight must not be all zero"),
        (-np.ones(20), r"validation_data's sample_weight must be finite and non-negative"),
        (np.ones(7), r"validation_data's sample_weight must have shape \(20,\) to match X_val"),
    ],
)
def test_errors_in_the_validation_weights_name_them(weights, match):
    rng = np.random.default_rng(0)
    X = rng.standard_normal((20, 2))
    y = (X[:, 0] > 0).astype(int)
    with pytest.raises(ValueError, match=match):
        MLP(hidden=(3,)).fit(X, y, epochs=1, validation_data=(X, y, weights))


def test_errors_in_a_generator_batch_weights_name_the_batch():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((20, 2))
    y = (X[:, 0] > 0).astype(int)

    def batches():
        yield X[:10], y[:10], np.ones(10)
        yield X[10:], y[10:], np.r_[np.ones(9), -1.0]

    with pytest.raises(ValueError, match=r"w of batch 1 must be finite and non-negative"):
        MLP(hidden=(3,)).fit(batches, epochs=1)
