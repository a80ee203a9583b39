"""Weight initialisers.

A weight matrix has shape ``(fan_out, fan_in)``: one row per neuron of the layer, one
column per input to it, as in the article's ``W[l]`` of shape ``(n[l], n[l-1])``.
Biases always start at zero.

Normal initialisers draw a standard-normal ``(fan_out, fan_in)`` matrix and scale it,
``W = N(0, 1) * sqrt(gain / fan_in)``, in exactly that order, so that a generator seeded
like the article's (``np.random.seed(42)``) gives the article's weights bit for bit.

- :func:`he_normal`: ``gain = 2``; for ReLU-like activations, which zero half their inputs.
- :func:`xavier_normal`: ``gain = 1``; for sigmoid, tanh and the identity.
- :func:`glorot_uniform`: ``U(-r, r)`` with ``r = sqrt(6 / (fan_in + fan_out))``
  (:func:`glorot_limit`); :func:`glorot_uniform_layers` draws a whole network the way
  scikit-learn's MLP does, for the scikit-learn estimators.

``rng`` is anything with a ``standard_normal(shape)`` method and, for the uniform case,
``uniform(low, high, shape)``: a :class:`numpy.random.Generator` or the legacy
``numpy.random`` module itself.
"""

from __future__ import annotations

from collections.abc import Callable
from itertools import pairwise
from typing import Any

import numpy as np

from .activations import Activation
from .activations import get as get_activation

__all__ = [
    "INITIALIZERS",
    "default_for",
    "get",
    "glorot_limit",
    "glorot_uniform",
    "glorot_uniform_layers",
    "he_normal",
    "xavier_normal",
]

Initializer = Callable[[int, int, Any], np.ndarray]


def _scaled_normal(fan_in: int, fan_out: int, rng: Any, gain: float) -> np.ndarray:
    return rng.standard_normal((fan_out, fan_in)) * np.sqrt(gain / fan_in)


def he_normal(fan_in: int, fan_out: int, rng: Any) -> np.ndarray:
    """He et al. (2015): ``W ~ N(0, 2 / fan_in)``, shape ``(fan_out, fan_in)``."""
    return _scaled_normal(fan_in, fan_out, rng, 2.0)


def xavier_normal(fan_in: int, fan_out: int, rng: Any) -> np.ndarray:
    """Xavier as in the article: ``W ~ N(0, 1 / fan_in)``, shape ``(fan_out, fan_in)``."""
    return _scaled_normal(fan_in, fan_out, rng, 1.0)


def glorot_limit(fan_in: int, fan_out: int, factor: float = 6.0) -> float:
    """``r = sqrt(factor / (fan_in + fan_out))``, the bound of Glorot's uniform draw (6 in
    Glorot and Bengio; scikit-learn uses 2 for the logistic activation)."""
    return float(np.sqrt(factor / (fan_in + fan_out)))


def glorot_uniform(fan_in: int, fan_out: int, rng: Any) -> np.ndarray:
    """Glorot and Bengio (2010): ``W ~ U(-r, r)``, ``r = sqrt(6 / (fan_in + fan_out))``."""
    limit = glorot_limit(fan_in, fan_out)
    return rng.uniform(-limit, limit, (fan_out, fan_in))


def glorot_uniform_layers(
    sizes: list[int], sigmoid: list[bool], rng: Any
) -> list[tuple[np.ndarray, np.ndarray]]:
    """Every layer's ``(W^T, b)`` drawn as scikit-learn's MLP draws them.

    Layer by layer, ``W^T`` ``(fan_in, fan_out)`` and then ``b`` ``(fan_out,)`` from
    ``U(-r, r)``, ``r = glorot_limit(fan_in, fan_out, 2 if sigmoid[l] else 6)``, in that
    order, so the same ``rng`` (a ``numpy.random.RandomState``) gives scikit-learn's numbers.
    """
    drawn = []
    for layer, (fan_in, fan_out) in enumerate(pairwise(sizes)):
        limit = glorot_limit(fan_in, fan_out, 2.0 if sigmoid[layer] else 6.0)
        coef = rng.uniform(-limit, limit, (fan_in, fan_out))
        drawn.append((coef, rng.uniform(-limit, limit, fan_out)))
    return drawn


INITIALIZERS: dict[str, Initializer] = {
    "he_normal": he_normal,
    "xavier_normal": xavier_normal,
    "glorot_uniform": glorot_uniform,
}


def get(initializer: str | Initializer) -> Initializer:
    """Return an initialiser from its name, or the callable itself."""
    if callable(initializer):
        return initializer
    if isinstance(initializer, str) and initializer in INITIALIZERS:
        return INITIALIZERS[initializer]
    known = ", ".join(sorted(INITIALIZERS))
    raise ValueError(f"unknown initializer {initializer!r}; expected one of: {known}")


def name_of(initializer: str | Initializer) -> str:
    """The registry name of an initialiser (for saving models)."""
    for name, fn in INITIALIZERS.items():
        if initializer is fn or initializer == name:
            return name
    return getattr(initializer, "__name__", repr(initializer))


def default_for(activation: str | Activation) -> str:
    """The article's rule: He for ReLU-like activations, Xavier for everything else."""
    name = get_activation(activation).name
    return "he_normal" if name in ("relu", "leaky_relu") else "xavier_normal"
