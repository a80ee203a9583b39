"""Standardisation inside the model: the statistics, the transform, and ``MLP(standardize=True)``
through fit, predict, evaluate, files, summary and the command line."""

from __future__ import annotations

import csv
import re

import numpy as np
import pytest

import mlpzero
from conftest import read_model_file, write_model_file
from mlpzero import MLP, cli, standardization
from mlpzero.standardization import Standardizer
from mlpzero.training import TrainingDivergedError


def raw_data(n=120, seed=0):
    """Features on very different scales and offsets, one of them constant."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 5)) * [1.0, 250.0, 0.01, 3.0, 1.0] + [4.0, -900.0, 0.5, 0.0, 0.0]
    X[:, 4] = 0.1  # constant: 0.1 has no exact binary value, so its mean is not exact
    y = (X[:, 0] - 4.0 + (X[:, 1] + 900.0) / 250.0 - (X[:, 2] - 0.5) * 100 > 0).astype(int)
    return X, y


# ---------------------------------------------------------------------------- statistics
def test_statistics_equal_numpys_mean_and_std_and_constant_columns_get_scale_one():
    X, _ = raw_data()
    s = Standardizer.fit(X)
    assert s.mean.dtype == s.scale.dtype == np.float64
    np.testing.assert_allclose(s.mean, X.mean(axis=0), rtol=1e-13, atol=0)
    np.testing.assert_allclose(s.scale[:4], X[:, :4].std(axis=0), rtol=1e-12, atol=0)
    # The constant column: mean exactly its value, scale 1, so it becomes exactly 0.
    assert s.mean[4] == 0.1 and s.scale[4] == 1.0
    assert np.array_equal(s.apply(X)[:, 4], np.zeros(len(X)))
    standardized = s.apply(X)[:, :4]
    np.testing.assert_allclose(standardized.mean(axis=0), 0, atol=1e-12)
    np.testing.assert_allclose(standardized.std(axis=0), 1, rtol=1e-12)


@pytest.mark.parametrize("block_rows", [1, 7, 64, 10_000])
def test_any_block_size_gives_the_statistics_of_the_whole(block_rows):
    X, _ = raw_data(n=300)
    whole = Standardizer.fit(X, block_rows=10_000)
    blocks = Standardizer.fit(X, block_rows=block_rows)
    np.testing.assert_allclose(blocks.mean, whole.mean, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(blocks.scale, whole.scale, rtol=1e-12)
    rows = np.arange(0, 300, 3)
    some = Standardizer.fit(X, rows, block_rows=block_rows)
    np.testing.assert_allclose(some.mean, X[rows].mean(axis=0), rtol=1e-12)
    np.testing.assert_allclose(some.scale[:4], X[rows, :4].std(axis=0), rtol=1e-12)


def test_statistics_of_a_memory_mapped_file_read_in_blocks(tmp_path):
    X, _ = raw_data(n=500)
    path = tmp_path / "X.npy"
    np.save(path, X.astype(np.float32))
    mapped = np.load(path, mmap_mode="r")
    s = Standardizer.fit(mapped, block_rows=50)
    exact = mapped.astype(np.float64)
    np.testing.assert_allclose(s.mean, exact.mean(axis=0), rtol=1e-12)
    np.testing.assert_allclose(s.scale[:4], exact[:, :4].std(axis=0), rtol=1e-12)


class RecordingRows:
    """An array-like that records how many rows each read takes."""

    def __init__(self, array):
        self.array, self.shape, self.reads = array, array.shape, []

    def __getitem__(self, index):
        block = self.array[index]
        self.reads.append(len(block))
        return block


def test_the_statistics_read_blocks_of_rows_never_the_whole(monkeypatch):
    X, _ = raw_data(n=300)
    monkeypatch.setattr(standardization, "_BLOCK_VALUES", 100)  # 20 rows of 5 features
    recording = RecordingRows(X)
    s = Standardizer.fit(recording)
    assert max(recording.reads) == 20 and sum(recording.reads) == 300
    np.testing.assert_allclose(s.mean, X.mean(axis=0), rtol=1e-12)


def test_a_model_standardizes_a_memory_mapped_x_like_the_same_x_in_memory(tmp_path):
    X, y = raw_data(n=200)
    np.save(tmp_path / "X.npy", X)
    mapped = np.load(tmp_path / "X.npy", mmap_mode="r")
    options = dict(epochs=5, batch_size=32, validation_split=0.2, optimizer="adam")
    on_disk = MLP(hidden=(4,), dtype="float64", standardize=True).fit(mapped, y, **options)
    in_memory = MLP(hidden=(4,), dtype="float64", standardize=True).fit(X, y, **options)
    train = np.setdiff1d(np.arange(200), on_disk.validation_rows_)
    np.testing.assert_allclose(on_disk.standardizer_.mean, X[train].mean(axis=0), rtol=1e-12)
    assert on_disk.standardizer_ == in_memory.standardizer_
    assert np.array_equal(on_disk.predict_proba(mapped), in_memory.predict_proba(X))


@pytest.mark.parametrize(
    ("column", "cause"),
    [([1e200, -1e200], "squares of its deviations"), ([1.7e308, 1.6e308], "sum of its values")],
)
def test_statistics_beyond_float64_name_what_overflows(column, cause):
    # the message said "the mean or standard deviation ... overflows float64", though a
    # standard deviation of 1e200 is a float64 like any other: its squares overflow
    X = np.column_stack([np.arange(2.0), column])
    with pytest.raises(ValueError, match=rf"column 1 overflows float64: the {cause}"):
        Standardizer.fit(X)


def test_bad_data_and_bad_statistics_are_refused():
    with pytest.raises(ValueError, match="NaN or infinity"):
        Standardizer.fit(np.array([[1.0], [np.nan]]))
    with pytest.raises(ValueError, match="column 1 overflows float64"):
        Standardizer.fit(np.array([[0.0, 1e308], [1.0, -1e308]]))
    with pytest.raises(ValueError, match="2-D"):
        Standardizer.fit(np.zeros(3))
    with pytest.raises(ValueError, match=r"scale must be > 0 for every feature, got 0\.0 at 1"):
        Standardizer([0.0, 0.0], [1.0, 0.0])
    with pytest.raises(ValueError, match="same shape"):
        Standardizer([0.0, 0.0], [1.0])
    with pytest.raises(ValueError, match=r"mean must be finite, got \[nan\]"):
        Standardizer([np.nan], [1.0])
    with pytest.raises(ValueError, match=r"3 features to standardise, got shape \(2, 2\)"):
        Standardizer.fit(np.ones((2, 3)) * [1, 2, 3]).apply(np.ones((2, 2)))


def test_apply_names_an_x_that_is_not_an_array_of_floats():
    """An integer X (whose statistics fit computes) failed in NumPy with "data type
    <class 'numpy.int64'> not inexact", and a list with "'list' object has no attribute
    'ndim'", neither naming X."""
    X = np.array([[1, 10], [3, 30]])
    s = Standardizer.fit(X)
    with pytest.raises(TypeError, match=r"^X must be an array of floats .* got int64: convert"):
        s.apply(X)
    with pytest.raises(TypeError, match=r"^X must be an array of floats .* got list: convert"):
        s.apply(X.tolist())
    with pytest.raises(TypeError, match=r"^dtype must be a float dtype, got int64"):
        s.statistics_in(np.int64)
    assert s.apply(X.astype(np.float64)).tolist() == [[-1.0, -1.0], [1.0, 1.0]]


def test_apply_computes_in_the_data_dtype_and_in_place():
    X, _ = raw_data()
    s = Standardizer.fit(X)
    assert np.array_equal(s.apply(X), (X - s.mean) / s.scale)
    X32 = X.astype(np.float32)
    out = s.apply(X32)
    assert out.dtype == np.float32
    assert np.array_equal(out, (X32 - s.mean.astype(np.float32)) / s.scale.astype(np.float32))
    same = s.apply(X32, out=X32)
    assert same is X32 and np.array_equal(X32, out)
    assert Standardizer(s.mean, s.scale) == s and Standardizer(s.mean, s.scale + 1) != s
    with pytest.raises(ValueError, match="read-only"):
        s.mean[0] = 1.0


# ---------------------------------------------------------------------------- the model
FIT = dict(epochs=30, optimizer="adam", learning_rate=0.01)


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize(
    "options", [{}, {"batch_size": 16, "validation_split": 0.25}], ids=["full", "batches"]
)
def test_a_standardized_model_is_a_plain_model_on_standardized_data(dtype, options):
    """Bit for bit: the model's transform is the same arithmetic as the reference's, in the
    same dtype (the statistics rounded to it once), and all that follows is the same
    deterministic computation, so any difference would be a real one."""
    X, y = raw_data()
    model = MLP(hidden=(8, 4), seed=3, dtype=dtype, standardize=True).fit(X, y, **FIT, **options)
    # The statistics come from the training rows only, in float64, of X in the model's dtype.
    Xd = X.astype(dtype)
    held = model.validation_rows_
    train = np.arange(len(X)) if held is None else np.setdiff1d(np.arange(len(X)), held)
    assert (held is None) == (options == {})
    reference_stats = Standardizer.fit(Xd[train].astype(np.float64))
    assert model.standardizer_ == reference_stats
    mean, scale = reference_stats.mean.astype(dtype), reference_stats.scale.astype(dtype)
    Xs = (Xd - mean) / scale
    plain = MLP(hidden=(8, 4), seed=3, dtype=dtype).fit(Xs, y, **FIT, **options)
    assert np.array_equal(model.network.params, plain.network.params)
    assert model.history.history == plain.history.history  # val_loss too
    assert np.array_equal(model.predict_proba(X), plain.predict_proba(Xs))
    assert np.array_equal(model.decision_function(X), plain.decision_function(Xs))
    assert model.evaluate(X, y) == plain.evaluate(Xs, y)


def test_huge_features_train_standardized_and_a_divergence_does_not_suggest_it():
    X, y = raw_data()
    X = X * 1e30
    with pytest.raises(TrainingDivergedError, match="MLP\\(standardize=True\\) subtracts"):
        MLP(hidden=(4,), seed=0).fit(X, y, epochs=5)
    model = MLP(hidden=(4,), seed=0, standardize=True).fit(X, y, epochs=5)
    assert np.isfinite(model.predict_proba(X)).all()
    diverging = MLP(hidden=(4,), seed=0, loss="squared_error", standardize=True)
    with pytest.raises(TrainingDivergedError, match="lower one") as caught:
        diverging.fit(X, y, epochs=200, learning_rate=1e4)
    assert "standardise X" not in str(caught.value)


@pytest.mark.parametrize("activation", ["sigmoid", "tanh"])
def test_a_standardised_value_beyond_float32_is_refused_not_saturated(backend, activation):
    """x - mean overflows float32 long before x does. As infinity it went through sigmoid
    or tanh as a finite, wrong probability; the model must refuse it, on every path."""
    rng = np.random.default_rng(0)
    column = rng.uniform(-3e38, -1e38, 50)  # mean about -2e38, scale about 6e37
    X = np.column_stack([column, rng.standard_normal(50)]).astype(np.float32)
    y = (X[:, 1] > 0).astype(int)
    model = MLP(hidden=(4,), activation=activation, seed=0, standardize=True)
    model.fit(X, y, epochs=20, learning_rate=0.1)
    far = np.array([[3e38, 0.3]], dtype=np.float32)  # about 8 scales from the mean
    refused = "standardising feature 0 overflows float32"
    for method in (model.predict_proba, model.predict, model.decision_function):
        with pytest.raises(ValueError, match=refused):
            method(far)
    with pytest.raises(ValueError, match=refused):
        model.evaluate(far, [1])
    # float64 holds the same standardised value: the same data there is computed.
    wide = MLP(hidden=(4,), activation=activation, seed=0, dtype="float64", standardize=True)
    wide.fit(X, y, epochs=20, learning_rate=0.1)
    assert np.isfinite(wide.decision_function(far)).all()
    # Training rows that overflow so are refused as such, not as a too-high learning rate.
    mixed = np.array([[-3e38, 0.0]] * 9 + [[3e38, 1.0]], dtype=np.float32)
    with pytest.raises(ValueError, match=refused) as caught:
        MLP(hidden=(4,), seed=0, standardize=True).fit(mixed, [0] * 9 + [1], epochs=3)
    assert not isinstance(caught.value, TrainingDivergedError)


def test_apply_refuses_a_finite_value_whose_standardised_value_overflows():
    statistics = Standardizer([-2e38, 0.0], [1.0, 0.5])
    X = np.array([[0.0, 0.0], [2e38, 0.0]], dtype=np.float32)
    with pytest.raises(ValueError, match=r"feature 0 overflows float32: the value 2e\+38"):
        statistics.apply(X)
    with pytest.raises(ValueError, match="feature 1 overflows float32"):
        statistics.apply(np.array([[-1e38, 3e38]], dtype=np.float32))  # the division does
    assert np.isfinite(statistics.apply(X.astype(np.float64))).all()
    assert np.isinf(statistics.apply(np.array([[np.inf, 0.0]]))[0, 0])  # not a finite value


def test_the_overflow_message_names_only_values_x_held():
    """In place (``out=X``) the rows before the overflow are standardised already when it
    is found, so reading X again would name a value X never held: 3e38 here, row 0's
    standardised value. The message must say what happened without one."""
    statistics = Standardizer([-2e38], [1.0])
    X = np.array([[1e38], [2e38]], dtype=np.float32)  # only 2e38 overflows: 4e38 from the mean
    with pytest.raises(ValueError, match=r"the value 2e\+38 is 4e\+38 from") as copied:
        statistics.apply(X.copy())
    assert "3e+38" not in str(copied.value)
    with pytest.raises(ValueError, match="standardising in place overflows float32") as caught:
        statistics.apply(X, out=X)
    assert "3e+38" not in str(caught.value) and "the value" not in str(caught.value)


def test_later_fits_keep_the_statistics_of_the_first():
    X, y = raw_data()
    model = MLP(hidden=(4,), seed=0, standardize=True).fit(X, y, epochs=3)
    first = model.standardizer_
    model.fit(X * 10 + 5, y, epochs=3)
    assert model.standardizer_ is first
    np.testing.assert_allclose(first.mean, X.astype(np.float32).mean(axis=0), rtol=1e-6)


def test_build_fits_the_statistics_of_its_x_and_fit_keeps_them():
    X, y = raw_data()
    model = MLP(hidden=(4,), seed=0, standardize=True).build(X[:40], y[:40])
    stats = model.standardizer_
    np.testing.assert_allclose(stats.mean, X[:40].astype(np.float32).mean(axis=0), rtol=1e-6)
    model.fit(X, y, epochs=2)
    assert model.standardizer_ is stats


def test_standardize_is_a_boolean_and_cannot_join_a_model_fitted_without_it():
    with pytest.raises(TypeError, match="standardize must be True or False, got str 'yes'"):
        MLP(standardize="yes")
    X, y = raw_data()
    model = MLP(hidden=(4,), seed=0).fit(X, y, epochs=2)
    before = model.network.params.copy()
    model.standardize = True
    with pytest.raises(ValueError, match="standardize=True, but this model's network was fitted"):
        model.fit(X, y, epochs=2)
    assert model.standardizer_ is None and np.array_equal(model.network.params, before)
    assert (
        MLP().standardizer_ is None and MLP(hidden=(4,)).fit(X, y, epochs=1).standardizer_ is None
    )


def test_summary_and_repr_show_the_standardisation():
    X, y = raw_data()
    model = MLP(hidden=(4,), seed=0, standardize=True).fit(X, y, epochs=2)
    summary = model.summary()
    assert re.search(r"^standardize +\(None, 5\) +\(x - mean\) / scale", summary, re.M)
    mean = ", ".join(f"{v:.4g}" for v in model.standardizer_.mean)
    assert f"mean: {mean};" in summary and "scale: " in summary
    assert "standardize=True" in repr(model)
    plain = MLP(hidden=(4,), seed=0).fit(X, y, epochs=2)
    assert "standardize" not in plain.summary() and "standardize" not in repr(plain)
    wide = MLP(hidden=(4,), seed=0, standardize=True)
    wide.fit(np.tile(X, 3), y, epochs=1)
    assert "mean from " in wide.summary()


def test_resuming_keeps_the_statistics_and_ends_where_one_run_ends(tmp_path):
    X, y = raw_data()
    options = dict(epochs=6, optimizer="adam", learning_rate=0.01, batch_size=32)
    whole = MLP(hidden=(4,), seed=1, standardize=True).fit(X, y, **options)
    path = tmp_path / "run.npz"
    MLP(hidden=(4,), seed=1, standardize=True).fit(
        X, y, checkpoint=path, checkpoint_interval=0, **{**options, "epochs": 3}
    )
    resumed = MLP(hidden=(4,), seed=1, standardize=True).fit(X, y, resume=path, **options)
    assert resumed.standardizer_ == whole.standardizer_
    assert np.array_equal(resumed.network.params, whole.network.params)
    with pytest.raises(ValueError, match="was trained on other data: X"):
        MLP(hidden=(4,), seed=1, standardize=True).fit(X * 100, y, resume=path, **options)
    # a checkpoint without the data's signature (an older one) cannot tell: the statistics
    # still come from the checkpoint, not from X * 100
    document, arrays = read_model_file(path)
    del document["checkpoint"]["progress"]["data"]
    write_model_file(path, document, arrays)
    other = MLP(hidden=(4,), seed=1, standardize=True).fit(X * 100, y, resume=path, **options)
    assert other.standardizer_ == whole.standardizer_
    with pytest.raises(ValueError, match="standardize"):
        MLP(hidden=(4,), seed=1).fit(X, y, resume=path, **options)


# ---------------------------------------------------------------------------- files
def test_save_and_load_keep_the_statistics_bit_for_bit(tmp_path):
    X, y = raw_data()
    model = MLP(hidden=(6,), seed=0, standardize=True).fit(X, y, **FIT)
    again = mlpzero.load(model.save(tmp_path / "m.npz"))
    assert again.standardize is True and again.standardizer_ == model.standardizer_
    assert np.array_equal(again.predict_proba(X), model.predict_proba(X))
    assert again.summary() == model.summary()
    with np.load(tmp_path / "m.npz") as data:
        assert data["standardize.mean"].dtype == np.float64
        assert data["standardize.scale"].shape == (5,)


def test_a_file_without_statistics_loads_as_before(tmp_path):
    X, y = raw_data()
    model = MLP(hidden=(6,), seed=0).fit(X, y, epochs=3)
    path = model.save(tmp_path / "plain.npz")
    document, arrays = read_model_file(path)
    assert document["model"]["standardize"] is False and set(arrays) == {"params"}
    del document["model"]["standardize"]  # as a file written before the setting existed
    write_model_file(path, document, arrays)
    again = mlpzero.load(path)
    assert again.standardize is False and again.standardizer_ is None
    assert np.array_equal(again.predict_proba(X), model.predict_proba(X))


def _set(key, value):
    return lambda document, arrays: arrays.__setitem__(key, value)


BAD_FIELDS = {
    "mean shape": (_set("standardize.mean", np.zeros(4)), "standardize.mean has shape"),
    "mean dtype": (_set("standardize.mean", np.zeros(5, np.float32)), "standardize.mean has"),
    "scale 2-D": (_set("standardize.scale", np.ones((1, 5))), "standardize.scale has shape"),
    "scale zero": (_set("standardize.scale", np.array([1.0, 0, 1, 1, 1])), "scale must be > 0"),
    "scale negative": (_set("standardize.scale", -np.ones(5)), "standardize.scale must be > 0"),
    "mean nan": (
        _set("standardize.mean", np.array([0.0, np.nan, 0, 0, 0])),
        "standardize.mean contains NaN",
    ),
    "scale inf": (_set("standardize.scale", np.full(5, np.inf)), "standardize.scale contains"),
    "scale missing": (lambda d, a: a.pop("standardize.scale"), "standardize.scale is missing"),
    "flag off": (
        lambda d, a: d["model"].__setitem__("standardize", False),
        "standardize.mean in a model without standardize",
    ),
    "flag not bool": (
        lambda d, a: d["model"].__setitem__("standardize", "yes"),
        "model.standardize must be true or false",
    ),
    "flag without statistics": (
        lambda d, a: [a.pop("standardize.mean"), a.pop("standardize.scale")],
        "standardize.mean is missing",
    ),
}


@pytest.mark.parametrize("case", sorted(BAD_FIELDS))
def test_load_refuses_bad_statistics_naming_the_file_and_field(tmp_path, case):
    X, y = raw_data()
    path = MLP(hidden=(4,), seed=0, standardize=True).fit(X, y, epochs=2).save(tmp_path / "g.npz")
    change, message = BAD_FIELDS[case]
    document, arrays = read_model_file(path)
    change(document, arrays)
    bad = tmp_path / "bad.npz"
    write_model_file(bad, document, arrays)
    with pytest.raises(ValueError, match=re.escape(str(bad)) + ".*" + re.escape(message)):
        mlpzero.load(bad)


# ---------------------------------------------------------------------------- command line
def write_csv(path, X, y):
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow([f"f{j}" for j in range(X.shape[1])] + ["label"])
        for row, label in zip(X, y, strict=True):
            writer.writerow([*(repr(float(v)) for v in row), int(label)])


def test_train_standardize_on_raw_breast_cancer_features_gains_accuracy(tmp_path, capsys):
    """Raw features span 0.001 to 4000: the same network trains markedly better on them
    standardised inside the model, and the saved model applies the statistics itself."""
    datasets = pytest.importorskip("sklearn.datasets")
    X, y = datasets.load_breast_cancer(return_X_y=True)
    order = np.random.default_rng(0).permutation(len(y))
    train, test = order[:400], order[400:]
    write_csv(tmp_path / "train.csv", X[train], y[train])
    write_csv(tmp_path / "test.csv", X[test], y[test])
    options = ["--hidden", "16", "8", "--optimizer", "adam", "--lr", "0.01", "--epochs", "100"]
    options += ["--batch-size", "32", "--quiet"]

    def accuracy(seed, *extra):
        out = str(tmp_path / f"m{seed}{len(extra)}.npz")
        argv = ["train", str(tmp_path / "train.csv"), *options, "--seed", str(seed), *extra]
        assert cli.main([*argv, "--out", out]) == 0
        capsys.readouterr()
        assert cli.main(["evaluate", out, str(tmp_path / "test.csv")]) == 0
        table = capsys.readouterr().out
        return float(re.search(r"accuracy\s+([0-9.]+)", table).group(1)), mlpzero.load(out)

    for seed in (0, 1, 2):
        raw, _ = accuracy(seed)
        standardized, model = accuracy(seed, "--standardize")
        assert standardized >= 0.95 and standardized >= raw + 0.03, (seed, raw, standardized)
        assert model.standardize and model.standardizer_ is not None
        np.testing.assert_allclose(model.standardizer_.mean, X[train].mean(axis=0), rtol=1e-6)
    assert cli.main(["summary", str(tmp_path / "m21.npz")]) == 0  # seed 2, --standardize
    assert re.search(r"^standardize +\(None, 30\)", capsys.readouterr().out, re.M)


@pytest.mark.parametrize("rows", [[10**6], [-1], [0.5], [[0]]])
def test_rows_that_do_not_index_x_are_refused_by_name(rows):
    with pytest.raises(ValueError, match="rows must"):
        Standardizer.fit(np.zeros((5, 2)), rows=rows)


def test_statistics_that_do_not_fit_the_data_dtype_are_refused():
    X = np.ones((2, 2))
    for mean, scale, j in (([0.0, 0.0], [1.0, 1e-300], 1), ([1e300, 0.0], [1.0, 1.0], 0)):
        statistics = Standardizer(mean, scale)
        assert np.isfinite(statistics.apply(X)).all()  # float64 holds them
        with pytest.raises(ValueError, match=f"feature {j}'s mean .* do not fit in float32"):
            statistics.apply(X.astype(np.float32))


@pytest.mark.parametrize(
    ("block_rows", "error", "message"),
    [
        (0, ValueError, r"^block_rows must be >= 1, got 0"),
        (-5, ValueError, r"^block_rows must be >= 1, got -5"),
        (2.5, TypeError, r"^block_rows must be an integer, got float 2.5"),
    ],
)
def test_a_block_size_that_reads_no_rows_is_refused_by_name(block_rows, error, message):
    # 0 failed with "range() arg 3 must not be zero", and a negative size read no block:
    # "X has no rows to compute the standardisation statistics from", of an X of 4 rows
    with pytest.raises(error, match=message):
        Standardizer.fit(np.arange(8.0).reshape(4, 2), block_rows=block_rows)


def test_a_build_whose_statistics_are_refused_leaves_the_model_unbuilt():
    # the network was built before the statistics were refused: the model then predicted
    # from raw inputs, and a fit said it had been "first fitted without standardisation"
    X, y = raw_data()
    X[0, 1], X[1, 1] = 1e300, -1e300
    model = MLP(hidden=(3,), seed=0, dtype="float64", standardize=True)
    with pytest.raises(ValueError, match="column 1 overflows float64"):
        model.build(X, y)
    assert not model.built and model.standardizer_ is None


def test_statistics_the_model_dtype_cannot_hold_are_refused_before_the_model_changes():
    """A feature whose spread is below float32's smallest normal number gave statistics
    that only the first forward pass refused: the fit failed with the model built around
    them, so every later fit and predict failed the same way (build, the same)."""
    X, y = raw_data()
    X[:, 1] = np.where(np.arange(len(X)) % 2, 1e-40, 0.0)
    for first in (lambda m, X: m.fit(X, y, epochs=1), lambda m, X: m.build(X, y)):
        model = MLP(hidden=(3,), seed=0, standardize=True)
        with pytest.raises(ValueError, match=r"feature 1's mean .* do not fit in float32"):
            first(model, X)
        assert not model.built and model.standardizer_ is None
        rescaled = X.copy()
        rescaled[:, 1] *= 1e30
        first(model, rescaled)  # the same model trains on it
        assert model.standardizer_.scale[1] == pytest.approx(0.5e-10, rel=1e-6)


def test_joining_no_moments_is_refused_by_name():
    # an empty list failed with "IndexError: list index out of range"
    with pytest.raises(ValueError, match=r"^parts must hold the moments of at least one"):
        Standardizer.from_moments([])
    X, _ = raw_data()
    halves = [Standardizer.moments(X[:60]), Standardizer.moments(X[60:])]
    np.testing.assert_allclose(Standardizer.from_moments(halves).mean, X.mean(axis=0))
