r"""The playground's 2-D datasets and input features.

Circle, XOR, spiral, moons and linear come from :mod:`mlpzero.datasets.toy`, rescaled to
the view; the Gaussian clusters and the two regression surfaces (plane, Gaussian bump)
are defined here.

Every dataset lives on the square ``[-6, 6]^2`` so that one view, one grid and the ``sin``
features suit them all. Without noise the points stay within about ``[-5, 5]``, and only
a rare point of a Gaussian tail (XOR, linear) lies beyond the view; noise spreads them
further, and at 50 % some 9 % of the circle's points, and 3 to 4 % of XOR's and the
Gaussian clusters', lie outside it, where the page does not draw them.
Classification labels are ``0`` and ``1``; regression targets lie in ``[-1, 1]``.

``noise`` is a percentage from 0 to 50, as on the page; each dataset turns it into its own
jitter. ``make_dataset(name, n_samples, noise, seed)`` is the one entry point, and the same
arguments always give the same points.

Input features are functions of the two coordinates ``x1`` and ``x2``:
``x1``, ``x2``, ``x1^2``, ``x2^2``, ``x1 x2``, ``sin(x1)``, ``sin(x2)``
(:data:`FEATURES`, applied by :func:`features`).
"""

from __future__ import annotations

import numbers
from collections.abc import Callable, Sequence

import numpy as np

from ..datasets import toy
from ..validation import check_int

__all__ = [
    "CLASSIFICATION",
    "DATASETS",
    "DOMAIN",
    "FEATURES",
    "REGRESSION",
    "features",
    "grid",
    "make_dataset",
    "split",
]

#: Half-width of the square the page shows: points and grids live in ``[-DOMAIN, DOMAIN]^2``.
DOMAIN = 6.0
_RADIUS = 5.0

Generator = Callable[[int, float, np.random.Generator], tuple[np.ndarray, np.ndarray]]


def _circle(n: int, noise: float, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Two concentric circles (radius 5, class 0; radius 2.5, class 1)."""
    X, y = toy.make_circles(n, noise=0.6 * noise, factor=0.5, random_state=rng)
    return X * _RADIUS, y


def _xor(n: int, noise: float, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """XOR as in the article: class 1 where both coordinates have the same sign."""
    return toy.make_xor(n, scale=2.0, noise=3 * noise, random_state=rng)


def _gauss(n: int, noise: float, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Two Gaussian clusters at ``(2, 2)`` (class 1) and ``(-2, -2)`` (class 0)."""
    std = 0.5 + 3.0 * noise
    y = (np.arange(n) < n // 2).astype(np.int64)
    centres = np.where(y[:, None] == 1, 2.0, -2.0)
    X = centres + rng.standard_normal((n, 2)) * std
    return X, y


def _spiral(n: int, noise: float, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Two spiral arms of radius 5 turning 1.25 times."""
    X, y = toy.make_spirals(n, n_classes=2, turns=1.25, noise=0.6 * noise, random_state=rng)
    return X * _RADIUS, y


def _moons(n: int, noise: float, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Two interleaved half circles, centred and scaled by 3 to fill the view."""
    X, y = toy.make_moons(n, noise=0.6 * noise, random_state=rng)
    return (X - [0.5, 0.25]) * 3.0, y


def _linear(n: int, noise: float, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Class 1 above the line ``x1 + x2 = 0`` (standard normal points, scaled by 1.7)."""
    X, y = toy.make_linear(n, noise=0.6 * noise, random_state=rng)
    return X * 1.7, y


def _plane(n: int, noise: float, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Regression on a tilted plane: ``y = (x1 + x2) / 10`` plus noise, in ``[-1, 1]``."""
    X = rng.uniform(-_RADIUS, _RADIUS, (n, 2))
    y = (X[:, 0] + X[:, 1]) / (2 * _RADIUS)
    y = y + rng.uniform(-1, 1, n) * noise
    return X, np.clip(y, -1, 1)


def _bump(n: int, noise: float, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Regression on a Gaussian bump: ``y = 2 exp(-|x|^2 / 8) - 1`` plus noise."""
    X = rng.uniform(-_RADIUS, _RADIUS, (n, 2))
    y = 2 * np.exp(-(X**2).sum(axis=1) / 8.0) - 1
    y = y + rng.uniform(-1, 1, n) * noise
    return X, np.clip(y, -1, 1)


CLASSIFICATION: dict[str, Generator] = {
    "circle": _circle,
    "xor": _xor,
    "gauss": _gauss,
    "spiral": _spiral,
    "moons": _moons,
    "linear": _linear,
}
REGRESSION: dict[str, Generator] = {"plane": _plane, "bump": _bump}
DATASETS: dict[str, Generator] = {**CLASSIFICATION, **REGRESSION}


def make_dataset(
    name: str, n_samples: int = 500, noise: float = 0, seed: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """Points ``X`` ``(n_samples, 2)`` and targets ``y`` ``(n_samples,)`` of dataset ``name``.

    ``n_samples`` is an integer of at least 1 (2 for the circles, spirals and moons),
    ``noise`` a percentage in ``[0, 50]``, ``seed`` an integer of at least 0.
    Classification targets are 0/1 integers, regression targets floats in ``[-1, 1]``.
    The rows come in a random order.
    """
    if not isinstance(name, str) or name not in DATASETS:  # a list cannot even be looked up
        raise ValueError(f"dataset must be one of {sorted(DATASETS)}, got {name!r}")
    if isinstance(noise, bool) or not isinstance(noise, numbers.Real) or not 0 <= noise <= 50:
        raise ValueError(f"noise must be a percentage in [0, 50], got {noise!r}")
    n_samples = check_int("n_samples", n_samples)
    # An integer only: None (fresh entropy) or a Generator (its state moves on) would give
    # other points for the same arguments.
    seed = check_int("seed", seed, minimum=0)
    rng = np.random.default_rng(seed)
    X, y = DATASETS[name](n_samples, noise / 100.0, rng)
    order = rng.permutation(len(y))
    return X[order], y[order]


def split(
    X: np.ndarray, y: np.ndarray, train_percent: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """``(X_train, y_train, X_test, y_test)``: the first ``train_percent`` % of the rows
    train, the rest test (the rows are already in random order)."""
    if (
        isinstance(train_percent, bool)
        or not isinstance(train_percent, numbers.Real)
        or not 0 <= train_percent <= 100
    ):
        raise ValueError(f"train_percent must be a percentage in [0, 100], got {train_percent!r}")
    if len(X) != len(y):  # the cut is a number of rows of both
        raise ValueError(f"X and y must have as many rows, got {len(X)} and {len(y)}")
    cut = round(len(y) * train_percent / 100.0)
    return X[:cut], y[:cut], X[cut:], y[cut:]


FEATURES: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "x1": lambda X: X[:, 0],
    "x2": lambda X: X[:, 1],
    "x1sq": lambda X: X[:, 0] ** 2,
    "x2sq": lambda X: X[:, 1] ** 2,
    "x1x2": lambda X: X[:, 0] * X[:, 1],
    "sinx1": lambda X: np.sin(X[:, 0]),
    "sinx2": lambda X: np.sin(X[:, 1]),
}
#: How the page labels each feature.
FEATURE_LABELS = {
    "x1": "x₁",
    "x2": "x₂",
    "x1sq": "x₁²",
    "x2sq": "x₂²",
    "x1x2": "x₁x₂",
    "sinx1": "sin(x₁)",
    "sinx2": "sin(x₂)",
}


def features(X: np.ndarray, names: Sequence[str]) -> np.ndarray:
    """The chosen input features of the points ``X`` ``(n, 2)``, shape ``(n, len(names))``,
    in the order of :data:`FEATURES`."""
    unknown = [name for name in names if name not in FEATURES]
    if unknown or not names:
        raise ValueError(f"features must be a non-empty subset of {list(FEATURES)}, got {names!r}")
    X = np.asarray(X)
    if X.ndim != 2 or X.shape[1] != 2:  # a third column would be ignored without a word
        raise ValueError(f"X must hold points (x1, x2), shape (n, 2), got shape {X.shape}")
    chosen = [name for name in FEATURES if name in names]
    return np.column_stack([FEATURES[name](X) for name in chosen])


def grid(size: int) -> np.ndarray:
    """The centres of a ``size x size`` grid over the view, row by row from the top:
    shape ``(size * size, 2)``, ``x1`` growing to the right and ``x2`` upwards. ``size`` is
    an integer of at least 1."""
    size = check_int("size", size)
    step = 2 * DOMAIN / size
    centres = -DOMAIN + step * (np.arange(size) + 0.5)
    x1, x2 = np.meshgrid(centres, centres[::-1])
    return np.column_stack([x1.ravel(), x2.ravel()])
