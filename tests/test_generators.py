"""fit on a batch generator: a callable that yields one epoch of (X_batch, y_batch)."""

import warnings

import numpy as np
import pytest

from mlpzero import MLP


def data(n=400, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, 5))
    y = (X[:, 0] > 0).astype(int) + (X[:, 1] > 0.5)
    return X, y


def batches_of(X, y, size=50, weights=None):
    """A batch generator over the rows of ``X`` in order; counts its calls."""

    def batches():
        batches.calls += 1
        for start in range(0, len(X), size):
            rows = slice(start, start + size)
            if weights is None:
                yield X[rows], y[rows]
            else:
                yield X[rows], y[rows], weights[rows]

    batches.calls = 0
    return batches


@pytest.mark.parametrize("optimizer", ["sgd", "adam"])
def test_a_generator_trains_like_unshuffled_mini_batches(optimizer):
    X, y = data()
    source = batches_of(X, y)
    a = MLP(hidden=(8,), seed=0).fit(source, epochs=3, optimizer=optimizer)
    b = MLP(hidden=(8,), seed=0).fit(
        X, y, epochs=3, batch_size=50, shuffle=False, optimizer=optimizer
    )
    assert np.array_equal(a.network.params, b.network.params)
    assert a.history.history == b.history.history
    assert source.calls == 3  # once per epoch, the first batch read for building included


def _on_batches_and_on_arrays(X, y, w, **options) -> tuple[MLP, MLP]:
    """The same float64 model fitted on batches of 40 rows from a generator, and on the
    arrays in batches of 40 without shuffling."""
    a = MLP(hidden=(6,), seed=1, dtype="float64").fit(batches_of(X, y, 40, w), **options)
    b = MLP(hidden=(6,), seed=1, dtype="float64").fit(
        X, y, batch_size=40, shuffle=False, sample_weight=w, **options
    )
    return a, b


def _assert_trained_alike(a: MLP, b: MLP) -> None:
    """The same weights and logged metrics, up to rounding."""
    assert np.allclose(a.network.params, b.network.params, rtol=1e-12, atol=1e-14)
    for key in ("loss", "accuracy", "val_loss", "val_accuracy"):
        assert a.history.history[key] == pytest.approx(b.history.history[key], rel=1e-12)


def test_a_generator_with_weights_and_a_class_weight_dict_trains_like_arrays():
    X, y = data()
    w = np.random.default_rng(1).uniform(0.5, 2.0, len(y))
    options = dict(epochs=2, class_weight={0: 2.0, 2: 0.5}, validation_data=(X[:80], y[:80]))
    a, b = _on_batches_and_on_arrays(X, y, w, **options)
    _assert_trained_alike(a, b)  # weights scaled per batch, not over the data: up to rounding


def test_a_generator_batch_of_zero_weight_is_skipped_as_a_mini_batch_is():
    """Arrays skip a mini-batch whose rows all weigh 0; a generator's such batch was
    refused as if the whole sample_weight were zero."""
    X, y = data()
    w = np.random.default_rng(1).uniform(0.5, 2.0, len(y))
    w[40:80] = 0.0  # the second batch of 40
    options = dict(epochs=2, optimizer="adam", validation_data=(X[:80], y[:80]))
    a, b = _on_batches_and_on_arrays(X, y, w, **options)
    assert a.optimizer_.iterations == b.optimizer_.iterations == 2 * 9
    _assert_trained_alike(a, b)
    with pytest.raises(ValueError, match="every batch of epoch 0 had zero sample weight"):
        MLP(hidden=(6,)).fit(batches_of(X, y, 40, np.zeros(len(y))), epochs=1)


@pytest.mark.parametrize("scale", [1e307, 1e-320])
def test_huge_or_tiny_weights_of_a_generator_log_the_loss_arrays_do(scale):
    """The epoch's loss summed each batch's loss times its weights' total in the caller's
    units: weights of 1e307 overflowed that sum to NaN, and the fit stopped as diverged;
    subnormal ones rounded it, and the logged loss was off from the fourth digit."""
    X, y = data()
    w = np.random.default_rng(1).uniform(0.5, 2.0, len(y)) * scale
    options = dict(epochs=2, l2=1e-3, validation_data=(X[:80], y[:80]))
    a, b = _on_batches_and_on_arrays(X, y, w, **options)
    _assert_trained_alike(a, b)


def test_continued_fit_on_a_generator_reads_no_batch_in_advance():
    X, y = data()
    model = MLP(hidden=(4,), seed=0).fit(X, y, epochs=1, batch_size=50)
    source = batches_of(X, y)
    model.fit(source, epochs=2)
    assert source.calls == 2 and model.history.epochs == 3


def test_classes_builds_the_model_when_the_first_batch_lacks_a_label():
    X, y = data()
    order = np.argsort(y, kind="stable")  # the first batch holds only class 0
    source = batches_of(X[order], y[order])
    with pytest.raises(ValueError, match=r"batch \d+: y contains labels not seen.*classes=\["):
        MLP(hidden=(4,)).fit(source, epochs=1)
    # A class_weight for a label the first batch lacks is refused with the same remedy.
    with pytest.raises(ValueError, match=r"not classes of y: \[2\]; .* first batch.*classes=\["):
        MLP(hidden=(4,)).fit(source, epochs=1, class_weight={2: 3.0})
    model = MLP(hidden=(4,)).fit(source, epochs=1, classes=[0, 1, 2], class_weight={2: 3.0})
    assert model.classes_.tolist() == [0, 1, 2]
    assert model.predict_proba(X).shape == (len(X), 3)


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (dict(validation_split=0.2), r"validation_split=0.2: .*validation_data="),
        (dict(class_weight="balanced"), r"class_weight='balanced' needs the count"),
        (dict(shuffle=True), r"shuffle=True does not apply to a batch generator"),
        (dict(batch_size=10), r"batch_size=10 does not apply to a batch generator"),
        (dict(sample_weight=np.ones(400)), r"sample_weight: .*\(X_batch, y_batch, w_batch\)"),
    ],
)
def test_options_a_generator_cannot_honour_are_refused_by_name(options, message):
    X, y = data()
    model = MLP(hidden=(4,))
    with pytest.raises(ValueError, match=message):
        model.fit(batches_of(X, y), epochs=1, **options)
    assert not model.built  # a refused fit leaves the model as it was


def test_bad_generators_get_clear_errors():
    X, y = data()
    with pytest.raises(ValueError, match="y: a batch generator yields its own targets"):
        MLP().fit(batches_of(X, y), y)
    with pytest.raises(TypeError, match=r"X is an iterator .* pass a callable"):
        MLP().fit(batches_of(X, y)())
    with pytest.raises(ValueError, match="yielded no batches"):
        MLP().fit(lambda: iter(()))
    with pytest.raises(TypeError, match=r"batch 0: the generator must yield \(X_batch, y_batch\)"):
        MLP().fit(lambda: iter([X]))
    with pytest.raises(TypeError, match="must return an iterable"):
        MLP().fit(lambda: 3)
    with pytest.raises(ValueError, match="X of batch 1 has 4 features, but the model was built"):
        MLP().fit(lambda: iter([(X[:10], y[:10]), (X[10:20, :4], y[10:20])]), epochs=1)
    with pytest.raises(ValueError, match="expected y of batch 0 with 10 rows to match X, got 9"):
        MLP().fit(lambda: iter([(X[:10], y[:9])]))


def test_a_later_fit_checks_the_width_of_its_first_batch_by_name():
    """A fit continuing a built model read no batch before training, and its first batch
    of the wrong width failed in the forward pass, as "X must have shape (m, 5)", naming
    no batch; every later batch was checked against the model."""
    X, y = data()
    model = MLP(hidden=(4,), seed=0).fit(batches_of(X, y), epochs=1)
    weights = model.network.params.copy()
    with pytest.raises(ValueError, match=r"^X of batch 0 has 4 features, but the model was built"):
        model.fit(batches_of(X[:, :4], y), epochs=1)
    assert np.array_equal(model.network.params, weights)


def test_standardize_is_refused_for_a_generator():
    X, y = data()
    model = MLP(hidden=(4,), standardize=True)
    with pytest.raises(ValueError, match="standardize=True needs the statistics of all the rows"):
        model.fit(batches_of(X, y), epochs=1)
    assert not model.built


def test_distributed_training_refuses_a_generator():
    from types import SimpleNamespace

    from mlpzero import losses, optimizers
    from mlpzero.network import Network
    from mlpzero.training import train

    network = Network([5, 3, 1], "relu", rng=np.random.default_rng(0))
    stream = SimpleNamespace(batches=lambda epoch: iter(()), largest_magnitude=0.0)
    # Both ranks meet the same stream: the loop's set-up fails alike on each.
    two_ranks = SimpleNamespace(
        rank=0, size=2, is_root=True, allgather=lambda value: [value, value]
    )
    with pytest.raises(ValueError, match="distributed training takes arrays"):
        train(
            network, losses.get("binary_crossentropy"), optimizers.get("sgd"), stream, None,
            epochs=1, rng=np.random.default_rng(0), communicator=two_ranks,
        )  # fmt: skip


def test_distributed_is_refused_for_a_generator_even_in_one_process():
    def batches():
        yield np.zeros((4, 2)), np.array([0, 1, 0, 1])

    with pytest.raises(ValueError, match="distributed=True does not apply to a batch generator"):
        MLP(hidden=(3,), seed=0).fit(batches, classes=[0, 1], distributed=True)


def test_sparse_batches_train_like_the_same_batches_dense():
    """A generator may yield sparse batches, as X may be sparse: each is made dense."""
    from scipy import sparse

    X, y = data()
    dense = MLP(hidden=(8,), seed=0).fit(batches_of(X, y), epochs=2)
    X_sparse = sparse.csr_matrix(X)

    def sparse_batches():
        for start in range(0, X.shape[0], 50):
            yield X_sparse[start : start + 50], y[start : start + 50]

    from_sparse = MLP(hidden=(8,), seed=0).fit(sparse_batches, epochs=2)
    assert np.array_equal(dense.network.params, from_sparse.network.params)


@pytest.mark.parametrize("kind", ["memmap", "sparse"])
def test_validation_data_a_generator_fit_reads_from_a_file_goes_a_block_at_a_time(
    tmp_path, monkeypatch, kind
):
    """A generator has no batch size: a memory-mapped or sparse X_val is still read and
    made dense a block of rows at a time (of 4 MB at most here), never whole (32 MB as
    float64), with the val_loss of the same rows in memory."""
    import scipy.sparse

    from conftest import traced_peak
    from mlpzero import network

    monkeypatch.setattr(network, "CHUNK_MAX_BYTES", 1 << 22)

    rng = np.random.default_rng(0)
    n, features = 2**15, 128
    X_val = rng.standard_normal((n, features))
    X_val[X_val < 0.5] = 0.0  # a sparse matrix of a third of the values
    X_val = X_val.astype(np.float32).astype(np.float64)  # the same values as float32
    y_val = (X_val[:, 0] > 0).astype(int)
    if kind == "memmap":
        np.save(tmp_path / "X_val.npy", X_val.astype(np.float32))  # read as float64
        given = np.load(tmp_path / "X_val.npy", mmap_mode="r")
    else:
        given = scipy.sparse.csr_matrix(X_val)
    X, y = X_val[:200], y_val[:200]

    def fit(validation_X):
        model = MLP(hidden=(8,), seed=0, dtype="float64")
        validation = (validation_X, y_val[: validation_X.shape[0]])
        return model.fit(batches_of(X, y), None, epochs=2, validation_data=validation)

    fit(given[:10])  # warm-up: what the first calls import is not data
    peak = traced_peak(lambda: fit(given))
    assert peak < X_val.nbytes / 4, (peak, X_val.nbytes)
    expected = fit(X_val).history.as_dict()["val_loss"]
    np.testing.assert_allclose(fit(given).history.as_dict()["val_loss"], expected, rtol=1e-12)


def test_weights_of_a_batch_that_round_to_zero_in_float32_are_warned_of_once():
    """A generator's weights are cast a batch at a time: a positive weight more than
    float32's range below its batch's largest became 0 there without a word."""
    X, y = data()
    w = np.ones(len(y))
    w[[3, 45, 46]] = 1e-50  # in the first and the second batch of 40
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        MLP(hidden=(4,), seed=0, dtype="float32").fit(batches_of(X, y, 40, w), epochs=2)
        MLP(hidden=(4,), seed=0, dtype="float64").fit(batches_of(X, y, 40, w), epochs=1)
    messages = [str(w.message) for w in caught if "round to 0" in str(w.message)]
    assert messages == [
        "weights of batch 0: 1 positive weight(s) (the smallest 1e-50 times the largest) "
        "round to 0 in float32, so their rows are not trained on; use dtype='float64' to "
        "keep them"
    ]
