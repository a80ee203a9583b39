"""Data frames are matched to the training features by column name, the same way by MLP
(predict, evaluate, score, continued fit, after save and load) and the CLI; the
scikit-learn estimators keep scikit-learn's rule (same names, same order)."""

import csv

import numpy as np
import pytest

import mlpzero
from mlpzero import MLP, cli

pd = pytest.importorskip("pandas")

NAMES = ["alpha", "beta", "gamma"]


@pytest.fixture
def frame():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((120, 3))
    y = np.where(X[:, 0] - 2 * X[:, 2] > 0, "yes", "no")  # depends on the order of columns
    return pd.DataFrame(X, columns=NAMES), y


def test_mlp_reorders_a_permutation_and_refuses_other_names(frame, tmp_path):
    df, y = frame
    model = MLP(hidden=(8,), seed=0).fit(df, y, epochs=300, learning_rate=0.3)
    assert model.feature_names_in_ == NAMES
    shuffled = df[["gamma", "alpha", "beta"]]
    loaded = mlpzero.load(model.save(tmp_path / "m.npz"))
    for fitted in (model, loaded):
        np.testing.assert_array_equal(fitted.predict_proba(shuffled), fitted.predict_proba(df))
        assert fitted.evaluate(shuffled, y) == fitted.evaluate(df, y)
        assert fitted.score(shuffled, y) == fitted.score(df, y) > 0.9
        renamed = df.rename(columns={"gamma": "delta"})
        with pytest.raises(ValueError, match=r"missing \['gamma'\], unexpected \['delta'\]"):
            fitted.predict(renamed)
        with pytest.raises(ValueError, match=r"missing \['beta'\]"):
            fitted.evaluate(df[["alpha", "gamma"]], y)
    # Arrays and frames without names are taken in order, as before.
    np.testing.assert_array_equal(model.predict(df.to_numpy()), model.predict(df))


def test_build_names_the_features_as_a_first_fit_does(frame):
    """A model built on a frame before its fit matched frames by position afterwards: a
    frame with its columns in another order was predicted from without a word."""
    df, y = frame
    shuffled = df[["gamma", "alpha", "beta"]]
    built = MLP(hidden=(4,), seed=0).build(df, y)
    assert built.feature_names_in_ == NAMES
    built.fit(shuffled, y, epochs=3)
    fitted = MLP(hidden=(4,), seed=0).fit(df, y, epochs=3)
    np.testing.assert_array_equal(built.network.params, fitted.network.params)
    np.testing.assert_array_equal(built.predict_proba(shuffled), built.predict_proba(df))
    named = MLP(hidden=(4,), seed=0)
    named.feature_names_in_ = NAMES  # names set before name an array's columns, and order a frame
    named.build(shuffled, y)
    np.testing.assert_array_equal(
        named.network.params, MLP(hidden=(4,), seed=0).build(df, y).network.params
    )
    with pytest.raises(ValueError, match=r"feature_names_in_ names 2 features, but X has 3"):
        wrong = MLP(hidden=(4,), seed=0)
        wrong.feature_names_in_ = ["alpha", "beta"]
        wrong.build(df.to_numpy(), y)
    assert not wrong.built


@pytest.mark.parametrize(
    ("names", "error", "message"),
    [
        ("abc", TypeError, r"a list of column names, got str 'abc'"),
        (b"abc", TypeError, r"a list of column names, got bytes b'abc'"),
        (3, TypeError, r"a list of column names, got int 3"),
        (["a", "b", "a"], ValueError, r"name each column once .* 'a' appears 2 times"),
        ([1, "1", 2], ValueError, r"name each column once .* '1' appears 2 times"),
    ],
)
def test_names_set_before_a_first_fit_are_checked(frame, names, error, message):
    # "abc" named the three columns "a", "b" and "c", b"abc" named them 97, 98 and 99,
    # and a repeated name trained, only for save to refuse the model afterwards.
    df, y = frame
    for first in ("fit", "build"):
        model = MLP(hidden=(4,), seed=0)
        model.feature_names_in_ = names
        with pytest.raises(error, match=message):
            getattr(model, first)(df.to_numpy(), y, **({"epochs": 1} if first == "fit" else {}))
        assert not model.built and model.feature_names_in_ is names


def test_continued_fit_and_validation_data_are_matched_by_name(frame):
    df, y = frame
    shuffled = df[["beta", "gamma", "alpha"]]
    a = MLP(hidden=(4,), seed=1).fit(df, y, epochs=5, validation_data=(df, y))
    b = MLP(hidden=(4,), seed=1).fit(df, y, epochs=5, validation_data=(shuffled, y))
    assert a.history.as_dict() == b.history.as_dict()
    a.fit(df, y, epochs=5)
    b.fit(shuffled, y, epochs=5)
    np.testing.assert_array_equal(a.network.params, b.network.params)
    with pytest.raises(ValueError, match=r"unexpected \['x'\]"):
        b.fit(df.rename(columns={"alpha": "x"}), y, epochs=1)


def test_a_batch_generator_s_frames_are_matched_by_name(frame):
    """A model that knows its feature names matches each batch a generator yields by
    name, as it matches a frame given whole; a batch with other names is refused."""
    df, y = frame
    shuffled = df[["gamma", "alpha", "beta"]]

    def batches(data):
        return lambda: ((data.iloc[start : start + 40], y[start : start + 40])
                        for start in range(0, len(y), 40))  # fmt: skip

    a = MLP(hidden=(4,), seed=1).fit(df, y, epochs=2)
    b = MLP(hidden=(4,), seed=1).fit(df, y, epochs=2)
    a.fit(batches(df), epochs=2)
    b.fit(batches(shuffled), epochs=2)
    np.testing.assert_array_equal(a.network.params, b.network.params)
    named = MLP(hidden=(4,), seed=1)
    named.feature_names_in_ = NAMES  # names set before the first fit name the batches too
    named.fit(batches(shuffled), epochs=2)
    fresh = MLP(hidden=(4,), seed=1).fit(batches(df), epochs=2)
    np.testing.assert_array_equal(named.network.params, fresh.network.params)
    with pytest.raises(ValueError, match=r"X of batch 0: .*unexpected \['x'\]"):
        b.fit(batches(df.rename(columns={"alpha": "x"})), epochs=1)


def test_a_first_fit_on_a_batch_generator_takes_the_names_of_its_first_frame(frame):
    """A first fit on a generator of frames kept no feature names: a later batch with its
    columns in another order was trained on as given, and so was a frame at prediction,
    each feature mixed up with another, where a frame given whole is matched by name."""
    df, y = frame
    shuffled = df[["gamma", "alpha", "beta"]]

    def batches(*parts):
        calls = []

        def source():
            calls.append(1)
            for index, part in enumerate(parts):
                rows = slice(40 * index, 40 * index + 40)
                yield (part.iloc[rows] if hasattr(part, "iloc") else part[rows]), y[rows]

        source.calls = calls
        return source

    mixed = batches(df, shuffled, df)
    a = MLP(hidden=(4,), seed=1).fit(mixed, epochs=2, validation_data=(shuffled, y))
    b = MLP(hidden=(4,), seed=1).fit(batches(df, df, df), epochs=2, validation_data=(df, y))
    assert a.feature_names_in_ == NAMES
    assert len(mixed.calls) == 2  # once per epoch, the first batch read for building included
    np.testing.assert_array_equal(a.network.params, b.network.params)
    assert a.history.history == b.history.history
    np.testing.assert_array_equal(a.predict(shuffled), b.predict(df))
    with pytest.raises(ValueError, match=r"X of batch 1: .*unexpected \['x'\]"):
        MLP(hidden=(4,)).fit(batches(df, df.rename(columns={"alpha": "x"}), df), epochs=1)
    arrays = MLP(hidden=(4,), seed=1).fit(batches(df.to_numpy(), df.to_numpy()), epochs=1)
    assert arrays.feature_names_in_ is None


def write_csv(path, df, y, columns):
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow([*columns, "label"])
        values = df[[c if c in NAMES else "gamma" for c in columns]].to_numpy()
        for row, label in zip(values, y, strict=True):
            writer.writerow([*(repr(float(v)) for v in row), label])
    return path


def test_the_cli_matches_mlp_on_reordered_and_renamed_columns(frame, tmp_path, capsys):
    df, y = frame
    model = MLP(hidden=(8,), seed=0).fit(df, y, epochs=50, learning_rate=0.3)
    model_path = model.save(tmp_path / "m.npz")
    shuffled = write_csv(tmp_path / "shuffled.csv", df, y, ["gamma", "alpha", "beta"])
    assert cli.main(["predict", str(model_path), str(shuffled), "--target", "label"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[1:] == model.predict(df[["gamma", "alpha", "beta"]]).tolist()
    renamed = write_csv(tmp_path / "renamed.csv", df, y, ["alpha", "beta", "delta"])
    assert cli.main(["predict", str(model_path), str(renamed), "--target", "label"]) != 0
    assert "no column 'gamma'" in capsys.readouterr().err
    with pytest.raises(ValueError, match=r"missing \['gamma'\]"):
        model.predict(df.rename(columns={"gamma": "delta"}))


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_the_scikit_learn_estimator_keeps_scikit_learns_rule(frame):
    pytest.importorskip("sklearn")
    from mlpzero.sklearn import MLPClassifier

    df, y = frame
    estimator = MLPClassifier(hidden_layer_sizes=(8,), max_iter=20, random_state=0).fit(df, y)
    with pytest.raises(ValueError, match="must be in the same order"):
        estimator.predict(df[["gamma", "alpha", "beta"]])
    with pytest.raises(ValueError, match="delta"):
        estimator.predict(df.rename(columns={"gamma": "delta"}))


def test_a_wide_frame_is_matched_by_name_in_linear_time():
    """60,000 columns in reverse order: testing each name against the list of the other
    side makes 3.6e9 comparisons, many seconds; against a set, the match is linear."""
    import time

    names = [f"c{i}" for i in range(60_000)]
    X = np.arange(120_000.0).reshape(2, 60_000) / 1e5
    model = MLP(hidden=(1,), seed=0).fit(pd.DataFrame(X, columns=names), [0, 1], epochs=1)
    reversed_frame = pd.DataFrame(X[:, ::-1], columns=names[::-1])
    start = time.perf_counter()
    predicted = model.predict_proba(reversed_frame)
    assert time.perf_counter() - start < 5
    np.testing.assert_array_equal(predicted, model.predict_proba(X))
    with pytest.raises(ValueError, match=r"missing \['c0'\], unexpected \['d'\]") as caught:
        model.predict(pd.DataFrame(X[:, ::-1], columns=[*names[:0:-1], "d"]))
    assert len(str(caught.value)) < 400  # the 60,000 names in brief
    assert "..., 'c59998', 'c59999' (60,000 in all)])" in str(caught.value)


@pytest.mark.parametrize("labels", [["alpha", "alpha", "gamma"], ["alpha", 1, "gamma"]])
def test_a_first_fit_refuses_columns_that_cannot_name_the_features(frame, labels):
    """A frame whose labels were duplicated or mixed strings with other labels trained a
    model without feature names: such a frame with its columns in another order was then
    predicted from by position, without a word, where a frame of names is matched."""
    df, y = frame
    odd = df.set_axis(labels, axis=1)
    for first in (lambda model: model.fit(odd, y, epochs=1), lambda model: model.build(odd, y)):
        model = MLP(hidden=(2,), seed=0)
        with pytest.raises(ValueError, match=r"^X: the columns \[.*\] cannot name the features"):
            first(model)
        assert not model.built
    # Labels that are all integers, as a frame made from an array has, are taken in order.
    numbered = MLP(hidden=(2,), seed=0).fit(df.set_axis([0, 1, 2], axis=1), y, epochs=1)
    assert numbered.feature_names_in_ is None
    np.testing.assert_array_equal(numbered.predict(df.to_numpy()), numbered.predict(df))


def test_a_bad_value_of_a_reordered_frame_names_its_column(frame):
    """A frame is put in the training order before it is checked, so the column number of
    a NaN or a missing value was its place in that order, not in the frame given: the
    message sent the user to another column. It now names the column too."""
    df, y = frame
    model = MLP(hidden=(2,), seed=0).fit(df, y, epochs=1)
    shuffled = df[["gamma", "alpha", "beta"]].copy()
    shuffled.loc[3, "gamma"] = np.nan
    with pytest.raises(ValueError, match=r"first at row 3, column 2 \('gamma'\)"):
        model.predict(shuffled)
    shuffled["gamma"] = pd.array(df["gamma"], dtype="Float64")
    shuffled.loc[4, "gamma"] = pd.NA
    with pytest.raises(ValueError, match=r"missing value \(<NA>\) at index 4, 2 \('gamma'\)"):
        model.predict(shuffled)
    shuffled["gamma"] = df["gamma"].to_numpy()
    shuffled.loc[5, "gamma"] = 1e300  # beyond float32
    with pytest.raises(ValueError, match=r"holds 1e\+300 \(at index 5, 2 \('gamma'\)\)"):
        model.predict(shuffled)
