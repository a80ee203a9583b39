r"""Standardisation of the inputs: per-feature statistics, and the transform they define.

A :class:`Standardizer` holds, for each of ``n`` features, a mean :math:`\mu_j` and a
scale :math:`s_j > 0`, and maps a row ``x`` to

.. math:: \tilde x_j = (x_j - \mu_j) / s_j .

:meth:`Standardizer.fit` computes them from data ``X`` ``(m, n)`` in float64: the mean
and the population standard deviation (``ddof=0``, as ``numpy.std`` and scikit-learn's
``StandardScaler``) of each column; a constant column gets scale 1, so that it becomes 0
rather than a division by zero. It reads ``X`` a block of rows at a time, so that a
memory-mapped array is never held whole, and combines the blocks with the pairwise update
of Chan, Golub and LeVeque: a block ``B`` of :math:`n_B` rows with mean :math:`\bar x_B`
and :math:`M_B = \sum_{i \in B} (x_i - \bar x_B)^2` joins the rows ``A`` seen so far as

.. math::
    n = n_A + n_B,\quad \delta = \bar x_B - \bar x_A,\quad
    \bar x = \bar x_A + \delta\,\frac{n_B}{n},\quad
    M = M_A + M_B + \delta^2\,\frac{n_A n_B}{n},

and finally :math:`s = \sqrt{M / n}`. Each block's own sums are two passes over rows held
in memory, so no sum of squares of raw values is ever formed (no cancellation).

An :class:`~mlpzero.MLP` built with ``standardize=True`` fits one on its first training
data and hands it to its :class:`~mlpzero.network.Network`, which applies it to every
batch before the first layer.

>>> import numpy as np
>>> X = np.array([[1.0, 10.0, 5.0], [3.0, 30.0, 5.0]])
>>> s = Standardizer.fit(X)
>>> s.mean.tolist(), s.scale.tolist()
([2.0, 20.0, 5.0], [1.0, 10.0, 1.0])
>>> s.apply(X).tolist()
[[-1.0, -1.0, 0.0], [1.0, 1.0, 0.0]]
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from .validation import check_int

__all__ = ["Moments", "Standardizer"]

#: ``(count, mean, M, low, high)`` of some rows: their number, and per column their mean,
#: sum of squared deviations from it, smallest and largest value.
Moments = tuple[int, np.ndarray, np.ndarray, np.ndarray, np.ndarray]

#: Values read per block when computing the statistics (rows times features).
_BLOCK_VALUES = 1 << 20


class Standardizer:
    r"""The per-feature transform :math:`(x - \mu) / s`.

    The statistics are kept as read-only float64 copies; :meth:`apply` computes in the
    dtype of the data it is given (the statistics rounded to it once), as the exported
    ONNX graph and C header do.

    Parameters
    ----------
    mean:
        :math:`\mu`, shape ``(n_features,)``, finite.
    scale:
        :math:`s`, shape ``(n_features,)``, finite and > 0.
    """

    def __init__(self, mean: Any, scale: Any) -> None:
        mean = _statistic("mean", mean)
        scale = _statistic("scale", scale)
        if mean.shape != scale.shape:
            raise ValueError(
                f"mean and scale must have the same shape, got {mean.shape} and {scale.shape}"
            )
        if not (scale > 0).all():
            bad = int(np.flatnonzero(~(scale > 0))[0])
            raise ValueError(
                f"scale must be > 0 for every feature, got {float(scale[bad])!r} at {bad}"
            )
        mean.setflags(write=False)
        scale.setflags(write=False)
        self.mean, self.scale = mean, scale
        self._cast: dict[np.dtype, tuple[np.ndarray, np.ndarray]] = {}

    @property
    def n_features(self) -> int:
        return self.mean.shape[0]

    @classmethod
    def fit(
        cls, X: Any, rows: np.ndarray | None = None, block_rows: int | None = None
    ) -> Standardizer:
        """The statistics of the columns of ``X`` ``(m, n)`` (or of its rows ``rows``).

        ``X`` may be any array that slicing reads a block of rows from (a memory-mapped
        array included); ``block_rows`` rows are read at a time (default: about a million
        values per block). Raises :class:`ValueError` when ``X`` holds a non-finite value
        or values so large that computing their statistics overflows float64: a sum beyond
        the largest float64, or deviations from the mean beyond about 1e154, whose
        squares overflow.
        """
        return cls.from_moments([cls.moments(X, rows, block_rows)])

    @staticmethod
    def moments(X: Any, rows: np.ndarray | None = None, block_rows: int | None = None) -> Moments:
        """``(count, mean, M, low, high)`` of the columns of ``X`` (or of its rows
        ``rows``, which may be none): the parts :meth:`from_moments` joins. Several parts,
        each of some of the rows (the shares of the ranks of a distributed fit), join into
        the statistics of all of them."""
        shape = np.shape(X)
        if len(shape) != 2 or shape[1] == 0:
            raise ValueError(f"X must be 2-D (n_samples, n_features), got shape {shape}")
        if rows is not None:
            rows = np.asarray(rows)
            if rows.ndim != 1 or (rows.size and rows.dtype.kind not in "iu"):
                raise ValueError(f"rows must be a 1-D array of row indices, got {rows!r}")
            if rows.size and (rows.min() < 0 or rows.max() >= shape[0]):
                raise ValueError(
                    f"rows must index the {shape[0]} rows of X, got indices from "
                    f"{rows.min()} to {rows.max()}"
                )
        m = shape[0] if rows is None else len(rows)
        if block_rows is None:
            block_rows = max(1, _BLOCK_VALUES // shape[1])
        block_rows = check_int("block_rows", block_rows)
        count, mean, m2 = 0, np.zeros(shape[1]), np.zeros(shape[1])
        low, high = np.full(shape[1], np.inf), np.full(shape[1], -np.inf)
        with np.errstate(over="ignore", invalid="ignore"):
            for start in range(0, m, block_rows):
                part = slice(start, start + block_rows)
                block = np.asarray(X[part] if rows is None else X[rows[part]], dtype=np.float64)
                if not np.isfinite(block).all():
                    raise ValueError("X contains NaN or infinity: cannot standardise it")
                mean_b = block.mean(axis=0)
                m2_b = np.square(block - mean_b).sum(axis=0)
                count, mean, m2 = _join(count, mean, m2, block.shape[0], mean_b, m2_b)
                np.minimum(low, block.min(axis=0), out=low)
                np.maximum(high, block.max(axis=0), out=high)
        return count, mean, m2, low, high

    @classmethod
    def from_moments(cls, parts: Sequence[Moments]) -> Standardizer:
        """The standardiser of the rows of all ``parts`` (from :meth:`moments`), joined in
        order with the update above."""
        if len(parts) == 0:
            raise ValueError("parts must hold the moments of at least one share of rows, got none")
        count, mean, m2 = 0, np.zeros(parts[0][1].shape), np.zeros(parts[0][1].shape)
        low, high = parts[0][3].copy(), parts[0][4].copy()
        with np.errstate(over="ignore", invalid="ignore"):
            for n_b, mean_b, m2_b, low_b, high_b in parts:
                if n_b:
                    count, mean, m2 = _join(count, mean, m2, n_b, mean_b, m2_b)
                np.minimum(low, low_b, out=low)
                np.maximum(high, high_b, out=high)
            if count == 0:
                raise ValueError("X has no rows to compute the standardisation statistics from")
            scale = np.sqrt(m2 / count)
        constant = low == high
        mean[constant] = low[constant]  # exactly the value: the column becomes exactly 0
        # A spread whose square underflows float64 is no spread a division could use.
        scale[constant | (scale == 0)] = 1.0
        finite = np.isfinite(mean) & np.isfinite(scale)
        if not finite.all():
            column = int(np.flatnonzero(~finite)[0])
            cause = (
                "the sum of its values is"
                if not np.isfinite(mean[column])
                else "the squares of its deviations from the mean are"
            )
            raise ValueError(
                f"X: standardising column {column} overflows float64: {cause} beyond the "
                f"largest float64 (its values reach "
                f"{max(abs(low[column]), abs(high[column])):.3g}); rescale X"
            )
        return cls(mean, scale)

    def apply(self, X: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
        """``(X - mean) / scale`` for ``X`` ``(m, n_features)``, in ``X``'s float dtype.

        ``out`` (same shape and dtype) receives the result and is returned; ``out=X``
        standardises in place.

        A finite value whose ``x - mean`` or ``(x - mean) / scale`` is beyond the dtype's
        largest number is refused with a :class:`ValueError`: as infinity it would pass
        through a saturating activation (sigmoid, tanh, a ReLU fed a negative weight) as
        a finite but wrong output. In float32 the difference overflows long before the
        value does: ``3e38 - (-1e38)``, one scale away from the mean of such a feature.
        """
        if not isinstance(X, np.ndarray) or X.dtype.kind != "f":
            got = X.dtype if isinstance(X, np.ndarray) else type(X).__name__
            raise TypeError(
                f"X must be an array of floats to standardise (the result is in its dtype), "
                f"got {got}: convert it first, e.g. np.asarray(X, dtype=np.float64)"
            )
        if X.ndim != 2 or X.shape[1] != self.n_features:
            raise ValueError(
                f"X must have {self.n_features} features to standardise, got shape {X.shape}"
            )
        mean, scale = self.statistics_in(X.dtype)
        # Callers silence overflow around whole passes (their outputs are checked after);
        # this one is decided here, where the value that caused it is still known.
        try:
            with np.errstate(over="raise"):
                out = np.subtract(X, mean, out=out)
                return np.divide(out, scale, out=out)
        except FloatingPointError:
            overwritten = out is not None and np.may_share_memory(out, X)
            raise ValueError(self._overflow_message(X, overwritten)) from None

    def _overflow_message(self, X: np.ndarray, overwritten: bool) -> str:
        """Why :meth:`apply` refused ``X``: its first finite value whose standardised
        value overflows ``X``'s dtype, in which feature. When ``X`` was the output too
        (``overwritten``) its values have been replaced (by ``x - mean`` or the
        standardised values, infinite where they overflowed): none is left to name."""
        dtype = np.dtype(X.dtype)
        if overwritten:
            return (
                f"X: standardising in place overflows {dtype.name} (X is overwritten, "
                "infinite where it overflowed); rescale the features or use dtype='float64'"
            )
        mean, scale = self._cast[X.dtype]
        with np.errstate(over="ignore", invalid="ignore"):
            result = (X - mean) / scale  # the same arithmetic as apply's, so it overflows too
        row, j = (int(i) for i in np.argwhere(~np.isfinite(result) & np.isfinite(X))[0])
        return (
            f"X: standardising feature {j} overflows {dtype.name}: the value "
            f"{float(X[row, j]):.6g} is {float(X[row, j]) - float(self.mean[j]):.6g} from the "
            f"feature's mean {float(self.mean[j]):.6g} (scale {float(self.scale[j]):.6g}), "
            f"beyond the largest {dtype.name} ({float(np.finfo(dtype).max):.3g}); rescale "
            "this feature or use dtype='float64'"
        )

    def statistics_in(self, dtype: Any) -> tuple[np.ndarray, np.ndarray]:
        """The mean and scale rounded to ``dtype``, as :meth:`apply` uses them; a
        :class:`ValueError` if a mean is infinite or a scale zero or subnormal there."""
        dtype = np.dtype(dtype)
        if dtype.kind != "f":
            raise TypeError(f"dtype must be a float dtype, got {dtype}")
        cast = self._cast.get(dtype)
        if cast is None:
            cast = self._cast[dtype] = self._statistics_in(dtype)
        return cast

    def _statistics_in(self, dtype: np.dtype) -> tuple[np.ndarray, np.ndarray]:
        """The mean and scale rounded to ``dtype``; refused if that rounding leaves a mean
        infinite or a scale zero or subnormal (every standardised value would then be
        infinite, or lose its digits)."""
        with np.errstate(over="ignore", under="ignore"):
            mean, scale = self.mean.astype(dtype), self.scale.astype(dtype)
        bad = ~np.isfinite(mean) | ~(scale >= np.finfo(dtype).tiny)
        if bad.any():
            j = int(np.flatnonzero(bad)[0])
            raise ValueError(
                f"standardize: feature {j}'s mean {float(self.mean[j])!r} and scale "
                f"{float(self.scale[j])!r} do not fit in {np.dtype(dtype).name}: the scale "
                "must be a normal number there and the mean finite"
            )
        return mean, scale

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Standardizer):
            return NotImplemented
        return np.array_equal(self.mean, other.mean) and np.array_equal(self.scale, other.scale)

    __hash__ = None  # type: ignore[assignment]  # equal by value, and mutable arrays inside

    def __getstate__(self) -> dict[str, Any]:
        return {"mean": self.mean, "scale": self.scale}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__init__(state["mean"], state["scale"])

    def __repr__(self) -> str:
        return f"Standardizer(n_features={self.n_features})"


def _join(
    count: int, mean: np.ndarray, m2: np.ndarray, n_b: int, mean_b: np.ndarray, m2_b: np.ndarray
) -> tuple[int, np.ndarray, np.ndarray]:
    """The count, mean and ``M`` of rows ``A`` (``count, mean, m2``) and ``B`` together."""
    if count == 0:
        return n_b, mean_b.copy(), m2_b.copy()
    total = count + n_b
    delta = mean_b - mean
    return (
        total,
        mean + delta * (n_b / total),
        m2 + m2_b + np.square(delta) * (count * n_b / total),
    )


def _statistic(name: str, value: Any) -> np.ndarray:
    """``value`` as a finite 1-D float64 copy; an error names ``name``."""
    try:
        array = np.array(value, dtype=np.float64)
    except (TypeError, ValueError) as error:
        raise TypeError(f"{name} must be an array of numbers: {error}") from None
    if array.ndim != 1 or array.size == 0:
        raise ValueError(f"{name} must be 1-D with one value per feature, got shape {array.shape}")
    if not np.isfinite(array).all():
        raise ValueError(f"{name} must be finite, got {array[~np.isfinite(array)][:3].tolist()}")
    return array
