"""Sparse X (SciPy CSR, CSC, ...): trained, validated and predicted batch by batch, equal
bit for bit to the same data dense, and never made dense whole."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from scipy import sparse

from conftest import traced_peak
from mlpzero import MLP
from mlpzero.preparation import SparseRows
from mlpzero.validation import check_features

FORMATS = [sparse.csr_matrix, sparse.csc_matrix, sparse.coo_matrix, sparse.csr_array]


def data(n=240, features=12, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, features)) * (rng.random((n, features)) < 0.25)
    y = (X[:, 0] + X[:, 1] > 0).astype(int) + (X[:, 2] > 0.3)
    return X, y


def same_fit(a: MLP, b: MLP) -> None:
    np.testing.assert_array_equal(a.network.params, b.network.params)
    assert a.history.history == b.history.history


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize(
    "options",
    [
        {"batch_size": 32, "optimizer": "adam", "validation_split": 0.2},
        {"batch_size": 50, "optimizer": "sgd", "class_weight": "balanced"},
        {"batch_size": None, "learning_rate": 0.1},
        {"optimizer": "lbfgs"},
    ],
    ids=["adam-split", "sgd-weights", "full-batch", "lbfgs"],
)
def test_mlp_trains_on_sparse_as_on_dense_bit_for_bit(dtype, options):
    X, y = data()
    for standardize in (False, True):
        dense = MLP(hidden=(8,), seed=3, dtype=dtype, standardize=standardize)
        dense.fit(X, y, epochs=4, **options)
        for container in FORMATS:
            model = MLP(hidden=(8,), seed=3, dtype=dtype, standardize=standardize)
            model.fit(container(X), y, epochs=4, **options)
            same_fit(dense, model)
            if standardize:
                assert model.standardizer_ == dense.standardizer_
            np.testing.assert_array_equal(model.predict_proba(container(X)), dense.predict_proba(X))
            np.testing.assert_array_equal(model.predict(container(X)), dense.predict(X))
            scores, expected = model.evaluate(container(X), y), dense.evaluate(X, y)
            assert scores == pytest.approx(expected, rel=1e-12)


def test_sparse_validation_data_and_sample_weight_match_dense():
    X, y = data()
    weights = np.random.default_rng(1).uniform(0, 2, len(y))
    options = {"epochs": 3, "batch_size": 40, "optimizer": "adam", "sample_weight": weights}
    dense = MLP(hidden=(6,), seed=0).fit(X[:200], y[:200], validation_data=(X[200:], y[200:]), **{
        **options, "sample_weight": weights[:200]})  # fmt: skip
    model = MLP(hidden=(6,), seed=0)
    model.fit(sparse.csr_matrix(X[:200]), y[:200], **{**options, "sample_weight": weights[:200]},
              validation_data=(sparse.csc_matrix(X[200:]), y[200:]))  # fmt: skip
    same_fit(dense, model)
    assert "val_loss" in model.history.history


def test_a_later_fit_and_build_take_sparse_x():
    X, y = data()
    dense = MLP(hidden=(5,), seed=1, standardize=True).build(X, y)
    model = MLP(hidden=(5,), seed=1, standardize=True).build(sparse.csc_matrix(X), y)
    assert model.standardizer_ == dense.standardizer_
    dense.fit(X, y, epochs=2, batch_size=64).fit(X, y, epochs=2, batch_size=64)
    model.fit(sparse.csr_matrix(X), y, epochs=2, batch_size=64).fit(X, y, epochs=2, batch_size=64)
    same_fit(dense, model)


def test_sparse_rows_read_like_the_dense_rows():
    X, _ = data(n=50, features=7)
    dense = X.astype(np.float32)
    matrix = sparse.csr_matrix(dense)
    rows = np.array([4, 0, 9, 9, 31])
    source = SparseRows(matrix, np.float32, rows)
    assert source.shape == (5, 7) and len(source) == 5
    out = np.full((3, 7), np.nan, dtype=np.float32)
    np.testing.assert_array_equal(source.take(np.array([2, 0, 3]), out), dense[rows[[2, 0, 3]]])
    np.testing.assert_array_equal(source.read(1, 4), dense[rows[1:4]])
    np.testing.assert_array_equal(source[np.array([4])], dense[[31]])
    assert source.largest_magnitude() == np.abs(dense[rows]).max()
    whole = SparseRows(matrix, np.float32)
    assert whole.largest_magnitude() == np.abs(dense).max() and whole.shape == (50, 7)
    with pytest.raises(ValueError, match=r"CSR matrix of float32, got a CSC matrix of float64"):
        SparseRows(sparse.csc_matrix(X), np.float32)


def test_sparse_x_is_checked_on_its_stored_values():
    X, y = data(n=30, features=5)
    bad = sparse.csr_matrix(X)
    bad.data[7] = np.nan
    row, column = bad.nonzero()[0][7], bad.nonzero()[1][7]
    with pytest.raises(ValueError, match=rf"X contains NaN or infinity \(first at row {row}, "
                       rf"column {column}\)"):  # fmt: skip
        MLP(hidden=(3,)).fit(bad, y, epochs=1)
    huge = sparse.csc_matrix(np.where(X > 1, 1e300, 0.0))
    row, column = np.argwhere(X > 1)[0]  # the first in row order, as CSR stores them
    with pytest.raises(ValueError, match=rf"X holds 1e\+300 \(at row {row}, column {column}\)"):
        MLP(hidden=(3,)).fit(huge, y, epochs=1)
    with pytest.raises(ValueError, match=r"X has 5 features, but the model was built for 4"):
        MLP(hidden=(3,)).fit(X[:, :4], y, epochs=1).predict(sparse.csr_matrix(X))
    with pytest.raises(ValueError, match=r"X is empty"):
        MLP(hidden=(3,)).fit(sparse.csr_matrix((0, 5)), y[:0], epochs=1)
    with pytest.raises(ValueError, match=r"must be numeric, got a sparse matrix of dtype complex"):
        MLP(hidden=(3,)).fit(sparse.csr_matrix(X.astype(complex)), y, epochs=1)
    with pytest.raises(TypeError, match=r"X: sparse matrices are not supported here"):
        check_features(sparse.csr_matrix(X))  # where no caller reads sparse rows
    csr = sparse.csr_matrix(X)
    assert check_features(csr, accept_sparse=True) is csr  # CSR of the dtype: no copy


def test_a_large_sparse_x_is_never_made_dense_whole():
    """20,000 x 2,000 at 0.1% density: 320 MB dense in float64, 0.5 MB as CSR. NumPy and
    SciPy report their allocations to tracemalloc: a dense copy would show up whole. What
    remains is a batch, an L-BFGS chunk, or at inference a pass's blocks (64 MiB at most,
    ``Network.chunk_rows``: 4,096 rows of this float32 model, 33 MB)."""
    from mlpzero.sklearn import MLPClassifier

    X = sparse.random(20000, 2000, density=0.001, format="csr", random_state=0)
    y = np.random.default_rng(0).integers(0, 3, X.shape[0])
    size = X.shape[0] * X.shape[1] * 8
    MLP(hidden=(4,), seed=0).fit(X[:100], y[:100], epochs=1, batch_size=10)  # imports
    model = MLP(hidden=(4,), seed=0, dtype="float64", standardize=True)
    peaks = {
        "fit": traced_peak(
            lambda: model.fit(X.tocsc(), y, epochs=1, batch_size=500, validation_split=0.1)
        ),
    }
    model = MLP(hidden=(4,), seed=0).fit(X[:100], y[:100], epochs=1)
    peaks["predict"] = traced_peak(lambda: model.predict(X))
    peaks["evaluate"] = traced_peak(lambda: model.evaluate(X, y))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # max_iter=1 does not converge
        for solver in ("adam", "lbfgs"):
            options = {"hidden_layer_sizes": (4,), "max_iter": 1, "random_state": 0}
            estimator = MLPClassifier(solver=solver, early_stopping=True, **options)
            peaks[solver] = traced_peak(lambda estimator=estimator: estimator.fit(X, y))
    for name, peak in peaks.items():
        assert peak < size / 4, (name, peak, size)
    dense = X[:5000].toarray()  # the measure sees a dense copy when there is one
    assert traced_peak(lambda: check_features(sparse.csr_matrix(dense).toarray())) > dense.nbytes


@pytest.mark.parametrize("standardize", [False, True])
def test_inference_blocks_of_a_wide_x_are_bounded_in_bytes(monkeypatch, standardize):
    """A pass over the rows holds at most ``CHUNK_MAX_BYTES`` (here 1 MiB), standardised
    copies of the blocks included: a wide sparse X is made dense a few rows at a time,
    not all 3,000 rows (60 MB) at once, and its outputs are still those of the same rows
    dense, bit for bit."""
    from mlpzero import network as network_module

    monkeypatch.setattr(network_module, "CHUNK_MAX_BYTES", 1 << 20)
    rng = np.random.default_rng(0)
    X = sparse.random(3000, 5000, density=0.001, format="csr", random_state=0, dtype=np.float32)
    y = rng.integers(0, 3, X.shape[0])
    model = MLP(hidden=(4,), seed=0, dtype="float32", standardize=standardize)
    model.fit(X[:200], y[:200], epochs=2)
    kept = 3 * 7 + (5000 if standardize else 0)
    assert model.network.chunk_rows == (1 << 20) // (4 * (5000 + 2 * kept))  # 51 or 17 rows
    dense = X.toarray()
    expected = model.predict_proba(dense)
    model.network._workspaces.clear()  # the buffers of the pass, not of the fit before it
    peaks = {
        "predict": traced_peak(lambda: model.predict_proba(X)),
        "evaluate": traced_peak(lambda: model.evaluate(X, y)),
    }
    for name, peak in peaks.items():
        assert peak < (1 << 20) + (256 << 10), (name, peak)  # the pass, and the outputs
    np.testing.assert_array_equal(model.predict_proba(X), expected)
    blockwise, whole = model.evaluate(X, y), model.evaluate(dense, y)  # a mean of means
    assert blockwise == pytest.approx(whole, rel=1e-6)


def test_blocks_whose_products_copy_an_operand_keep_to_the_bound_in_bytes(monkeypatch):
    """A narrow first layer over 1,000 columns: its product ``W X^T`` over a block of a
    few dozen rows is small enough that the network copies ``X^T`` into row order, once
    for the full blocks and once for the last one. Those copies are part of the pass, so
    the blocks are made shorter for them, and the pass still holds at most
    ``CHUNK_MAX_BYTES`` (here 1 MiB) besides the outputs, with the outputs of the same
    rows dense."""
    from mlpzero import network as network_module

    monkeypatch.setattr(network_module, "CHUNK_MAX_BYTES", 1 << 20)
    rng = np.random.default_rng(0)
    X = sparse.random(3000, 1000, density=0.01, format="csr", random_state=0, dtype=np.float32)
    y = rng.integers(0, 3, X.shape[0])
    model = MLP(hidden=(8, 500), seed=0, dtype="float32").fit(X[:200], y[:200], epochs=1)
    expected = model.predict_proba(X.toarray())
    model.network._workspaces.clear()  # the buffers of the pass, not of the fit before it
    peak = traced_peak(lambda: model.predict_proba(X))
    assert peak < (1 << 20) + (256 << 10), peak  # the pass, and the outputs
    np.testing.assert_array_equal(model.predict_proba(X), expected)


def test_duplicate_entries_are_checked_as_the_sum_they_densify_to():
    """Two stored values of one cell add up when the matrix is made dense: each may fit in
    float32 while their sum does not, which must be refused as the dense matrix is."""
    duplicated = sparse.csr_matrix(
        (np.array([3e38, 3e38, 1.0]), np.array([0, 0, 1]), np.array([0, 2, 3])), shape=(2, 2)
    )
    assert not duplicated.has_canonical_format
    with pytest.raises(ValueError, match=r"holds 6e\+38"):
        check_features(duplicated, dtype=np.float32, accept_sparse=True)
    small = sparse.csr_matrix(
        (np.array([0.25, 0.5, 1.0]), np.array([0, 0, 1]), np.array([0, 2, 3])), shape=(2, 2)
    )
    checked = check_features(small, dtype=np.float32, accept_sparse=True)
    assert np.array_equal(checked.toarray(), [[0.75, 0.0], [0.0, 1.0]])
    assert not small.has_canonical_format  # the caller's matrix is left as it was


@pytest.mark.parametrize("fmt", [sparse.coo_matrix, sparse.csr_matrix, sparse.coo_array])
def test_integer_duplicate_entries_add_up_without_wrapping(fmt):
    """Two stored counts of one cell in uint8 (200 and 100) are the value 300: summed in
    uint8 they wrapped to 44, which was trained on and predicted from without a word."""
    values, rows, columns = np.array([200, 100, 7], dtype=np.uint8), [0, 0, 1], [1, 1, 0]
    if fmt is sparse.csr_matrix:
        X = fmt((values, np.array(columns), np.array([0, 2, 3])), shape=(2, 2))
    else:
        X = fmt((values, (np.array(rows), np.array(columns))), shape=(2, 2))
    checked = check_features(X, dtype=np.float32, accept_sparse=True)
    np.testing.assert_array_equal(checked.toarray(), [[0.0, 300.0], [7.0, 0.0]])
    model = MLP(hidden=(3,), seed=0).fit(np.array([[0.0, 300.0], [7.0, 0.0]]), [0, 1], epochs=1)
    np.testing.assert_array_equal(
        model.predict_proba(X), model.predict_proba(np.array([[0.0, 300.0], [7.0, 0.0]]))
    )


def _csr(indices, indptr, shape=(2, 3)):
    data = np.ones(len(indices))
    return sparse.csr_matrix((data, np.array(indices), np.array(indptr)), shape=shape)


def _malformed():
    """Sparse matrices whose index arrays point outside their shape: SciPy builds them
    without a full check, and its conversions and densifying trust the indices."""
    coo = sparse.coo_matrix(np.eye(3)[:2])
    coo.row = coo.row + 5  # set after construction, which checked the first ones
    csc = sparse.csc_matrix(np.eye(3)[:2])
    csc.indices[0] = 9
    return {
        "negative column": (_csr([-1], [0, 1, 1]), r"must be >= 0"),
        "column past the width": (_csr([7], [0, 1, 1]), r"must be < 3"),
        "index pointers out of order": (_csr([1], [0, 5, 1]), r"(indptr|index pointer)"),
        "coo row past the height": (coo, r"exceeds matrix dimension"),
        "csc row past the height": (csc, r"must be < 2"),
    }


@pytest.mark.parametrize("case", sorted(_malformed()))
def test_a_malformed_sparse_x_is_refused_before_scipy_reads_its_indices(case):
    # Predicting wrote values outside the dense block (a negative column landed in the
    # row before, the process then aborted on a corrupted heap) or raised a C++ error.
    model = MLP(hidden=(2,), seed=0).fit(np.eye(3)[:2], [0, 1], epochs=1)
    X, detail = _malformed()[case]
    with pytest.raises(ValueError, match=rf"^X is a malformed sparse matrix \(.*{detail}"):
        model.predict(X)
    with pytest.raises(ValueError, match=r"^X is a malformed sparse matrix"):
        MLP(hidden=(2,), seed=0).fit(X, [0, 1], epochs=1)


def test_the_estimators_refuse_a_malformed_sparse_x_as_mlp_does():
    """The scikit-learn estimators gave a sparse X to scikit-learn's checks (and an integer
    one to a conversion) before mlpzero looked at its indices: a COO matrix with a row past
    the height, or an integer CSR matrix whose pointers run past its entries, crashed the
    process with a segmentation fault. Run in a process of its own for that reason."""
    import os
    import subprocess
    import sys

    code = (
        "import sys, warnings\n"
        "import numpy as np\n"
        "from scipy import sparse\n"
        "sys.path.insert(0, sys.argv[1])\n"
        "warnings.simplefilter('ignore')\n"
        "from test_sparse import _malformed\n"
        "from mlpzero.sklearn import MLPClassifier\n"
        "counts = sparse.csr_matrix(np.arange(1, 7).reshape(2, 3))\n"
        "counts.indptr[1] = 10**8\n"
        "cases = {**_malformed(), 'integer csr': (counts, '')}\n"
        "fitted = MLPClassifier(hidden_layer_sizes=(2,), max_iter=2).fit(np.eye(3)[:2], [0, 1])\n"
        "for case, (X, _) in sorted(cases.items()):\n"
        "    for call in (lambda: MLPClassifier(max_iter=2).fit(X, [0, 1]),\n"
        "                 lambda: fitted.predict(X)):\n"
        "        try:\n"
        "            call()\n"
        "        except ValueError as error:\n"
        "            print(case, '|', str(error).split(':')[0])\n"
    )
    folder = os.path.dirname(os.path.abspath(__file__))
    done = subprocess.run(
        [sys.executable, "-c", code, folder], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr[-2000:]
    lines = done.stdout.splitlines()
    assert len(lines) == 2 * (len(_malformed()) + 1), done.stdout
    assert all(line.split(" | ")[1].startswith("X is a malformed sparse matrix") for line in lines)
