"""Datasets: each returns ``X`` of shape ``(n_samples, n_features)`` and labels ``y``.

Toy 2-D problems (:mod:`mlpzero.datasets.toy`): ``make_linear``, ``make_xor``,
``make_circles``, ``make_moons``, ``make_spirals``.

Real data (:mod:`mlpzero.datasets.real`): ``load_digits`` (the 8x8 digits that ship with
scikit-learn) and ``load_mnist`` (downloaded once, verified, cached).

Your own files: ``load_csv`` (:mod:`~mlpzero.datasets.csv_reader`, the one CSV parser),
``load_npz`` and ``load_npy_dir`` (:mod:`~mlpzero.datasets.arrays`; a data directory is
opened memory-mapped), ``convert_csv`` (:mod:`~mlpzero.datasets.convert`: a CSV streamed
into a data directory), and ``load_data`` (:mod:`~mlpzero.datasets.loading`: any of these
by name or path, with a features-only mode).
"""

from .arrays import load_npy_dir, load_npz
from .convert import convert_csv
from .csv_reader import load_csv
from .loading import Dataset, load_data
from .real import DownloadError, load_digits, load_mnist, parse_idx
from .toy import make_circles, make_linear, make_moons, make_spirals, make_xor

__all__ = [
    "Dataset",
    "DownloadError",
    "convert_csv",
    "load_csv",
    "load_data",
    "load_digits",
    "load_mnist",
    "load_npy_dir",
    "load_npz",
    "make_circles",
    "make_linear",
    "make_moons",
    "make_spirals",
    "make_xor",
    "parse_idx",
]
