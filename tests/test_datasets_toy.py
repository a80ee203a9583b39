"""The toy 2-D datasets: shapes, balance, geometry, seeding, errors."""

import re

import numpy as np
import pytest
from sklearn import datasets as skd

from mlpzero.datasets import make_circles, make_linear, make_moons, make_spirals, make_xor

GENERATORS = [make_linear, make_xor, make_circles, make_moons, make_spirals]


@pytest.mark.parametrize("make", GENERATORS)
@pytest.mark.parametrize("n", [7, 100, 301])
def test_shapes_and_dtypes(make, n):
    X, y = make(n, random_state=0)
    assert X.shape == (n, 2) and X.dtype == np.float64 and X.flags.c_contiguous
    assert y.shape == (n,) and y.dtype.kind == "i"
    assert np.isfinite(X).all()


@pytest.mark.parametrize("make", GENERATORS)
def test_same_seed_same_data_and_different_seeds_differ(make):
    kwargs = {"noise": 0.1} if make in (make_circles, make_moons) else {}
    X1, y1 = make(200, random_state=3, **kwargs)
    X2, y2 = make(200, random_state=3, **kwargs)
    X3, _ = make(200, random_state=4, **kwargs)
    np.testing.assert_array_equal(X1, X2)
    np.testing.assert_array_equal(y1, y2)
    assert not np.array_equal(X1, X3)
    X4, y4 = make(200, random_state=np.random.default_rng(3), **kwargs)
    np.testing.assert_array_equal(X1, X4)
    np.testing.assert_array_equal(y1, y4)


def test_linear_labels_follow_the_line():
    X, y = make_linear(500, random_state=1)
    np.testing.assert_array_equal(y, (X[:, 0] + X[:, 1] > 0).astype(int))
    assert 200 < y.sum() < 300
    assert abs(X.std() - 1) < 0.1


@pytest.mark.parametrize("scale", [1e-170, 1e-300, 1e170])
def test_xor_labels_follow_the_signs_at_any_scale(scale):
    # The product of two coordinates underflows to 0 (or overflows) long before either
    # coordinate does: the label is read from the signs.
    X, y = make_xor(2000, scale=scale, random_state=3)
    np.testing.assert_array_equal(y, (X[:, 0] > 0) == (X[:, 1] > 0))
    assert 0.4 < y.mean() < 0.6


def test_xor_labels_follow_the_signs_and_scale():
    X, y = make_xor(4000, random_state=1)
    np.testing.assert_array_equal(y, (X[:, 0] * X[:, 1] > 0).astype(int))
    assert abs(X.std() - 2.0) < 0.1  # the article's N(0, 1) * 2
    assert 1800 < y.sum() < 2200
    X, _ = make_xor(4000, scale=0.5, random_state=1)
    assert abs(X.std() - 0.5) < 0.03


@pytest.mark.parametrize("n", [100, 101, 500])
@pytest.mark.parametrize("factor", [0.0, 0.3, 0.5, 0.8])
def test_circles_radii_and_balance_match_scikit_learn(n, factor):
    X, y = make_circles(n, factor=factor, random_state=0)
    radius = np.hypot(X[:, 0], X[:, 1])
    np.testing.assert_allclose(radius[y == 0], 1.0, atol=1e-12)
    np.testing.assert_allclose(radius[y == 1], factor, atol=1e-12)
    X_sk, y_sk = skd.make_circles(n, factor=factor, random_state=0)
    np.testing.assert_array_equal(np.bincount(y), np.bincount(y_sk))
    # Same points as scikit-learn's, up to order: evenly spaced angles on each circle.
    for label in (0, 1):
        ours = np.sort(np.round(X[y == label], 9), axis=0)
        theirs = np.sort(np.round(X_sk[y_sk == label], 9), axis=0)
        np.testing.assert_allclose(ours, theirs, atol=1e-8)


def test_circles_noise_is_gaussian_with_the_given_deviation():
    X, y = make_circles((2000, 2000), noise=0.1, factor=0.5, shuffle=False, random_state=0)
    clean, _ = make_circles((2000, 2000), factor=0.5, shuffle=False)
    residual = X - clean
    assert abs(residual.std() - 0.1) < 0.005 and abs(residual.mean()) < 0.005
    assert list(y[:2000]) == [0] * 2000 and list(y[2000:]) == [1] * 2000


def test_circles_tuple_and_shuffle():
    _, y = make_circles((30, 10), shuffle=False, random_state=0)
    assert list(np.bincount(y)) == [30, 10]
    assert (y[:30] == 0).all() and (y[30:] == 1).all()
    _, y_shuffled = make_circles((30, 10), random_state=0)
    assert list(np.bincount(y_shuffled)) == [30, 10]
    assert not np.array_equal(y, y_shuffled)


def test_moons_geometry_matches_scikit_learn():
    X, y = make_moons(200, random_state=0)
    X_sk, y_sk = skd.make_moons(200, random_state=0)
    np.testing.assert_array_equal(np.bincount(y), np.bincount(y_sk))
    for label in (0, 1):
        ours = np.sort(np.round(X[y == label], 9), axis=0)
        theirs = np.sort(np.round(X_sk[y_sk == label], 9), axis=0)
        np.testing.assert_allclose(ours, theirs, atol=1e-8)
    np.testing.assert_allclose(np.hypot(*X[y == 0].T), 1.0)
    np.testing.assert_allclose(np.hypot(X[y == 1, 0] - 1, X[y == 1, 1] - 0.5), 1.0)


@pytest.mark.parametrize(("n", "k"), [(300, 3), (301, 3), (100, 2), (500, 5)])
def test_spirals_classes_are_balanced(n, k):
    X, y = make_spirals(n, n_classes=k, random_state=0)
    counts = np.bincount(y, minlength=k)
    assert counts.sum() == n and counts.max() - counts.min() <= 1
    assert set(np.unique(y)) == set(range(k))
    assert np.hypot(X[:, 0], X[:, 1]).max() <= 1.0 + 1e-12


def test_spirals_without_noise_lie_on_their_arms():
    X, y = make_spirals(90, n_classes=3, turns=1.0, noise=0, shuffle=False)
    radius = np.hypot(X[:, 0], X[:, 1])
    angle = np.arctan2(X[:, 1], X[:, 0])
    for k in range(3):
        on_arm = y == k
        np.testing.assert_allclose(radius[on_arm], np.linspace(0, 1, 30), atol=1e-12)
        expected = 2 * np.pi * (k / 3 + radius[on_arm])
        # angles agree modulo 2*pi (skip the origin, where the angle is undefined)
        diff = np.angle(np.exp(1j * (angle[on_arm] - expected)))[1:]
        np.testing.assert_allclose(diff, 0, atol=1e-9)


@pytest.mark.parametrize("make", [make_moons, make_circles, make_spirals])
@pytest.mark.parametrize("n_samples", ["10", "300", b"10"])
def test_a_count_given_as_text_is_named_as_given(make, n_samples):
    # "10" was taken as the counts "1" and "0", and the error spoke of the str '1'
    given = f"{type(n_samples).__name__} {n_samples!r}"
    with pytest.raises(TypeError, match=rf"n_samples must be an int .*got {re.escape(given)}$"):
        make(n_samples)


def test_default_spirals_have_three_classes():
    _, y = make_spirals(random_state=0)
    assert len(y) == 300 and list(np.bincount(y)) == [100, 100, 100]


@pytest.mark.parametrize(
    ("call", "error", "match"),
    [
        (lambda: make_linear(0), ValueError, "n_samples"),
        (lambda: make_xor(2.5), TypeError, "n_samples"),
        (lambda: make_xor(10, scale=-1), ValueError, "scale"),
        (lambda: make_circles(10, factor=1.0), ValueError, "factor"),
        (lambda: make_circles(10, factor="big"), TypeError, "factor"),
        (lambda: make_circles(10, noise=-0.1), ValueError, "noise"),
        (lambda: make_circles(10, noise="lots"), TypeError, "noise"),
        (lambda: make_circles((1, 2, 3)), ValueError, "n_samples"),
        (lambda: make_circles(1), ValueError, "n_samples"),
        (lambda: make_moons(10, random_state=-1), ValueError, "random_state"),
        (lambda: make_moons(10, random_state="seed"), TypeError, "random_state"),
        (lambda: make_spirals(2, n_classes=3), ValueError, "n_samples"),
        (lambda: make_spirals(30, n_classes=1), ValueError, "n_classes"),
        (lambda: make_spirals(30, turns=0), ValueError, "turns"),
    ],
)
def test_bad_arguments(call, error, match):
    with pytest.raises(error, match=match):
        call()


@pytest.mark.parametrize(
    ("call", "named"),
    [
        (lambda: make_linear(100, noise=1e308, random_state=0), r"noise=1e\+308"),
        (lambda: make_moons(100, noise=1e308, random_state=0), r"noise=1e\+308"),
        (lambda: make_circles(100, noise=1e308, random_state=0), r"noise=1e\+308"),
        (lambda: make_xor(100, scale=1e308, random_state=0), r"scale=1e\+308 and noise=0.0"),
        (lambda: make_xor(100, noise=1e308, random_state=0), r"scale=2.0 and noise=1e\+308"),
        (lambda: make_spirals(30, turns=1e308, random_state=0), r"turns=1e\+308 and noise=0.2"),
        (lambda: make_spirals(30, noise=1e308, random_state=0), r"turns=1.0 and noise=1e\+308"),
    ],
)
def test_values_that_overflow_the_points_are_refused_by_name(call, named):
    """They gave points of infinity or NaN without a word."""
    with pytest.raises(ValueError, match=named + " make points beyond the float64 range"):
        call()


@pytest.mark.parametrize("make", [make_circles, make_moons, make_spirals])
def test_shuffle_must_be_a_bool(make):
    """``shuffle="no"`` is true: read as a truth value, it shuffled."""
    with pytest.raises(TypeError, match="shuffle must be True or False, got str 'no'"):
        make(30, shuffle="no")
    _, y = make(30, shuffle=np.False_)
    assert (np.diff(y) >= 0).all()
