"""Targets: what kind of problem ``y`` describes, and its encoding as the matrix ``Y``.

The network always trains on a float matrix ``Y`` of shape ``(n_samples, n_outputs)``.
A :class:`TargetEncoder` is fitted on the training ``y`` and turns labels into ``Y`` and
network outputs back into labels:

===============  ============================  =========  ==========================
task             ``y``                         outputs    loss
===============  ============================  =========  ==========================
``binary``       two distinct labels, 1-D      1          binary cross-entropy
``multiclass``   three or more labels, 1-D     k          categorical cross-entropy
``multilabel``   a 0/1 matrix ``(n, k)``       k          binary cross-entropy
``regression``   floats, 1-D or 2-D            1 or k     squared error
===============  ============================  =========  ==========================

Labels may be any hashable values (ints, strings, ...); a float ``y`` is taken as real
numbers unless it holds only 0 and 1 (see :func:`infer_task`). Labels are sorted into
:attr:`TargetEncoder.classes_` and encoded as their index.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from .validation import check_fits

__all__ = ["TASKS", "TargetEncoder", "infer_task", "loss_fits_task", "loss_for_task"]

TASKS = ("binary", "multiclass", "multilabel", "regression")
_LOSS_FOR_TASK = {
    "binary": "binary_crossentropy",
    "multiclass": "categorical_crossentropy",
    "multilabel": "binary_crossentropy",
    "regression": "squared_error",
}
_TASK_FOR_LOSS = {
    "categorical_crossentropy": "multiclass",
    "squared_error": "regression",
    "poisson": "regression",
}


def loss_for_task(task: str) -> str:
    """The loss that pairs with ``task``."""
    return _LOSS_FOR_TASK[task]


def loss_fits_task(loss_name: str, task: str) -> bool:
    """Whether a model of ``task`` may train with the loss ``loss_name`` (e.g. a regression
    with ``"poisson"`` as well as with ``"squared_error"``)."""
    return _LOSS_FOR_TASK.get(task) == loss_name or _TASK_FOR_LOSS.get(loss_name) == task


def _as_array(y: Any) -> np.ndarray:
    y = np.asarray(y)
    if y.ndim == 0:
        raise ValueError(f"y must be 1-D or 2-D with one entry per sample, got a scalar {y!r}")
    if y.ndim > 2:
        raise ValueError(f"y must be 1-D or 2-D, got an array of shape {y.shape}")
    if y.ndim == 2 and y.shape[1] == 1:
        y = y[:, 0]
    return y


def infer_task(y: Any) -> str:
    """Guess the task from ``y`` alone.

    The dtype decides: floats are measurements, everything else is labels.

    - a 2-D 0/1 matrix is multi-label; a 2-D matrix of other numbers is multi-output
      regression;
    - a 1-D float ``y`` is regression, even when its values are whole numbers (prices of
      3.0 and 250.0 are not classes), unless it holds only 0 and 1, which is binary;
    - integers, booleans, strings and other labels are binary with two distinct values
      and multi-class with more.

    Pass ``loss="squared_error"`` to regress on integer targets, or
    ``loss="categorical_crossentropy"`` to classify float-coded classes (or cast them to
    ``int``).
    """
    y = _as_array(y)
    if y.ndim == 2:
        if y.dtype.kind not in "biuf":
            raise ValueError(
                "a 2-D y must be numeric: a 0/1 matrix (multi-label) or real targets "
                f"(regression); got dtype {y.dtype} such as {y.ravel()[:3].tolist()}"
            )
        if np.isin(y, (0, 1)).all():
            return "multilabel"
        return "regression"
    if y.dtype.kind == "f":
        return "binary" if np.isin(y, (0, 1)).all() else "regression"
    n_labels = len(_unique_labels(y)) if y.size else 0
    return "multiclass" if n_labels > 2 else "binary"


def _unique_labels(y: np.ndarray) -> np.ndarray:
    """Sorted distinct labels; a clear error when they cannot be ordered (mixed types)."""
    try:
        return np.unique(y)
    except TypeError:
        kinds = sorted({type(v).__name__ for v in y.ravel()})
        raise ValueError(
            f"y mixes label types that cannot be sorted ({', '.join(kinds)}); "
            "use labels of one type, e.g. all strings"
        ) from None


def plain_labels(classes: np.ndarray) -> np.ndarray:
    """``classes`` in a plain dtype when they are an object or StringDType array of one
    kind of value, as a file or an export can name it; otherwise ``classes`` itself.

    Booleans become ``bool``, integers ``int64`` (when they fit), real numbers that are
    not all integers ``float64`` (when each is a float64 exactly), and text ``str``
    (``"<U"``). NumPy's scalars count as the Python values they hold, so
    ``[np.True_, np.False_]`` are booleans. The labels compare equal, one for one.
    """
    if classes.dtype.kind not in "OT":
        return classes
    values = [v.item() if isinstance(v, np.generic) else v for v in classes.tolist()]
    if all(isinstance(v, str) for v in values):
        return np.array(values, dtype=str)
    if all(isinstance(v, bool) for v in values):
        return np.array(values, dtype=bool)
    if not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values):
        return classes
    plain = np.array(values, dtype=object)
    if all(isinstance(v, int) for v in values):
        limit = 2**63
        return plain.astype(np.int64) if all(-limit <= v < limit for v in values) else classes
    floats = plain.astype(np.float64)
    return floats if floats.tolist() == values else classes


class TargetEncoder:
    """Encode ``y`` for a task and decode network outputs back into labels."""

    def __init__(self, task: str, classes: Sequence[Any] | None = None) -> None:
        if task not in TASKS:
            raise ValueError(f"task must be one of {TASKS}, got {task!r}")
        self.task = task
        self.classes_: np.ndarray | None = None if classes is None else np.asarray(classes)
        self.n_outputs_: int | None = None
        if self.classes_ is not None:
            self.n_outputs_ = 1 if task == "binary" else len(self.classes_)

    @classmethod
    def for_loss(cls, loss_name: str, y: Any) -> TargetEncoder:
        """Pick the task for an explicit loss (the loss wins over the guess)."""
        guess = infer_task(y)
        if loss_name in _TASK_FOR_LOSS:
            return cls(_TASK_FOR_LOSS[loss_name])
        # binary cross-entropy: one binary label, or several (multilabel)
        y = _as_array(y)
        if guess != "multilabel" and y.ndim == 2:
            others = y[~np.isin(y, (0, 1))][:3].tolist()
            raise ValueError(
                f"binary_crossentropy on a y of {y.shape[1]} columns is multi-label "
                f"classification, which takes a 0/1 matrix; y holds values such as {others}"
            )
        return cls("multilabel" if guess == "multilabel" else "binary")

    @property
    def is_classifier(self) -> bool:
        return self.task != "regression"

    def fit(self, y: Any) -> TargetEncoder:
        y = _as_array(y)
        if self.task in ("binary", "multiclass"):
            if y.ndim != 1:
                raise ValueError(f"y for {self.task} classification must be 1-D, got {y.shape}")
            classes = _unique_labels(y)
            if self.task == "binary" and len(classes) > 2:
                if y.dtype.kind == "f":  # measurements, not labels: no class per value
                    raise ValueError(
                        f"binary_crossentropy takes two classes, 0 and 1; y holds "
                        f"{len(classes)} distinct float values such as "
                        f"{classes[:5].tolist()}: for measurements use "
                        "loss='squared_error' (or 'auto'); cast float-coded classes to "
                        "int (with loss='categorical_crossentropy' for more than two)"
                    )
                raise ValueError(
                    f"binary_crossentropy takes two classes, y has {len(classes)}: "
                    f"{classes[:10].tolist()}; use loss='categorical_crossentropy'"
                )
            self.classes_ = classes
            self.n_outputs_ = 1 if self.task == "binary" else len(classes)
        elif self.task == "multilabel":
            y2 = y.reshape(len(y), -1)
            self.classes_ = np.arange(y2.shape[1])
            self.n_outputs_ = y2.shape[1]
        else:
            self.n_outputs_ = 1 if y.ndim == 1 else y.shape[1]
        return self

    def encode(self, y: Any, dtype: Any = np.float64) -> np.ndarray:
        """``y`` as the float matrix ``Y`` of shape ``(n_samples, n_outputs)``."""
        y = _as_array(y)
        n = y.shape[0]
        if self.task in ("binary", "multiclass"):
            index = self._index(y)
            if self.task == "binary":
                return index.astype(dtype).reshape(n, 1)
            Y = np.zeros((n, self.n_outputs_), dtype=dtype)
            Y[np.arange(n), index] = 1
            return Y
        y = np.asarray(y)
        if y.dtype.kind not in "biuf":
            raise ValueError(f"y for {self.task} must be numeric, got dtype {y.dtype}")
        check_fits(y, dtype, "y")
        Y = np.asarray(y, dtype=dtype).reshape(n, -1)
        if Y.shape[1] != self.n_outputs_:
            raise ValueError(f"y: expected {self.n_outputs_} columns, got {Y.shape[1]}")
        if self.task == "multilabel" and not np.isin(Y, (0, 1)).all():
            raise ValueError("y for multilabel classification must hold only 0 and 1")
        return Y

    def class_index(self, y: Any) -> np.ndarray:
        """The position in :attr:`classes_` of each label of a 1-D ``y`` (binary and
        multi-class tasks; a label not seen in training is an error)."""
        return self._index(_as_array(y))

    def _index(self, y: np.ndarray) -> np.ndarray:
        classes = self.classes_
        if y.ndim != 1:
            raise ValueError(f"y for {self.task} classification must be 1-D, got {y.shape}")
        try:
            if len(classes) == 1:
                index = np.zeros(len(y), dtype=np.intp)
                unseen = np.asarray(y != classes[0])
            else:
                index = np.searchsorted(classes, y)
                index = np.clip(index, 0, len(classes) - 1)
                # labels of object dtype are compared as objects: text classes taken by
                # index would be a copy of every row as wide as the longest label
                found = classes.astype(object) if y.dtype == object else classes
                unseen = np.asarray(found[index] != y)
        except TypeError:  # labels that cannot be ordered against the classes: look up one by one
            position = {label: i for i, label in enumerate(classes.tolist())}
            found = [position.get(label, -1) for label in y.tolist()]
            index = np.asarray(found, dtype=np.intp)
            unseen = index < 0
        if np.any(unseen):
            bad = list(dict.fromkeys(y[unseen].tolist()))[:5]
            raise ValueError(
                f"y contains labels not seen in training: {bad}; "
                f"known classes are {classes[:20].tolist()}"
            )
        return index

    def decode(self, outputs: np.ndarray) -> np.ndarray:
        """Turn link outputs (probabilities or values) ``(n, n_outputs)`` into predictions."""
        if self.task == "binary":
            if len(self.classes_) == 1:
                return np.repeat(self.classes_, len(outputs))
            return self.classes_[(outputs[:, 0] > 0.5).astype(np.intp)]
        if self.task == "multiclass":
            return self.classes_[np.argmax(outputs, axis=1)]
        if self.task == "multilabel":
            return (outputs > 0.5).astype(np.int64)
        return outputs[:, 0] if self.n_outputs_ == 1 else outputs

    def describe(self) -> str:
        """What the fitted ``y`` looks like, in a few words (e.g. ``"3 classes"``)."""
        if self.task == "binary":  # two classes, or the one a y of a single label holds
            count = len(self.classes_)
            return f"{count} class{'es' if count != 1 else ''} {self.classes_.tolist()}"
        if self.task == "multiclass":
            return f"{len(self.classes_)} classes"
        if self.task == "multilabel":
            return f"a 0/1 matrix of {self.n_outputs_} labels"
        outputs = "1 output" if self.n_outputs_ == 1 else f"{self.n_outputs_} outputs"
        return f"real-valued targets ({outputs})"
