"""Bad input is refused with an error that names the argument and echoes the value, and
extreme but finite input never produces a RuntimeWarning or a NaN (pytest turns every
warning into an error)."""

import warnings

import numpy as np
import pytest

from conftest import traced_peak
from mlpzero import MLP
from mlpzero.activations import sigmoid, softmax
from mlpzero.losses import BinaryCrossEntropy, CategoricalCrossEntropy, SquaredError
from mlpzero.metrics import confusion_matrix
from mlpzero.validation import (
    check_features,
    check_int,
    check_non_negative,
    check_positive,
    check_sample_weight,
    check_targets,
    relative_sample_weight,
)


def data(n=30, features=2, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, features))
    return X, (X[:, 0] > 0).astype(int)


@pytest.fixture
def fitted():
    X, y = data()
    return MLP(hidden=(4,), seed=0).fit(X, y, epochs=5, learning_rate=0.1)


# ---------------------------------------------------------------------------- the checks
@pytest.mark.parametrize(
    ("X", "message"),
    [
        ([[1.0, np.nan]], r"X contains NaN or infinity \(first at row 0, column 1\)"),
        ([[1.0], [np.inf]], r"first at row 1, column 0"),
        ([1.0, 2.0], r"X must be 2-D .* got a 1-D array of shape \(2,\)"),
        (np.zeros((2, 2, 2)), r"X must be 2-D .* got shape \(2, 2, 2\)"),
        (np.zeros((0, 3)), r"X is empty: got shape \(0, 3\)"),
        (np.zeros((3, 0)), r"X has no features: got shape \(3, 0\)"),
        ([["1.5", "abc"]], r"X must be numeric, got 'abc' at index 0, 1"),
        (np.array([[1 + 2j]]), r"X must be numeric, got dtype complex128"),
        ([[1e300, 0.0]], r"X holds 1e\+300 \(at index 0, 0\), beyond the largest float32"),
        ([[0.0, -4e38]], r"X holds -4e\+38 \(at index 0, 1\)"),
        ([[0, -(10**400)]], r"X holds an integer beyond every float \(-1000\.\.\.\) at index 0, 1"),
        # What NumPy wraps whole as one object: said as what it is, not "at index ".
        ((r for r in [[1.0]]), r"X must be 2-D \(n_samples, n_features\), got generator <gen"),
        ({"a": [1.0]}, r"X must be 2-D \(n_samples, n_features\), got dict \{'a': \[1\.0\]\}$"),
        (None, r"X must be 2-D \(n_samples, n_features\), got NoneType None$"),
        ("1.5", r"X must be 2-D \(n_samples, n_features\), got str '1\.5'$"),
    ],
)
def test_check_features_names_the_problem(X, message):
    with pytest.raises(ValueError, match=message):
        check_features(X, dtype=np.float32)


def test_check_features_accepts_what_it_can_convert():
    assert check_features([["1.5", "2"]]).tolist() == [[1.5, 2.0]]
    assert check_features([[True, False]]).dtype == np.float64
    assert check_features([[1e300]], dtype=np.float64)[0, 0] == 1e300
    big = np.array([[3.0e38]], dtype=np.float64)
    assert check_features(big, dtype=np.float32)[0, 0] == np.float32(3.0e38)
    with pytest.raises(ValueError, match="model was built for 3"):
        check_features(np.zeros((2, 2)), n_features=3)


def test_a_row_of_labels_is_called_transposed():
    # the article's layout, labels as a (1, m) row: the message said only "got 1"
    X = np.zeros((100, 2))
    with pytest.raises(ValueError, match=r"got 1; y has shape \(1, 100\), .* transposed"):
        MLP(hidden=(2,)).fit(X, np.zeros((1, 100), dtype=int), epochs=1)


@pytest.mark.parametrize("y_shape, fix", [((100,), "X.T"), ((1, 100), "X.T and y.T")])
def test_features_in_the_article_s_layout_are_called_transposed(y_shape, fix):
    """X of shape (2, m), a sample per column as in the article, met labels for m samples
    with only "expected y with 2 rows to match X, got 100"."""
    X = np.zeros((2, 100))
    y = np.zeros(y_shape, dtype=int)
    with pytest.raises(ValueError, match=rf"got \d+; X has 2 rows and 100 columns, .*pass {fix}$"):
        MLP(hidden=(2,)).fit(X, y, epochs=1)
    with pytest.raises(ValueError, match=r"to match X, got 5$"):  # no layout to suggest
        MLP(hidden=(2,)).fit(np.zeros((4, 2)), np.zeros(5), epochs=1)


def test_check_targets_and_weights():
    with pytest.raises(ValueError, match="y is required, got None"):
        check_targets(None, 3)
    with pytest.raises(ValueError, match="expected y with 3 rows to match X, got 2"):
        check_targets([1, 2], 3)
    with pytest.raises(ValueError, match="y contains NaN"):
        check_targets([1.0, np.nan], 2)
    with pytest.raises(ValueError, match="missing values"):
        check_targets(np.array(["a", None], dtype=object), 2)
    with pytest.raises(ValueError, match=r"sample_weight must have shape \(3,\)"):
        check_sample_weight([1, 2], 3)
    with pytest.raises(ValueError, match="finite and non-negative"):
        check_sample_weight([1, -1, 1], 3)
    with pytest.raises(ValueError, match="not be all zero"):
        check_sample_weight([0, 0], 2)


@pytest.mark.parametrize(
    ("y", "match"),
    [
        ({"a": 1}, r"y must be 1-D or 2-D with one entry per sample, got dict \{'a': 1\}"),
        ("abc", r"got str 'abc'"),
        (7, r"got int 7"),
    ],
)
def test_check_targets_says_what_it_got_instead_of_a_shape_of_nothing(y, match):
    """NumPy wraps these whole into an array of shape (), which the error used to show."""
    with pytest.raises(ValueError, match=match):
        check_targets(y, 3)


def test_ragged_targets_are_named_as_y_in_every_method():
    # NumPy's own "setting an array element with a sequence" named no argument
    model = MLP(hidden=(2,), seed=0).fit(np.zeros((3, 2)), [[0, 1], [1, 0], [1, 1]], epochs=1)
    ragged = [[0, 1], [1, 0], [1]]
    for method in (model.fit, model.evaluate, model.score):
        with pytest.raises(ValueError, match=r"^y could not be read as an array: "):
            method(np.zeros((3, 2)), ragged)
    with pytest.raises(ValueError, match=r"^labels could not be read"):
        check_targets(ragged, 3, name="labels")


def test_check_targets_suggests_toarray_for_a_sparse_y():
    sparse = pytest.importorskip("scipy.sparse")
    Y = sparse.csr_matrix(np.eye(3, dtype=int))
    with pytest.raises(
        ValueError, match=r"got a sparse csr_matrix of shape \(3, 3\); pass y.toarray\(\)"
    ):
        MLP(hidden=(2,)).fit(np.zeros((3, 2)), Y, epochs=1)


def test_a_complex_y_is_refused_not_read_as_labels():
    """A complex y, refused in X and in sample_weight, was taken as labels: loss="auto"
    trained a classifier with one class per value, and a regression loss said only that
    y "must be numeric"."""
    X = np.random.default_rng(0).standard_normal((6, 2))
    y = np.arange(6) + 1j
    with pytest.raises(ValueError, match=r"^y holds complex numbers \(complex128\), such as"):
        check_targets(y, 6)
    for loss in ("auto", "squared_error"):
        with pytest.raises(ValueError, match=r"^y holds complex numbers"):
            MLP(hidden=(2,), loss=loss).fit(X, y, epochs=1)
    model = MLP(hidden=(2,), seed=0).fit(X, np.arange(6) % 2, epochs=1)
    with pytest.raises(ValueError, match=r"^y holds complex numbers"):
        model.evaluate(X, (np.arange(6) % 2) + 0j)


def test_check_targets_names_pandas_missing_labels_as_missing():
    """A nullable pandas column's NA reached the label sort, which said the labels mixed
    types (NAType, str) rather than that one was missing."""
    pd = pytest.importorskip("pandas")
    for dtype, values in (("string", ["a", "b", "a"]), ("boolean", [True, False, True])):
        y = pd.Series(values, dtype=dtype)
        y[1] = pd.NA
        with pytest.raises(ValueError, match=r"y contains missing values \(None, NaN, NaT"):
            check_targets(y, 3)
        X = np.zeros((3, 1))
        with pytest.raises(ValueError, match="y contains missing values"):
            MLP(hidden=(2,)).fit(X, y, epochs=1)


@pytest.mark.skipif(
    not hasattr(getattr(np, "dtypes", None), "StringDType"), reason="NumPy before 2.0"
)
@pytest.mark.parametrize("missing", [np.nan, None, "pandas NA"])
def test_a_missing_label_in_numpy_s_string_dtype_is_named_missing(missing):
    """NumPy's StringDType may hold a missing value (its na_object): NaN and pandas' NA
    became a class of their own, and None failed in the label sort with NumPy's
    "Cannot compare null that is not a nan-like value"."""
    if missing == "pandas NA":
        missing = pytest.importorskip("pandas").NA
    y = np.array(["a", missing, "b", "a"], dtype=np.dtypes.StringDType(na_object=missing))
    with pytest.raises(ValueError, match=r"^y contains missing values \(None, NaN, NaT"):
        check_targets(y, 4)
    with pytest.raises(ValueError, match=r"^y contains missing values"):
        MLP(hidden=(2,)).fit(np.zeros((4, 2)), y, epochs=1)
    present = y[[0, 2, 3]]  # without the missing value, the labels are taken as they are
    assert check_targets(present, 3).tolist() == ["a", "b", "a"]


def test_a_two_column_y_of_nullable_pandas_columns_is_numeric():
    """A frame of nullable Int64, Float64 or boolean columns reads as an object array,
    which a 2-D y refused as not numeric while showing its numbers."""
    pd = pytest.importorskip("pandas")
    X, labels = data(n=20)
    Y = np.column_stack([labels, 1 - labels])
    cases = (("Int64", "multilabel"), ("boolean", "multilabel"), ("Float64", "regression"))
    for dtype, task in cases:
        values = Y.astype(bool) if dtype == "boolean" else Y + 0.5 * (dtype == "Float64")
        frame = pd.DataFrame({"a": pd.array(values[:, 0], dtype=dtype), "b": values[:, 1]})
        checked = check_targets(frame, 20)
        assert checked.dtype == np.float64
        np.testing.assert_array_equal(checked, values)
        model = MLP(hidden=(2,), seed=0).fit(X, frame, epochs=2)
        plain = MLP(hidden=(2,), seed=0).fit(X, values.astype(np.float64), epochs=2)
        assert model.task == task
        np.testing.assert_array_equal(model.predict(X), plain.predict(X))


@pytest.mark.parametrize(
    ("call", "error", "message"),
    [
        (lambda: check_int("epochs", 2.5), TypeError, "epochs must be an integer, got float 2.5"),
        (lambda: check_int("epochs", True), TypeError, "got bool True"),
        (lambda: check_int("epochs", 0), ValueError, "epochs must be >= 1, got 0"),
        (lambda: check_positive("learning_rate", "fast"), TypeError, "got str 'fast'"),
        (lambda: check_positive("learning_rate", float("nan")), ValueError, "got nan"),
        (lambda: check_positive("learning_rate", 0), ValueError, "> 0, got 0"),
        (
            lambda: check_non_negative("l2", -0.5),
            ValueError,
            "l2 must be a finite number >= 0, got -0.5",
        ),
        (lambda: check_non_negative("l2", float("inf")), ValueError, ">= 0, got inf"),
        (lambda: check_non_negative("l2", True), TypeError, "l2 must be a number, got bool True"),
        (lambda: check_positive("learning_rate", np.True_), TypeError, "got bool np.True_"),
        (lambda: check_non_negative("l2", None), TypeError, "got NoneType None"),
        # Integers beyond every float: OverflowError from float(), naming nothing.
        (lambda: check_non_negative("l2", 10**400), ValueError, ">= 0, got 1000000"),
        (lambda: check_positive("learning_rate", -(10**400)), ValueError, "> 0, got -1000"),
    ],
)
def test_scalar_checks(call, error, message):
    with pytest.raises(error, match=message):
        call()


def test_integers_beyond_every_float_are_refused_by_name():
    """float(10**400) raises OverflowError, whose message names no argument."""
    from mlpzero.activations import LeakyReLU
    from mlpzero.plotting import plot_activations

    with pytest.raises(ValueError, match=r"^dropout rates must be in \[0, 1\), got 1000"):
        MLP(hidden=(3,), dropout=10**400)
    with pytest.raises(ValueError, match=r"^alpha must be in \(0, 1\), got 1000"):
        LeakyReLU(10**400)
    with pytest.raises(TypeError, match=r"^alpha must be a number, got NoneType None"):
        LeakyReLU(None)
    with pytest.raises(ValueError, match=r"^z_range must be two finite numbers"):
        plot_activations(z_range=(0, 10**400))
    assert MLP(hidden=(3,), dropout=np.float32(0.5)).dropout == (0.5,)


@pytest.mark.skipif(
    np.finfo(np.longdouble).max <= np.finfo(np.float64).max, reason="longdouble is float64"
)
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_a_long_double_beyond_float64_is_named_by_its_value(dtype):
    """An extended-precision 1e400 was reported as "holds inf", with the advice to use
    float64, which cannot hold it either (and was the dtype already)."""
    X = np.array([[np.longdouble("1e400"), 0.0]], dtype=np.longdouble)
    with pytest.raises(
        ValueError, match=r"X holds 1e\+400 \(at index 0, 0\), beyond the largest"
    ) as error:
        check_features(X, dtype=dtype)
    assert "rescale it" in str(error.value) and "use dtype" not in str(error.value)


def test_a_dropout_rate_as_a_0_d_array_is_one_rate():
    """It failed with NumPy's "iteration over a 0-d array", naming no argument."""
    assert MLP(hidden=(3, 2), dropout=np.array(0.25)).dropout == (0.25, 0.25)
    with pytest.raises(ValueError, match=r"dropout rates must be in \[0, 1\), got 1.5"):
        MLP(hidden=(3,), dropout=np.array(1.5))


def test_non_negative_takes_zero_and_positive_does_not():
    assert check_non_negative("l2", 0) == 0.0 and check_non_negative("l2", 0.25) == 0.25
    with pytest.raises(ValueError, match="l2 must be a finite number > 0, got 0"):
        check_positive("l2", 0)
    for value in (-1, float("nan")):
        with pytest.raises(ValueError, match="l2 must be a finite number >= 0"):
            check_non_negative("l2", value)
    with pytest.raises(TypeError, match="l2 must be a number"):
        check_non_negative("l2", "x")


@pytest.mark.parametrize("text", ["0.25", b"0.25", np.str_("0.25"), np.array("0.25")])
def test_numbers_given_as_text_are_refused(text):
    """float() reads "0.25", so l2="0.25" and learning_rate="0.1" were accepted, while
    integers and flags refuse text: a typed config that lost its types went unnoticed."""
    with pytest.raises(TypeError, match=r"l2 must be a number, got (str|bytes|ndarray)"):
        check_non_negative("l2", text)
    with pytest.raises(TypeError, match=r"learning_rate must be a number, got str '0\.1'"):
        MLP(seed=0).fit(np.zeros((4, 2)), [0, 1, 0, 1], epochs=1, learning_rate="0.1")


def test_sample_weights_given_as_text_are_refused():
    with pytest.raises(ValueError, match=r"sample_weight must be numbers, one per sample"):
        check_sample_weight(["1", "2"], 2)
    np.testing.assert_array_equal(check_sample_weight([1, 2], 2), [1.0, 2.0])


# ---------------------------------------------------------------------------- the model
@pytest.mark.parametrize(
    ("settings", "error", "message"),
    [
        ({"hidden": (4, 0)}, ValueError, "hidden must be >= 1, got 0"),
        (
            {"hidden": "wide"},
            TypeError,
            "hidden must be a layer size or a sequence of layer sizes, got str 'wide'",
        ),
        ({"activation": "swish"}, ValueError, "unknown activation 'swish'"),
        ({"activation": ["relu"], "hidden": (3, 3)}, ValueError, "one activation per hidden"),
        ({"loss": "hinge"}, ValueError, "unknown loss 'hinge'"),
        ({"dtype": "float16"}, ValueError, "dtype must be 'float32' or 'float64', got 'float16'"),
        ({"dtype": "bogus"}, ValueError, "dtype must be 'float32' or 'float64', got 'bogus'"),
        ({"dtype": None}, ValueError, "dtype must be 'float32' or 'float64', got None"),
        ({"activation": None}, TypeError, "activation must be a name.*got NoneType None"),
        ({"activation": 5}, TypeError, "activation must be a name.*got int 5"),
        ({"hidden": (), "activation": None}, TypeError, "activation must be a name.*None"),
        ({"seed": -1}, ValueError, "seed must be >= 0, got -1"),
        ({"seed": 1.5}, TypeError, "seed must be an integer, got float 1.5"),
    ],
)
def test_bad_settings_are_refused_at_construction(settings, error, message):
    with pytest.raises(error, match=message):
        MLP(**settings)


@pytest.mark.parametrize(
    ("options", "error", "message"),
    [
        ({"epochs": 0}, ValueError, "epochs must be >= 1, got 0"),
        ({"epochs": 2.0}, TypeError, "epochs must be an integer, got float 2.0"),
        ({"learning_rate": -0.1}, ValueError, "learning_rate must be a finite number > 0"),
        ({"learning_rate": float("inf")}, ValueError, "learning_rate must be a finite number"),
        ({"batch_size": 0}, ValueError, "batch_size must be >= 1, got 0"),
        ({"optimizer": "adamz"}, ValueError, "unknown optimizer 'adamz'"),
        ({"optimizer": "lbgfs"}, ValueError, "one of: adam, adamw, rmsprop, sgd, or lbfgs"),
        ({"sample_weight": [1.0]}, ValueError, r"sample_weight must have shape \(30,\)"),
        ({"sample_weight": "a"}, ValueError, r"sample_weight must be numbers.*got str 'a'"),
        ({"callbacks": 5}, TypeError, "callbacks must be a list of Callback objects, got int 5"),
        ({"callbacks": [5]}, TypeError, "callbacks must be Callback objects, got int 5"),
        ({"shuffle": "no"}, TypeError, "shuffle must be True, False or a row-order .* str 'no'"),
        ({"shuffle": 1}, TypeError, "shuffle must be True, False or a row-order .* got int 1"),
    ],
)
def test_bad_fit_options_are_refused_and_leave_the_model_alone(fitted, options, error, message):
    before = fitted.network.params.copy()
    epochs = fitted.history.epochs
    X, y = data()
    with pytest.raises(error, match=message):
        fitted.fit(X, y, **{"epochs": 1, **options})
    np.testing.assert_array_equal(fitted.network.params, before)
    assert fitted.history.epochs == epochs


def test_bad_data_is_refused_and_leaves_the_model_alone(fitted):
    before = fitted.network.params.copy()
    X, y = data()
    holed = X.copy()
    holed[3, 1] = np.nan
    cases = [
        (X[:, :1], y, "X has 1 features, but the model was built for 2"),
        (X, y[:-1], "expected y with 30 rows to match X, got 29"),
        (holed, y, r"X contains NaN or infinity \(first at row 3, column 1\)"),
        (X, np.where(y == 1, 7, y), r"labels not seen in training: \[7\]"),
        (X * 1e300, y, "beyond the largest float32"),
    ]
    for bad_X, bad_y, message in cases:
        with pytest.raises(ValueError, match=message):
            fitted.fit(bad_X, bad_y, epochs=1)
    np.testing.assert_array_equal(fitted.network.params, before)
    with pytest.raises(ValueError, match=r"labels not seen in training: \[7\]"):
        fitted.evaluate(X, np.where(y == 1, 7, y))
    with pytest.raises(RuntimeError, match="not fitted"):
        MLP().predict(X)


def test_regression_targets_must_be_numbers_the_dtype_can_hold():
    X, _ = data()
    with pytest.raises(ValueError, match="y for regression must be numeric"):
        MLP(loss="squared_error").fit(X, np.array(["a"] * 30), epochs=1)
    with pytest.raises(ValueError, match=r"y holds 1e\+300 .* beyond the largest float32"):
        MLP(loss="squared_error").fit(X, np.full(30, 1e300), epochs=1)


# ---------------------------------------------------------------------------- extremes
def test_losses_of_huge_logits_are_finite_and_at_their_limits():
    z = np.array([[1e30], [-1e30], [3e38], [-3e38]], dtype=np.float32)
    bce = BinaryCrossEntropy().per_sample(z, np.array([[0.0], [0.0], [1.0], [1.0]]))
    np.testing.assert_allclose(bce, [1e30, 0.0, 0.0, 3e38], rtol=1e-6)
    logits = np.array([[3e38, -3e38, 0.0]], dtype=np.float32)
    cce = CategoricalCrossEntropy().per_sample(logits, np.array([[0.0, 1.0, 0.0]]))
    np.testing.assert_allclose(cce, [6e38], rtol=1e-6)
    se = SquaredError().per_sample(z, np.zeros((4, 1)))
    np.testing.assert_allclose(se, 0.5 * np.array([1e60, 1e60, 9e76, 9e76]), rtol=1e-6)
    for loss, targets in [
        (BinaryCrossEntropy(), [[1.0]]),
        (CategoricalCrossEntropy(), [[1.0, 0.0]]),
        (SquaredError(), [[-1e308]]),
    ]:
        wide = np.array([[-1.7e308, 1.7e308][: len(targets[0])]])
        value = loss.value(wide, np.array(targets))
        assert np.isfinite(value) and value > 1e149  # saturated, not inf or nan


def test_links_of_huge_logits_reach_their_limits():
    z = np.array([[-3e38, 3e38, -1e30, 1e30, 0.0]], dtype=np.float32)
    np.testing.assert_array_equal(sigmoid(z), [[0.0, 1.0, 0.0, 1.0, 0.5]])
    with np.errstate(over="ignore"):  # the documented overflow of the row-max shift
        p = softmax(np.array([[3e38, -3e38, 0.0]], dtype=np.float32))
    np.testing.assert_array_equal(p, [[1.0, 0.0, 0.0]])


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("scale", [1e30, 1e36])
def test_predictions_for_huge_inputs_are_probabilities_or_a_clear_error(dtype, scale):
    X, y = data(seed=1)
    labels = np.array(["a", "b", "c"])[np.arange(30) % 3]
    for targets in (y, labels):
        model = MLP(hidden=(5,), dtype=dtype, seed=1).fit(X, targets, epochs=3)
        huge = X * scale
        try:
            p = model.predict_proba(huge)
        except ValueError as error:
            assert "overflow" in str(error) and "X" in str(error)
            continue
        assert np.isfinite(p).all() and (p >= 0).all() and (p <= 1).all()
        np.testing.assert_allclose(p.sum(axis=1), 1.0, rtol=1e-6)
        model.predict(huge)
        assert np.isfinite(model.evaluate(huge, targets)["loss"])


def test_inputs_that_overflow_the_network_are_reported_not_returned_as_nan():
    X, y = data()
    model = MLP(hidden=(4,), seed=0).fit(X, y, epochs=2)
    model.network.weights[0][...] = 1e30  # any input of magnitude 1e10 now overflows
    huge = np.array([[1e10, 1e10], [0.1, 0.2]])
    for method in (model.predict, model.predict_proba, model.decision_function):
        with pytest.raises(ValueError, match=r"overflow for 1 of 2 rows \(first: row 0"):
            method(huge)
    with pytest.raises(ValueError, match="overflow"):
        model.evaluate(huge, [0, 1])


@pytest.mark.parametrize("activation", ["sigmoid", "tanh"])
def test_a_hidden_layer_that_overflows_is_reported_though_its_activation_saturates(activation):
    """3e38 + 3e38 is infinite in float32, which a sigmoid or tanh turns into a finite
    output: the logits looked fine. A sum that overflows part way can also come out with
    the wrong sign (the compiled kernels' fused multiply-adds round differently), so a
    hidden overflow is an error, as one of the outputs is."""
    X, y = data()
    model = MLP(hidden=(1,), activation=activation, seed=0, dtype="float32")
    model.fit(X, y, epochs=2)
    model.network.weights[0][...] = [[1.0, 1.0]]
    model.network.biases[0][...] = 0.0
    huge = np.array([[3e38, 3e38], [0.1, 0.2]], dtype=np.float32)
    for method in (model.predict, model.predict_proba, model.decision_function):
        with pytest.raises(ValueError, match=r"overflow for 1 of 2 rows \(first: row 0"):
            method(huge)
    with pytest.raises(ValueError, match="overflow"):
        model.evaluate(huge, [0, 1])
    model.predict(huge[1:])  # a row that overflows nothing is answered


# ---------------------------------------------------------------------------- the tutorial API
def test_the_tutorial_api_refuses_bad_arrays_by_name():
    from mlpzero import tutorial

    np.random.seed(0)
    X = np.random.randn(2, 10)
    Y = (X[0] > 0).reshape(1, -1).astype(int)
    parameters, ls = tutorial.multi_layer_neural_network(X, Y, [3], num_epochs=2)
    holed = X.copy()
    holed[1, 4] = np.nan
    cases = [
        (holed, r"X contains NaN or infinity \(first at row 1, column 4\)"),
        (np.array([["a"] * 3, ["b"] * 3]), r"X must be numeric, got values such as \['a', 'a'"),
        (np.zeros((2, 0)), r"X is empty: got shape \(2, 0\)"),
        (X[:1], "X has 1 rows"),
    ]
    for bad, message in cases:
        with pytest.raises(ValueError, match=message):
            tutorial.predict(parameters, ls, bad)
    with pytest.raises(ValueError, match="Y contains NaN"):
        tutorial.multi_layer_neural_network(X, np.where(Y == 1, np.nan, Y), [3], num_epochs=1)
    huge = {
        key: value * 1e200 if key.startswith("W") else value for key, value in parameters.items()
    }
    with pytest.raises(ValueError, match="outputs overflow for example 0"):
        tutorial.forward_propagation(huge, ls, X * 1e200)


@pytest.mark.parametrize("scale", [1e308, 1e-300, 5e-324])
def test_extreme_sample_weights_are_accepted_without_warnings(scale):
    weights = check_sample_weight(np.full(4, scale), 4)
    np.testing.assert_array_equal(weights, np.full(4, scale))  # returned as given
    np.testing.assert_array_equal(relative_sample_weight(weights), np.ones(4))


@pytest.mark.parametrize(
    "weights, message",
    [
        ("a", r"sample_weight must be numbers, one per sample, got str 'a'"),
        ([1, "x", 2], r"sample_weight must be numbers.*got list \[1, 'x', 2\]"),
        ([1.0, np.nan, 1.0], r"sample_weight must be finite and non-negative, got nan at index 1"),
        ([1.0, 2.0, -3.0], r"got -3.0 at index 2"),
        ([1, 10**400, 1], r"sample_weight must be finite .* got an integer beyond every float"),
        (
            np.array([1, 2, 1]) + 1j,
            r"sample_weight must be numbers.*got ndarray array\(\[1\.\+1\.j",
        ),
    ],
)
def test_bad_sample_weights_are_named_with_what_was_received(weights, message):
    with pytest.raises(ValueError, match=message):
        check_sample_weight(weights, 3)
    with pytest.raises(ValueError, match=message):
        MLP(hidden=(2,)).fit(np.zeros((3, 2)), [0, 1, 0], epochs=1, sample_weight=weights)


def test_complex_numbers_among_objects_are_refused_not_cut_to_their_real_parts():
    """A complex X is refused; NumPy's complex numbers in an object array (a data frame
    with a complex column beside a text one) were trained on as their real parts, with
    only NumPy's warning."""
    X = np.array([[np.complex128(1 + 2j), 1.0], [0.5, 2.0]], dtype=object)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(ValueError, match=r"X must be numeric, got \(1\+2j\) at index 0, 0"):
            check_features(X)
        model = MLP(hidden=(2,), seed=0).fit(np.ones((2, 2)), [0, 1], epochs=1)
        with pytest.raises(ValueError, match=r"X must be numeric, got \(1\+2j\)"):
            model.predict(X)


@pytest.mark.parametrize(
    "value", [np.datetime64("2020-01-01"), np.timedelta64(5, "s"), np.datetime64("NaT")]
)
def test_dates_among_objects_are_refused_not_read_as_counts_of_their_unit(value):
    """A datetime64 X is refused; NumPy's dates and durations in an object array (a data
    frame with a date column beside a text one) became counts of days or seconds."""
    X = np.array([[value, 1.0], [0.5, 2.0]], dtype=object)
    with pytest.raises(ValueError, match=r"X must be numeric, got .* at index 0, 0"):
        check_features(X)
    weights = np.array([1.0, value, 2.0], dtype=object)
    with pytest.raises(ValueError, match=r"^sample_weight must be numbers"):
        check_sample_weight(weights, 3)


def test_complex_sample_weights_among_objects_are_refused_not_cut_to_their_real_parts():
    """A complex sample_weight is refused; NumPy's complex numbers in an object array
    were trained with as their real parts (weights of 1 for 1+1j), with only NumPy's
    warning, as X's were."""
    weights = np.array([np.complex128(1 + 1j), 1.0, 2.0], dtype=object)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(ValueError, match=r"^sample_weight must be numbers, one per sample"):
            check_sample_weight(weights, 3)
        with pytest.raises(ValueError, match=r"^sample_weight must be numbers"):
            MLP(hidden=(2,)).fit(np.zeros((3, 2)), [0, 1, 0], epochs=1, sample_weight=weights)


def test_a_masked_array_with_masked_entries_is_refused_not_trained_on_as_it_is():
    """np.asarray drops a mask and keeps the values under it: a masked 1e6 would be
    trained on. Without masked entries a masked array is its values."""
    X = np.random.default_rng(0).standard_normal((20, 3))
    y = (X[:, 0] > 0).astype(int)
    hidden = X.copy()
    hidden[4, 1] = 1e6
    masked = np.ma.masked_array(hidden, mask=np.zeros_like(hidden, dtype=bool))
    masked[4, 1] = np.ma.masked
    with pytest.raises(ValueError, match=r"X is a masked array with 1 masked entries.*filled"):
        MLP(hidden=(4,), seed=0).fit(masked, y, epochs=1)
    model = MLP(hidden=(4,), seed=0).fit(X, y, epochs=2)
    with pytest.raises(ValueError, match="masked array with 1 masked"):
        model.predict(masked)
    unmasked = np.ma.masked_array(X, mask=False)
    assert np.array_equal(check_features(unmasked), X)
    same = MLP(hidden=(4,), seed=0).fit(unmasked, y, epochs=2)
    assert np.array_equal(same.network.params, model.network.params)


def test_largest_magnitude_counts_the_most_negative_integer_in_full():
    from mlpzero.validation import largest_magnitude

    assert largest_magnitude(np.array([[-128, 5]], dtype=np.int8)) == 128.0
    assert largest_magnitude(np.array([np.iinfo(np.int64).min])) == 2.0**63
    assert largest_magnitude(np.array([[True, False]])) == 1.0
    assert largest_magnitude(np.array([-2.5, 1.0], dtype=np.float32)) == 2.5


def test_a_missing_value_in_a_dataframe_is_named_as_such():
    pd = pytest.importorskip("pandas")
    frame = pd.DataFrame({"a": [0.5, 1.5, 2.5], "b": pd.array([1.0, pd.NA, 3.0], dtype="Float64")})
    with pytest.raises(ValueError, match=r"X has a missing value \(<NA>\) at index 1, 1"):
        check_features(frame)


def test_a_frame_of_numbers_of_several_dtypes_is_read_without_python_objects():
    """A boolean or nullable column beside float ones makes np.asarray build an array of
    Python objects, a boxed float per value: checking such a frame took about five times
    its memory."""
    pd = pytest.importorskip("pandas")
    rng = np.random.default_rng(0)
    n = 20_000
    frame = pd.DataFrame(rng.standard_normal((n, 8)), columns=list("abcdefgh"))
    frame["flag"] = np.arange(n) % 3 == 0
    frame["count"] = pd.array(np.arange(n) % 7, dtype="Int64")
    expected = np.asarray(frame).astype(np.float64)
    checked = []
    peak = traced_peak(lambda: checked.append(check_features(frame)))
    np.testing.assert_array_equal(checked[0], expected)
    assert checked[0].dtype == np.float64
    assert peak < 2.5 * expected.nbytes, peak / expected.nbytes
    frame.loc[5, "count"] = pd.NA  # a missing value is still named as such
    with pytest.raises(ValueError, match=r"X has a missing value \(<NA>\) at index 5, 9"):
        check_features(frame)


def test_a_fit_warns_when_its_dtype_leaves_a_column_almost_constant():
    """Float64 values near 1e12 that vary by a few units are one float32 number: the fit
    says so, from the caller's line, and names the column."""
    rng = np.random.default_rng(0)
    X = rng.standard_normal((300, 3))
    y = (X[:, 0] > 0).astype(int)
    shifted = X + np.array([0.0, 1e12, 0.0])
    with pytest.warns(UserWarning, match=r"column 1 vary by \d.* around 1e\+12") as caught:
        MLP(hidden=(4,), seed=0).fit(shifted, y, epochs=1)
    assert caught[0].filename == __file__
    # Integer IDs beyond 2**24 lose their last digits in float32 alike.
    ids = np.c_[X[:, :1], 2**40 + np.arange(300)]
    with pytest.warns(UserWarning, match="column 1 vary by 299 around"):
        MLP(hidden=(4,), seed=0).fit(ids, y, epochs=1)
    # Nothing to say in float64, for columns that keep their steps, for float32 input,
    # or when predicting (pytest makes any warning an error).
    MLP(hidden=(4,), seed=0, dtype="float64").fit(shifted, y, epochs=1)
    spread = X * np.array([1.0, 1e6, 1.0]) + np.array([0.0, 1e9, 0.0])  # 1e5 float32 steps
    model = MLP(hidden=(4,), seed=0).fit(spread, y, epochs=1)
    MLP(hidden=(4,), seed=0).fit(shifted.astype(np.float32), y, epochs=1)
    model.predict(shifted)
    # At float32's largest number the spacing above is infinite: the one below counts.
    largest = float(np.finfo(np.float32).max)
    MLP(hidden=(4,), seed=0).fit(np.c_[X[:, :1], np.linspace(0, largest, 300)], y, epochs=1)
    # Said once, by the fit that builds the model, not by every continued fit after it.
    with pytest.warns(UserWarning, match="column 1"):
        incremental = MLP(hidden=(4,), seed=0).fit(shifted[:100], y[:100], epochs=1)
    incremental.fit(shifted[100:], y[100:], epochs=1)


def test_targets_with_no_columns_are_refused_by_name():
    # y of shape (n, 0) built a network with an output layer of 0 units and failed with
    # "layer_sizes must hold at least two positive sizes, got [3, 2, 0]", naming no y
    X = np.zeros((4, 3))
    with pytest.raises(ValueError, match=r"^y has no columns: got shape \(4, 0\)"):
        MLP(hidden=(2,)).fit(X, np.zeros((4, 0)), epochs=1)
    model = MLP(hidden=(2,), seed=0).fit(X, [0, 1, 0, 1], epochs=1)
    with pytest.raises(ValueError, match=r"^y_val has no columns: got shape \(4, 0\)"):
        model.fit(X, [0, 1, 0, 1], epochs=1, validation_data=(X, np.zeros((4, 0))))


@pytest.mark.parametrize("nan", [np.float32("nan"), np.float16("nan")])
def test_a_numpy_float_nan_among_object_labels_is_named_missing(nan):
    # float32 NaN is not a Python float: it reached the label sort, which cannot order
    # it, so the "known classes" listed every label, repeats included, NaN among them
    y = np.array([np.float32(1), nan, np.float32(2)], dtype=object)
    with pytest.raises(ValueError, match=r"^y contains missing values"):
        MLP(hidden=(2,)).fit(np.zeros((3, 2)), y, epochs=1)
    with pytest.raises(ValueError, match=r"^y_true holds np.float\d+\(nan\) at index 1: a label"):
        confusion_matrix(y, np.ones(3))


@pytest.mark.parametrize("as_objects", [False, True])
def test_a_missing_date_label_is_named_as_missing(as_objects):
    """Date labels holding NaT (a datetime64 column, or its values as objects) were taken
    as a class of their own: fit said "y contains labels not seen in training: [None]",
    listing None among the known classes, and confusion_matrix that NaT was not in the
    labels. NaT is a missing label, as NaN is."""
    X = np.random.default_rng(0).standard_normal((6, 3))
    y = np.array(["2020-01-01", "2020-01-02", "NaT"] * 2, dtype="datetime64[D]")
    if as_objects:  # NumPy's own scalars (astype(object) would make NaT None)
        y = np.array(list(y), dtype=object)
    with pytest.raises(ValueError, match=r"^y contains missing values .*NaT"):
        MLP(hidden=(2,), loss="categorical_crossentropy").fit(X, y, epochs=1)
    with pytest.raises(ValueError, match=r"^y_true holds .*NaT.* at index 2"):
        confusion_matrix(y, y[[0, 1, 0] * 2])
