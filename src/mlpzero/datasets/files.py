"""Your own data from files: a CSV table with a header row, or a NumPy ``.npz`` archive.

Both return ``(X, y)`` ready for :meth:`mlpzero.MLP.fit`: ``X`` a float64 matrix
``(n_samples, n_features)`` and ``y`` one entry per sample. Problems are reported with the
file, the row and the column involved, before any model sees the data.
"""

from __future__ import annotations

import csv
import os
import zipfile
from pathlib import Path

import numpy as np

__all__ = ["load_csv", "load_npz"]


def _existing_file(path: str | os.PathLike[str], name: str = "path") -> Path:
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"{name} must be a file path, got {type(path).__name__} {path!r}")
    file = Path(path)
    if not file.exists():
        raise FileNotFoundError(f"no such file: {str(file)!r}")
    if not file.is_file():
        raise ValueError(f"{name} must be a file, got the folder {str(file)!r}")
    return file


def _column_index(target: str | int, header: list[str], file: Path) -> int:
    if isinstance(target, bool) or not isinstance(target, (str, int, np.integer)):
        raise TypeError(
            f"target must be a column name or index, got {type(target).__name__} {target!r}"
        )
    if isinstance(target, str):
        if target not in header:
            raise ValueError(f"{file.name}: no column named {target!r}; the columns are {header}")
        return header.index(target)
    index = int(target)
    if not -len(header) <= index < len(header):
        raise ValueError(
            f"{file.name}: target index {index} is out of range for {len(header)} columns {header}"
        )
    return index % len(header)


def _as_labels(values: list[str]) -> np.ndarray:
    """Target strings as int64 if all are integers, float64 if all are numbers, else str."""
    try:
        numbers = np.array([float(v) for v in values], dtype=np.float64)
    except ValueError:
        return np.array(values)
    if np.all(np.isfinite(numbers)) and np.array_equal(numbers, np.round(numbers)):
        if all(v.strip().lstrip("+-").isdigit() for v in values):
            return numbers.astype(np.int64)
    return numbers


def load_csv(
    path: str | os.PathLike[str],
    target: str | int = -1,
    *,
    delimiter: str = ",",
) -> tuple[np.ndarray, np.ndarray]:
    """Read a CSV file whose first row names the columns.

    ``target`` picks the label column by name or by index (default: the last column);
    every other column is a feature and must be numeric. The target may hold numbers
    (integers become int64 labels, other numbers float64 targets) or any strings, which
    are class labels.

    Returns ``X`` float64 ``(n_samples, n_features)`` and ``y`` ``(n_samples,)``.

    Raises :class:`FileNotFoundError` for a missing file and :class:`ValueError` for a
    missing column (naming the available ones), a row with the wrong number of fields,
    an empty cell, or a non-numeric feature (naming its line and column).
    """
    file = _existing_file(path)
    with file.open(newline="", encoding="utf-8-sig") as handle:
        rows = list(csv.reader(handle, delimiter=delimiter))
    while rows and not any(cell.strip() for cell in rows[-1]):
        rows.pop()  # trailing blank lines
    if not rows:
        raise ValueError(f"{file.name} is empty: expected a header row and data rows")
    header = [name.strip() for name in rows[0]]
    if len(header) < 2:
        raise ValueError(
            f"{file.name}: the header has {len(header)} column ({header}); need at least one "
            f"feature and a target (is the delimiter {delimiter!r} right?)"
        )
    data = rows[1:]
    if not data:
        raise ValueError(f"{file.name} has a header but no data rows")
    column = _column_index(target, header, file)
    features = [i for i in range(len(header)) if i != column]
    X = np.empty((len(data), len(features)), dtype=np.float64)
    labels = []
    for r, row in enumerate(data):
        line = r + 2  # 1-based, after the header
        if len(row) != len(header):
            raise ValueError(
                f"{file.name}, line {line}: expected {len(header)} fields, got {len(row)}"
            )
        for j, i in enumerate(features):
            cell = row[i].strip()
            try:
                X[r, j] = float(cell)
            except ValueError:
                what = "is empty" if not cell else f"is not a number: {cell!r}"
                raise ValueError(
                    f"{file.name}, line {line}, column {header[i]!r}: the value {what}"
                ) from None
            if not np.isfinite(X[r, j]):
                raise ValueError(
                    f"{file.name}, line {line}, column {header[i]!r}: the value {cell!r} "
                    "is not finite"
                )
        label = row[column].strip()
        if not label:
            raise ValueError(
                f"{file.name}, line {line}, column {header[column]!r}: the target is empty"
            )
        labels.append(label)
    return X, _as_labels(labels)


def load_npz(
    path: str | os.PathLike[str], *, x_key: str = "X", y_key: str = "y"
) -> tuple[np.ndarray, np.ndarray]:
    """Read ``X`` and ``y`` from a ``.npz`` archive (as written by :func:`numpy.savez`).

    The archive is opened with ``allow_pickle=False``: it can hold only plain numeric or
    string arrays, never code. ``X`` must be numeric and 2-D; ``y`` must have one entry per
    row of ``X``; neither may hold NaN or infinity. Returns ``X`` as float64 and ``y``
    unchanged.
    """
    file = _existing_file(path)
    try:
        archive = np.load(file, allow_pickle=False)
    except (OSError, ValueError, zipfile.BadZipFile) as error:
        raise ValueError(f"{file.name} is not a readable .npz archive: {error}") from None
    if not isinstance(archive, np.lib.npyio.NpzFile):
        raise ValueError(f"{file.name} holds a single array, not an .npz archive with X and y")
    with archive:
        keys = list(archive.files)
        missing = [key for key in (x_key, y_key) if key not in keys]
        if missing:
            raise ValueError(f"{file.name}: no array named {missing[0]!r}; it holds {keys}")
        try:
            X, y = archive[x_key], archive[y_key]
        except ValueError as error:  # object arrays need pickle, which is refused
            raise ValueError(
                f"{file.name}: cannot read {x_key!r}/{y_key!r} without pickle ({error}); "
                "save plain numeric or string arrays"
            ) from None
    if X.dtype.kind not in "biuf":
        raise ValueError(f"{file.name}: {x_key!r} must be numeric, got dtype {X.dtype}")
    if X.ndim != 2:
        raise ValueError(
            f"{file.name}: {x_key!r} must be 2-D (n_samples, n_features), got shape {X.shape}"
        )
    if y.ndim not in (1, 2) or y.shape[0] != X.shape[0]:
        raise ValueError(
            f"{file.name}: {y_key!r} must have one entry per row of {x_key!r} "
            f"({X.shape[0]}), got shape {y.shape}"
        )
    for key, array in ((x_key, X), (y_key, y)):
        if array.dtype.kind in "fc" and not np.isfinite(array).all():
            where = tuple(int(i) for i in np.argwhere(~np.isfinite(array))[0])
            raise ValueError(
                f"{file.name}: {key!r} holds a value that is not finite, "
                f"{array[where]!s} at index {where}"
            )
    return X.astype(np.float64), y
