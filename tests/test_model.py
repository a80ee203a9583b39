import dataclasses
import inspect
import os
import signal
import time
import tracemalloc

import numpy as np
import pytest

from mlpzero import MLP, load
from mlpzero.model import FitOptions


def xor_data(n=400, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, 2)) * 2
    return X, (X[:, 0] * X[:, 1] > 0).astype(int)


def test_builds_lazily_from_the_data():
    X, y = xor_data(50)
    model = MLP(hidden=(5, 3))
    assert not model.built
    model.fit(X, y, epochs=1)
    assert model.network.layer_sizes == (2, 5, 3, 1)
    assert model.task == "binary"
    np.testing.assert_array_equal(model.classes_, [0, 1])


def test_full_batch_step_equals_a_hand_computed_gradient_descent_step():
    X, y = xor_data(20)
    model = MLP(hidden=(4,), activation="tanh", dtype="float64", seed=3)
    model.fit(X, y, epochs=1, learning_rate=0.5)
    # Rebuild the initial weights with the same seed and do one step by hand.
    ref = MLP(hidden=(4,), activation="tanh", dtype="float64", seed=3)
    ref._build(X, y)
    W1, b1, W2, b2 = (
        p.copy()
        for p in (
            *ref.network.weights[:1],
            ref.network.biases[0],
            ref.network.weights[1],
            ref.network.biases[1],
        )
    )
    Y = y.reshape(-1, 1).astype(float)
    A1 = np.tanh(X @ W1.T + b1)
    A2 = 1 / (1 + np.exp(-(A1 @ W2.T + b2)))
    dZ2 = (A2 - Y) / len(X)
    dZ1 = (dZ2 @ W2) * (1 - A1**2)
    expected = [
        W1 - 0.5 * dZ1.T @ X,
        b1 - 0.5 * dZ1.sum(0),
        W2 - 0.5 * dZ2.T @ A1,
        b2 - 0.5 * dZ2.sum(0),
    ]
    got = [
        model.network.weights[0],
        model.network.biases[0],
        model.network.weights[1],
        model.network.biases[1],
    ]
    for g, e in zip(got, expected, strict=True):
        np.testing.assert_allclose(g, e, rtol=1e-12, atol=1e-15)
    cost = -np.mean(Y * np.log(A2) + (1 - Y) * np.log(1 - A2))
    assert model.history["loss"] == [pytest.approx(cost, rel=1e-12)]


@pytest.mark.parametrize("batch_size", [None, 32, 1000])
def test_xor_reaches_high_accuracy(batch_size):
    X, y = xor_data()
    epochs = 3000 if batch_size in (None, 1000) else 300
    model = MLP(hidden=(8, 4), seed=0).fit(
        X, y, epochs=epochs, learning_rate=0.1, batch_size=batch_size
    )
    result = model.evaluate(X, y)
    assert result["accuracy"] >= 0.97
    assert model.history["loss"][-1] < model.history["loss"][0] / 5
    assert model.history.epochs == epochs


def test_batch_larger_than_data_is_full_batch():
    X, y = xor_data(64)
    a = MLP(hidden=(4,), seed=1).fit(X, y, epochs=20, learning_rate=0.1)
    b = MLP(hidden=(4,), seed=1).fit(X, y, epochs=20, learning_rate=0.1, batch_size=500)
    np.testing.assert_array_equal(a.network.params, b.network.params)


def test_same_seed_same_weights_bit_for_bit():
    X, y = xor_data(100)
    runs = [MLP(seed=5).fit(X, y, epochs=30, batch_size=16).network.params for _ in range(2)]
    np.testing.assert_array_equal(*runs)
    other = MLP(seed=6).fit(X, y, epochs=30, batch_size=16).network.params
    assert not np.array_equal(runs[0], other)


def test_float32_stays_float32():
    X, y = xor_data(100)
    model = MLP(seed=0).fit(X, y, epochs=5)
    assert model.network.params.dtype == np.float32
    assert model.predict_proba(X).dtype == np.float32


def test_predict_proba_and_predict_agree_with_string_labels():
    X, y = xor_data(200)
    labels = np.where(y == 1, "same", "different")
    model = MLP(hidden=(8, 4), seed=0).fit(X, labels, epochs=2000, learning_rate=0.1)
    proba = model.predict_proba(X)
    assert proba.shape == (200, 2)
    np.testing.assert_allclose(proba.sum(axis=1), 1, rtol=1e-6)
    np.testing.assert_array_equal(model.classes_, ["different", "same"])
    np.testing.assert_array_equal(model.predict(X), model.classes_[proba.argmax(axis=1)])
    assert model.evaluate(X, labels)["accuracy"] > 0.95


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_one_class_gives_one_certain_probability_column(dtype):
    X = np.random.default_rng(0).normal(size=(10, 2))
    model = MLP(hidden=(3,), dtype=dtype, seed=0).fit(X, ["only"] * 10, epochs=5)
    proba = model.predict_proba(X)
    assert proba.shape == (10, len(model.classes_)) == (10, 1)
    assert proba.dtype == np.dtype(dtype)
    np.testing.assert_array_equal(proba, 1)
    np.testing.assert_array_equal(model.predict(X), ["only"] * 10)


def test_multiclass_and_regression_build_the_right_output():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((90, 3))
    y3 = np.repeat([0, 1, 2], 30)
    model = MLP(hidden=(6,), seed=0).fit(X, y3, epochs=5)
    assert model.task == "multiclass" and model.network.layer_sizes[-1] == 3
    np.testing.assert_allclose(model.predict_proba(X).sum(axis=1), 1, rtol=1e-5)
    reg = MLP(hidden=(6,), seed=0).fit(X, X[:, 0] * 0.5 + 0.25, epochs=300, learning_rate=0.05)
    assert reg.task == "regression"
    assert reg.predict(X).shape == (90,)
    assert reg.evaluate(X, X[:, 0] * 0.5 + 0.25)["mse"] < 0.05


def test_verbose_prints_the_article_cost_line(capsys):
    X, y = xor_data(50)
    MLP(seed=0).fit(X, y, epochs=401, verbose=1)
    lines = capsys.readouterr().out.strip().splitlines()
    assert [line.split(":")[0] for line in lines] == ["Epoch 0", "Epoch 200", "Epoch 400"]
    assert lines[0].startswith("Epoch 0: cost = 0.")


def test_continuing_fit_keeps_training_the_same_weights():
    X, y = xor_data(100)
    once = MLP(seed=2).fit(X, y, epochs=40, learning_rate=0.1)
    twice = MLP(seed=2).fit(X, y, epochs=20, learning_rate=0.1)
    twice.fit(X, y, epochs=20, learning_rate=0.1)
    np.testing.assert_array_equal(once.network.params, twice.network.params)
    assert twice.history.epochs == 40


def test_summary_counts_parameters():
    X, y = xor_data(20)
    text = MLP(hidden=(8, 4), seed=0).fit(X, y, epochs=1).summary()
    assert "Total params: 65" in text
    assert "dense_3 (output)" in text and "sigmoid" in text


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"hidden": (0,)}, "hidden must be >= 1"),
        ({"hidden": "big"}, "hidden must be a layer size or a sequence of layer sizes"),
        ({"activation": "swish"}, "unknown activation"),
        ({"activation": ["relu"], "hidden": (3, 3)}, "one activation per hidden layer"),
        ({"dtype": "float16"}, "dtype"),
        ({"loss": "hinge"}, "unknown loss"),
        ({"seed": -1}, "seed must be >= 0"),
        ({"init": "zeros"}, "unknown initializer 'zeros'"),
    ],
)
def test_bad_constructor_arguments(kwargs, match):
    with pytest.raises((ValueError, TypeError), match=match):
        MLP(**kwargs)


@pytest.mark.parametrize("sizes", ["16", b"32", bytearray(b"8")])
def test_hidden_given_as_text_is_refused_whole(sizes):
    # Read as a sequence, "16" was refused as its first character '1', and b"32" became
    # two hidden layers of 51 and 50 units, its character codes.
    with pytest.raises(
        TypeError, match=rf"hidden must be a layer size or .*got {type(sizes).__name__} "
    ):
        MLP(hidden=sizes)
    model = MLP(hidden=(4,))
    with pytest.raises(TypeError, match="hidden must be a layer size"):
        model.hidden = sizes
    assert model.hidden == (4,)


def test_loss_auto_is_case_insensitive_as_every_loss_name():
    # "MSE" and "Squared_Error" were taken, "AUTO" refused as an unknown loss.
    model = MLP(hidden=(2,), loss="AUTO", seed=0)
    assert model.loss == "auto"
    model.fit(np.zeros((4, 2)), [0, 1, 0, 1], epochs=1)
    assert model.loss_.name == "binary_crossentropy"


def test_loss_auto_set_after_construction_is_auto_too():
    """MLP(loss="AUTO") is "auto", but model.loss = "AUTO" was kept as given: a fitted
    model's next fit refused it as an unknown loss, and so did a first fit."""
    X, y = np.zeros((4, 2)), [0, 1, 0, 1]
    model = MLP(hidden=(2,), seed=0)
    model.loss = "AUTO"
    assert model.loss == "auto"
    model.fit(X, y, epochs=1)
    model.loss = "Auto"
    model.fit(X, y, epochs=1)
    assert model.loss == "auto" and model.loss_.name == "binary_crossentropy"


def test_construction_checks_the_settings_without_allocating_the_network():
    MLP(hidden=(3,))  # the first construction imports and caches; measure the second
    tracemalloc.start()
    try:
        model = MLP(hidden=(4096, 4096), activation=["relu", "tanh"], init="he_normal")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    # The network would hold 4096 * 4096 weights: 64 MiB in float32, plus its gradients.
    assert peak < 1 << 20, f"MLP() allocated {peak} bytes"
    assert not model.built


def test_bad_fit_and_predict_input_names_the_argument():
    X, y = xor_data(20)
    model = MLP(seed=0)
    with pytest.raises(ValueError, match="expected y with 20 rows to match X, got 19"):
        model.fit(X, y[:-1], epochs=1)
    holed = X.copy()
    holed[3, 1] = np.nan
    with pytest.raises(
        ValueError, match=r"X contains NaN or infinity \(first at row 3, column 1\)"
    ):
        model.fit(holed, y, epochs=1)
    with pytest.raises(ValueError, match="X must be 2-D"):
        model.fit(X[:, 0], y, epochs=1)
    with pytest.raises(ValueError, match="learning_rate"):
        model.fit(X, y, epochs=1, learning_rate=-1)
    with pytest.raises(TypeError, match="epochs must be an integer"):
        model.fit(X, y, epochs=2.5)
    with pytest.raises(RuntimeError, match="not fitted"):
        model.predict(X)
    assert not model.built
    model.fit(X, y, epochs=1)
    before = model.network.params.copy()
    with pytest.raises(ValueError, match="X has 3 features, but the model was built for 2"):
        model.predict(np.zeros((2, 3)))
    with pytest.raises(ValueError, match="labels not seen in training"):
        model.evaluate(X, y + 5)
    np.testing.assert_array_equal(model.network.params, before)


def test_build_with_classes_prepares_outputs_for_labels_not_yet_seen():
    X = np.random.default_rng(0).standard_normal((6, 3))
    model = MLP(hidden=(4,), seed=0).build(X, [0, 0, 1, 1, 0, 1], classes=[0, 1, 2])
    assert model.task == "multiclass"
    assert model.network.layer_sizes == (3, 4, 3)
    model.fit(X, [0, 0, 1, 1, 0, 1], epochs=2)  # the first batch lacks class 2
    assert model.predict_proba(X).shape == (6, 3)
    model.fit(X, [2, 2, 1, 1, 0, 1], epochs=2)
    with pytest.raises(ValueError, match="not seen"):
        model.fit(X, [3, 2, 1, 1, 0, 1], epochs=1)


def test_build_refuses_a_model_that_is_built_already():
    # build replaced a fitted model's weights with fresh ones (for another task, too) and
    # kept its history, fit_config_ and optimizer: a model of 200 epochs predicting by chance
    X = np.random.default_rng(0).standard_normal((40, 2))
    y = (X[:, 0] > 0).astype(int)
    model = MLP(hidden=(4,), seed=0).fit(X, y, epochs=200, learning_rate=0.5)
    before = model.network.params.copy()
    for labels in (y, np.arange(40) % 3):
        with pytest.raises(ValueError, match=r"build: this MLP is built already .*200 epochs"):
            model.build(X, labels)
    np.testing.assert_array_equal(model.network.params, before)
    assert model.task == "binary" and model.history.epochs == 200
    built = MLP(hidden=(4,), seed=0).build(X, y)
    with pytest.raises(ValueError, match=r"built already \(layer sizes \[2, 4, 1\]\);"):
        built.build(X, y)


def test_evaluate_with_large_weights_and_huge_targets_stays_finite():
    X = np.random.default_rng(0).standard_normal((20, 3))
    y = np.linspace(1e200, 3e200, 20)
    model = MLP(hidden=(4,), loss="squared_error", dtype="float64").build(X, y)
    unweighted = model.evaluate(X, y)
    weighted = model.evaluate(X, y, sample_weight=1e10)
    assert np.isfinite(weighted["loss"]) and np.isfinite(weighted["mse"])
    assert weighted == pytest.approx(unweighted, rel=1e-12)


def test_fit_options_cover_every_option_of_fit_and_are_frozen():
    fit_options = {
        name
        for name, parameter in inspect.signature(MLP.fit).parameters.items()
        if parameter.kind is parameter.KEYWORD_ONLY
    }
    # "stream" says what the data is (a batch generator); weights and classes are data,
    # not options; `distributed` picks the process group the fit runs in, before any
    # option is checked (every rank must first agree on them).
    checked = set(inspect.signature(FitOptions.check).parameters) - {"stream"}
    assert checked == fit_options - {"sample_weight", "classes", "distributed"}
    defaults = {
        name: parameter.default
        for name, parameter in inspect.signature(MLP.fit).parameters.items()
        if name in checked
    }
    options = FitOptions.check(**{**defaults, "epochs": 3, "batch_size": 8})
    with pytest.raises(dataclasses.FrozenInstanceError):
        options.epochs = 4
    X, y = xor_data(20)
    model = MLP(hidden=(3,), seed=0).fit(X, y, epochs=3, batch_size=8)
    assert model.fit_config_ == options.fit_config()
    with pytest.raises(ValueError, match="verbose must be 0, 1 or 2, got 3"):
        FitOptions.check(**{**defaults, "verbose": 3})


@pytest.mark.parametrize(
    ("classes", "message"),
    [
        (5, "classes must be a non-empty list of labels, got 5"),
        ([], "classes must be a non-empty list"),
        ([0, 0, 1], "classes must list each label once"),
        ([0], r"y has labels that classes=\[0\] does not list: \[1\]"),
    ],
)
def test_fit_checks_classes_and_names_them(classes, message):
    X = np.random.default_rng(0).standard_normal((20, 2))
    y = (X[:, 0] > 0).astype(int)
    model = MLP(hidden=(3,))
    with pytest.raises(ValueError, match=message):
        model.fit(X, y, classes=classes, epochs=1)
    assert not model.built


def test_classes_with_a_multilabel_y_say_that_they_do_not_apply():
    """``classes=[0, 1]`` with a 0/1 matrix ``y`` (as scikit-learn's ``partial_fit`` asks)
    made the model binary and then said "y for binary classification must be 1-D"."""
    X = np.random.default_rng(0).standard_normal((20, 2))
    Y = (X > 0).astype(int)
    model = MLP(hidden=(3,))
    with pytest.raises(ValueError, match=r"classes applies to a 1-D y of labels.*2 columns"):
        model.fit(X, Y, classes=[0, 1], epochs=1)
    assert not model.built
    assert model.fit(X, Y, epochs=1).task == "multilabel"


def test_classes_name_the_labels_of_y_they_miss_when_y_mixes_types():
    """A ``y`` mixing numbers and text (a pandas object column) with ``classes`` met
    NumPy's sort and failed with Python's "'<' not supported between instances of 'str'
    and 'int'", naming neither argument."""
    X = np.random.default_rng(0).standard_normal((6, 2))
    y = np.array([1, "a", 2, 1, 2, 1], dtype=object)
    for make in (lambda m: m.fit(X, y, classes=[1, 2], epochs=1), lambda m: m.build(X, y, [1, 2])):
        model = MLP(hidden=(3,))
        with pytest.raises(
            ValueError, match=r"y has labels that classes=\[1, 2\] does not list: \['a'\]"
        ):
            make(model)
        assert not model.built


@pytest.mark.parametrize("classes", [[0, 1, None], ["no", None, "yes"]])
def test_fit_names_classes_that_cannot_be_sorted(classes):
    X = np.random.default_rng(0).standard_normal((20, 2))
    y = (X[:, 0] > 0).astype(int)
    model = MLP(hidden=(3,))
    with pytest.raises(TypeError, match=r"classes must be labels of one type that sorts.*got \["):
        model.fit(X, y, classes=classes, epochs=1)
    assert not model.built


def test_a_fitted_model_keeps_its_classes():
    X = np.random.default_rng(0).standard_normal((20, 2))
    y = (X[:, 0] > 0).astype(int)
    model = MLP(hidden=(3,)).fit(X, y, epochs=1)
    with pytest.raises(ValueError, match=r"differs from the fitted model's classes_ \[0, 1\]"):
        model.fit(X, y, classes=[0, 1, 2], epochs=1)
    model.fit(X, y, classes=[1, 0], epochs=1)  # the same set, in any order
    assert model.history.epochs == 2


@pytest.mark.parametrize(
    ("settings", "classes", "message"),
    [
        ({}, [0.0, 1.0, 2.0], "are floats, which loss='auto' reads as regression"),
        ({}, [0, 1, np.nan], "classes must not hold NaN"),
        ({"loss": "squared_error"}, [0, 1], "classes applies to classifiers"),
    ],
)
def test_classes_that_would_not_make_a_classifier_are_refused(settings, classes, message):
    X = np.random.default_rng(0).standard_normal((20, 2))
    y = (X[:, 0] > 0).astype(int)
    model = MLP(hidden=(3,), **settings)
    with pytest.raises(ValueError, match=message):
        model.fit(X, y, classes=classes, epochs=1)
    assert not model.built


@pytest.mark.parametrize(
    ("settings", "classes", "message"),
    [
        ({}, [], "classes must be a non-empty list"),
        ({}, [[0, 1]], "classes must be a non-empty list of labels"),
        ({}, [0, 2], r"y has labels that classes=\[0, 2\] does not list: \[1\]"),
        ({}, [0.5, 1.5], "are floats, which loss='auto' reads as regression"),
        ({}, [0, 1, None], "classes must be labels of one type that sorts"),
        ({"loss": "squared_error"}, [0, 1], "classes applies to classifiers"),
    ],
)
def test_build_checks_classes_as_fit_does(settings, classes, message):
    # build took them as they came: floats made a regression model, [] a model whose
    # predict raised IndexError, a nested list a multi-label one, and labels of y that
    # classes left out surfaced only at the first fit
    X = np.random.default_rng(0).standard_normal((20, 2))
    y = (X[:, 0] > 0).astype(int)
    model = MLP(hidden=(3,), **settings)
    with pytest.raises((ValueError, TypeError), match=message):
        model.build(X, y, classes=classes)
    assert not model.built
    built = MLP(hidden=(3,), seed=0).build(X, y, classes=[2, 1, 0])
    assert built.task == "multiclass" and built.classes_.tolist() == [0, 1, 2]


@pytest.mark.parametrize("task", ["binary", "multiclass", "multilabel", "regression"])
def test_predict_in_blocks_gives_the_whole_arrays_predictions(task, monkeypatch):
    """predict turns a block of rows into labels before it computes the next; over many
    blocks, the labels are those of the whole array of probabilities."""
    from mlpzero import network as network_module

    rng = np.random.default_rng(0)
    X = rng.normal(size=(500, 3))
    y = {
        "binary": (X[:, 0] > 0).astype(int),
        "multiclass": np.digitize(X[:, 0], [-1, 0, 1]),
        "multilabel": np.column_stack([X[:, 0] > 0, X[:, 1] > 0]).astype(int),
        "regression": X @ [1.0, -2.0, 0.5],
    }[task]
    model = MLP(hidden=(5,), seed=0).fit(X, y, epochs=20)
    assert model.task == task
    monkeypatch.setattr(network_module, "CHUNK_MAX_BYTES", 1024)
    assert model.network.chunk_rows < 50  # ten blocks and more
    outputs = model.predict_proba(X)
    expected = {
        "binary": lambda: model.classes_[(outputs[:, 1] > 0.5).astype(int)],
        "multiclass": lambda: model.classes_[outputs.argmax(axis=1)],
        "multilabel": lambda: (outputs > 0.5).astype(np.int64),
        "regression": lambda: outputs[:, 0],
    }[task]()
    np.testing.assert_array_equal(model.predict(X), expected)


def test_predict_holds_one_block_of_outputs_beside_its_labels():
    """Ten classes: every row's ten float32 outputs would take five times the labels."""
    from conftest import traced_peak

    rng = np.random.default_rng(0)
    X = rng.normal(size=(200_000, 2)).astype(np.float32)
    y = np.digitize(X[:, 0], np.linspace(-2, 2, 9))
    model = MLP(hidden=(4,), seed=0).fit(X[:1000], y[:1000], epochs=1)
    assert len(model.classes_) == 10
    labels = model.predict(X)
    block = model.network.chunk_rows * (2 + 3 * (4 + 10) * 2) * 4  # network's buffers
    assert traced_peak(lambda: model.predict(X)) < labels.nbytes + 2 * block


def test_many_classes_take_memory_for_a_batch_not_for_every_row():
    """With 8000 classes, the one-hot targets of 8000 rows take 256 MB in float32 (and
    the outputs as much again): fit encodes them a batch at a time, and evaluate goes
    through blocks of rows, each pass within the network's 64 MB of buffers."""
    from conftest import traced_peak

    rng = np.random.default_rng(0)
    X = rng.standard_normal((8000, 2))
    y = np.arange(8000)
    model = MLP(hidden=(2,), seed=0)
    fit = traced_peak(lambda: model.fit(X, y, epochs=1, batch_size=50, learning_rate=0.1))
    assert fit < 32 << 20, f"fit peaked at {fit} bytes"
    scores = {}
    evaluate = traced_peak(lambda: scores.update(model.evaluate(X, y)))
    assert evaluate < 200 << 20, f"evaluate peaked at {evaluate} bytes"
    whole = model._evaluate_rows(X.astype(np.float32), y, None)  # every row at once
    assert scores == pytest.approx(whole)


def test_many_classes_are_validated_a_batch_at_a_time():
    """2667 validation rows of 8000 classes: their one-hot targets and their outputs would
    take 85 MB each in float32, and the loss over them several times that. The fit validates
    a batch at a time and logs what evaluate gives on the same rows."""
    from conftest import traced_peak

    rng = np.random.default_rng(0)
    X, y = rng.standard_normal((8000, 2)), np.arange(8000)
    y_val = np.arange(0, 8000, 3)
    X_val = rng.standard_normal((len(y_val), 2))
    model = MLP(hidden=(2,), seed=0)
    options = dict(epochs=1, batch_size=50, learning_rate=0.1, validation_data=(X_val, y_val))
    fit = traced_peak(lambda: model.fit(X, y, **options))
    assert fit < 32 << 20, f"fit peaked at {fit} bytes"
    scores = model.evaluate(X_val, y_val)
    assert model.history.history["val_loss"] == [pytest.approx(scores["loss"], rel=1e-6)]
    assert model.history.history["val_accuracy"] == [scores["accuracy"]]


def test_targets_encoded_a_batch_at_a_time_train_the_same_weights(monkeypatch):
    from mlpzero import preparation

    rng = np.random.default_rng(1)
    X = rng.standard_normal((90, 3))
    y = rng.integers(0, 5, 90)
    options = dict(epochs=3, batch_size=16, learning_rate=0.1, validation_split=0.2)
    whole = MLP(hidden=(4,), seed=0).fit(X, y, **options)
    monkeypatch.setattr(preparation, "ONE_HOT_BYTES", 0)
    by_batch = MLP(hidden=(4,), seed=0).fit(X, y, **options)
    np.testing.assert_array_equal(whole.network.params, by_batch.network.params)
    # Validated a batch at a time, the mean loss is summed in another order.
    val_loss = by_batch.history.history.pop("val_loss")
    assert val_loss == pytest.approx(whole.history.history.pop("val_loss"), rel=1e-6)
    assert whole.history.history == by_batch.history.history


def test_dropout_set_on_the_model_is_checked_and_trains_as_given_to_the_constructor():
    X, y = xor_data(40)
    model = MLP(hidden=(4, 3), seed=0)
    model.dropout = 0.25  # one rate for every hidden layer, as MLP(dropout=0.25) takes it
    assert model.dropout == (0.25, 0.25)
    model.fit(X, y, epochs=2, learning_rate=0.1)
    assert model.network.dropout == [0.25, 0.25]
    same = MLP(hidden=(4, 3), seed=0, dropout=0.25).fit(X, y, epochs=2, learning_rate=0.1)
    np.testing.assert_array_equal(model.network.params, same.network.params)
    model.dropout = 0.0
    model.fit(X, y, epochs=1, learning_rate=0.1)
    assert model.network.dropout == [0.0, 0.0]
    refused = ((1.0, ValueError), (-0.1, ValueError), ([0.1], ValueError), ("0.2", TypeError))
    for bad, error in refused:
        with pytest.raises(error, match="dropout"):
            model.dropout = bad
    assert model.dropout == (0.0, 0.0)


def test_dtype_seed_and_standardize_set_on_the_model_are_taken_as_the_constructor_takes_them():
    """Set after construction they were kept as given: dtype="float64" (as the constructor
    takes it) made repr fail with "'str' object has no attribute 'name'", a seed of -5
    failed only in the next fit, in NumPy's words, and standardize="no" switched
    standardisation on."""
    X, y = xor_data(40)
    model = MLP(hidden=(4,), seed=0)
    model.dtype = "float64"
    assert model.dtype == np.float64 and "dtype='float64'" in repr(model)
    model.fit(X, y, epochs=1)
    assert model.network.dtype == np.float64
    refused = (
        ("dtype", "float16", ValueError, r"dtype must be 'float32' or 'float64', got 'float16'"),
        ("seed", -5, ValueError, r"seed must be >= 0, got -5"),
        ("seed", 1.5, TypeError, r"seed must be an integer, got float 1\.5"),
        ("standardize", "no", TypeError, r"standardize must be True or False, got str 'no'"),
    )
    for name, bad, error, message in refused:
        with pytest.raises(error, match=message):
            setattr(model, name, bad)
    assert (model.dtype, model.seed, model.standardize) == (np.float64, 0, False)


def test_a_seed_set_before_the_first_fit_draws_the_weights_and_shuffles():
    """Set after construction, the seed was recorded (repr, the model file) while the
    weights and shuffles still came from the constructor's seed."""
    X, y = xor_data(40)
    model = MLP(hidden=(4,), seed=0)
    model.seed = 5
    model.fit(X, y, epochs=2, batch_size=8)
    reference = MLP(hidden=(4,), seed=5).fit(X, y, epochs=2, batch_size=8)
    np.testing.assert_array_equal(model.network.params, reference.network.params)


@pytest.mark.parametrize("method", ["predict_proba", "evaluate"])
def test_threads_sharing_a_model_get_the_answers_each_would_get_alone(method):
    """The passes reuse the network's buffers: two threads predicting at once wrote into
    each other's, and both got wrong answers without an error (a web server answering
    requests in a thread pool, say). They now take turns."""
    import threading

    rng = np.random.default_rng(0)
    X = rng.normal(size=(400, 10)).astype(np.float32)
    y = (X[:, 0] > 0).astype(int)
    model = MLP(hidden=(64, 32), seed=0).fit(X, y, epochs=2)
    inputs = [rng.normal(size=(100, 10)).astype(np.float32) for _ in range(8)]

    def answer(i):
        if method == "evaluate":
            return model.evaluate(inputs[i], (inputs[i][:, 0] > 0).astype(int))["loss"]
        return model.predict_proba(inputs[i])

    alone = [answer(i) for i in range(8)]
    wrong = []

    def ask(i):
        for _ in range(200):
            if not np.array_equal(answer(i), alone[i]):
                wrong.append(i)
                return

    threads = [threading.Thread(target=ask, args=(i,)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in threads)
    assert wrong == []


def test_predictions_in_another_thread_leave_a_fit_as_it_would_be_alone():
    """A prediction between a batch's forward and backward pass replaced the input its
    backward pass reads: the fit trained on another thread's rows without an error.
    Predictions now wait for the fit."""
    import threading

    rng = np.random.default_rng(0)
    X = rng.normal(size=(256, 10)).astype(np.float32)
    y = (X[:, 0] > 0).astype(int)
    options = {"epochs": 15, "batch_size": 64, "optimizer": "sgd", "learning_rate": 0.1}
    alone = MLP(hidden=(64, 32), seed=0).fit(X, y, epochs=1)
    alone.fit(X, y, **options)
    shared = MLP(hidden=(64, 32), seed=0).fit(X, y, epochs=1)
    other = rng.normal(size=(64, 10)).astype(np.float32)
    done = threading.Event()

    def predict_until_done():
        while not done.is_set():
            shared.predict_proba(other)

    asking = threading.Thread(target=predict_until_done)
    asking.start()
    try:
        shared.fit(X, y, **options)
    finally:
        done.set()
        asking.join(timeout=120)
    np.testing.assert_array_equal(shared.network.params, alone.network.params)


@pytest.mark.skipif(not hasattr(os, "fork"), reason="processes made by fork")
def test_a_process_forked_while_another_thread_predicts_can_predict():
    """A process made by fork has only the thread that forked: the network's lock, held
    at that moment by a thread predicting or training, stayed held in the child for
    ever, and the child's first prediction never returned."""
    import threading

    rng = np.random.default_rng(0)
    X = rng.normal(size=(50, 4)).astype(np.float32)
    model = MLP(hidden=(8,), seed=0).fit(X, (X[:, 0] > 0).astype(int), epochs=2)
    expected = model.predict_proba(X)
    holding, release = threading.Event(), threading.Event()

    def hold_the_lock():  # as a prediction or a fit in another thread does
        with model.network.lock:
            holding.set()
            release.wait(timeout=60)

    def predict_in_the_child():
        os._exit(0 if np.array_equal(model.predict_proba(X), expected) else 1)

    holder = threading.Thread(target=hold_the_lock)
    hung, exitcode = _forked_child_ends(predict_in_the_child, holder, holding, release)
    assert not hung, "the child's prediction waited for a thread it does not have"
    assert exitcode == 0


def _forked_child_ends(target, holder, holding, release) -> tuple[bool, int | None]:
    """Start ``holder`` (a thread that sets ``holding`` once it holds a lock, then waits
    for ``release``), run ``target`` in a child made by fork meanwhile, then release the
    holder: whether the child was still running after 30 s (then killed), and its exit
    code."""
    import multiprocessing

    holder.start()
    try:
        assert holding.wait(timeout=60)
        child = multiprocessing.get_context("fork").Process(target=target)
        child.start()
        child.join(timeout=30)
        hung = child.is_alive()
        if hung:
            child.kill()
            child.join(timeout=10)
    finally:
        release.set()
        holder.join(timeout=60)
    return hung, child.exitcode


def test_init_changed_after_fitting_is_refused_by_fit_and_save(tmp_path):
    """The weights were drawn with the first initialiser, but fit went on and save wrote
    the new one: the loaded model's summary then named an initialiser its weights never
    had."""
    X, y = xor_data(40)
    model = MLP(hidden=(4,), activation="tanh", seed=0).fit(X, y, epochs=1)
    model.init = "he_normal"
    with pytest.raises(ValueError, match=r"init='he_normal', but .* fitted with None"):
        model.fit(X, y, epochs=1)
    with pytest.raises(ValueError, match=r"cannot save a model whose init 'he_normal'"):
        model.save(tmp_path / "m.npz")
    assert not (tmp_path / "m.npz").exists()
    model.init = None
    loaded = load(model.fit(X, y, epochs=1).save(tmp_path / "m.npz"))
    assert loaded.summary() == model.summary()
    assert "xavier_normal" in loaded.summary() and "he_normal" not in loaded.summary()


def test_a_save_while_another_thread_trains_writes_the_weights_of_one_moment(tmp_path, monkeypatch):
    """save read the parameters while it wrote them: a fit's steps in another thread
    went on meanwhile, and the file held parts of two steps, weights no epoch or batch
    ended with, without an error. The save now waits for the fit, as predictions do."""
    import threading

    import mlpzero
    from mlpzero import io as mlpzero_io

    rng = np.random.default_rng(0)
    X = rng.normal(size=(50, 4)).astype(np.float32)
    model = MLP(hidden=(8,), seed=0).fit(X, (X[:, 0] > 0).astype(int), epochs=2)
    before = model.network.params.copy()
    write = mlpzero_io.write_record

    def step():  # as the fit's loop does, holding the network's lock
        with model.network.lock:
            model.network.params[: len(before) // 2] += 1

    trainer = threading.Thread(target=step)

    def a_step_during_the_write(record, path):
        trainer.start()
        trainer.join(timeout=0.5)  # a step that waits for the save waits no longer
        return write(record, path)

    monkeypatch.setattr(mlpzero_io, "write_record", a_step_during_the_write)
    try:
        model.save(tmp_path / "model.npz")
    finally:
        trainer.join(timeout=60)
    np.testing.assert_array_equal(mlpzero.load(tmp_path / "model.npz").network.params, before)


def test_a_deep_copy_while_another_thread_trains_holds_the_weights_of_one_moment(monkeypatch):
    """copy.deepcopy, what the README gives each thread to predict in parallel, copied the
    parameters while a fit in another thread went on stepping them: the copy held weights
    no step ended with, without an error. The copy now waits for the fit."""
    import copy
    import threading

    from mlpzero.network import Network

    rng = np.random.default_rng(0)
    X = rng.normal(size=(50, 4)).astype(np.float32)
    model = MLP(hidden=(8,), seed=0).fit(X, (X[:, 0] > 0).astype(int), epochs=2)
    before = model.network.params.copy()

    def step():  # as the fit's loop does, holding the network's lock
        with model.network.lock:
            model.network.params[: len(before) // 2] += 1

    trainer = threading.Thread(target=step)
    state = Network.__getstate__

    def a_step_during_the_copy(network):
        trainer.start()
        trainer.join(timeout=0.5)  # a step that waits for the copy waits no longer
        return state(network)

    monkeypatch.setattr(Network, "__getstate__", a_step_during_the_copy)
    try:
        copied = copy.deepcopy(model)
    finally:
        trainer.join(timeout=60)
    np.testing.assert_array_equal(copied.network.params, before)


def test_a_deep_copy_of_a_subclass_takes_its_getstate_and_setstate():
    """A deep copy made holding the network's lock copied the model's attributes one by
    one: a subclass whose __getstate__ leaves out what cannot be copied (a lock) and whose
    __setstate__ makes it anew, which copy.deepcopy used to follow, failed with "cannot
    pickle '_thread.lock' object"."""
    import copy
    import threading

    class Guarded(MLP):
        def __init__(self, **kwargs: object) -> None:
            super().__init__(**kwargs)
            self.guard = threading.Lock()

        def __getstate__(self) -> dict[str, object]:
            state = dict(vars(self))
            del state["guard"]
            return state

        def __setstate__(self, state: dict[str, object]) -> None:
            self.__dict__.update(state)
            self.guard = threading.Lock()

    X, y = xor_data(40)
    model = Guarded(hidden=(4,), seed=0).fit(X, y, epochs=2)
    copied = copy.deepcopy(model)
    assert type(copied) is Guarded and copied.guard is not model.guard
    assert copied.network is not model.network
    np.testing.assert_array_equal(copied.predict_proba(X), model.predict_proba(X))


def test_an_evaluation_in_chunks_meets_a_fit_in_another_thread_whole(monkeypatch):
    """A sparse or memory-mapped X is evaluated a chunk of rows at a time, and the
    network's lock was taken for each chunk alone: a fit's step in another thread between
    two chunks gave metrics mixing two sets of weights, without an error. The evaluation
    now holds the lock from its first chunk to its last."""
    import threading

    import scipy.sparse

    from mlpzero import model as model_module
    from mlpzero import network as network_module

    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 4)).astype(np.float32)
    y = (X[:, 0] > 0).astype(int)
    model = MLP(hidden=(8,), seed=0).fit(X, y, epochs=2)
    monkeypatch.setattr(network_module, "CHUNK_MAX_BYTES", 2048)
    assert model.network.chunk_rows < 50  # four chunks and more
    sparse = scipy.sparse.csr_matrix(X)
    expected = model.evaluate(sparse, y)

    def step():  # as the fit's loop does, holding the network's lock
        with model.network.lock:
            model.network.params *= -1

    trainer = threading.Thread(target=step)
    read = model_module.dense_rows

    def a_step_after_the_first_chunk(X, start, *args):
        if start > 0 and trainer.ident is None:  # once, before the second chunk
            trainer.start()
            trainer.join(timeout=0.5)  # a step that waits for the evaluation waits no longer
        return read(X, start, *args)

    monkeypatch.setattr(model_module, "dense_rows", a_step_after_the_first_chunk)
    try:
        result = model.evaluate(sparse, y)
    finally:
        trainer.join(timeout=60)
    assert result == expected


def test_a_fit_failing_in_another_thread_leaves_a_running_fit_as_it_would_be_alone(
    monkeypatch,
):
    """A fit that fails puts back the attributes and random state of its start. Run in
    another thread while a fit of the same model trained, it rewound the random state
    that fit was drawing its shuffles from, which then trained on other batches than it
    would alone, without an error. Two fits of one model now run one after the other."""
    import threading

    from mlpzero import model as model_module
    from mlpzero.callbacks import LambdaCallback

    rng = np.random.default_rng(0)
    X = rng.normal(size=(64, 4)).astype(np.float32)
    y = (X[:, 0] > 0).astype(int)
    options = {"epochs": 6, "batch_size": 16, "optimizer": "sgd", "learning_rate": 0.1}
    alone = MLP(hidden=(8,), seed=0).fit(X, y, epochs=1)
    alone.fit(X, y, **options)
    model = MLP(hidden=(8,), seed=0).fit(X, y, epochs=1)
    checking, refuse = threading.Event(), threading.Event()
    check = model_module.check_data

    def refused_later(*args, **kwargs):  # the other fit's data, refused two epochs later
        if threading.current_thread() is other:
            checking.set()
            refuse.wait(timeout=60)
            raise ValueError("refused")
        return check(*args, **kwargs)

    monkeypatch.setattr(model_module, "check_data", refused_later)
    errors = []

    def fit_in_another_thread():
        try:
            model.fit(X, y, epochs=1)
        except ValueError as error:
            errors.append(error)

    other = threading.Thread(target=fit_in_another_thread)

    def on_epoch_end(epoch, logs):
        if epoch == 1:
            other.start()
            checking.wait(timeout=0.5)  # a fit that waits for this one waits no longer
        if epoch == 3:
            refuse.set()
            other.join(timeout=0.5)

    try:
        model.fit(X, y, **options, callbacks=[LambdaCallback(on_epoch_end=on_epoch_end)])
    finally:
        refuse.set()
        other.join(timeout=60)
    assert [str(error) for error in errors] == ["refused"]
    np.testing.assert_array_equal(model.network.params, alone.network.params)


def test_a_fit_called_holding_the_network_lock_does_not_deadlock_with_another_fit():
    """The scikit-learn estimators call fit holding the network's lock (until the best
    weights are back). A fit in another thread, holding the model's own lock for fits
    and waiting for the network's, must not leave the two waiting for each other."""
    import threading
    import time

    from mlpzero import model as model_module

    rng = np.random.default_rng(0)
    X = rng.normal(size=(50, 4)).astype(np.float32)
    y = (X[:, 0] > 0).astype(int)
    model = MLP(hidden=(8,), seed=0).fit(X, y, epochs=1)
    fit_lock = model_module._fit_lock(model)
    held, ends = threading.Event(), []

    def as_the_estimators_do():
        with model.network.lock:
            held.set()
            deadline = time.monotonic() + 10
            while fit_lock.acquire(blocking=False):  # until the other fit holds it
                fit_lock.release()
                assert time.monotonic() < deadline
                time.sleep(0.01)
            model.fit(X, y, epochs=1)
        ends.append("estimator")

    def plain_fit():
        assert held.wait(timeout=10)
        model.fit(X, y, epochs=1)
        ends.append("plain")

    threads = [threading.Thread(target=f, daemon=True) for f in (as_the_estimators_do, plain_fit)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(ends) == ["estimator", "plain"], "the two fits waited for each other"
    assert model.history.epochs == 3


@pytest.mark.skipif(not hasattr(signal, "pthread_kill"), reason="a signal to one thread")
def test_ctrl_c_while_a_fit_waits_for_a_prediction_leaves_the_model_as_it_was():
    """A fit checks and prepares its data, sets its optimizer and options on the model, and
    then waits for the network's lock. Ctrl-C while it waited (a prediction or save held
    the lock in another thread) ended the fit before its first step, but the model kept
    the new optimizer (the old one's state lost), the fit_config_ of a fit that never ran
    and another validation split: a refused fit leaves the model as it was."""
    import threading

    rng = np.random.default_rng(0)
    X = rng.normal(size=(50, 4)).astype(np.float32)
    y = (X[:, 0] > 0).astype(int)
    model = MLP(hidden=(8,), seed=0).fit(X, y, epochs=2, optimizer="adam")
    optimizer, config, rows = model.optimizer_, dict(model.fit_config_), model.validation_rows_
    holding, release, waiting = threading.Event(), threading.Event(), threading.Event()
    lock = model.network.lock

    class Watched:  # the network's lock, telling when the fit begins to wait for it
        def __enter__(self) -> None:
            if threading.current_thread() is threading.main_thread():
                waiting.set()
            lock.acquire()

        def __exit__(self, *exc_info: object) -> None:
            lock.release()

        def _is_owned(self) -> bool:
            return lock._is_owned()

    model.network._lock = Watched()

    def predict_long():  # as a long prediction in another thread
        with model.network.lock:
            holding.set()
            release.wait(timeout=60)

    def interrupt():
        if waiting.wait(timeout=60):
            time.sleep(0.1)
            signal.pthread_kill(threading.main_thread().ident, signal.SIGINT)

    holder = threading.Thread(target=predict_long)
    interrupter = threading.Thread(target=interrupt)
    holder.start()
    assert holding.wait(timeout=60)
    interrupter.start()
    try:
        with pytest.raises(KeyboardInterrupt):
            model.fit(X, y, epochs=3, optimizer="rmsprop", validation_split=0.2)
    finally:
        waiting.set()
        release.set()
        holder.join(timeout=60)
        interrupter.join(timeout=60)
    assert model.optimizer_ is optimizer
    assert model.fit_config_ == config and model.validation_rows_ is rows
    assert model.history.epochs == 2
    model.network._lock = lock
    model.fit(X, y, epochs=1, optimizer=optimizer)
    assert model.history.epochs == 3


def test_models_equal_by_a_subclass_eq_fit_each_with_a_lock_of_its_own():
    """The lock for a model's fits was found by the model's == and hash: a subclass that
    defines __eq__ (which leaves it unhashable) could not fit ("unhashable type"), and two
    models equal by a subclass's __eq__ and __hash__ shared one lock, so that a fit of one
    waited for a fit of the other: for ever when the first's callback waited for it."""
    import gc
    import threading
    import weakref

    from mlpzero import model as model_module
    from mlpzero.callbacks import LambdaCallback

    class Unhashable(MLP):
        def __eq__(self, other: object) -> bool:
            return isinstance(other, MLP) and self.hidden == other.hidden

    class EqualByHidden(Unhashable):
        def __hash__(self) -> int:
            return hash(self.hidden)

    rng = np.random.default_rng(0)
    X = rng.normal(size=(40, 3)).astype(np.float32)
    y = (X[:, 0] > 0).astype(int)
    Unhashable(hidden=(4,), seed=0).fit(X, y, epochs=1)
    first, second = EqualByHidden(hidden=(4,), seed=0), EqualByHidden(hidden=(4,), seed=1)
    waited = []

    def fit_the_other(epoch, logs):
        other = threading.Thread(target=second.fit, args=(X, y), kwargs={"epochs": 1})
        other.daemon = True
        other.start()
        other.join(timeout=10)
        waited.append(other.is_alive())

    first.fit(X, y, epochs=1, callbacks=[LambdaCallback(on_epoch_end=fit_the_other)])
    assert waited == [False], "a fit of one model waited for a fit of another"
    lone = EqualByHidden(hidden=(4,), seed=2).fit(X, y, epochs=1)  # its lock goes with it
    gone, key = weakref.ref(lone), id(lone)
    del lone
    gc.collect()
    assert gone() is None and key not in model_module._FIT_LOCKS


@pytest.mark.skipif(not hasattr(os, "fork"), reason="processes made by fork")
def test_a_process_forked_while_another_thread_fits_can_fit_the_model():
    """A fit running in another thread holds the model's lock for fits; a child process
    made by fork has no such thread, and its own fit of the model must not wait for it."""
    import threading

    from mlpzero.callbacks import LambdaCallback

    rng = np.random.default_rng(0)
    X = rng.normal(size=(50, 4)).astype(np.float32)
    y = (X[:, 0] > 0).astype(int)
    model = MLP(hidden=(8,), seed=0).fit(X, y, epochs=1)
    fitting, release = threading.Event(), threading.Event()

    def hold(epoch, logs):
        fitting.set()
        release.wait(timeout=60)

    def fit_in_the_child():
        model.fit(X, y, epochs=2)
        os._exit(0 if model.history.epochs == 4 else 1)

    holder = threading.Thread(
        target=model.fit,
        args=(X, y),
        kwargs={"epochs": 1, "callbacks": [LambdaCallback(on_epoch_end=hold)]},
    )
    hung, exitcode = _forked_child_ends(fit_in_the_child, holder, fitting, release)
    assert not hung, "the child's fit waited for a thread it does not have"
    assert exitcode == 0


def test_hidden_set_after_construction_is_taken_as_the_constructor_takes_it():
    """The constructor takes one size for one hidden layer, but a size set later was
    kept as it was given: the next fit failed with "'int' object is not iterable", and
    a wrong entry was found only then."""
    X, y = xor_data(40)
    model = MLP(hidden=4, seed=0).fit(X, y, epochs=1)
    model.hidden = 4
    assert model.hidden == (4,)
    model.fit(X, y, epochs=1)
    model.hidden = 8
    with pytest.raises(ValueError, match=r"hidden=\(8,\)"):
        model.fit(X, y, epochs=1)
    with pytest.raises((TypeError, ValueError), match="hidden"):
        model.hidden = [4, "8"]
    assert model.hidden == (8,)
