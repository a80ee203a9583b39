"""One entry point for data given by name or path: :func:`load_data`.

It dispatches on what ``source`` is (a built-in dataset's name, a ``.csv`` or ``.npz``
file, or a data directory) to the loader of that kind, and returns a :class:`Dataset`.
Its "features only" mode reads only ``X``, for predicting on data without labels.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..validation import brief_list
from .arrays import load_npy_dir, load_npz, open_npz
from .csv_reader import plan_csv, read_plan

__all__ = ["BUILTIN_DATASETS", "DATA_HELP", "TOY_DATASETS", "Dataset", "load_data"]

TOY_DATASETS = ("linear", "xor", "circles", "moons", "spirals")
BUILTIN_DATASETS = (*TOY_DATASETS, "digits", "mnist")
DATA_HELP = (
    f"a built-in dataset ({', '.join(BUILTIN_DATASETS)}), a .csv / .npz file or a data "
    "folder (CSV: a header row, numeric feature columns, a target column; npz: arrays X and "
    "y; folder: X.npy, y.npy, optional columns.json, as written by mlpzero convert)"
)


@dataclass
class Dataset:
    """Features ``X`` ``(n_samples, n_features)``, targets ``y`` (or None), column names."""

    X: np.ndarray
    y: np.ndarray | None
    feature_names: list[str] | None = None


def load_data(
    source: str | os.PathLike[str],
    *,
    target: str | int | None = None,
    features: Sequence[str] | None = None,
    n_features: int | None = None,
    features_only: bool = False,
    seed: int = 0,
    n_samples: int | None = None,
    split: str = "train",
    dtype: np.typing.DTypeLike = np.float64,
    scan: bool = True,
) -> Dataset:
    """Load a built-in dataset, a CSV or npz file, or a data directory.

    Parameters
    ----------
    source : a built-in name (``moons``, ``digits``, ``mnist``, ...), or the path of a
        ``.csv`` file, an ``.npz`` archive or a data directory (``X.npy``, ``y.npy``).
    target : the CSV target column (name or index). None: the last column, or the one
        column left besides ``features``.
    features : feature names in the order wanted (a model's ``feature_names_in_``): the
        CSV columns are picked by these names wherever they stand, and a directory's
        ``columns.json`` is reordered to them.
    n_features : the number of features expected; a CSV with exactly that many columns
        (and no ``target`` given), an npz without ``y`` or a directory without
        ``y.npy`` then hold only features, and ``y`` is None.
    features_only : read ``X`` only (``y`` is None), ignoring any target.
    seed, n_samples : the draw and size of a toy dataset (``n_samples`` is refused for
        any other source).
    split : ``"train"`` or ``"test"`` images of MNIST.
    dtype : the CSV features' dtype (float64 by default; an npz gives float64, a data
        directory its arrays as stored, memory-mapped).
    scan : scan a data directory for NaN and infinity (see
        :func:`~mlpzero.datasets.load_npy_dir`); the other sources are always checked.
    """
    if split not in ("train", "test"):
        raise ValueError(f"split must be 'train' or 'test', got {split!r}")
    if isinstance(features, str):
        raise TypeError(f"features must be a list of column names, got the string {features!r}")
    is_csv = isinstance(source, (str, os.PathLike)) and str(source).lower().endswith(".csv")
    if target is not None and not is_csv:
        raise ValueError(
            f"target={target!r} names a CSV column, but {str(source)!r} is not a CSV file: "
            "a built-in dataset, an npz or a data folder brings its own y"
        )
    toy = isinstance(source, str) and source.lower() in TOY_DATASETS
    if n_samples is not None and not toy:  # a file or a real dataset has its own rows
        raise ValueError(
            f"n_samples={n_samples!r} applies to the generated datasets "
            f"({', '.join(TOY_DATASETS)}), not to {str(source)!r}"
        )
    if isinstance(source, str) and source.lower() in BUILTIN_DATASETS:
        if os.path.isdir(source):  # a file without an extension is no data source
            raise ValueError(
                f"{source!r} names a built-in dataset and also the folder {source!r} here; "
                f"write {'./' + source!r} for the folder, or rename it"
            )
        return _builtin(source.lower(), seed, n_samples, split)
    if not isinstance(source, (str, os.PathLike)):
        raise TypeError(f"source must be a dataset name or path, got {type(source).__name__}")
    path = Path(source)
    suffix = path.suffix.lower()
    if path.is_dir():
        return _directory(path, features, n_features, features_only, scan)
    if suffix == ".csv":
        plan = plan_csv(
            path,
            target,
            features=features,
            n_features=n_features,
            features_only=features_only,
            dtype=dtype,
        )
        X, y = read_plan(plan)
        return Dataset(X, y, plan.feature_names)
    if suffix == ".npz":
        optional = n_features is not None or features is not None
        if not features_only and optional and path.is_file():
            with open_npz(path) as archive:
                features_only = "y" not in archive.files
        X, y = load_npz(path, features_only=features_only)
        return Dataset(X, y)
    if path.exists():
        raise ValueError(f"{source}: unsupported file type {suffix or '(none)'!r}; {DATA_HELP}")
    raise ValueError(f"unknown dataset {str(source)!r}: DATA must be {DATA_HELP}")


def _builtin(name: str, seed: int, n_samples: int | None, split: str) -> Dataset:
    if name in TOY_DATASETS:
        from . import toy

        make = getattr(toy, f"make_{name}")
        options: dict[str, object] = {"random_state": seed}
        if n_samples is not None:
            options["n_samples"] = n_samples
        X, y = make(**options)
        return Dataset(np.asarray(X), np.asarray(y))
    if name == "digits":
        from .real import load_digits

        X, y = load_digits()
        return Dataset(X, y)
    from .real import load_mnist

    train, test = load_mnist(verbose=True)
    X, y = train if split == "train" else test
    return Dataset(X, y)


def _directory(
    path: Path,
    features: Sequence[str] | None,
    n_features: int | None,
    features_only: bool,
    scan: bool,
) -> Dataset:
    optional = n_features is not None or features is not None
    if not features_only and optional and not (path / "y.npy").exists():
        features_only = True
    X, y, names = load_npy_dir(path, features_only=features_only, scan=scan)
    if features is not None and names is not None and list(features) != names:
        position = {name: i for i, name in enumerate(names)}
        missing = [name for name in features if name not in position]
        if missing:
            wanted, found = brief_list(list(features), quoted=True), brief_list(names, quoted=True)
            raise ValueError(
                f"{path.name} has no column {missing[0]!r}; the model's features are "
                f"[{wanted}] and the folder has [{found}]"
            )
        X = _columns_in_order(X, [position[name] for name in features])
        names = list(features)
    return Dataset(X, y, names)


#: Bytes of rows read at a time by :func:`_columns_in_order`.
_REORDER_BYTES = 1 << 23


def _columns_in_order(X: np.ndarray, order: list[int]) -> np.ndarray:
    """The columns ``order`` of ``X``, copied into memory a block of rows at a time.

    The copy is C-ordered in ``X``'s dtype, which is what the model's checks keep as it
    is; indexing the columns of the whole array gives a Fortran-ordered copy, which they
    would copy once more."""
    out = np.empty((X.shape[0], len(order)), dtype=X.dtype)
    step = max(1, _REORDER_BYTES // max(1, X[:1].nbytes))
    for start in range(0, len(X), step):
        out[start : start + step] = X[start : start + step][:, order]
    return out
