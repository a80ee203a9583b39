"""Datasets: each returns ``X`` of shape ``(n_samples, n_features)`` and labels ``y``.

Toy 2-D problems (:mod:`mlpzero.datasets.toy`): ``make_linear``, ``make_xor``,
``make_circles``, ``make_moons``, ``make_spirals``.

Real data (:mod:`mlpzero.datasets.real`): ``load_digits`` (the 8x8 digits that ship with
scikit-learn) and ``load_mnist`` (downloaded once, verified, cached).

Your own files (:mod:`mlpzero.datasets.files`): ``load_csv`` and ``load_npz``.
"""

from .files import load_csv, load_npz
from .real import DownloadError, load_digits, load_mnist, parse_idx
from .toy import make_circles, make_linear, make_moons, make_spirals, make_xor

__all__ = [
    "DownloadError",
    "load_csv",
    "load_digits",
    "load_mnist",
    "load_npz",
    "make_circles",
    "make_linear",
    "make_moons",
    "make_spirals",
    "make_xor",
    "parse_idx",
]
