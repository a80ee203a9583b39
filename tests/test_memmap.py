"""Memory-mapped data: fit, predict and evaluate read it in chunks and never copy it whole,
and give exactly what the same data in memory gives."""

import tracemalloc
from pathlib import Path

import numpy as np
import pytest
from benchmarks._memory import PeakMemory

from conftest import traced_peak
from mlpzero import MLP, validation
from mlpzero.preparation import EncodedTargets, RowSource
from mlpzero.targets import TargetEncoder, infer_task
from mlpzero.validation import check_features, is_memory_mapped


def mapped(tmp_path, name, array):
    """``array`` saved to ``tmp_path/name.npy`` and opened with ``mmap_mode="r"``."""
    path = tmp_path / f"{name}.npy"
    np.save(path, array)
    return np.load(path, mmap_mode="r")


def data(n=600, features=6, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, features))
    y = (X[:, 0] > 0).astype(int) + (X[:, 1] > 0.5) * 1
    return X, y


@pytest.fixture
def small_chunks(monkeypatch):
    """Chunks of a few rows, so every chunked pass crosses several chunk borders."""
    monkeypatch.setattr(validation, "CHUNK_BYTES", 512)


def test_is_memory_mapped_sees_memmaps_and_their_views(tmp_path):
    X = mapped(tmp_path, "X", np.zeros((4, 2)))
    assert is_memory_mapped(X)
    assert is_memory_mapped(np.asarray(X))  # a plain ndarray view of the map
    assert is_memory_mapped(X[1:3])
    assert not is_memory_mapped(np.zeros((4, 2)))
    assert not is_memory_mapped(np.array(X))  # a copy
    assert not is_memory_mapped([[1.0, 2.0]])


def test_check_features_returns_a_memmap_uncopied_in_its_own_dtype(tmp_path):
    X = mapped(tmp_path, "X", np.ones((5, 3)))
    checked = check_features(X, dtype=np.float32)
    assert np.shares_memory(checked, X) and is_memory_mapped(checked)
    assert checked.dtype == np.float64


@pytest.mark.parametrize("row", [0, 37, 99])
def test_chunked_checks_find_the_first_bad_value_in_any_chunk(tmp_path, small_chunks, row):
    X = np.zeros((100, 4))
    X[row, 2] = np.nan
    with pytest.raises(ValueError, match=rf"NaN or infinity \(first at row {row}, column 2\)"):
        check_features(mapped(tmp_path, "X", X), dtype=np.float32)
    X[row, 2] = 1e300
    with pytest.raises(ValueError, match=rf"holds 1e\+300 \(at index {row}, 2\)"):
        check_features(mapped(tmp_path, "X2", X), dtype=np.float32)
    assert check_features(mapped(tmp_path, "X3", X), dtype=np.float64) is not None
    y = np.zeros(100)
    y[row] = np.inf
    with pytest.raises(ValueError, match="y contains NaN or infinity"):
        MLP().fit(mapped(tmp_path, "X4", np.zeros((100, 4))), mapped(tmp_path, "y", y))


FIT_CASES = {
    "mini-batch": dict(batch_size=32),
    "split and balanced weights": dict(
        batch_size=50, validation_split=0.25, class_weight="balanced", sample_weight=True
    ),
    "full batch": dict(),
    "validation data": dict(batch_size=64, validation_data=True),
    "adam, l2, no shuffle": dict(batch_size=40, optimizer="adam", l2=1e-3, shuffle=False),
}


@pytest.mark.parametrize("case", FIT_CASES)
@pytest.mark.parametrize("x_dtype", [np.float32, np.float64])
def test_training_on_a_memmap_gives_the_same_weights_bit_for_bit(
    tmp_path, small_chunks, case, x_dtype
):
    X, y = data()
    X = X.astype(x_dtype)
    options = dict(FIT_CASES[case])
    X_map, y_map = mapped(tmp_path, "X", X), mapped(tmp_path, "y", y)
    in_memory, on_disk = dict(options), dict(options)
    if options.get("sample_weight"):
        w = np.random.default_rng(1).uniform(0.5, 2.0, len(y))
        in_memory["sample_weight"], on_disk["sample_weight"] = w, mapped(tmp_path, "w", w)
    if options.get("validation_data"):
        in_memory["validation_data"] = (X[:100], y[:100])
        on_disk["validation_data"] = (X_map[:100], y_map[:100])
    a = MLP(hidden=(8,), seed=3).fit(X, y, epochs=3, **in_memory)
    b = MLP(hidden=(8,), seed=3).fit(X_map, y_map, epochs=3, **on_disk)
    assert np.array_equal(a.network.params, b.network.params)
    assert a.history.history == b.history.history
    if "validation_split" in options:
        assert np.array_equal(a.validation_rows_, b.validation_rows_)
    assert np.array_equal(a.predict(X), b.predict(X_map))
    assert np.array_equal(a.predict_proba(X), b.predict_proba(X_map))
    assert np.array_equal(a.decision_function(X), b.decision_function(X_map))
    full, chunked = a.evaluate(X, y), b.evaluate(X_map, y_map)
    assert full.keys() == chunked.keys()
    for key in full:
        assert chunked[key] == pytest.approx(full[key], rel=1e-6)  # summed in another order


@pytest.mark.parametrize("task", ["multilabel", "regression", "binary"])
def test_other_tasks_train_the_same_on_a_memmap(tmp_path, small_chunks, task):
    X, _ = data(n=300)
    y = {
        "multilabel": (X[:, :3] > 0).astype(np.int64),
        "regression": X[:, 0] * 2.0 - X[:, 1],
        "binary": np.where(X[:, 0] > 0, "yes", "no"),
    }[task]
    X_map = mapped(tmp_path, "X", X)
    y_map = y if task == "binary" else mapped(tmp_path, "y", y)
    a = MLP(hidden=(5,), seed=0).fit(X, y, epochs=2, batch_size=16)
    b = MLP(hidden=(5,), seed=0).fit(X_map, y_map, epochs=2, batch_size=16)
    assert a.task == b.task == task
    assert np.array_equal(a.network.params, b.network.params)
    assert a.history.history == b.history.history
    chunked = b.evaluate(X_map, y_map)
    for key, value in a.evaluate(X, y).items():
        assert chunked[key] == pytest.approx(value, rel=1e-6)  # summed in another order


def test_encoded_targets_match_the_encoder_row_for_row(small_chunks):
    rng = np.random.default_rng(0)
    cases = [
        rng.choice(["a", "b", "c", "d"], 50),
        rng.integers(0, 2, 50),
        (rng.random((50, 3)) > 0.5).astype(int),
        rng.standard_normal((50, 2)),
    ]
    index = rng.permutation(50)[:17]
    for y in cases:
        encoder = TargetEncoder(infer_task(y)).fit(y)
        Y = encoder.encode(y, dtype=np.float32)
        lazy = EncodedTargets(y, encoder, np.float32)
        assert lazy.shape == Y.shape
        out = np.full((17, Y.shape[1]), 7, dtype=np.float32)
        assert np.array_equal(lazy.take(index, out), Y[index])
        if encoder.task == "multiclass":
            assert np.array_equal(lazy.labels(), np.argmax(Y, axis=1))
        elif encoder.is_classifier:
            assert np.array_equal(lazy.labels(), Y > 0.5)
    with pytest.raises(ValueError, match="labels not seen in training: \\['z'\\]"):
        EncodedTargets(np.array(["a", "z"]), TargetEncoder("binary").fit(["a", "b"]), "float32")


def test_row_source_reads_the_rows_it_stands_for_in_the_model_dtype(tmp_path, small_chunks):
    X = np.arange(60.0).reshape(20, 3) - 30
    rows = np.array([4, 0, 19, 7])
    source = RowSource(mapped(tmp_path, "X", X), np.float32, rows)
    assert source.shape == (4, 3) and source.dtype == np.float32
    out = np.empty((2, 3), dtype=np.float32)
    assert np.array_equal(source.take(np.array([2, 0]), out), X[[19, 4]])
    assert np.array_equal(source.read(1, 3), X[[0, 19]])
    assert source.largest_magnitude() == np.abs(X[rows]).max()


@pytest.mark.parametrize("model_dtype", [np.float32, np.float64])
@pytest.mark.parametrize("source_dtype", ["float16", "float32", "float64", ">f8", "int32", "bool"])
@pytest.mark.parametrize("rows", [None, np.array([3, 0, 2])])
def test_row_source_converting_rows_ignores_what_the_buffer_held(
    tmp_path, source_dtype, model_dtype, rows
):
    """Rows of any source dtype land in a buffer of the model's dtype, whatever the buffer
    held before. np.take into an ``out`` of another dtype converts out's old contents
    first: that refused upcasts ("Cannot cast ... according to the rule 'safe'": a float32
    memmap could not train a float64 model), and a fresh buffer's leftover bytes could be
    signalling NaNs, which raise "invalid value" as they are converted."""
    X = np.arange(12).reshape(4, 3)
    X = X % 2 == 0 if source_dtype == "bool" else X.astype(source_dtype)
    source = RowSource(mapped(tmp_path, "X", X), model_dtype, rows)
    signalling = 0x7FA00000 if model_dtype == np.float32 else 0x7FF4000000000000
    out = np.full((2, 3), signalling, dtype=f"u{np.dtype(model_dtype).itemsize}")
    out = out.view(model_dtype)
    index = np.array([2, 1])
    expected = (X if rows is None else X[rows])[index].astype(model_dtype)
    with np.errstate(invalid="raise"):
        assert np.array_equal(source.take(index, out), expected)


@pytest.mark.parametrize("x_dtype", [np.float32, np.float64])
def test_fit_predict_and_evaluate_never_hold_a_memmap_whole(tmp_path, monkeypatch, x_dtype):
    """NumPy reports its allocations to tracemalloc: the peak of a fit on a 32 MB memmap
    stays far below 32 MB (a copy of X would show up whole). The checks read chunks of
    512 kB here; inference reads blocks of 4,096 rows (4 MB, within a block's bound)."""
    monkeypatch.setattr(validation, "CHUNK_BYTES", 1 << 19)
    rng = np.random.default_rng(0)
    n, features = 2**15, 256 if x_dtype == np.float32 else 128
    X = mapped(tmp_path, "X", rng.standard_normal((n, features)).astype(x_dtype))
    y = mapped(tmp_path, "y", rng.integers(0, 10, n))
    size = X.nbytes
    model = MLP(hidden=(8,), seed=0)
    model.fit(np.array(X[:300]), np.array(y[:300]), epochs=1, validation_split=0.1)
    model.predict(np.array(X[:10]))  # warm-up: what the first calls import is not data
    model = MLP(hidden=(8,), seed=0)
    fit = traced_peak(lambda: model.fit(X, y, epochs=1, batch_size=128, validation_split=0.1))
    evaluate = traced_peak(lambda: model.evaluate(X, y))
    predict = traced_peak(lambda: model.predict(X))
    assert fit < size / 4, (fit, size)
    assert evaluate < size / 4, (evaluate, size)
    assert predict < size / 4, (predict, size)
    in_memory = traced_peak(lambda: MLP(hidden=(8,)).fit(np.array(X), np.array(y), epochs=1))
    assert in_memory > size  # the measure sees a copy when there is one


def test_inference_on_a_wide_memmap_reads_blocks_bounded_in_bytes(tmp_path, monkeypatch):
    """With blocks of at most 256 kB (``CHUNK_MAX_BYTES``), a float32 model predicts a
    1,000 x 2,000 float64 memmap 32 rows at a time: each block's float32 copy is 256 kB,
    where 1,000 rows at once would be 8 MB (the checks too read 256 kB at a time here).
    The outputs are those of X in memory."""
    from mlpzero import network as network_module

    monkeypatch.setattr(network_module, "CHUNK_MAX_BYTES", 1 << 18)
    monkeypatch.setattr(validation, "CHUNK_BYTES", 1 << 18)
    X, y = data(n=1000, features=2000)
    X_map = mapped(tmp_path, "X", X)
    model = MLP(hidden=(4,), seed=0, dtype="float32").fit(X[:100], y[:100], epochs=2)
    assert model.network.chunk_rows == 32
    expected = model.predict_proba(X)
    peak = traced_peak(lambda: model.predict_proba(X_map))
    assert peak < 2 << 20, peak
    np.testing.assert_array_equal(model.predict_proba(X_map), expected)


def test_cli_train_on_a_data_folder_with_a_split_never_copies_x(tmp_path, monkeypatch, capsys):
    """The command's closing table scores the training and held-out rows apart, reading
    the folder's X in blocks (a copy of the 80% training rows would show up whole)."""
    from mlpzero import cli

    monkeypatch.setattr(validation, "CHUNK_BYTES", 1 << 19)
    rng = np.random.default_rng(0)
    folder = tmp_path / "data"
    folder.mkdir()
    np.save(folder / "X.npy", rng.standard_normal((2**15, 128)))
    np.save(folder / "y.npy", rng.integers(0, 3, 2**15))
    size = (folder / "X.npy").stat().st_size
    argv = ["train", str(folder), "--hidden", "8", "--epochs", "1", "--batch-size", "256"]
    argv += ["--validation-split", "0.2", "--quiet", "--out", str(tmp_path / "m.npz")]
    assert cli.main(argv) == 0  # warm-up: what the first calls import is not data
    capsys.readouterr()
    peak = traced_peak(lambda: cli.main(argv))
    assert peak < size / 4, (peak, size)
    assert "val_accuracy" in capsys.readouterr().out


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="needs Linux's /proc")
def test_a_100_mb_memmap_trains_with_bounded_anonymous_memory(tmp_path):
    """The process's anonymous memory (RssAnon, sampled by a thread) grows by far less
    than the 100 MB of X during a fit: the data's pages are file-backed."""
    n, features = 100_000, 256
    X = np.lib.format.open_memmap(tmp_path / "X.npy", "w+", np.float32, (n, features))
    rng = np.random.default_rng(0)
    for start in range(0, n, 10_000):
        X[start : start + 10_000] = rng.standard_normal((10_000, features), dtype=np.float32)
    X.flush()
    del X
    X = np.load(tmp_path / "X.npy", mmap_mode="r")
    y = (np.asarray(X[:, 0]) > 0).astype(np.int64)
    MLP(hidden=(16,), seed=0).fit(X[:256], y[:256], epochs=1, batch_size=64)  # warm-up
    with PeakMemory(("RssAnon",), interval=0.002) as memory:
        model = MLP(hidden=(16,), seed=0).fit(X, y, epochs=1, batch_size=256)
        model.predict(X)
    before, peak = memory.before["RssAnon"], memory.peak["RssAnon"]
    if before == 0:
        pytest.skip("no RssAnon in /proc/self/status")
    assert peak - before < 30, f"RssAnon grew from {before:.0f} MB to {peak:.0f} MB"


def test_sklearn_estimator_trains_on_a_memmap_like_on_memory(tmp_path):
    from mlpzero.sklearn import MLPClassifier

    X, y = data(n=8_000, features=64)
    X = X.astype(np.float32)
    X_map = mapped(tmp_path, "X", X)
    options = dict(hidden_layer_sizes=(6,), max_iter=1, random_state=0, batch_size=256)
    with pytest.warns(Warning):  # ConvergenceWarning after 1 epoch
        a = MLPClassifier(**options).fit(X, y)
    tracemalloc.start()
    try:
        with pytest.warns(Warning):
            b = MLPClassifier(**options).fit(X_map, y)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < X.nbytes / 2  # no copy of X (early_stopping's split would make one)
    assert np.array_equal(a.predict_proba(X), b.predict_proba(X_map))
    assert a.score(X, y) == b.score(X_map, y)


def test_divergence_on_a_memmap_reports_what_it_does_in_memory(tmp_path, small_chunks):
    from mlpzero.training import TrainingDivergedError

    X, y = data(n=200)
    X = X * 1e4
    X_map = mapped(tmp_path, "X", X)
    messages = []
    for features in (X, X_map):
        model = MLP(hidden=(4,), seed=0)
        with pytest.raises(TrainingDivergedError) as error:
            model.fit(features, y, epochs=50, batch_size=20, learning_rate=10.0,
                      validation_split=0.2)  # fmt: skip
        messages.append(str(error.value))
    assert messages[0] == messages[1]
    assert "largest |X| = " in messages[1]


def test_overflow_in_a_block_of_evaluate_names_the_block_and_the_row(tmp_path, monkeypatch):
    """evaluate reads a memory-mapped X a block at a time and stops at the first block
    whose outputs overflow: the error counts that block's rows, not the whole X's."""
    from mlpzero import network as network_module

    X, y = data(n=300)
    model = MLP(hidden=(4,), seed=0, dtype="float32").fit(X, y, epochs=1)
    X[[250, 255]] = 3e38  # finite in float32; the first layer's products are not
    monkeypatch.setattr(network_module, "CHUNK_MAX_BYTES", 2048)
    rows = model.network.chunk_rows  # 2048 // (4 * (6 + 2 * 3 * 7)) = 10
    start = 250 // rows * rows
    block = rf"overflow for 2 of rows {start} to {start + rows - 1} \(first: row 250,"
    with pytest.raises(ValueError, match=block):
        model.evaluate(mapped(tmp_path, "X", X), y)
    with pytest.raises(ValueError, match=r"overflow for 2 of 300 rows \(first: row 250,"):
        model.evaluate(X, y)


def test_sklearn_estimator_converts_a_memmap_of_another_dtype_batch_by_batch(tmp_path, monkeypatch):
    from mlpzero.sklearn import MLPClassifier

    monkeypatch.setattr(validation, "CHUNK_BYTES", 1 << 19)  # checks: 512 kB at a time

    X, y = data(n=8_000, features=64)
    X_map = mapped(tmp_path, "X", X)  # float64, for a float32 estimator
    options = dict(hidden_layer_sizes=(6,), max_iter=1, random_state=0, batch_size=256)
    with pytest.warns(Warning):
        a = MLPClassifier(dtype="float32", **options).fit(X.astype(np.float32), y)
    tracemalloc.start()
    try:
        with pytest.warns(Warning):
            b = MLPClassifier(dtype="float32", **options).fit(X_map, y)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < X.nbytes / 4
    assert np.array_equal(a.predict_proba(X.astype(np.float32)), b.predict_proba(X_map))


def test_standardized_training_on_a_memmap_gives_the_same_weights(tmp_path, small_chunks):
    X, y = data()
    # float32 data: a float64 memmap's statistics are taken from its float64 values, the
    # in-memory path's from X already cast to the model's float32.
    X = (X * 50 + 3).astype(np.float32)
    X_map = mapped(tmp_path, "X", X)
    options = dict(epochs=2, batch_size=32, validation_split=0.2)
    a = MLP(hidden=(6,), seed=2, standardize=True).fit(X, y, **options)
    b = MLP(hidden=(6,), seed=2, standardize=True).fit(X_map, y, **options)
    assert np.array_equal(a.standardizer_.mean, b.standardizer_.mean)
    assert np.array_equal(a.network.params, b.network.params)
    assert np.array_equal(a.predict_proba(X), b.predict_proba(X_map))


@pytest.mark.parametrize("dtype", [np.int64, np.uint8])
def test_a_memory_mapped_x_of_integers_trains_as_the_same_integers_in_memory(tmp_path, dtype):
    rng = np.random.default_rng(0)
    X = rng.integers(0, 5, (60, 3)).astype(dtype)
    y = (X[:, 0] > 2).astype(int)
    np.save(tmp_path / "X.npy", X)
    mapped = np.load(tmp_path / "X.npy", mmap_mode="r")
    options = dict(epochs=3, batch_size=16, optimizer="adam", learning_rate=0.01)
    in_memory = MLP(hidden=(4,), seed=0).fit(X, y, **options)
    from_disk = MLP(hidden=(4,), seed=0).fit(mapped, y, **options)
    np.testing.assert_array_equal(from_disk.network.params, in_memory.network.params)


def test_row_source_largest_magnitude_of_signed_integers(tmp_path):
    """|-128| does not fit in int8: read in the source's dtype, np.abs gave -128, and the
    divergence message lost its advice to standardise."""
    X = np.array([[-128, 3], [20, -5]], dtype=np.int8)
    assert RowSource(mapped(tmp_path, "X", X), np.float32).largest_magnitude() == 128.0
    rows = np.array([1, 0])
    assert RowSource(mapped(tmp_path, "X", X), np.float32, rows).largest_magnitude() == 128.0


@pytest.mark.parametrize("model_dtype", ["float32", "float64"])
def test_standardize_on_a_memmap_gives_the_statistics_and_weights_of_memory(tmp_path, model_dtype):
    """The statistics are read from the rows in the model's dtype and C order, as from the
    same X in memory, whatever the file's dtype and order."""
    X = np.asfortranarray(np.random.default_rng(0).standard_normal((500, 7)) * 3 + 1)
    y = (X[:, 0] > 1).astype(int)
    path = tmp_path / "X.npy"
    np.save(path, X)
    X_map = np.load(path, mmap_mode="r")
    assert X_map.flags.f_contiguous
    options = dict(hidden=(5,), seed=0, dtype=model_dtype, standardize=True)
    a = MLP(**options).fit(X, y, epochs=3, batch_size=64)
    b = MLP(**options).fit(X_map, y, epochs=3, batch_size=64)
    assert np.array_equal(a.network.input_transform.mean, b.network.input_transform.mean)
    assert np.array_equal(a.network.input_transform.scale, b.network.input_transform.scale)
    assert np.array_equal(a.network.params, b.network.params)


@pytest.mark.parametrize("order", ["C", "F"])
def test_inference_converts_an_in_memory_x_of_another_dtype_a_block_at_a_time(monkeypatch, order):
    """A float32 model given a float64 (or Fortran-ordered) X in memory converts one
    block of rows at a time, as it does for a memmap: no float32 copy of X (half of its
    8 MB) shows up in the peak. The outputs are those of X converted beforehand."""
    from mlpzero import network as network_module

    monkeypatch.setattr(network_module, "CHUNK_MAX_BYTES", 1 << 18)
    monkeypatch.setattr(validation, "CHUNK_BYTES", 1 << 18)
    X, y = data(n=10_000, features=100)
    X = np.asarray(X, order=order)
    model = MLP(hidden=(4,), seed=0, dtype="float32").fit(X[:200], y[:200], epochs=2)
    X32 = np.ascontiguousarray(X, dtype=np.float32)
    expected = model.predict_proba(X32), model.predict(X32), model.evaluate(X32, y)
    calls = {
        "predict_proba": lambda: model.predict_proba(X),
        "predict": lambda: model.predict(X),
        "decision_function": lambda: model.decision_function(X),
        "evaluate": lambda: model.evaluate(X, y),
    }
    for name, call in calls.items():
        peak = traced_peak(call)
        assert peak < X.nbytes / 4, (name, peak, X.nbytes)
    np.testing.assert_array_equal(model.predict_proba(X), expected[0])
    np.testing.assert_array_equal(model.predict(X), expected[1])
    assert model.evaluate(X, y) == expected[2]
