"""Input checks shared by every public entry point.

Each check raises a :class:`ValueError` or :class:`TypeError` that names the argument and
echoes what it received, before any model state is touched.
"""

from __future__ import annotations

import mmap
import os
import sys
import warnings
from collections.abc import Callable, Iterator, Sequence
from decimal import Decimal
from fractions import Fraction
from typing import Any

import numpy as np

__all__ = [
    "brief_list",
    "check_dtype",
    "check_features",
    "check_fits",
    "check_flag",
    "check_int",
    "check_non_negative",
    "check_positive",
    "check_sample_weight",
    "check_targets",
    "dense_rows",
    "float_duplicates",
    "is_memory_mapped",
    "is_missing",
    "is_sparse",
    "largest_magnitude",
    "numeric_frame",
    "relative_sample_weight",
    "row_chunks",
    "rows_buffer",
    "scan_all",
    "warn_vanished_weights",
]

# NumPy's warning that a cast drops imaginary parts (np.exceptions from NumPy 1.25 on).
_ComplexWarning = getattr(np, "exceptions", np).ComplexWarning

#: Bytes of data a chunked scan reads at a time (see :func:`row_chunks`).
CHUNK_BYTES = 4 << 20


def is_memory_mapped(array: Any) -> bool:
    """Whether ``array`` reads its data from a memory-mapped file.

    True for an :class:`numpy.memmap`, an array from ``np.load(path, mmap_mode="r")`` and
    any view of one (``np.asarray`` of a memmap, a slice). Such arrays are never copied
    whole: checks scan them in chunks and training reads the rows of each batch.
    """
    for _ in range(64):  # a chain of views; the bound only guards against a cycle
        if isinstance(array, (np.memmap, mmap.mmap)):
            return True
        array = getattr(array, "base", None)
        if array is None:
            return False
    return False


def is_sparse(X: Any) -> bool:
    """Whether ``X`` is a SciPy sparse matrix or array (any format)."""
    return hasattr(X, "tocsr") and hasattr(X, "nnz")


def row_chunks(
    array: Any, chunk_bytes: int | None = None, within: slice | None = None
) -> Iterator[slice]:
    """Slices of ``array``'s rows (its first axis), each about ``chunk_bytes`` of data
    (:data:`CHUNK_BYTES` by default); only rows ``within`` (a ``slice(start, stop)``) if
    given."""
    chunk_bytes = CHUNK_BYTES if chunk_bytes is None else chunk_bytes
    first, n = (0, len(array)) if within is None else (within.start, within.stop)
    row_bytes = max(1, array.itemsize * (int(np.prod(array.shape[1:])) if array.ndim > 1 else 1))
    step = max(1, chunk_bytes // row_bytes)
    for start in range(first, n, step):
        yield slice(start, min(start + step, n))


#: ``scan(n_rows, find)``: the first finding of ``find(rows)`` (a slice of rows to scan,
#: returning None when they hold nothing to report) over all ``n_rows`` rows.
RowScan = Callable[[int, Callable[[slice], Any]], Any]


def dense_rows(
    X: Any, start: int, stop: int, dtype: np.dtype, buffer: np.ndarray | None = None
) -> np.ndarray:
    """Rows ``start:stop`` of ``X`` as a C-ordered array of ``dtype``, ``(stop - start, n)``.

    ``X`` is an array (in memory or memory-mapped), a SciPy sparse matrix, or a source that
    reads rows on demand with ``take(index, out)`` (a fit's
    :class:`~mlpzero.preparation.RowSource`, :class:`~mlpzero.preparation.SparseRows` or
    :class:`~mlpzero.preparation.EncodedTargets`). An array's rows already in that form
    are a view; rows that must be made are written into ``buffer`` (``(rows, n)`` of
    ``dtype``, at least ``stop - start`` rows; see :func:`rows_buffer`) when it is given,
    so that one block's memory serves every block, and into a new array otherwise (and
    always for a sparse matrix whose dtype is not ``dtype``). The values are those of
    ``np.ascontiguousarray(X[start:stop], dtype)`` on ``X`` dense.
    """
    out = None if buffer is None else buffer[: stop - start]
    if isinstance(X, np.ndarray):
        rows = X[start:stop]
        if out is None or (rows.dtype == dtype and rows.flags.c_contiguous):
            return np.ascontiguousarray(rows, dtype=dtype)
        np.copyto(out, rows, casting="unsafe")  # the conversion astype makes
        return out
    if hasattr(X, "toarray"):  # a SciPy sparse matrix
        rows = X[start:stop]
        if out is not None and rows.dtype == dtype:
            return rows.toarray(out=out)
        return np.ascontiguousarray(rows.toarray(), dtype=dtype)
    if out is None:
        out = np.empty((stop - start, X.shape[1]), dtype=dtype)
    return X.take(np.arange(start, stop), out=out)


def rows_buffer(X: Any, rows: int, dtype: np.dtype) -> np.ndarray | None:
    """A ``(rows, n)`` buffer of ``dtype`` for :func:`dense_rows` over ``X``, or None when
    ``X`` is an array whose rows are already C-ordered in ``dtype`` (they are views)."""
    if isinstance(X, np.ndarray) and X.dtype == dtype and X.flags.c_contiguous:
        return None
    return np.empty((min(rows, X.shape[0]), X.shape[1]), dtype=dtype)


def scan_all(n_rows: int, find: Callable[[slice], Any]) -> Any:
    """The :data:`RowScan` of one process: ``find`` over every row. (A distributed fit
    gives each rank a share of the rows instead: :func:`mlpzero.distributed.row_scan`.)"""
    return find(slice(0, n_rows))


def check_features(
    X: Any,
    *,
    dtype: Any = np.float64,
    n_features: int | None = None,
    name: str = "X",
    scan: RowScan | None = None,
    accept_sparse: bool = False,
    warn_precision: bool = False,
    convert: bool = True,
) -> Any:
    """``X`` as a finite 2-D C-contiguous array of ``dtype`` with at least one row.

    A copy is made only when the dtype or memory layout requires one. A memory-mapped
    ``X`` (:func:`is_memory_mapped`) is checked chunk by chunk and returned as it is, in its
    own dtype: its rows are converted to ``dtype`` as they are read. ``scan`` runs the
    scans over the rows (for NaN, infinity and values too large for ``dtype``):
    :func:`scan_all` by default.

    With ``accept_sparse=True`` a SciPy sparse ``X`` (:func:`is_sparse`) is returned as a
    CSR matrix of ``dtype``, its stored values checked; it is never made dense. A CSR
    matrix of ``dtype`` is returned as it is; another format or dtype is converted once,
    a sparse copy whose size is proportional to the stored values, not to ``m * n``.

    ``warn_precision=True`` (training data) warns about the columns of a dense ``X`` that
    ``dtype`` would leave almost constant (:func:`warn_lost_precision`).

    ``convert=False`` (inference, which reads ``X`` a block of rows at a time) returns a
    numeric array in memory as it is too, in its own dtype and order, checked as above:
    each block is converted as it is read (:func:`dense_rows`), never ``X`` whole.
    """
    if is_sparse(X):
        if not accept_sparse:
            raise TypeError(
                f"{name}: sparse matrices are not supported here; pass {name}.toarray()"
            )
        return _check_sparse(X, dtype, n_features, name)
    if isinstance(X, np.ma.MaskedArray):  # np.asarray would drop the mask, not the values
        masked = int(np.ma.count_masked(X))
        if masked:
            raise ValueError(
                f"{name} is a masked array with {masked} masked entries; their values would "
                f"be trained on as they are: fill them (for example {name}.filled(0.0)) or "
                "drop their rows"
            )
        X = X.data
    labels = None if isinstance(X, np.ndarray) else getattr(X, "columns", None)
    labels = None if labels is None else list(labels)  # a frame's, to name its columns
    array = numeric_frame(X)
    try:
        array = np.asarray(X) if array is None else array
    except (TypeError, ValueError) as error:
        raise ValueError(f"{name} could not be read as an array: {error}") from None
    if array.ndim == 0:  # a number, or what NumPy wraps whole: None, a generator, a dict
        raise ValueError(
            f"{name} must be 2-D (n_samples, n_features), got {type(X).__name__} {_short(X)}"
        )
    if array.dtype.kind not in "biuf":
        if array.dtype.kind in "OUS":
            try:
                array = _as_float64(array)
            # The third: an int like 10**400.
            except (TypeError, ValueError, OverflowError, _ComplexWarning):
                raise ValueError(_not_numeric(array, name, labels)) from None
        else:
            raise ValueError(f"{name} must be numeric, got dtype {array.dtype}")
    if array.ndim == 1:
        raise ValueError(
            f"{name} must be 2-D (n_samples, n_features), got a 1-D array of shape "
            f"{array.shape}; reshape it with {name}.reshape(-1, 1) for one feature "
            f"or {name}.reshape(1, -1) for one sample"
        )
    _check_shape(array.shape, n_features, name)
    scan = scan_all if scan is None else scan
    bad = scan(array.shape[0], lambda rows: _first_non_finite(array, rows))
    if bad is not None:
        raise ValueError(
            f"{name} contains NaN or infinity (first at row {bad[0]}, column {bad[1]}"
            f"{_label(labels, bad[1])})"
        )

    def locate(where: list[int]) -> str:
        return f"index {where[0]}, {where[1]}{_label(labels, where[1])}"

    check_fits(array, dtype, name, scan, locate)
    if warn_precision:
        warn_lost_precision(array, dtype, name)
    if is_memory_mapped(array) or not convert:
        return array
    return np.ascontiguousarray(array, dtype=dtype)


def numeric_frame(X: Any) -> np.ndarray | None:
    """A data frame (pandas or alike) of number and boolean columns of several dtypes as
    one float64 array, filled column by column; None for anything else.

    ``np.asarray`` makes such a frame (a boolean or nullable ``Int64`` column beside float
    ones) an array of Python objects first, a boxed number per value: about five times
    the frame's memory. A frame with a missing value gives None too, so that the object
    array names it.
    """
    dtypes = getattr(X, "dtypes", None)
    if isinstance(X, np.ndarray) or getattr(X, "ndim", None) != 2 or dtypes is None:
        return None
    dtypes = list(dtypes)
    if not all(getattr(dtype, "kind", "O") in "biuf" for dtype in dtypes):
        return None
    if len(set(dtypes)) <= 1 and all(isinstance(dtype, np.dtype) for dtype in dtypes):
        return None  # one NumPy dtype: np.asarray makes no objects
    try:
        array = X.to_numpy(dtype=np.float64, na_value=np.nan)
    except (TypeError, ValueError):  # a frame that converts otherwise: np.asarray reads it
        return None
    return None if np.isnan(array).any() else array


#: A column whose values span fewer steps of the model's dtype than this is named by
#: :func:`warn_lost_precision`: the cast leaves it at most about this many values.
PRECISION_STEPS = 100


def warn_lost_precision(array: np.ndarray, dtype: Any, name: str = "X") -> None:
    r"""Warn when casting ``array`` ``(m, n)`` to ``dtype`` leaves columns almost constant.

    Float64 values near :math:`10^{12}` that differ by 1 all become one float32 number:
    float32 numbers are :math:`2^{16}` apart there. For each column the range
    :math:`r = \max - \min` of evenly spaced rows (at most :data:`CHUNK_BYTES` of them,
    whatever the size of ``array``) is compared with the spacing :math:`s` of ``dtype``
    at the column's largest magnitude; columns with :math:`0 < r / s <`
    :data:`PRECISION_STEPS` are named in one :class:`UserWarning`, which suggests an
    offset or a wider dtype. Nothing is said when ``dtype`` holds every value of
    ``array``'s dtype.
    """
    dtype = np.dtype(dtype)
    if dtype.kind != "f" or array.dtype.kind not in "iuf" or array.size == 0:
        return
    mantissa = np.finfo(dtype).nmant + 1  # integers up to 2**mantissa are exact
    if array.dtype.kind == "f":
        if np.finfo(array.dtype).nmant + 1 <= mantissa:
            return
    elif np.iinfo(array.dtype).bits - (array.dtype.kind == "i") <= mantissa:
        return
    row_bytes = max(1, array.shape[1] * 8)
    stride = max(1, -(-array.shape[0] * row_bytes // CHUNK_BYTES))
    sample = np.asarray(array[::stride], dtype=np.float64)
    low, high = sample.min(axis=0), sample.max(axis=0)
    magnitude = np.maximum(np.abs(low), np.abs(high)).astype(dtype)
    with np.errstate(over="ignore"):  # the spacing above the largest number is infinite
        spacing = np.spacing(magnitude)
    below = magnitude - np.nextafter(magnitude, dtype.type(0))
    spacing = np.where(np.isinf(spacing), below, spacing).astype(np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        steps = (high - low) / spacing
    lost = np.flatnonzero((high > low) & (steps < PRECISION_STEPS))
    if lost.size == 0:
        return
    first = int(lost[0])
    columns = f"column {first}" if lost.size == 1 else f"{lost.size} columns (first: {first})"
    warnings.warn(
        f"{name}: the values of {columns} vary by {high[first] - low[first]:.3g} around "
        f"{(high[first] + low[first]) / 2:.6g}, fewer than {PRECISION_STEPS} steps of "
        f"{dtype.name} there ({spacing[first]:.3g} each): the model "
        f"sees them as almost constant. Rescale such columns or subtract an offset from "
        f"them (standardize=True works on the {dtype.name} values), or use dtype='float64'",
        UserWarning,
        stacklevel=_caller_outside_package(),
    )


def _caller_outside_package() -> int:
    """The ``stacklevel`` of :func:`warnings.warn` (called by this function's caller)
    that names the first frame outside mlpzero: the user's line, whatever the path."""
    package = os.path.dirname(os.path.abspath(__file__))
    frame, level = sys._getframe(2), 2
    while frame is not None and frame.f_code.co_filename.startswith(package):
        frame, level = frame.f_back, level + 1
    return level


def brief_list(values: Sequence[Any], most: int = 20, quoted: bool = False) -> str:
    """``values`` joined by commas (each as its ``repr`` if ``quoted``); beyond ``most``,
    the first and last few and the count, so that many classes or features do not fill a
    notebook cell, a terminal or an error message."""
    show = repr if quoted else str
    if len(values) <= most:
        return ", ".join(show(v) for v in values)
    head, tail = values[: most // 2], values[-2:]
    shown = ", ".join(show(v) for v in head) + ", ..., " + ", ".join(show(v) for v in tail)
    return f"{shown} ({len(values):,} in all)"


def _as_float64(array: np.ndarray) -> np.ndarray:
    """``array`` as float64; NumPy's complex numbers among objects raise
    :class:`ComplexWarning` as an error rather than become their real parts, and its
    dates and durations raise :class:`TypeError` rather than become counts of their unit."""
    if array.dtype.kind == "O" and any(
        isinstance(value, (np.datetime64, np.timedelta64)) for value in array.flat
    ):
        raise TypeError("dates and durations are not numbers")
    with warnings.catch_warnings():
        warnings.simplefilter("error", _ComplexWarning)
        return array.astype(np.float64, copy=False)


def _label(labels: list[Any] | None, column: int) -> str:
    """`` ('name')``, the label of ``column`` in a data frame's ``labels``; else nothing.
    (A frame is put in the training order before its check: a column's number alone is
    its place in that order, not in the frame as given.)"""
    return "" if labels is None or len(labels) <= column else f" ({labels[column]!r})"


def _not_numeric(array: np.ndarray, name: str, labels: list[Any] | None = None) -> str:
    """Why an object or string ``array`` cannot be read as numbers: its first entry that
    is not one (a missing value, such as pandas' ``NA`` or None, said as such, and an
    integer beyond every float). ``labels``, a data frame's columns, name the column."""
    for flat, value in enumerate(array.ravel()):
        try:
            if isinstance(value, complex):  # float() of NumPy's drops the imaginary part
                raise TypeError
            float(value)
        except (TypeError, ValueError, OverflowError) as error:
            index = np.unravel_index(flat, array.shape)
            where = ", ".join(str(int(i)) for i in index)
            if array.ndim == 2:
                where += _label(labels, int(index[1]))
            if isinstance(error, OverflowError):
                return (
                    f"{name} holds an integer beyond every float ({str(value)[:5]}...) at "
                    f"index {where}; rescale it"
                )
            if value is None or type(value).__name__ in ("NAType", "NaTType"):
                return (
                    f"{name} has a missing value ({value}) at index {where}: fill or drop "
                    "the missing values first"
                )
            shown = value.item() if isinstance(value, np.generic) else value
            return f"{name} must be numeric, got {shown!r} at index {where}"
    return f"{name} must be numeric, got values of type {array.dtype}"


def _check_shape(shape: tuple[int, ...], n_features: int | None, name: str) -> None:
    if len(shape) != 2:
        raise ValueError(f"{name} must be 2-D (n_samples, n_features), got shape {shape}")
    if shape[0] == 0:
        raise ValueError(f"{name} is empty: got shape {shape}, need at least one sample")
    if shape[1] == 0:
        raise ValueError(f"{name} has no features: got shape {shape}")
    if n_features is not None and shape[1] != n_features:
        raise ValueError(
            f"{name} has {shape[1]} features, but the model was built for {n_features}"
        )


def _check_sparse(X: Any, dtype: Any, n_features: int | None, name: str) -> Any:
    """A sparse ``X`` as a checked CSR matrix of ``dtype`` (see :func:`check_features`)."""
    _check_shape(tuple(X.shape), n_features, name)
    if X.dtype.kind not in "biuf":
        raise ValueError(f"{name} must be numeric, got a sparse matrix of dtype {X.dtype}")
    X = float_duplicates(X, name)
    csr = X.tocsr()  # X itself when it is CSR already
    if csr is not X:  # made by a conversion that trusts the indices of formats not checked
        _check_sparse_structure(csr, name)
    if not csr.has_canonical_format:  # duplicate entries add up when densified: check sums
        csr = csr.copy()
        csr.sum_duplicates()
    bad = _first_non_finite(csr.data)
    if bad is not None:
        raise ValueError(f"{name} contains NaN or infinity (first at {_sparse_cell(csr, bad[0])})")
    check_fits(csr.data, dtype, name, locate=lambda where: _sparse_cell(csr, where[0]))
    return csr.astype(dtype, copy=False)


def float_duplicates(X: Any, name: str = "X") -> Any:
    """A sparse ``X`` whose indices are checked, and whose duplicate entries add up as
    the floats they become.

    Index arrays that point outside ``X``'s shape, or out of order, are refused naming
    ``name`` before anything reads them (SciPy's conversions trust them: they would read
    and write outside their arrays). A conversion to CSR (and ``sum_duplicates``) adds the
    stored values of one cell in ``X``'s own dtype, where uint8 counts of 200 and 100 wrap
    to 44. An integer ``X`` that may hold duplicates is returned as float64 (a sparse
    copy); any other ``X`` as it is.
    """
    _check_sparse_structure(X, name)
    if X.dtype.kind in "iu" and not getattr(X, "has_canonical_format", True):
        return X.astype(np.float64)
    return X


def _check_sparse_structure(X: Any, name: str) -> None:
    """Refuse a sparse matrix whose index arrays point outside its shape or are out of
    order. SciPy checks them fully only on request, and its conversions and densifying
    trust them: they would read and write outside their arrays. The check is SciPy's own,
    on a matrix made anew from ``X``'s arrays (not copied), so ``X`` is left as it was."""
    try:
        if X.format in ("csr", "csc", "bsr"):
            parts = (X.data, X.indices, X.indptr)
            type(X)(parts, shape=X.shape, copy=False).check_format(full_check=True)
        elif X.format == "coo":  # its constructor checks the coordinates
            type(X)((X.data, (X.row, X.col)), shape=X.shape, copy=False)
    except (ValueError, TypeError, IndexError) as error:
        raise ValueError(
            f"{name} is a malformed sparse matrix ({type(X).__name__}): {error}"
        ) from None


def _sparse_cell(csr: Any, stored: int) -> str:
    """Row and column of the ``stored``-th stored value of a CSR matrix."""
    row = int(np.searchsorted(csr.indptr, stored, side="right")) - 1
    return f"row {row}, column {int(csr.indices[stored])}"


def _first_non_finite(array: np.ndarray, within: slice | None = None) -> list[int] | None:
    """The index of the first NaN or infinity in a float ``array`` (or in its rows
    ``within``; None if none), scanned in chunks of rows so that a memory-mapped array is
    never held whole."""
    if array.dtype.kind != "f":
        return None
    for rows in row_chunks(array, within=within):
        finite = np.isfinite(array[rows])
        if not finite.all():
            bad = np.argwhere(~finite)[0].tolist()
            bad[0] += rows.start
            return bad
        del finite  # before the next chunk's, so that only one is alive
    return None


def largest_magnitude(array: np.ndarray) -> float:
    """The largest ``|x|`` of a non-empty numeric ``array``, as a float.

    Taken from its largest and smallest values: ``np.abs`` keeps a signed integer's
    dtype, in which the most negative value has no positive counterpart (``|-128|`` is
    ``-128`` in int8).
    """
    return max(float(array.max()), -float(array.min()))


def check_fits(
    array: np.ndarray,
    dtype: Any,
    name: str,
    scan: RowScan | None = None,
    locate: Callable[[list[int]], str] | None = None,
) -> None:
    """Refuse finite values that would become infinite when cast to ``dtype``.

    A float64 feature of 1e300 has no float32 value: rather than let the cast turn it into
    infinity (with an overflow warning), say so and suggest the remedies. ``scan`` as in
    :func:`check_features`; ``locate`` says where the value is from its index in
    ``array`` (by default, the index itself).
    """
    dtype = np.dtype(dtype)
    if dtype.kind != "f" or array.dtype.kind != "f" or array.size == 0:
        return
    limit = np.finfo(dtype).max
    if np.finfo(array.dtype).max <= limit:
        return
    scan = scan_all if scan is None else scan
    found = scan(array.shape[0], lambda rows: _first_too_large(array, limit, rows))
    if found is not None:
        where, value = found
        position = "index " + ", ".join(str(i) for i in where) if locate is None else locate(where)
        in_float64 = abs(value) <= np.finfo(np.float64).max  # not a long double beyond it
        wider = in_float64 and dtype.itemsize < 8
        # float() would show a long double beyond every float64 as inf
        shown = (
            f"{float(value):.3g}" if in_float64 else np.format_float_scientific(value, 2, trim="-")
        )
        raise ValueError(
            f"{name} holds {shown} (at {position}), beyond the largest {dtype.name} "
            f"({limit:.3g}); rescale it" + (" or use dtype='float64'" if wider else "")
        )


def _first_too_large(
    array: np.ndarray, limit: float, within: slice
) -> tuple[list[int], Any] | None:
    """The index and value (a scalar of ``array``'s dtype) of the largest
    ``|x| > limit`` in the first chunk of rows ``within`` that holds one (None if none)."""
    for rows in row_chunks(array, within=within):
        magnitude = np.abs(array[rows])
        if magnitude.max() <= limit:
            del magnitude  # before the next chunk's, so that only one is alive
            continue
        where = [int(i) for i in np.unravel_index(np.argmax(magnitude), magnitude.shape)]
        where[0] += rows.start
        return where, array[tuple(where)]
    return None


def check_targets(
    y: Any, n_samples: int, *, name: str = "y", x_columns: int | None = None
) -> np.ndarray:
    """``y`` as an array with one entry (or row) per sample, without NaN or infinity.

    ``x_columns``, the number of columns of ``X`` when known, lets the error of a ``y``
    with one entry per column of ``X`` say that ``X`` looks transposed (the article's
    layout, a sample per column)."""
    if y is None:
        raise ValueError(f"{name} is required, got None")
    try:
        array = np.asarray(y)
    except (TypeError, ValueError) as error:  # rows of different lengths
        raise ValueError(f"{name} could not be read as an array: {error}") from None
    if array.ndim == 0:  # a scalar, or what NumPy wraps whole: a sparse matrix, a set, a dict
        got = f"{type(y).__name__} {_short(y)}"
        if is_sparse(y):
            got = f"a sparse {type(y).__name__} of shape {y.shape}; pass {name}.toarray()"
        raise ValueError(f"{name} must be 1-D or 2-D with one entry per sample, got {got}")
    if array.ndim > 2:
        raise ValueError(f"{name} must be 1-D or 2-D, got shape {array.shape}")
    if array.dtype.kind == "c":  # as in X: no real targets, and no labels either
        raise ValueError(
            f"{name} holds complex numbers ({array.dtype}), such as "
            f"{array.ravel()[:3].tolist()}: targets must be real numbers or labels (pass "
            f"{name}.real if the imaginary parts are 0)"
        )
    if array.ndim == 2 and array.shape[1] == 0:
        raise ValueError(
            f"{name} has no columns: got shape {array.shape}, need a target (or a column "
            "of a 0/1 label matrix) per sample"
        )
    if array.shape[0] != n_samples:
        hint = ""
        entries = array.shape[1] if array.ndim == 2 and array.shape[0] == 1 else len(array)
        if x_columns is not None and entries == x_columns != n_samples:
            hint = (
                f"; X has {n_samples} rows and {x_columns} columns, as if each column were "
                "a sample (the article's layout): samples are rows here, pass X.T"
                + (f" and {name}.T" if array.ndim == 2 and array.shape[0] == 1 else "")
            )
        elif array.ndim == 2 and array.shape[1] == n_samples:  # the article's (1, m) layout
            hint = (
                f"; {name} has shape {array.shape}, one column per sample: samples are rows "
                "here, pass it transposed"
            )
        raise ValueError(
            f"expected {name} with {n_samples} rows to match X, got {array.shape[0]}{hint}"
        )
    if _first_non_finite(array) is not None:
        raise ValueError(f"{name} contains NaN or infinity")
    # NumPy's StringDType ("T") holds a missing value only when it names one (na_object)
    may_miss = array.dtype.kind == "O" or hasattr(array.dtype, "na_object")
    missing = (
        any(is_missing(v) for v in array.ravel())
        if may_miss
        else array.dtype.kind in "mM" and bool(np.isnat(array).any())
    )
    if missing:
        raise ValueError(f"{name} contains missing values (None, NaN, NaT or pandas' NA)")
    if array.dtype.kind != "O":
        return array
    numbers = _numbers_as_float(array)
    bad = _first_non_finite(numbers)
    if bad is not None:  # a Decimal, a Fraction or an int beyond every float64
        where = ", ".join(str(i) for i in bad)
        text = str(array[tuple(bad)])
        text = text if len(text) <= 20 else text[:17] + "..."
        raise ValueError(
            f"{name} holds {text} at index {where}, beyond the largest float64; rescale it"
        )
    return numbers


def _numbers_as_float(array: np.ndarray) -> np.ndarray:
    """An object ``y`` of numbers as float64 where they are measurements or a matrix (a
    number beyond every float64 infinite, for the caller to refuse); any other ``array``
    as it is.

    A data frame of nullable ``Int64``, ``Float64`` or ``boolean`` columns, or of columns
    of several dtypes, reads as objects, as does a pandas column of dtype object (of
    ``Decimal`` values too, as a database's fixed-point column gives them). Several
    columns of numbers are a 0/1 matrix or multi-output targets, which must be numeric;
    one column of numbers holding a float (a ``Decimal`` or ``Fraction`` counts as one)
    is measurements, as a float ``y`` is (NumPy reads the same numbers in a list as
    floats). One column of integers or booleans is labels, kept of their type; the rest
    is for the task to refuse or take as labels.
    """
    fractional = (float, np.floating, Decimal, Fraction)
    numbers = (bool, int, np.bool_, np.integer, *fractional)
    if not all(isinstance(value, numbers) for value in array.flat):
        return array
    one_column = array.ndim == 1 or array.shape[1] == 1
    if one_column and not any(isinstance(value, fractional) for value in array.flat):
        return array  # integers or booleans: labels
    try:
        return array.astype(np.float64)
    except OverflowError:  # an int like 10**400, or a Fraction as large: infinite here
        return np.array([_float_or_infinite(value) for value in array.flat]).reshape(array.shape)


def _float_or_infinite(value: Any) -> float:
    """``value`` (a number) as a float, infinite with its sign where it is beyond every
    float64 (an int like 10**400, or a Fraction as large)."""
    try:
        return float(value)
    except OverflowError:
        return np.inf if value > 0 else -np.inf


def is_missing(value: Any) -> bool:
    """Whether a label is a missing value: None, a float NaN (NumPy's float32 one too) or
    infinity, a ``Decimal`` one, NumPy's or pandas' ``NaT`` (a missing date or duration),
    or pandas' ``NA`` (of its nullable columns)."""
    if value is None or type(value).__name__ in ("NAType", "NaTType"):
        return True
    if isinstance(value, (np.datetime64, np.timedelta64)):
        return bool(np.isnat(value))
    if isinstance(value, Decimal):
        return not value.is_finite()
    return isinstance(value, (float, np.floating)) and not np.isfinite(value)


def check_sample_weight(
    sample_weight: Any,
    n_samples: int,
    *,
    name: str = "sample_weight",
    rows: str = "X",
    allow_all_zero: bool = False,
) -> np.ndarray | None:
    """Non-negative finite float64 weights, one per sample, not all zero (or None).

    The weights are returned as given; :func:`relative_sample_weight` rescales them for
    computing. An error names them ``name``, and the samples they weigh ``rows``
    (``"validation_data's sample_weight"`` and ``"X_val"``, say). ``allow_all_zero``
    admits weights that are all zero: those of one batch, which training skips.
    """
    if sample_weight is None:
        return None
    try:
        weights = np.asarray(sample_weight)
        # Text, which float64 would read without a word; complex numbers, whose imaginary
        # parts it would drop with a warning.
        if weights.dtype.kind in "USc":
            raise TypeError
        weights = _as_float64(weights)
    except OverflowError:  # an int like 10**400
        raise ValueError(
            f"{name} must be finite and non-negative, got an integer beyond every float"
        ) from None
    except (TypeError, ValueError, _ComplexWarning):
        raise ValueError(
            f"{name} must be numbers, one per sample, got "
            f"{type(sample_weight).__name__} {_short(sample_weight)}"
        ) from None
    if weights.ndim == 0:
        weights = np.full(n_samples, float(weights))
    if weights.shape != (n_samples,):
        raise ValueError(
            f"{name} must have shape ({n_samples},) to match {rows}, got {weights.shape}"
        )
    if not np.isfinite(weights).all() or (weights < 0).any():
        bad = int(np.flatnonzero(~(np.isfinite(weights) & (weights >= 0)))[0])
        raise ValueError(
            f"{name} must be finite and non-negative, got {float(weights[bad])} at index {bad}"
        )
    if not allow_all_zero and weights.max() <= 0:  # the largest, not the sum (overflow)
        raise ValueError(f"{name} must not be all zero")
    return weights


def relative_sample_weight(weights: np.ndarray | None) -> np.ndarray | None:
    r"""``weights / max(weights)`` in float64, so the largest weight is 1 (None stays None).

    Every weighted mean depends only on the ratios of the weights, so this changes no
    result; it keeps sums and casts in range: weights of 1e300 would overflow a float32
    cast (and their sum float64), weights of 1e-300 would all round to 0 in float32.
    Weights that are negative, NaN or infinite are refused, as all zero are.
    """
    if weights is None:
        return None
    weights = np.asarray(weights, dtype=np.float64)
    top = weights.max()
    if not 0 <= weights.min() <= top < np.inf:  # NaN fails too
        bad = int(np.flatnonzero(~(np.isfinite(weights) & (weights >= 0)))[0])
        raise ValueError(
            "sample_weight must be finite and non-negative, got "
            f"{float(weights[bad])} at index {bad}"
        )
    if not top > 0:
        raise ValueError("sample_weight must not be all zero")
    return weights / top


def warn_vanished_weights(
    relative: np.ndarray, cast: np.ndarray, name: str = "sample_weight"
) -> bool:
    """Warn when positive ``relative`` weights (each over the largest, float64) round to 0
    in ``cast`` (the model's dtype): their rows would not be trained on, without a word.
    ``name`` names the weights in the warning; whether it warned."""
    vanished = int(np.count_nonzero(cast == 0) - np.count_nonzero(relative == 0))
    if vanished:
        smallest = float(relative[relative > 0].min())
        warnings.warn(
            f"{name}: {vanished} positive weight(s) (the smallest {smallest:.3g} times "
            f"the largest) round to 0 in {cast.dtype.name}, so their rows are not trained "
            "on; use dtype='float64' to keep them",
            UserWarning,
            stacklevel=_caller_outside_package(),
        )
    return bool(vanished)


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def check_int(name: str, value: Any, minimum: int = 1, allow_none: bool = False) -> int | None:
    """An integer ``>= minimum`` (bools refused)."""
    if value is None and allow_none:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{name} must be an integer, got {type(value).__name__} {value!r}")
    if value < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value!r}")
    return int(value)


def check_flag(name: str, value: Any) -> bool:
    """``True`` or ``False`` (NumPy's too); anything else is refused, rather than read as
    its truth value (the string ``"no"`` is true)."""
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} must be True or False, got {type(value).__name__} {value!r}")
    return bool(value)


def check_dtype(dtype: Any, name: str = "dtype") -> np.dtype:
    """``np.float32`` or ``np.float64`` from a name or dtype; anything else is refused
    (``None`` too, which NumPy would read as float64)."""
    try:
        result = None if dtype is None else np.dtype(dtype)
    except (TypeError, ValueError):
        result = None
    if result is None or result not in (np.float32, np.float64):
        raise ValueError(f"{name} must be 'float32' or 'float64', got {dtype!r}")
    return result


def check_positive(name: str, value: Any) -> float:
    """A finite float ``> 0`` (:func:`check_non_negative` admits 0)."""
    number = _number(name, value)
    if not (np.isfinite(number) and number > 0):
        raise ValueError(f"{name} must be a finite number > 0, got {value!r}")
    return number


def check_non_negative(name: str, value: Any) -> float:
    """A finite float ``>= 0``."""
    number = _number(name, value)
    if not (np.isfinite(number) and number >= 0):
        raise ValueError(f"{name} must be a finite number >= 0, got {value!r}")
    return number


def _number(name: str, value: Any) -> float:
    """``value`` as a float; bools (NumPy's too), text (``"0.1"``, which ``float`` would
    read, as it would not read ``"1e-3 "`` with a unit or a comma) and what ``float``
    refuses raise a TypeError."""
    text = isinstance(value, np.ndarray) and value.dtype.kind in "US"
    if isinstance(value, (bool, np.bool_, str, bytes, np.str_, np.bytes_)) or text:
        raise TypeError(f"{name} must be a number, got {type(value).__name__} {value!r}")
    try:
        return float(value)
    except OverflowError:  # an integer beyond every float, 10**400: not finite either
        return float("inf") if value > 0 else float("-inf")
    except (TypeError, ValueError):
        raise TypeError(f"{name} must be a number, got {type(value).__name__} {value!r}") from None
