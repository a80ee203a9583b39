"""Datasets: each returns ``X`` of shape ``(n_samples, n_features)`` and labels ``y``.

Toy 2-D problems (:mod:`mlpzero.datasets.toy`): ``make_linear``, ``make_xor``,
``make_circles``, ``make_moons``, ``make_spirals``.
"""

from .toy import make_circles, make_linear, make_moons, make_spirals, make_xor

__all__ = [
    "make_circles",
    "make_linear",
    "make_moons",
    "make_spirals",
    "make_xor",
]
