"""Class labels of every NumPy dtype a model accepts either survive a save and load
exactly, dtype included, or are refused at save time with a clear error."""

import numpy as np
import pytest

import mlpzero
from mlpzero import MLP

EXTENDED = np.finfo(np.longdouble).nmant > np.finfo(np.float64).nmant


def _fit(labels):
    """A classifier of ``labels`` (categorical cross-entropy: float labels are classes)."""
    rng = np.random.default_rng(0)
    y = labels[rng.integers(0, len(labels), 60)]
    X = rng.standard_normal((60, 2)) + np.searchsorted(labels, y)[:, None]
    model = MLP(hidden=(3,), seed=0, loss="categorical_crossentropy")
    return X, model.fit(X, y, epochs=2, verbose=0)


@pytest.mark.parametrize("labels", [[0, 1], [0.5, 1.5, 2.25], [-3.0, 1e-300, 2.0**70]])
def test_longdouble_labels_round_trip(tmp_path, labels):
    labels = np.array(labels, dtype=np.longdouble)
    X, model = _fit(labels)
    assert model.classes_.dtype == np.longdouble
    loaded = mlpzero.load(model.save(tmp_path / "m.npz"))
    assert loaded.classes_.dtype == np.longdouble
    np.testing.assert_array_equal(loaded.classes_, labels)
    predicted = loaded.predict(X)
    assert predicted.dtype == np.longdouble
    np.testing.assert_array_equal(predicted, model.predict(X))


@pytest.mark.skipif(not EXTENDED, reason="long double is double on this platform")
def test_longdouble_labels_a_json_number_cannot_hold_are_refused(tmp_path):
    labels = np.array([np.longdouble("0.1"), np.longdouble("0.7"), np.longdouble(2)])
    _, model = _fit(labels)
    path = tmp_path / "m.npz"
    with pytest.raises(ValueError) as error:
        model.save(path)
    message = str(error.value)
    assert "cannot save class labels of dtype float128" in message
    assert "0.1" in message and "exactly" in message
    assert not path.exists()


def test_complex_labels_are_refused_by_name(tmp_path):
    labels = np.array([1 + 0j, 2 + 0j])
    with pytest.raises(ValueError, match="cannot save class labels of dtype complex128"):
        _fit(labels)[1].save(tmp_path / "m.npz")
