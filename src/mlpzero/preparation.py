r"""Data preparation for a fit: checks, the validation split, weights and encoding.

:meth:`MLP.fit <mlpzero.model.MLP.fit>` hands the user's data here in two steps, and the
training loop receives the result; nothing flows back.

1. :func:`check_data` checks ``X`` ``(m, n_0)``, ``y``, ``sample_weight`` and
   ``validation_data`` (the model builds its network from the checked ``X`` and ``y``);
2. :func:`prepare` holds out the validation rows (:func:`split_validation`), multiplies
   the sample weights by the class weights (:func:`class_weights`) and encodes ``y`` as
   the matrix ``Y`` ``(m, n_L)`` with the model's :class:`~mlpzero.targets.TargetEncoder`.

A memory-mapped ``X`` (:func:`~mlpzero.validation.is_memory_mapped`) is never copied
whole: the checks scan it in chunks, the split keeps row indices, and the loop receives a
:class:`RowSource` (rows read batch by batch, converted to the model's dtype) and an
:class:`EncodedTargets` (``Y`` encoded batch by batch from the labels' class indices)
instead of ``X`` and ``Y``. Only arrays with one entry per row (``y``, the indices, the
weights) are held in memory.

A SciPy sparse ``X`` (CSR, CSC or another format) is never made dense whole either: it is
checked on its stored values and kept as a CSR matrix of the model's dtype (converting
another format or dtype is a sparse copy, proportional to the number of stored values),
and the loop receives a :class:`SparseRows`, which densifies only the rows of each batch.

A callable that yields ``(X_batch, y_batch)`` (or ``(X_batch, y_batch, w_batch)``) for
one epoch gives a :class:`CheckedStream` and then a :class:`BatchStream`: its batches are
checked and encoded as they come, and nothing about the whole data set is known in
advance, so a shuffled ``validation_split``, ``class_weight="balanced"`` (which needs the
class counts) and ``shuffle`` are refused with it.

Sample weights are kept relative (the largest is 1, see
:func:`~mlpzero.validation.relative_sample_weight`): only their ratios matter, and no
product with class weights, sum or cast can then overflow.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from itertools import chain
from typing import Any

import numpy as np

from .network import CHUNK_ROWS
from .targets import TargetEncoder
from .validation import (
    RowScan,
    check_features,
    check_non_negative,
    check_sample_weight,
    check_targets,
    is_memory_mapped,
    is_sparse,
    largest_magnitude,
    relative_sample_weight,
    row_chunks,
    warn_vanished_weights,
)

__all__ = [
    "BatchStream",
    "CheckedData",
    "CheckedStream",
    "EncodedTargets",
    "PreparedData",
    "RowSource",
    "SparseRows",
    "check_data",
    "class_weights",
    "encode_targets",
    "prepare",
    "split_validation",
]

#: A multi-class ``Y`` whose one-hot matrix would take more bytes than this is encoded
#: a batch at a time (:class:`EncodedTargets`): with many classes, the matrix of every
#: row would take far more memory than the data.
ONE_HOT_BYTES = 1 << 26

#: ``(X_val, y_val_or_Y_val, weights_or_None)``.
Validation = tuple[Any, np.ndarray, np.ndarray | None]


class RowSource:
    """The rows of a memory-mapped array, read on demand in the model's dtype.

    Row ``i`` of the source is row ``rows[i]`` of ``array`` (row ``i`` without ``rows``).
    It has the ``shape`` and ``dtype`` of the array it stands for, ``(m, n_0)`` in
    ``dtype``, without ever holding it: :meth:`take` fills a batch buffer.
    """

    def __init__(self, array: np.ndarray, dtype: Any, rows: np.ndarray | None = None) -> None:
        self.array, self.rows = array, rows
        self.dtype = np.dtype(dtype)
        self.shape = (len(array) if rows is None else len(rows), array.shape[1])

    def __len__(self) -> int:
        return self.shape[0]

    def take(self, index: np.ndarray, out: np.ndarray) -> np.ndarray:
        """``out[i] = source[index[i]]``, converted to ``out``'s dtype; returns ``out``."""
        if self.rows is not None:
            index = self.rows[index]
        if self.array.dtype == out.dtype:
            return np.take(self.array, index, axis=0, out=out)
        # Gathered in the source's dtype, then converted. np.take into an ``out`` of another
        # dtype first converts out's old contents to the source's, under "safe" casting: it
        # refuses upcasts (float32 rows into a float64 buffer), and a fresh buffer's
        # leftover bytes can read as signalling NaNs, which warn as they are converted.
        np.copyto(out, np.take(self.array, index, axis=0), casting="unsafe")
        return out

    def read(self, start: int, stop: int) -> np.ndarray:
        """Rows ``start:stop`` as a new C-contiguous array in the model's dtype."""
        return self[start:stop]

    def __getitem__(self, key: slice | np.ndarray) -> np.ndarray:
        """Rows ``key`` (a slice or an index array) as a new C-contiguous array in the
        model's dtype: the values, and the layout, the same rows of ``X`` in memory have."""
        rows = key if self.rows is None else self.rows[key]
        return np.ascontiguousarray(self.array[rows], dtype=self.dtype)

    def largest_magnitude(self) -> float:
        """The largest ``|x|``, read in chunks."""
        if self.rows is None:
            return max(largest_magnitude(self.array[rows]) for rows in row_chunks(self.array))
        step = next(row_chunks(self.array)).stop  # rows per chunk
        rows = np.sort(self.rows)
        return max(
            largest_magnitude(self.array[rows[start : start + step]])
            for start in range(0, len(rows), step)
        )

    def __repr__(self) -> str:
        return f"RowSource(shape={self.shape}, dtype={self.dtype.name})"


class SparseRows:
    """The rows of a sparse ``X``, made dense batch by batch in the model's dtype.

    ``matrix`` is a CSR matrix of ``dtype`` (:func:`~mlpzero.validation.check_features`
    converts other formats and dtypes once, a sparse copy). Row ``i`` of the source is row
    ``rows[i]`` of ``matrix`` (row ``i`` without ``rows``). Like :class:`RowSource` it has
    the ``shape`` ``(m, n_0)`` and ``dtype`` of the dense array it stands for without
    forming it: :meth:`take` densifies the rows of one batch into the batch buffer, and
    indexing (``source[a:b]``, ``source[index]``) gives those rows as a new dense array.
    """

    def __init__(self, matrix: Any, dtype: Any, rows: np.ndarray | None = None) -> None:
        self.dtype = np.dtype(dtype)
        if matrix.format != "csr" or matrix.dtype != self.dtype:
            raise ValueError(
                f"SparseRows needs a CSR matrix of {self.dtype.name}, got a "
                f"{matrix.format.upper()} matrix of {matrix.dtype}"
            )
        self.matrix, self.rows = matrix, rows
        self.shape = (matrix.shape[0] if rows is None else len(rows), matrix.shape[1])

    def __len__(self) -> int:
        return self.shape[0]

    def take(self, index: np.ndarray, out: np.ndarray) -> np.ndarray:
        """``out[i] = source[index[i]]``, densified into ``out``; returns ``out``."""
        if self.rows is not None:
            index = self.rows[index]
        return self.matrix[index].toarray(out=out)

    def read(self, start: int, stop: int) -> np.ndarray:
        """Rows ``start:stop`` as a new dense C-contiguous array of the model's dtype."""
        return self[start:stop]

    def __getitem__(self, key: slice | np.ndarray) -> np.ndarray:
        rows = key if self.rows is None else self.rows[key]
        return self.matrix[rows].toarray(order="C")

    def largest_magnitude(self) -> float:
        """The largest ``|x|`` over the stored values of these rows."""
        if self.rows is None:
            return float(np.abs(self.matrix.data).max(initial=0.0))
        rows, step = np.sort(self.rows), CHUNK_ROWS
        return max(
            float(np.abs(self.matrix[rows[start : start + step]].data).max(initial=0.0))
            for start in range(0, len(rows), step)
        )

    def __repr__(self) -> str:
        return f"SparseRows(shape={self.shape}, dtype={self.dtype.name}, nnz={self.matrix.nnz})"


class EncodedTargets:
    """``Y`` ``(m, n_L)`` for a large fit, encoded batch by batch instead of held whole.

    Classifiers keep the class index of each label (``(m,)`` integers, checked against
    the encoder's classes chunk by chunk); other tasks keep ``y`` and encode its rows as
    they are taken. Each batch equals the same rows of ``encoder.encode(y)``.
    """

    def __init__(self, y: np.ndarray, encoder: TargetEncoder, dtype: Any) -> None:
        self.encoder, self.dtype = encoder, np.dtype(dtype)
        self.shape = (len(y), encoder.n_outputs_)
        self.codes: np.ndarray | None = None
        self.y = y
        if encoder.task in ("binary", "multiclass"):
            flat = y[:, 0] if y.ndim == 2 and y.shape[1] == 1 else y
            self.codes = np.empty(len(y), dtype=np.intp)
            for rows in row_chunks(flat):
                self.codes[rows] = encoder.class_index(flat[rows])
        else:
            for rows in row_chunks(y):
                encoder.encode(y[rows], dtype=dtype)  # the checks; the result is not kept

    def __len__(self) -> int:
        return self.shape[0]

    def take(self, index: np.ndarray, out: np.ndarray) -> np.ndarray:
        """``out = encode(y[index])``; returns ``out``."""
        if self.encoder.task == "binary":
            out[:, 0] = self.codes[index]
        elif self.encoder.task == "multiclass":
            out.fill(0)
            out[np.arange(len(index)), self.codes[index]] = 1
        else:
            out[...] = np.asarray(self.y[index], dtype=out.dtype).reshape(out.shape)
        return out

    def labels(self) -> np.ndarray:
        """What accuracy compares predictions with: the class index of each row
        (multi-class), or ``Y > 0.5`` (binary and multi-label, ``(m, n_L)`` booleans)."""
        if self.encoder.task == "multiclass":
            return self.codes
        if self.encoder.task == "binary":
            return (self.codes == 1).reshape(-1, 1)
        labels = np.empty(self.shape, dtype=bool)
        for rows in row_chunks(self.y):
            block = np.asarray(self.y[rows], dtype=self.dtype).reshape(-1, self.shape[1])
            np.greater(block, 0.5, out=labels[rows])
        return labels

    def __repr__(self) -> str:
        return f"EncodedTargets(shape={self.shape}, task={self.encoder.task!r})"


@dataclass(frozen=True)
class CheckedData:
    """The user's data, checked: ``X`` ``(m, n_0)`` in the model's dtype (a CSR matrix for
    sparse data; a memory-mapped array in its own dtype), ``y`` with one
    entry or row per sample, relative ``weights`` ``(m,)`` or None, ``validation``
    ``(X_val, y_val, weights_or_None)`` from ``validation_data`` or None, and
    ``weight_scale``, the largest weight given (``weights`` times it are the given ones)."""

    X: Any
    y: np.ndarray
    weights: np.ndarray | None
    validation: Validation | None
    weight_scale: float = 1.0


@dataclass(frozen=True)
class PreparedData:
    """What the training loop needs: ``X`` ``(m, n_0)``, ``Y`` ``(m, n_L)`` (a
    :class:`RowSource` and an :class:`EncodedTargets` for a memory-mapped ``X``, a
    :class:`SparseRows` for a sparse one) and
    ``sample_weight`` ``(m,)`` (or None) for the training rows; ``validation``
    ``(X_val, Y_val, weights_or_None)`` or None; and ``validation_rows``, the indices into
    the given ``X`` that ``validation_split`` held out (None without a split);
    ``weight_scale`` is :class:`CheckedData`'s (``sample_weight`` times it are the given
    weights, with their class weights)."""

    X: np.ndarray | RowSource | SparseRows
    Y: np.ndarray | EncodedTargets
    sample_weight: np.ndarray | None
    validation: Validation | None
    validation_rows: np.ndarray | None
    weight_scale: float = 1.0


@dataclass(frozen=True)
class CheckedStream:
    """A generator's data, checked as far as it can be before training: ``source`` (the
    callable), the first batch's ``X`` and ``y`` (to build the model from) and the iterator
    that continues after it (None once the model is built: nothing was read),
    ``validation`` as in :class:`CheckedData`, and ``n_features``, the width every batch
    must have."""

    source: Callable[[], Iterable[Any]]
    X: np.ndarray | None
    y: np.ndarray | None
    pending: Iterator[Any] | None
    first: Any
    validation: Validation | None
    n_features: int | None = None


def is_batch_source(X: Any) -> bool:
    """Whether ``X`` is a callable that yields batches, rather than data."""
    return callable(X) and not hasattr(X, "__array__") and not hasattr(X, "shape")


def check_data(
    X: Any,
    y: Any,
    sample_weight: Any,
    validation_data: Any,
    dtype: np.dtype,
    n_features: int | None,
    scan: RowScan | None = None,
) -> CheckedData | CheckedStream:
    """Check a fit's data; ``n_features`` (None before the network is built) is the width
    ``X`` must have; ``scan`` runs the scans of ``X`` and ``X_val`` over their rows
    (:func:`~mlpzero.validation.check_features`).

    ``X`` may be a callable yielding one epoch of batches (:func:`is_batch_source`); before
    the model is built its first batch is read and checked here, for the model's shape.
    """
    if is_batch_source(X):
        return _check_stream(X, y, sample_weight, validation_data, dtype, n_features)
    if hasattr(X, "__next__"):
        raise TypeError(
            f"X is an iterator ({type(X).__name__}), which one epoch would exhaust; pass a "
            "callable that returns the batches of one epoch, such as the generator "
            "function itself"
        )
    # The precision warning on the fit that builds the model, not on each partial_fit.
    first = n_features is None
    X = check_features(
        X, dtype=dtype, n_features=n_features, scan=scan, accept_sparse=True, warn_precision=first
    )
    y = check_targets(y, X.shape[0], x_columns=X.shape[1])
    given = check_sample_weight(sample_weight, X.shape[0])
    weights = relative_sample_weight(given)
    validation = None
    if validation_data is not None:
        validation = _check_validation_data(validation_data, dtype, X.shape[1], scan)
    scale = 1.0 if given is None else float(np.max(given))
    return CheckedData(X, y, weights, validation, scale)


def prepare(
    data: CheckedData | CheckedStream,
    encoder: TargetEncoder,
    dtype: np.dtype,
    *,
    validation_split: float = 0.0,
    class_weight: str | dict[Any, float] | None = None,
    split_rng: np.random.Generator | None = None,
    target_check: Callable[[np.ndarray], None] | None = None,
) -> PreparedData:
    """Split, weight and encode checked data for the training loop.

    ``target_check`` (a loss's :meth:`~mlpzero.losses.Loss.check_targets`) is called on
    ``y`` and the validation targets as given, and on every batch of a generator.

    With ``validation_split`` the held-out rows are drawn from ``split_rng``, stratified
    by class for binary and multi-class encoders. ``class_weight`` multiplies the sample
    weights (classifiers only); the training rows must still carry some weight.

    A memory-mapped ``X`` stays where it is: the training and validation rows become
    :class:`RowSource` objects over it, and ``Y`` an :class:`EncodedTargets`, as it also
    is for a one-hot ``Y`` of more than :data:`ONE_HOT_BYTES` (many classes). A sparse
    ``X`` likewise becomes :class:`SparseRows` (``Y``, one row per sample, is encoded). A
    :class:`CheckedStream` becomes a :class:`BatchStream` (``X``; ``Y`` is None).
    """
    if isinstance(data, CheckedStream):
        return _prepare_stream(data, encoder, dtype, validation_split, class_weight, target_check)
    X, y, weights, validation = data.X, data.y, data.weights, data.validation
    if target_check is not None:
        target_check(y)
        if validation is not None:
            _check_validation_targets(target_check, validation[1])
    mapped = is_memory_mapped(X)
    source = _row_source(X)  # None: X is an array in memory, indexed directly
    labels = y[:, 0] if y.ndim == 2 and y.shape[1] == 1 else y
    is_labelled = encoder.task in ("binary", "multiclass")
    held = None
    if validation_split:
        strata = labels if is_labelled else None
        rows, held = split_validation(len(y), validation_split, split_rng, strata)
        X_val = X[held] if source is None else source(X, dtype, held)
        if weights is not None:  # a mean loss over rows that all weigh 0 is 0 / 0
            for part, what in ((held, "holds out"), (rows, "trains on")):
                if not weights[part].any():
                    raise ValueError(
                        f"validation_split={validation_split} {what} {len(part)} rows, whose "
                        "sample_weight is 0 on every one: give some of them weight, or pass "
                        "validation_data"
                    )
        validation = (X_val, y[held], None if weights is None else weights[held])
        X = X[rows] if source is None else source(X, dtype, rows)
        y, labels = y[rows], labels[rows]
        weights = None if weights is None else weights[rows]
    elif source is not None:
        X = source(X, dtype)
    Y = EncodedTargets(y, encoder, dtype) if mapped else encode_targets(y, encoder, dtype)
    if class_weight is not None:
        if not is_labelled:
            raise ValueError(
                f"class_weight applies to binary and multi-class classifiers, "
                f"not to a {encoder.task} model"
            )
        per_sample = class_weights(class_weight, labels, encoder.classes_)
        weights = per_sample if weights is None else weights * per_sample
        if not weights.any():
            raise ValueError(
                f"class_weight={class_weight!r} (times sample_weight, if given) leaves every "
                f"one of the {len(weights)} training rows with weight 0"
            )
    if weights is not None:
        check_sample_weight(weights, len(weights))
    validation = _encode_validation(validation, encoder, dtype)
    return PreparedData(X, Y, weights, validation, held, data.weight_scale)


def _encode_validation(
    validation: Validation | None, encoder: TargetEncoder, dtype: np.dtype
) -> Validation | None:
    if validation is None:
        return None
    X_val, y_val, w_val = validation
    source = _row_source(X_val)
    if source is not None:
        X_val = source(X_val, dtype)
    try:
        Y_val = encode_targets(y_val, encoder, dtype)
    except ValueError as error:
        raise ValueError(f"validation_data's y: {error}") from None
    return X_val, Y_val, w_val


def encode_targets(y: np.ndarray, encoder: TargetEncoder, dtype: Any) -> Any:
    """``Y`` ``(m, n_L)`` for checked targets ``y``: ``encoder.encode(y)``, or, for
    multi-class targets whose one-hot matrix would pass :data:`ONE_HOT_BYTES`, an
    :class:`EncodedTargets` that gives the same rows a batch at a time."""
    one_hot = len(y) * encoder.n_outputs_ * np.dtype(dtype).itemsize
    if encoder.task == "multiclass" and one_hot > ONE_HOT_BYTES:
        return EncodedTargets(y, encoder, dtype)
    return encoder.encode(y, dtype=dtype)


def _row_source(X: Any) -> type[RowSource] | type[SparseRows] | None:
    """The row source that reads checked ``X`` batch by batch (None: ``X`` is in memory)."""
    if is_memory_mapped(X):
        return RowSource
    if is_sparse(X):
        return SparseRows
    return None


def split_validation(
    n_samples: int,
    fraction: float,
    rng: np.random.Generator,
    strata: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Row indices ``(train, validation)`` holding out ``fraction`` of the rows.

    With ``strata`` (class labels, one per row) every class is split in the same
    proportion: each class gives ``round(fraction * count)`` rows to validation, at least
    one where it has two or more rows and at most all but one; when that minimum would hold
    out more than twice the rows asked for (many small classes), the split is refused. Both
    index arrays are sorted, so the order of the data is kept.
    """
    fraction = float(fraction)
    if not 0 < fraction < 1:
        raise ValueError(f"validation_split must be in (0, 1), got {fraction!r}")
    if strata is None:
        groups = [np.arange(n_samples)]
    else:
        _, inverse = np.unique(strata, return_inverse=True)
        # Each class's rows in ascending order, from one stable sort (not one scan of
        # every row per class, which many classes make slow).
        by_class = np.argsort(inverse.ravel(), kind="stable")
        groups = np.split(by_class, np.cumsum(np.bincount(inverse.ravel()))[:-1])
    held = []
    for rows in groups:
        count = len(rows)
        take = round(fraction * count)
        if count >= 2:
            take = min(max(take, 1), count - 1)
        else:
            take = 0
        held.append(rng.permutation(rows)[:take])
    validation = np.sort(np.concatenate(held))
    asked = fraction * n_samples
    if strata is not None and validation.size > 2 * max(asked, 1.0):
        raise ValueError(
            f"validation_split={fraction} stratified by class would hold out "
            f"{validation.size} of {n_samples} rows ({validation.size / n_samples:.0%}), not "
            f"about {asked:.0f}: each of the {sum(len(rows) >= 2 for rows in groups)} classes "
            "with two or more rows gives "
            "at least one; pass validation_data, or a larger validation_split"
        )
    if validation.size == 0 or validation.size == n_samples:
        why = ""
        if strata is not None and validation.size == 0:
            why = (
                " (stratified by class, and no class has two rows to split: pass "
                "validation_data instead)"
            )
        raise ValueError(
            f"validation_split={fraction} of {n_samples} samples leaves "
            f"{validation.size} for validation and {n_samples - validation.size} for "
            f"training; both need at least one{why}"
        )
    train_rows = np.setdiff1d(np.arange(n_samples), validation, assume_unique=True)
    return train_rows, validation


def class_weights(
    class_weight: str | dict[Any, float], y: np.ndarray, classes: np.ndarray
) -> np.ndarray:
    r"""One weight per sample from a ``class_weight`` option.

    ``"balanced"`` gives class :math:`c` the weight :math:`n / (k \, n_c)` (``n`` samples,
    ``k`` classes, :math:`n_c` samples of class ``c`` in ``y``), so every class carries
    the same total weight; a dict maps labels to weights (missing labels weigh 1).
    """
    y = np.asarray(y)
    try:
        index = np.searchsorted(classes, y)
    except TypeError:  # text of another dtype than the classes' (StringDType against "<U")
        position = {label: i for i, label in enumerate(classes.tolist())}
        index = np.array([position[label] for label in y.tolist()], dtype=np.intp)
    if isinstance(class_weight, str):
        if class_weight != "balanced":
            raise ValueError(f"class_weight must be 'balanced' or a dict, got {class_weight!r}")
        counts = np.bincount(index, minlength=len(classes)).astype(np.float64)
        present = counts > 0
        per_class = np.ones(len(classes))
        per_class[present] = len(y) / (np.count_nonzero(present) * counts[present])
        return per_class[index]
    if not isinstance(class_weight, dict):
        raise TypeError(
            f"class_weight must be 'balanced' or a dict, got {type(class_weight).__name__}"
        )
    known = set(classes.tolist())
    unknown = [label for label in class_weight if label not in known]
    if unknown:
        raise ValueError(
            f"class_weight has labels that are not classes of y: {unknown[:5]}; "
            f"the classes are {classes[:20].tolist()}"
        )
    per_class = np.ones(len(classes))
    for position, label in enumerate(classes.tolist()):
        if label in class_weight:
            per_class[position] = check_non_negative(
                f"class_weight[{label!r}]", class_weight[label]
            )
    return per_class[index]


def _check_validation_data(
    data: Any, dtype: np.dtype, n_features: int, scan: RowScan | None = None
) -> Validation:
    if not isinstance(data, (tuple, list)) or len(data) not in (2, 3):
        got = type(data).__name__
        if isinstance(data, (tuple, list)):
            got = f"a {got} of {len(data)} item{'' if len(data) == 1 else 's'}"
        raise TypeError(
            "validation_data must be (X_val, y_val) or (X_val, y_val, sample_weight_val), "
            f"got {got}"
        )
    X_val = check_features(
        data[0], dtype=dtype, n_features=n_features, name="X_val", scan=scan, accept_sparse=True
    )
    y_val = check_targets(data[1], X_val.shape[0], name="y_val")
    w_val = None
    if len(data) == 3:
        w_val = check_sample_weight(
            data[2], X_val.shape[0], name="validation_data's sample_weight", rows="X_val"
        )
    return X_val, y_val, w_val


def _check_validation_targets(target_check: Callable[[np.ndarray], None], y_val: Any) -> None:
    """``target_check`` on the validation targets, its refusal naming them."""
    try:
        target_check(y_val)
    except ValueError as error:
        raise ValueError(f"validation_data: {error}") from None


# ---------------------------------------------------------------------- generators
class BatchStream:
    """The batches of a callable that yields ``(X_batch, y_batch[, w_batch])``.

    The callable is called once per epoch (:meth:`batches`); each batch is checked like
    a fit's data (by ``target_check`` too, if given), ``y_batch`` is encoded with the model's
    encoder and ``w_batch`` (times the
    ``class_weight`` dict, if any) kept as given. :attr:`largest_magnitude` is the largest
    ``|x|`` met so far (for the divergence message).
    """

    def __init__(
        self,
        data: CheckedStream,
        encoder: TargetEncoder,
        dtype: np.dtype,
        class_weight: dict[Any, float] | None,
        target_check: Callable[[np.ndarray], None] | None = None,
    ) -> None:
        self.source, self.encoder, self.dtype = data.source, encoder, np.dtype(dtype)
        self.class_weight, self.target_check = class_weight, target_check
        self.n_features = data.n_features  # a built model's width, or the first batch's
        self.largest_magnitude = 0.0
        self._pending = None if data.pending is None else chain([data.first], data.pending)
        self._warned = False  # of weights that round to 0 in dtype: once a fit

    def batches(self, epoch: int) -> Iterator[tuple[np.ndarray, np.ndarray, Any, float, float]]:
        """One epoch: ``(X_b, Y_b, w_b, mass, unit)`` per batch, with ``w_b`` the relative
        weights in the model's dtype (None without weights), ``unit`` the batch's largest
        weight and ``mass`` the sum of ``w_b`` in float64, so that the batch's total weight
        is ``mass * unit`` (its number of rows and 1 without weights; 0 and 0 when every
        row weighs 0). The two are kept apart, as an array's relative weights and their
        scale are: weights of 1e300 would overflow the epoch's sums, and weights below the
        smallest normal float64 would lose their digits there."""
        items, self._pending = self._pending, None
        if items is None:
            items = call_source(self.source)
        count = 0
        for count, item in enumerate(items, start=1):
            X, y, weights = _check_batch(item, count - 1, self.dtype, self.n_features)
            if self.target_check is not None:
                try:
                    self.target_check(y)
                except ValueError as error:
                    raise ValueError(f"batch {count - 1}: {error}") from None
            self.n_features = X.shape[1]
            self.largest_magnitude = max(self.largest_magnitude, largest_magnitude(X))
            Y = self._encode(y, count - 1)
            if self.class_weight is not None:
                labels = y[:, 0] if y.ndim == 2 else y
                per_sample = class_weights(self.class_weight, labels, self.encoder.classes_)
                weights = per_sample if weights is None else weights * per_sample
            if weights is None:
                yield X, Y, None, float(len(X)), 1.0
                continue
            unit = float(np.max(weights))
            if unit == 0:
                yield X, Y, weights.astype(self.dtype), 0.0, 0.0
                continue
            relative = relative_sample_weight(weights)
            cast = relative.astype(self.dtype)
            if not self._warned:
                self._warned = warn_vanished_weights(
                    relative, cast, f"weights of batch {count - 1}"
                )
            yield X, Y, cast, float(np.sum(relative)), unit
        if count == 0:
            raise ValueError(f"X: the batch generator yielded no batches in epoch {epoch}")

    def _encode(self, y: np.ndarray, batch: int) -> np.ndarray:
        try:
            return self.encoder.encode(y, dtype=self.dtype)
        except ValueError as error:
            hint = ""
            if self.encoder.task in ("binary", "multiclass"):
                hint = "; pass classes=[...] to fit to list every label the batches hold"
            raise ValueError(f"batch {batch}: {error}{hint}") from None

    def __repr__(self) -> str:
        return f"BatchStream(source={self.source!r})"


def _check_stream(
    source: Callable[[], Iterable[Any]],
    y: Any,
    sample_weight: Any,
    validation_data: Any,
    dtype: np.dtype,
    n_features: int | None,
) -> CheckedStream:
    if y is not None:
        raise ValueError(
            f"y: a batch generator yields its own targets, so y must be None, got "
            f"{type(y).__name__}"
        )
    if sample_weight is not None:
        raise ValueError(
            "sample_weight: with a batch generator, yield (X_batch, y_batch, w_batch) instead"
        )
    X = y_first = pending = first = None
    if n_features is None:  # the model is built from the first batch
        pending = call_source(source)
        first = next(pending, None)
        if first is None:
            raise ValueError("X: the batch generator yielded no batches")
        X, y_first, _ = _check_batch(first, 0, dtype, None)
    width = n_features if X is None else X.shape[1]
    validation = None
    if validation_data is not None:
        validation = _check_validation_data(validation_data, dtype, width)
    return CheckedStream(source, X, y_first, pending, first, validation, width)


def call_source(source: Callable[[], Iterable[Any]]) -> Iterator[Any]:
    """An iterator over the batches of one epoch of the batch generator ``source``."""
    items = source()
    try:
        return iter(items)
    except TypeError:
        raise TypeError(
            "X: a callable X must return an iterable of (X_batch, y_batch) for one epoch, "
            f"got {type(items).__name__}"
        ) from None


def _check_batch(
    item: Any, index: int, dtype: np.dtype, n_features: int | None
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """One generator batch, checked: ``X`` in ``dtype``, ``y``, and weights or None."""
    if not isinstance(item, (tuple, list)) or len(item) not in (2, 3):
        raise TypeError(
            f"batch {index}: the generator must yield (X_batch, y_batch) or "
            f"(X_batch, y_batch, w_batch), got {type(item).__name__}"
        )
    X = check_features(
        item[0], dtype=dtype, n_features=n_features, name=f"X of batch {index}",
        accept_sparse=True,
    )  # fmt: skip
    if is_sparse(X):  # made dense one batch at a time, as a sparse X's batches are
        X = X.toarray()
    X = np.ascontiguousarray(X, dtype=dtype)  # a memory-mapped batch too: it is one batch
    y = check_targets(item[1], X.shape[0], name=f"y of batch {index}")
    weights = None
    if len(item) == 3:  # all zero is allowed: the loop skips the batch, as a mini-batch's
        weights = check_sample_weight(
            item[2], X.shape[0], name=f"w of batch {index}", rows=f"X of batch {index}",
            allow_all_zero=True,
        )  # fmt: skip
    return X, y, weights


def _prepare_stream(
    data: CheckedStream,
    encoder: TargetEncoder,
    dtype: np.dtype,
    validation_split: float,
    class_weight: str | dict[Any, float] | None,
    target_check: Callable[[np.ndarray], None] | None,
) -> PreparedData:
    if validation_split:
        raise ValueError(
            f"validation_split={validation_split}: the rows of a batch generator cannot be "
            "held out without a pass over them; pass validation_data=(X_val, y_val)"
        )
    if isinstance(class_weight, str):
        raise ValueError(
            f"class_weight={class_weight!r} needs the count of each class, which a batch "
            "generator gives only after a pass over the data; pass a dict {label: weight}"
        )
    if class_weight is not None:
        if encoder.task not in ("binary", "multiclass"):
            raise ValueError(
                f"class_weight applies to binary and multi-class classifiers, "
                f"not to a {encoder.task} model"
            )
        known = set(encoder.classes_.tolist())
        unknown = [label for label in class_weight if label not in known]
        if unknown:  # the classes come from the first batch unless classes lists them
            raise ValueError(
                f"class_weight has labels that are not classes of y: {unknown[:5]}; the "
                f"classes are {encoder.classes_[:20].tolist()} (those of the first batch, "
                "or classes): pass classes=[...] to fit to list every label the batches hold"
            )
        class_weights(class_weight, encoder.classes_, encoder.classes_)  # check the dict
    if target_check is not None:  # the first batch, read already, is refused up front
        if data.y is not None:
            target_check(data.y)
        if data.validation is not None:
            _check_validation_targets(target_check, data.validation[1])
    stream = BatchStream(data, encoder, dtype, class_weight, target_check)
    validation = _encode_validation(data.validation, encoder, dtype)
    return PreparedData(stream, None, None, validation, None)
