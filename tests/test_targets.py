import re
from decimal import Decimal
from fractions import Fraction

import numpy as np
import pytest

from conftest import blobs
from mlpzero import MLP
from mlpzero.targets import TargetEncoder, infer_task, loss_for_task

rng = np.random.default_rng(0)


# ---------------------------------------------------------------------------- detection
@pytest.mark.parametrize(
    ("y", "task"),
    [
        ([0, 1, 1, 0], "binary"),
        (["no", "yes", "yes"], "binary"),
        ([True, False, True], "binary"),
        ([0.0, 1.0, 1.0], "binary"),  # floats that are only 0 and 1
        ([1.0, 1.0], "binary"),
        ([-1.0, 1.0, 1.0], "regression"),  # other floats are values, whole or not
        ([3.0, 17.0, 250.0, 17.0], "regression"),  # prices are not classes
        (np.array([3, 17, 250, 17]), "multiclass"),  # integers are labels
        ([[0], [1], [1]], "binary"),  # one column is squeezed
        ([7, 7, 7], "binary"),  # a single class still gets one sigmoid output
        ([0, 1, 2, 1], "multiclass"),
        (["cat", "dog", "bird"], "multiclass"),
        ([3, 1, 2], "multiclass"),
        ([3.0, 1.0, 2.0], "regression"),
        ([[0, 1, 1], [1, 0, 0]], "multilabel"),
        ([[True, False], [False, False]], "multilabel"),
        ([0.5, 1.25, -3.0], "regression"),
        ([[0.5, 2.0], [1.0, 3.0]], "regression"),
        ([[0, 2], [1, 1]], "regression"),  # 2-D numbers other than 0/1
    ],
)
def test_infer_task_on_each_kind_of_y(y, task):
    assert infer_task(y) == task


def test_floats_held_as_objects_are_measurements_as_floats_are():
    """A pandas column of dtype object holding floats was read as labels: each distinct
    value became a class, and a regression target trained a classifier of as many
    classes as it had values."""
    X = rng.standard_normal((30, 2))
    values = X[:, 0] * 3 + 1
    for given in (values.astype(object), [1, *values[1:].tolist()]):  # an int among floats
        objects = np.array(given, dtype=object)
        model = MLP(hidden=(3,), seed=0).fit(X, objects, epochs=2)
        plain = MLP(hidden=(3,), seed=0).fit(X, np.asarray(given, dtype=float), epochs=2)
        assert model.task == "regression"
        np.testing.assert_array_equal(model.predict(X), plain.predict(X))
        assert model.evaluate(X, objects) == plain.evaluate(X, np.asarray(given, dtype=float))
    zero_one = np.array([0.0, 1.0] * 15, dtype=object)
    assert MLP(hidden=(3,), seed=0).fit(X, zero_one, epochs=1).classes_.tolist() == [0.0, 1.0]
    integers = np.array([1, 2, 3] * 10, dtype=object)  # integers stay labels, of their type
    model = MLP(hidden=(3,), seed=0).fit(X, integers, epochs=1)
    assert model.task == "multiclass"
    assert model.predict(X).dtype == object


def test_decimal_and_fraction_targets_are_measurements_as_floats_are():
    """A column of ``Decimal`` values (a database's fixed-point prices) was read as labels:
    ``loss="auto"`` trained a classifier with a class per distinct price, and
    ``loss="squared_error"`` refused the column as not numeric."""
    X = rng.standard_normal((30, 2))
    values = np.round(X[:, 0] * 3 + 1, 2)
    plain = MLP(hidden=(3,), seed=0).fit(X, values, epochs=2)
    for kind in (lambda v: Decimal(str(v)), lambda v: Fraction(str(v))):
        objects = np.array([kind(v) for v in values], dtype=object)
        for loss in ("auto", "squared_error"):
            model = MLP(hidden=(3,), seed=0, loss=loss).fit(X, objects, epochs=2)
            assert model.task == "regression"
            np.testing.assert_array_equal(model.predict(X), plain.predict(X))
    for bad in (Decimal("NaN"), Decimal("-Infinity")):
        with pytest.raises(ValueError, match="missing values"):
            MLP(hidden=(3,)).fit(X, np.array([Decimal(1)] * 29 + [bad], dtype=object))
    with pytest.raises(ValueError, match=r"y holds 1E\+400 at index 29, beyond the largest"):
        MLP(hidden=(3,)).fit(X, np.array([Decimal(1)] * 29 + [Decimal("1e400")], dtype=object))


@pytest.mark.parametrize(
    "huge", [Fraction(10**400), 10**400, -(10**400)], ids=["fraction", "int", "negative"]
)
def test_measurements_beyond_float64_are_refused_not_read_as_labels(huge):
    """A ``Fraction`` beyond float64 among measurements (or an int as large among floats)
    could not be made a float, so the column was kept as objects and read as labels:
    ``loss="auto"`` trained a classifier with a class per distinct value."""
    X = rng.standard_normal((30, 2))
    y = np.array([Fraction(1, 3)] * 29 + [huge], dtype=object)
    if isinstance(huge, int):
        y[:29] = 0.5
    for loss in ("auto", "squared_error"):
        with pytest.raises(ValueError, match=r"y holds -?10+\.\.\. at index 29, beyond"):
            MLP(hidden=(3,), loss=loss).fit(X, y, epochs=1)


def test_binary_crossentropy_on_a_matrix_not_of_0_and_1_says_what_multilabel_takes():
    """``loss="binary_crossentropy"`` on a matrix of other values (soft targets, counts)
    said "y for binary classification must be 1-D", though such a loss takes a matrix: a
    0/1 one, for multi-label classification."""
    X = rng.standard_normal((30, 2))
    for Y, values in (
        (np.full((30, 3), 0.25), "[0.25, 0.25, 0.25]"),
        (np.eye(30, 2) * 2, "[2.0, 2.0]"),
    ):
        model = MLP(hidden=(3,), loss="binary_crossentropy")
        message = (
            f"^binary_crossentropy on a y of {Y.shape[1]} columns is multi-label "
            f"classification, which takes a 0/1 matrix; y holds values such as "
            f"{re.escape(values)}$"
        )
        with pytest.raises(ValueError, match=message):
            model.fit(X, Y, epochs=1)
        assert not model.built
    assert TargetEncoder.for_loss("binary_crossentropy", np.eye(30, 2)).task == "multilabel"
    assert TargetEncoder.for_loss("binary_crossentropy", [[0.5], [1.0]]).task == "binary"


@pytest.mark.parametrize(
    ("y", "match"),
    [
        (5, "scalar"),
        (np.zeros((2, 2, 2)), "1-D or 2-D"),
        ([["a", "b"], ["c", "d"]], "2-D y must be numeric"),
        (np.array([1, "a", 2.5], dtype=object), "mixes label types.*int, str"),
    ],
)
def test_infer_task_rejects_what_it_cannot_read(y, match):
    with pytest.raises(ValueError, match=match):
        infer_task(y)


@pytest.mark.parametrize(
    ("task", "loss"),
    [
        ("binary", "binary_crossentropy"),
        ("multiclass", "categorical_crossentropy"),
        ("multilabel", "binary_crossentropy"),
        ("regression", "squared_error"),
    ],
)
def test_each_task_pairs_with_its_loss(task, loss):
    assert loss_for_task(task) == loss


# ---------------------------------------------------------------------------- encoding
def test_string_labels_round_trip_through_one_hot():
    y = np.array(["pear", "apple", "fig", "apple", "pear", "fig", "kiwi"])
    encoder = TargetEncoder("multiclass").fit(y)
    assert encoder.classes_.tolist() == ["apple", "fig", "kiwi", "pear"]
    Y = encoder.encode(y)
    assert Y.shape == (7, 4)
    np.testing.assert_array_equal(Y.sum(axis=1), 1)
    np.testing.assert_array_equal(np.argmax(Y, axis=1), [3, 0, 1, 0, 3, 1, 2])
    assert encoder.decode(Y).tolist() == y.tolist()
    # decoding takes the most probable class of each row
    probabilities = np.array([[0.1, 0.6, 0.2, 0.1], [0.25, 0.25, 0.1, 0.4]])
    assert encoder.decode(probabilities).tolist() == ["fig", "pear"]


def test_binary_string_labels_round_trip():
    y = np.array(["spam", "ham", "ham", "spam"])
    encoder = TargetEncoder("binary").fit(y)
    assert encoder.classes_.tolist() == ["ham", "spam"]
    Y = encoder.encode(y)
    np.testing.assert_array_equal(Y[:, 0], [1, 0, 0, 1])
    assert encoder.decode(Y).tolist() == y.tolist()
    assert encoder.decode(np.array([[0.49], [0.51]])).tolist() == ["ham", "spam"]


def test_integer_labels_that_are_not_0_to_k():
    y = np.array([10, 30, 20, 30])
    encoder = TargetEncoder("multiclass").fit(y)
    np.testing.assert_array_equal(np.argmax(encoder.encode(y), axis=1), [0, 2, 1, 2])
    np.testing.assert_array_equal(encoder.decode(encoder.encode(y)), y)


def test_multilabel_and_regression_encode_as_columns():
    y = np.array([[0, 1, 1], [1, 0, 0]])
    encoder = TargetEncoder("multilabel").fit(y)
    np.testing.assert_array_equal(encoder.encode(y), y)
    np.testing.assert_array_equal(encoder.decode(np.array([[0.2, 0.7, 0.9]])), [[0, 1, 1]])
    with pytest.raises(ValueError, match="only 0 and 1"):
        encoder.encode(np.array([[0, 2, 1]]))
    regression = TargetEncoder("regression").fit(np.array([0.5, 1.5]))
    assert regression.encode(np.array([0.5, 1.5])).shape == (2, 1)
    assert regression.decode(np.array([[2.5], [3.5]])).tolist() == [2.5, 3.5]
    with pytest.raises(ValueError, match="expected 1 columns, got 2"):
        regression.encode(np.ones((2, 2)))


@pytest.mark.parametrize(
    ("fit_y", "bad_y", "shown"),
    [
        (["a", "b", "c"], ["a", "zebra"], "['zebra']"),
        (["a", "b", "c"], [1, 2], "[1, 2]"),
        ([0, 1, 2], [0, 5, 5, 7], "[5, 7]"),
        ([3, 7], [3, 8], "[8]"),
        (["only"], ["only", "other"], "['other']"),
        (["a", "b"], np.array(["a", None], dtype=object), "[None]"),
    ],
)
def test_unseen_label_is_a_clear_error(fit_y, bad_y, shown):
    task = infer_task(fit_y)
    encoder = TargetEncoder(task).fit(fit_y)
    with pytest.raises(ValueError, match="labels not seen in training") as info:
        encoder.encode(np.asarray(bad_y))
    assert shown in str(info.value)
    assert "known classes are" in str(info.value)


def test_binary_loss_refuses_three_classes():
    with pytest.raises(ValueError, match="categorical_crossentropy"):
        TargetEncoder("binary").fit([0, 1, 2])


def test_binary_loss_given_measurements_does_not_advise_a_class_per_value():
    """``loss="binary_crossentropy"`` with a float ``y`` of many values (measurements, or
    probabilities as soft targets) was told to use ``categorical_crossentropy``, which
    then trains a classifier with one class per distinct value without a word."""
    y = np.linspace(0.05, 0.95, 50)
    with pytest.raises(ValueError, match="50 distinct float values") as info:
        MLP(hidden=(2,), loss="binary_crossentropy").fit(np.ones((50, 1)) * y[:, None], y)
    message = str(info.value)
    assert "squared_error" in message and "0 and 1" in message
    assert "use loss='categorical_crossentropy'" not in message


def test_unknown_task():
    with pytest.raises(ValueError, match="task must be one of"):
        TargetEncoder("ranking")


# ---------------------------------------------------------------------------- the model
def test_model_predicts_string_labels_and_exposes_classes():
    X, y = blobs(90, classes=("north", "south", "east"), features=2, spread=0.25)
    model = MLP(hidden=(8,), seed=0).fit(X, y, epochs=300, learning_rate=0.5)
    assert model.task == "multiclass"
    assert model.classes_.tolist() == ["east", "north", "south"]
    predicted = model.predict(X)
    assert predicted.dtype.kind == "U" and set(predicted) <= set(model.classes_)
    assert model.score(X, y) > 0.95
    proba = model.predict_proba(X)
    np.testing.assert_allclose(proba.sum(axis=1), 1, rtol=1e-5)
    assert model.classes_[np.argmax(proba, axis=1)].tolist() == predicted.tolist()


def test_unseen_label_at_evaluation_leaves_the_model_unchanged():
    X, y = blobs(90, classes=("a", "b", "c"), features=2, spread=0.25)
    model = MLP(hidden=(4,), seed=0).fit(X, y, epochs=5)
    before = model.network.params.copy()
    bad = y.copy().astype("<U5")
    bad[3] = "zebra"
    with pytest.raises(ValueError, match=r"labels not seen in training: \['zebra'\]"):
        model.evaluate(X, bad)
    with pytest.raises(ValueError, match="zebra"):
        model.fit(X, bad, epochs=1)
    np.testing.assert_array_equal(model.network.params, before)


@pytest.mark.parametrize(
    ("y_kind", "task", "message"),
    [
        ("binary", "binary", "loss='auto': 2 classes [0, 1] -> binary_crossentropy with sigmoid"),
        ("multiclass", "multiclass", "loss='auto': 3 classes -> categorical_crossentropy with"),
        ("multilabel", "multilabel", "loss='auto': a 0/1 matrix of 2 labels -> binary_cross"),
        ("regression", "regression", "loss='auto': real-valued targets (1 output) -> squared"),
        ("regression2", "regression", "loss='auto': real-valued targets (2 outputs) -> squared"),
    ],
)
def test_auto_loss_says_what_it_chose(capsys, y_kind, task, message):
    X = rng.standard_normal((40, 2))
    y = {
        "binary": (X[:, 0] > 0).astype(int),
        "multiclass": np.digitize(X[:, 0], [-0.5, 0.5]),
        "multilabel": (X > 0).astype(int),
        "regression": X @ [1.5, -0.5],
        "regression2": X * [1.5, -0.5],
    }[y_kind]
    model = MLP(hidden=(3,), seed=0).fit(X, y, epochs=2, verbose=1)
    assert model.task == task
    assert model.loss_.name == loss_for_task(task)
    printed = capsys.readouterr()
    assert printed.err.splitlines()[0].startswith(message)
    assert "loss='auto'" not in printed.out  # stdout keeps the article's cost lines
    # the message comes once, at build time, not on later fits
    model.fit(X, y, epochs=1, verbose=1)
    assert "loss='auto'" not in capsys.readouterr().err


def test_quiet_by_default_and_an_explicit_loss_wins(capsys):
    X = rng.standard_normal((40, 2))
    y = np.digitize(X[:, 0], [-0.5, 0.5]).astype(float)  # labels 0., 1., 2.
    MLP(hidden=(3,)).fit(X, y, epochs=1)
    assert capsys.readouterr().err == ""
    model = MLP(hidden=(3,), loss="squared_error").fit(X, y, epochs=1, verbose=1)
    assert model.task == "regression" and model.network.layer_sizes[-1] == 1
    assert "loss='auto'" not in capsys.readouterr().err
    onehot = MLP(hidden=(3,), loss="categorical_crossentropy").fit(X, y > 0, epochs=1)
    assert onehot.task == "multiclass" and onehot.network.layer_sizes[-1] == 2


def test_a_binary_y_of_one_class_is_described_as_one_class(capsys):
    # the auto-loss message said "2 classes [1]" of a y that held one
    X = rng.standard_normal((10, 2))
    MLP(hidden=(3,), seed=0).fit(X, np.ones(10, dtype=int), epochs=1, verbose=1)
    assert capsys.readouterr().err.startswith("loss='auto': 1 class [1] -> binary_crossentropy")
    assert TargetEncoder("binary").fit([0, 1]).describe() == "2 classes [0, 1]"


@pytest.mark.parametrize(
    "options",
    [{}, {"optimizer": "adam", "batch_size": 16}, {"optimizer": "lbfgs"}],
)
def test_training_accuracy_of_a_single_class_is_that_of_predict(options):
    # a model that saw one class predicts it for every row (evaluate: accuracy 1.0), but
    # training counted a row right only where its logit was <= 0: 0.08 for this seed
    X = np.random.default_rng(3).standard_normal((50, 2))
    y = np.ones(50, dtype=int)
    model = MLP(hidden=(2,), seed=1).fit(X, y, epochs=2, validation_data=(X, y), **options)
    assert model.evaluate(X, y)["accuracy"] == 1.0
    assert model.history["accuracy"] == [1.0] * len(model.history["accuracy"])
    assert model.history["val_accuracy"] == [1.0] * len(model.history["val_accuracy"])
