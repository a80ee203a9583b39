"""Property-based tests (hypothesis): whatever the shapes, dtypes and values of ``X`` and
``y``, ``fit`` and ``predict`` either work and give finite results or raise a
``ValueError`` that says why; whatever the damage to a model file, ``load`` either raises
``ValueError`` or returns a model that works. Warnings are errors here too, but for the
one that says a column is too fine for the model's dtype."""

import json
import tempfile
import warnings
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

import mlpzero
from mlpzero import MLP, training
from mlpzero.optimizers import OPTIMIZERS

FAST = settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])

moderate = st.floats(-10, 10, allow_nan=False, allow_infinity=False)
anything = st.floats(allow_nan=False, allow_infinity=False)


@st.composite
def problems(draw):
    n = draw(st.integers(1, 12))
    k = draw(st.integers(1, 3))
    dtype = draw(st.sampled_from([np.float64, np.float32, np.int64]))
    if dtype is np.int64:
        elements = st.integers(-(2**62), 2**62)
    else:
        width = 32 if dtype is np.float32 else 64
        elements = st.one_of(
            st.floats(-10, 10, width=width),
            st.floats(allow_nan=False, allow_infinity=False, width=width),
        )
    X = draw(arrays(dtype, (n, k), elements=elements))
    task = draw(st.sampled_from(["binary", "strings", "regression", "multilabel"]))
    if task == "binary":
        y = draw(arrays(np.int64, n, elements=st.integers(0, 1)))
    elif task == "strings":
        y = np.array(draw(st.lists(st.sampled_from(["ant", "bee", "cat"]), min_size=n,
                                   max_size=n)))  # fmt: skip
    elif task == "regression":
        y = draw(arrays(np.float64, n, elements=st.one_of(moderate, anything)))
    else:
        y = draw(arrays(np.int64, (n, 2), elements=st.integers(0, 1)))
    return X, y


def sample_weights(n):
    """Weights from 0 to the largest float64, with the extremes drawn often."""
    extremes = st.sampled_from([0.0, 1e-300, 5e-324, 1.0, 1e300, 1.7e308])
    return arrays(np.float64, n, elements=st.one_of(extremes, st.floats(0, 1e308)))


@st.composite
def models(draw):
    hidden = tuple(draw(st.lists(st.integers(1, 5), max_size=2)))
    activation = draw(st.sampled_from(["relu", "tanh", "sigmoid", "leaky_relu", "identity"]))
    dtype = draw(st.sampled_from(["float32", "float64"]))
    return MLP(hidden=hidden, activation=activation, dtype=dtype, seed=draw(st.integers(0, 9)))


@FAST
@given(problem=problems(), model=models(), data=st.data())
def test_fit_and_predict_work_or_say_why(problem, model, data):
    X, y = problem
    options = {
        "epochs": data.draw(st.integers(1, 3)),
        "learning_rate": data.draw(st.sampled_from([1e-3, 0.1, 10.0])),
        "batch_size": data.draw(st.one_of(st.none(), st.integers(1, 5))),
        "optimizer": data.draw(st.sampled_from(sorted(OPTIMIZERS))),
        "sample_weight": data.draw(st.one_of(st.none(), sample_weights(len(X)))),
    }
    try:
        with warnings.catch_warnings():  # saying why may be a warning: a column float32
            # cannot hold (values that underflow, or vary far below their magnitude), or
            # sample weights too far below the largest for float32
            warnings.filterwarnings("ignore", "X: the values of .* almost constant", UserWarning)
            warnings.filterwarnings("ignore", "sample_weight: .* round to 0", UserWarning)
            model.fit(X, y, **options)
    except ValueError as error:
        assert str(error)
        assert not model.built or np.isfinite(model.network.params).all()
        return
    assert np.isfinite(model.network.params).all()
    assert all(np.isfinite(v) for v in model.history["loss"])
    try:
        predicted = model.predict(X)
        outputs = model.predict_proba(X)
    except ValueError as error:
        assert "overflow" in str(error)
        return
    assert len(predicted) == len(X)
    assert np.isfinite(outputs).all()
    if model.task != "regression":
        assert ((outputs >= 0) & (outputs <= 1)).all()
    if model.task == "multilabel":
        assert set(np.unique(predicted).tolist()) <= {0, 1}
    elif model.task != "regression":
        assert set(np.unique(predicted).tolist()) <= set(np.unique(y).tolist())
    if model.task in ("binary", "multiclass"):
        np.testing.assert_allclose(outputs.sum(axis=1), 1.0, rtol=1e-5)


@FAST
@given(X=arrays(np.float64, st.tuples(st.integers(1, 6), st.integers(1, 4)), elements=anything))
def test_predict_on_any_finite_input_gives_probabilities_or_a_clear_error(fitted_models, X):
    for model in fitted_models:
        if X.shape[1] != model.network.layer_sizes[0]:
            with pytest.raises(ValueError, match="features, but the model was built for"):
                model.predict_proba(X)
            continue
        try:
            p = model.predict_proba(X)
        except ValueError as error:
            assert "beyond the largest float32" in str(error) or "overflow" in str(error)
            continue
        assert np.isfinite(p).all() and ((p >= 0) & (p <= 1)).all()
        np.testing.assert_allclose(p.sum(axis=1), 1.0, rtol=1e-5)


@pytest.fixture(scope="module")
def fitted_models():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((40, 2))
    binary = (X[:, 0] > 0).astype(int)
    three = np.array(["a", "b", "c"])[np.digitize(X[:, 1], [-0.5, 0.5])]
    return [
        MLP(hidden=(4,), seed=0).fit(X, binary, epochs=5),
        MLP(hidden=(4, 3), activation="tanh", dtype="float64").fit(X, three, epochs=5),
    ]


# ---------------------------------------------------------------------------- model files
@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    rng = np.random.default_rng(1)
    X = rng.standard_normal((30, 3))
    y = np.array(["no", "yes"])[(X[:, 0] > 0).astype(int)]
    model = MLP(hidden=(3,), seed=1).fit(X, y, epochs=3)
    path = model.save(tmp_path_factory.mktemp("model") / "model.npz")
    return path.read_bytes(), model, X


def load_bytes(content):
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "model.npz"
        path.write_bytes(content)
        return mlpzero.load(path)


@settings(max_examples=150, deadline=None)
@given(data=st.data())
def test_a_damaged_model_file_is_refused_or_unchanged(saved, data):
    good, original, X = saved
    content = bytearray(good)
    damage = data.draw(st.sampled_from(["flip", "overwrite", "truncate", "insert", "delete"]))
    at = data.draw(st.integers(0, len(content) - 1))
    if damage == "flip":
        content[at] ^= 1 << data.draw(st.integers(0, 7))
    elif damage == "overwrite":
        chunk = data.draw(st.binary(min_size=1, max_size=16))
        content[at : at + len(chunk)] = chunk
    elif damage == "truncate":
        del content[at:]
    elif damage == "insert":
        content[at:at] = data.draw(st.binary(min_size=1, max_size=8))
    else:
        del content[at : at + data.draw(st.integers(1, 64))]
    try:
        loaded = load_bytes(bytes(content))
    except ValueError as error:
        assert str(error)
        return
    # Only bytes that carry no meaning (timestamps, padding outside members) were hit.
    np.testing.assert_array_equal(loaded.predict_proba(X), original.predict_proba(X))
    np.testing.assert_array_equal(loaded.predict(X), original.predict(X))


json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-3, 2**70) | st.floats(allow_nan=False)
    | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner,
                                                                 max_size=3),
    max_leaves=6,
)  # fmt: skip


def paths(document, prefix=()):
    yield prefix
    if isinstance(document, dict):
        for key, value in document.items():
            yield from paths(value, (*prefix, key))
    elif isinstance(document, list):
        for index, value in enumerate(document):
            yield from paths(value, (*prefix, index))


@settings(max_examples=100, deadline=None)
@given(data=st.data())
def test_a_tampered_document_is_refused_or_gives_a_working_model(saved, data):
    good, _, X = saved
    with tempfile.TemporaryDirectory() as folder:
        source = Path(folder) / "good.npz"
        source.write_bytes(good)
        with np.load(source, allow_pickle=False) as archive:
            params = archive["params"]
            document = json.loads(archive["metadata"].tobytes())
    where = data.draw(st.sampled_from([p for p in paths(document) if p]))
    target = document
    for key in where[:-1]:
        target = target[key]
    replacement = data.draw(json_values)
    if data.draw(st.booleans()) and isinstance(target, dict):
        del target[where[-1]]
    else:
        target[where[-1]] = replacement
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "tampered.npz"
        text = np.frombuffer(json.dumps(document).encode(), dtype=np.uint8)
        np.savez(path, metadata=text, params=params)
        try:
            model = mlpzero.load(path)
        except ValueError as error:
            assert str(error)
            return
        p = model.predict_proba(X)
        assert np.isfinite(p).all() and ((p >= 0) & (p <= 1)).all()
        again = mlpzero.load(model.save(Path(folder) / "again.npz"))
        np.testing.assert_array_equal(again.predict_proba(X), p)


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory):
    rng = np.random.default_rng(2)
    X = rng.standard_normal((30, 3))
    y = (X[:, 1] > 0).astype(int)
    path = tmp_path_factory.mktemp("run") / "run.npz"
    options = dict(epochs=3, optimizer="adam", batch_size=8, schedule="plateau")
    MLP(hidden=(3,), seed=2).fit(X, y, checkpoint=path, **options)
    return path.read_bytes(), X, y, options


@settings(max_examples=100, deadline=None)
@given(data=st.data())
def test_a_tampered_checkpoint_is_refused_or_resumes(checkpoint, data):
    good, X, y, options = checkpoint
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "run.npz"
        path.write_bytes(good)
        with np.load(path, allow_pickle=False) as archive:
            arrays = {key: archive[key] for key in archive.files}
        document = json.loads(arrays.pop("metadata").tobytes())
        where = data.draw(st.sampled_from([p for p in paths(document["checkpoint"]) if p]))
        target = document["checkpoint"]
        for key in where[:-1]:
            target = target[key]
        target[where[-1]] = data.draw(json_values)
        text = np.frombuffer(json.dumps(document).encode(), dtype=np.uint8)
        np.savez(path, metadata=text, **arrays)
        model = MLP(hidden=(3,), seed=2)
        try:
            model.fit(X, y, resume=path, **{**options, "epochs": 5})
        except training.TrainingDivergedError:
            assert np.isfinite(model.network.params).all()  # resumed, then diverged
            return
        except ValueError as error:
            assert str(error)
            assert not model.built  # a refused resume leaves the model as it was
            return
        assert np.isfinite(model.network.params).all()
