r"""Metrics computed from predictions: the confusion matrix and the coefficient of
determination. (Loss values live in :mod:`mlpzero.losses`; accuracy in
:meth:`mlpzero.MLP.evaluate`.)
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .validation import is_missing

__all__ = ["confusion_matrix", "label_pair", "r2_score"]


def _one_dimensional(values: Any, name: str) -> np.ndarray:
    try:
        array = np.asarray(values)
    except ValueError as error:  # rows of different lengths
        raise ValueError(f"{name} could not be read as an array: {error}") from None
    if array.ndim == 2 and array.shape[1] == 1:
        array = array[:, 0]
    if array.ndim != 1:
        raise ValueError(f"{name} must be 1-D with one entry per sample, got shape {array.shape}")
    if array.dtype.kind in "fc" and np.isnan(array).any():
        first = int(np.flatnonzero(np.isnan(array))[0])
        raise ValueError(f"{name} holds NaN at index {first}: a label cannot be missing")
    if array.dtype.kind in "mM" and np.isnat(array).any():  # a missing date or duration
        first = int(np.flatnonzero(np.isnat(array))[0])
        raise ValueError(f"{name} holds NaT at index {first}: a label cannot be missing")
    if array.dtype.kind in "OT":  # objects, or NumPy's StringDType, which may name a missing one
        values = array.tolist()
        first = next((i for i, value in enumerate(values) if is_missing(value)), None)
        if first is not None:
            raise ValueError(
                f"{name} holds {values[first]!r} at index {first}: a label cannot be missing"
            )
        if array.dtype.kind == "T":  # fixed-width text, which sorts and compares with "<U"
            array = np.array(values, dtype=str)
    return array


def _label_kind(values: np.ndarray) -> str | None:
    """``"strings"`` or ``"numbers"`` by dtype; None for objects, which may hold either."""
    kind = values.dtype.kind
    return "strings" if kind in "US" else "numbers" if kind in "biuf" else None


def _check_same_kind(a: np.ndarray, a_name: str, b: np.ndarray, b_name: str) -> None:
    """Refuse strings against numbers: NumPy would compare them as text, so that ``1``
    is not the label ``"1"``, nor a list ``["a", 1]`` (read as text) the number 1."""
    kinds = _label_kind(a), _label_kind(b)
    if None not in kinds and kinds[0] != kinds[1]:
        raise ValueError(
            f"{a_name} holds {kinds[0]} ({a[:3].tolist()}, ...) and {b_name} {kinds[1]} "
            f"({b[:3].tolist()}, ...): a confusion matrix compares labels of one kind"
        )


def label_pair(y_true: Any, y_pred: Any) -> tuple[np.ndarray, np.ndarray]:
    """``y_true`` and ``y_pred`` as 1-D label arrays with no missing label, refusing
    strings against numbers (which never compare equal), as :func:`confusion_matrix`
    reads them; their lengths are left to the caller."""
    y_true = _one_dimensional(y_true, "y_true")
    y_pred = _one_dimensional(y_pred, "y_pred")
    _check_same_kind(y_true, "y_true", y_pred, "y_pred")
    return y_true, y_pred


def confusion_matrix(y_true: Any, y_pred: Any, labels: Any = None) -> tuple[np.ndarray, np.ndarray]:
    """Counts ``C[i, j]`` of samples whose true label is ``labels[i]`` and prediction
    ``labels[j]``.

    ``labels`` fixes the order of the rows and columns; by default it is the sorted union
    of the labels in ``y_true`` and ``y_pred``, which must then not hold fractions: those
    are measurements (a regression's targets or outputs), each value its own class, and a
    matrix of ``k * k`` counts grows with the square of the samples. Returns
    ``(C, labels)``; ``C`` is int64 of shape ``(k, k)``, its diagonal holds the correct
    predictions and its sum is the number of samples.
    """
    y_true = _one_dimensional(y_true, "y_true")
    y_pred = _one_dimensional(y_pred, "y_pred")
    if y_true.shape != y_pred.shape:
        raise ValueError(
            f"y_true and y_pred must have the same length, got {len(y_true)} and {len(y_pred)}"
        )
    if labels is None:
        _check_same_kind(y_true, "y_true", y_pred, "y_pred")
        for values, name in ((y_true, "y_true"), (y_pred, "y_pred")):
            if values.dtype.kind != "f":
                continue
            fractions = np.flatnonzero(values != np.round(values))
            if len(fractions):
                raise ValueError(
                    f"{name} holds {values[fractions[0]]!r} at index {fractions[0]}: a "
                    "confusion matrix counts class labels, not measurements (a regression's "
                    "targets or outputs); pass labels= to count such values as classes"
                )
        labels = _sorted_distinct(np.concatenate([y_true, y_pred]), "y_true and y_pred")
    else:
        labels = np.asarray(labels)
        if labels.dtype.kind == "T":  # NumPy's StringDType: as y_true's and y_pred's
            labels = _one_dimensional(labels, "labels")
        if labels.ndim != 1 or len(_sorted_distinct(labels, "labels")) != len(labels):
            raise ValueError(f"labels must be a list of distinct labels, got {labels.tolist()}")
        _check_same_kind(labels, "labels", y_true, "y_true")
        _check_same_kind(labels, "labels", y_pred, "y_pred")
    order = np.argsort(labels, kind="stable")
    sorted_labels = labels[order]

    def positions(values: np.ndarray, name: str) -> np.ndarray:
        try:
            at = np.clip(np.searchsorted(sorted_labels, values), 0, max(0, len(labels) - 1))
        except TypeError:
            raise ValueError(
                f"{name} holds labels that cannot be compared with labels "
                f"({_type_names(values)} against {_type_names(sorted_labels)})"
            ) from None
        unknown = sorted_labels[at] != values if len(labels) else np.ones(len(values), bool)
        if np.any(unknown):
            raise ValueError(f"{name} holds labels not in labels: {np.unique(values[unknown])[:5]}")
        return order[at]

    rows, columns = positions(y_true, "y_true"), positions(y_pred, "y_pred")
    k = len(labels)
    counts = np.bincount(rows * k + columns, minlength=k * k).reshape(k, k)
    return counts.astype(np.int64, copy=False), labels  # bincount counts in intp


def _sorted_distinct(values: np.ndarray, name: str) -> np.ndarray:
    """``np.unique(values)``, or a ValueError naming ``name`` when the labels have no order
    (an object array mixing text and numbers, or holding None)."""
    try:
        return np.unique(values)
    except TypeError:
        raise ValueError(
            f"{name} mix labels of types that cannot be sorted ({_type_names(values)}): "
            "a confusion matrix compares labels of one kind"
        ) from None


def _type_names(values: np.ndarray) -> str:
    return ", ".join(sorted({type(value).__name__ for value in values.ravel().tolist()}))


def r2_score(y_true: Any, y_pred: Any) -> float:
    r"""Coefficient of determination :math:`R^2 = 1 - \sum (y - \hat y)^2 / \sum (y - \bar y)^2`,
    over all outputs together; 1 is a perfect fit, 0 is no better than predicting the mean.
    Constant targets score 1 when predicted exactly and 0 otherwise.

    ``y_true`` and ``y_pred`` hold one row per sample and the same number of values (a
    column ``(n, 1)`` and a vector ``(n,)`` compare as one output); at least one sample,
    every value a finite real number.
    """
    y_true = _measurements(y_true, "y_true")
    y_pred = _measurements(y_pred, "y_pred")
    if y_true.size != y_pred.size or y_true.shape[:1] != y_pred.shape[:1]:
        raise ValueError(
            "y_true and y_pred must have one row per sample and the same number of values, "
            f"got shapes {y_true.shape} and {y_pred.shape}"
        )
    if y_true.size == 0:
        raise ValueError("y_true and y_pred are empty: R² needs at least one sample")
    y_pred = y_pred.reshape(y_true.shape)
    # The ratio is the same for the values times a power of two (exactly so): scaled to
    # targets below 1, no square of theirs overflows, nor underflows to 0 for being tiny.
    # Outputs far beyond the targets may overflow to infinity: an R^2 of -inf.
    # The shift goes into ldexp itself: for targets below the smallest normal float64, the
    # factor 2^-e alone would be beyond the largest (2^1030 for 1e-310) and give NaN.
    peak = float(np.abs(y_true).max())
    if peak > 0:
        shift = -int(np.frexp(peak)[1])
        with np.errstate(over="ignore"):
            y_true, y_pred = np.ldexp(y_true, shift), np.ldexp(y_pred, shift)
    with np.errstate(over="ignore"):
        residual = np.sum((y_true - y_pred) ** 2)
    # An output whose targets are all equal has no spread, though their rounded mean may
    # not equal them (ten times 0.3 over ten is not 0.3): that rounding is no spread.
    constant = (y_true == y_true[0]).all(axis=0)
    spread = np.sum(np.where(constant, 0.0, y_true - y_true.mean(axis=0)) ** 2)
    if spread == 0:
        return 1.0 if residual == 0 else 0.0
    return float(1 - residual / spread)


def _measurements(values: Any, name: str) -> np.ndarray:
    """``values`` as float64 of at least one dimension, finite, or a ValueError naming ``name``."""
    try:
        array = np.asarray(values)
    except ValueError as error:  # rows of different lengths
        raise ValueError(f"{name} must hold numbers, one row per sample: {error}") from None
    if array.dtype.kind == "c":
        raise ValueError(f"{name} must hold real numbers, got complex values")
    try:
        array = array.astype(np.float64, copy=False)
    except (TypeError, ValueError) as error:  # text, or objects that are no real numbers
        raise ValueError(f"{name} must hold real numbers: {error}") from None
    if array.ndim == 0:
        raise ValueError(f"{name} must hold one value per sample, got the single value {values!r}")
    if not np.isfinite(array).all():
        first = tuple(int(i) for i in np.argwhere(~np.isfinite(array))[0])
        raise ValueError(
            f"{name} holds {array[first]} at index {first[0] if len(first) == 1 else first}: "
            "R² is computed from finite numbers"
        )
    return array
