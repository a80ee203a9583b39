r"""Toy 2-D classification problems, the article's and a few classics.

Every generator returns ``X`` of shape ``(n_samples, 2)`` (float64) and integer labels
``y`` of shape ``(n_samples,)``, and takes ``random_state``: ``None`` (fresh entropy), an
int seed, or a :class:`numpy.random.Generator` / :class:`numpy.random.RandomState`. The
same int gives the same data.

==================  ==========================================================  =========
generator           rule                                                        classes
==================  ==========================================================  =========
``make_linear``     :math:`x \sim N(0, I)`, :math:`y = [x_1 + x_2 > 0]`         2
``make_xor``        :math:`x \sim N(0, s^2 I)`, :math:`y = [x_1 x_2 > 0]`       2
``make_circles``    two concentric circles of radius 1 and ``factor``           2
``make_moons``      two interleaved half circles                                2
``make_spirals``    ``n_classes`` interleaved spiral arms                       k
==================  ==========================================================  =========

``make_circles`` and ``make_moons`` give their arguments the meaning scikit-learn gives
them: ``n_samples`` (an int split as evenly as possible, or a pair ``(outer, inner)``),
``noise`` (the standard deviation of Gaussian noise added to the points), ``factor``
(inner radius over outer radius), ``shuffle`` and ``random_state``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..validation import check_flag, check_int, check_non_negative, check_positive

__all__ = ["make_circles", "make_linear", "make_moons", "make_spirals", "make_xor"]

RandomState = int | np.random.Generator | np.random.RandomState | None


def _rng(random_state: RandomState) -> np.random.Generator | np.random.RandomState:
    if isinstance(random_state, (np.random.Generator, np.random.RandomState)):
        return random_state
    if random_state is None:
        return np.random.default_rng()
    if isinstance(random_state, bool) or not isinstance(random_state, (int, np.integer)):
        raise TypeError(
            "random_state must be None, an int or a numpy Generator, "
            f"got {type(random_state).__name__} {random_state!r}"
        )
    if random_state < 0:
        raise ValueError(f"random_state must be >= 0, got {random_state!r}")
    return np.random.default_rng(int(random_state))


def _noise(noise: Any) -> float:
    """The standard deviation of the Gaussian noise (``None`` means none)."""
    return 0.0 if noise is None else check_non_negative("noise", noise)


def _two_class_counts(n_samples: int | tuple[int, int]) -> list[int]:
    """Samples per class: a total split in half (class 0 gets ``n // 2``), or a pair."""
    if isinstance(n_samples, (int, np.integer)) and not isinstance(n_samples, bool):
        total = check_int("n_samples", n_samples, minimum=2)
        return [total // 2, total - total // 2]
    return _split(n_samples, 2)


def _split(n_samples: Any, n_parts: int) -> list[int]:
    """Per-class counts: an int split as evenly as possible (earlier classes get the
    remainder), or a sequence with one count per class."""
    if isinstance(n_samples, (int, np.integer)) and not isinstance(n_samples, bool):
        total = check_int("n_samples", n_samples, minimum=n_parts)
        return [total // n_parts + (1 if k < total % n_parts else 0) for k in range(n_parts)]
    try:
        if isinstance(n_samples, (str, bytes)):  # else "10" would be the counts "1", "0"
            raise TypeError
        counts = list(n_samples)
    except TypeError:
        raise TypeError(
            f"n_samples must be an int or a sequence of {n_parts} ints, "
            f"got {type(n_samples).__name__} {n_samples!r}"
        ) from None
    if len(counts) != n_parts:
        raise ValueError(
            f"n_samples as a sequence must hold {n_parts} counts (one per class), got {counts!r}"
        )
    return [check_int("n_samples", c, minimum=1) for c in counts]


def _finish(
    X: np.ndarray,
    y: np.ndarray,
    noise: float,
    shuffle: bool,
    rng: Any,
    sizes: dict[str, float] | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Add the noise, shuffle, and refuse points that overflowed, naming ``sizes``, the
    arguments that set their scale (by default ``noise``)."""
    if noise > 0:
        with np.errstate(over="ignore", invalid="ignore"):  # checked below
            X = X + noise * rng.standard_normal(X.shape)
    if not np.isfinite(X).all():
        sizes = {"noise": noise} if sizes is None else sizes
        given = " and ".join(f"{name}={value!r}" for name, value in sizes.items())
        raise ValueError(f"{given} make points beyond the float64 range; use smaller values")
    if shuffle:
        order = rng.permutation(len(y))
        X, y = X[order], y[order]
    return np.ascontiguousarray(X, dtype=np.float64), y.astype(np.int64)


def make_linear(
    n_samples: int = 100, *, noise: float | None = None, random_state: RandomState = None
) -> tuple[np.ndarray, np.ndarray]:
    """Points from a standard normal, labelled 1 above the line ``x1 + x2 = 0``.

    The article's sanity check. ``noise`` adds Gaussian noise of that standard deviation
    to the points after labelling, so some labels land on the wrong side.
    """
    n_samples = check_int("n_samples", n_samples)
    noise, rng = _noise(noise), _rng(random_state)
    X = rng.standard_normal((n_samples, 2))
    y = (X[:, 0] + X[:, 1] > 0).astype(np.int64)
    return _finish(X, y, noise, False, rng)


def make_xor(
    n_samples: int = 1000,
    *,
    scale: float = 2.0,
    noise: float | None = None,
    random_state: RandomState = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Points from ``N(0, scale^2)``, labelled 1 when both coordinates have the same sign.

    The article's XOR problem (``scale=2``): no straight line separates the classes.
    ``noise`` adds Gaussian noise to the points after labelling.
    """
    n_samples = check_int("n_samples", n_samples)
    scale = check_positive("scale", scale)
    noise, rng = _noise(noise), _rng(random_state)
    with np.errstate(over="ignore"):  # checked by _finish
        X = rng.standard_normal((n_samples, 2)) * float(scale)
    # From the signs: the product of two small coordinates underflows to 0 (label 0).
    y = (np.sign(X[:, 0]) * np.sign(X[:, 1]) > 0).astype(np.int64)
    return _finish(X, y, noise, False, rng, {"scale": scale, "noise": noise})


def make_circles(
    n_samples: int | tuple[int, int] = 100,
    *,
    shuffle: bool = True,
    noise: float | None = None,
    random_state: RandomState = None,
    factor: float = 0.8,
) -> tuple[np.ndarray, np.ndarray]:
    """A circle of radius 1 (label 0) around a circle of radius ``factor`` (label 1).

    Points sit at evenly spaced angles on each circle; ``noise`` adds Gaussian noise of
    that standard deviation. ``n_samples`` is the total (the outer circle gets
    ``n_samples // 2``) or a pair ``(outer, inner)``. ``0 <= factor < 1``.
    """
    if isinstance(factor, bool) or not isinstance(factor, (int, float, np.integer, np.floating)):
        raise TypeError(f"factor must be a number, got {type(factor).__name__} {factor!r}")
    if not (0 <= factor < 1):
        raise ValueError(f"factor must be in [0, 1), got {factor!r}")
    counts = _two_class_counts(n_samples)
    noise, rng = _noise(noise), _rng(random_state)
    rings = []
    for radius, count in zip((1.0, float(factor)), counts, strict=True):
        angle = np.linspace(0.0, 2.0 * np.pi, count, endpoint=False)
        rings.append(radius * np.column_stack([np.cos(angle), np.sin(angle)]))
    X = np.vstack(rings)
    y = np.repeat(np.arange(2), counts)
    return _finish(X, y, noise, check_flag("shuffle", shuffle), rng)


def make_moons(
    n_samples: int | tuple[int, int] = 100,
    *,
    shuffle: bool = True,
    noise: float | None = None,
    random_state: RandomState = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Two interleaved half circles of radius 1.

    Label 0: the upper arc centred at (0, 0); label 1: the lower arc centred at
    (1, 0.5). Points are evenly spaced along each arc; ``noise`` adds Gaussian noise.
    ``n_samples`` is the total (label 0 gets ``n_samples // 2``) or a pair.
    """
    counts = _two_class_counts(n_samples)
    noise, rng = _noise(noise), _rng(random_state)
    upper = np.linspace(0.0, np.pi, counts[0])
    lower = np.linspace(0.0, np.pi, counts[1])
    X = np.vstack(
        [
            np.column_stack([np.cos(upper), np.sin(upper)]),
            np.column_stack([1.0 - np.cos(lower), 0.5 - np.sin(lower)]),
        ]
    )
    y = np.repeat(np.arange(2), counts)
    return _finish(X, y, noise, check_flag("shuffle", shuffle), rng)


def make_spirals(
    n_samples: int = 300,
    *,
    n_classes: int = 3,
    turns: float = 1.0,
    noise: float | None = 0.2,
    shuffle: bool = True,
    random_state: RandomState = None,
) -> tuple[np.ndarray, np.ndarray]:
    r"""``n_classes`` spiral arms winding out of the origin, one class per arm.

    Along arm ``k`` the radius grows evenly from 0 to 1 while the angle turns
    ``turns`` full circles, starting at :math:`2\pi k / K`. ``noise`` is the standard
    deviation of Gaussian noise added to the angle (in radians), as in the classic
    spirals problem. The classes are as balanced as possible (the first
    ``n_samples % n_classes`` classes get one more point).
    """
    n_classes = check_int("n_classes", n_classes, minimum=2)
    counts = _split(n_samples, n_classes)
    turns = check_positive("turns", turns)
    noise, rng = _noise(noise), _rng(random_state)
    arms = []
    for k, count in enumerate(counts):
        radius = np.linspace(0.0, 1.0, count)
        with np.errstate(over="ignore", invalid="ignore"):  # checked by _finish
            angle = 2.0 * np.pi * (k / n_classes + float(turns) * radius)
            if noise > 0:
                angle = angle + noise * rng.standard_normal(count)
            arms.append(radius[:, None] * np.column_stack([np.cos(angle), np.sin(angle)]))
    X = np.vstack(arms)
    y = np.repeat(np.arange(n_classes), counts)
    return _finish(X, y, 0.0, check_flag("shuffle", shuffle), rng, {"turns": turns, "noise": noise})
