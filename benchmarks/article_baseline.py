r"""A plain, dictionary-based network in the article's layout: the reference to beat.

This module is deliberately independent of mlpzero. It keeps the article's conventions
(``X`` is ``(n_features, m)``, ``Y`` is ``(n_outputs, m)``, parameters in a dict
``{"W1": ..., "b1": ..., ...}`` with ``W[l]`` of shape ``(n[l], n[l-1])`` and ``b[l]`` of
shape ``(n[l], 1)``, weights drawn from the global ``np.random`` state) and computes every
step directly from the formulas, allocating fresh arrays as it goes:

.. math::
    Z^{[l]} = W^{[l]} A^{[l-1]} + b^{[l]}, \quad A^{[l]} = g(Z^{[l]}), \quad
    A^{[L]} = \sigma(Z^{[L]})

    dZ^{[L]} = A^{[L]} - Y, \quad
    dZ^{[l]} = (W^{[l+1]T} dZ^{[l+1]}) \odot g'(Z^{[l]}), \quad
    dW^{[l]} = \tfrac1m dZ^{[l]} A^{[l-1]T}, \quad db^{[l]} = \tfrac1m \textstyle\sum dZ^{[l]}

    W^{[l]} \leftarrow W^{[l]} - \alpha\, dW^{[l]}, \quad
    b^{[l]} \leftarrow b^{[l]} - \alpha\, db^{[l]}

It serves two purposes: the oracle for the parity tests of :mod:`mlpzero.tutorial`, and
the baseline of the performance benchmarks. Keep it simple and keep its API stable:
``init_params``, ``forward``, ``backward``, ``update``, ``train``, ``predict``, ``cost``, and
``multi_layer_neural_network`` (``train`` with the article's signature and return value).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

__all__ = [
    "backward",
    "cost",
    "forward",
    "init_params",
    "multi_layer_neural_network",
    "predict",
    "train",
]


def _sigmoid(z: np.ndarray) -> np.ndarray:
    with np.errstate(over="ignore"):  # exp(-z) -> inf for z << 0 gives exactly 0
        return 1.0 / (1.0 + np.exp(-z))


def _hidden(z: np.ndarray, activation: str) -> np.ndarray:
    if activation == "relu":
        return np.maximum(z, 0.0)
    if activation == "tanh":
        return np.tanh(z)
    if activation == "sigmoid":
        return _sigmoid(z)
    raise ValueError(f"activation must be 'relu', 'tanh' or 'sigmoid', got {activation!r}")


def _hidden_slope(z: np.ndarray, a: np.ndarray, activation: str) -> np.ndarray:
    """g'(z): from z for ReLU, from a = g(z) for tanh and sigmoid."""
    if activation == "relu":
        return (z > 0).astype(z.dtype)
    if activation == "tanh":
        return 1.0 - a * a
    return a * (1.0 - a)


def init_params(layer_sizes: Sequence[int], activation: str = "relu") -> dict[str, np.ndarray]:
    """He (ReLU) or Xavier (otherwise) normal weights from the global ``np.random``; zero biases.

    ``W[l] = randn(n[l], n[l-1]) * sqrt(gain / n[l-1])`` with ``gain`` 2 or 1.
    """
    gain = 2.0 if activation == "relu" else 1.0
    params: dict[str, np.ndarray] = {}
    for layer in range(1, len(layer_sizes)):
        fan_out, fan_in = layer_sizes[layer], layer_sizes[layer - 1]
        draw = np.random.randn(fan_out, fan_in)  # the article's global seed
        params[f"W{layer}"] = draw * np.sqrt(gain / fan_in)
        params[f"b{layer}"] = np.zeros((fan_out, 1))
    return params


def _n_layers(params: dict[str, np.ndarray]) -> int:
    return sum(1 for key in params if key.startswith("W"))


def forward(
    params: dict[str, np.ndarray], X: np.ndarray, activation: str = "relu"
) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """Return ``(A[L], cache)`` with ``cache = {"A0": X, "Z1": ..., "A1": ..., ...}``."""
    n_layers = _n_layers(params)
    cache = {"A0": X}
    a = X
    for layer in range(1, n_layers + 1):
        z = params[f"W{layer}"] @ a + params[f"b{layer}"]
        a = _sigmoid(z) if layer == n_layers else _hidden(z, activation)
        cache[f"Z{layer}"] = z
        cache[f"A{layer}"] = a
    return a, cache


def backward(
    params: dict[str, np.ndarray],
    cache: dict[str, np.ndarray],
    Y: np.ndarray,
    activation: str = "relu",
) -> dict[str, np.ndarray]:
    """Return ``{"dW1": ..., "db1": ..., "dZ1": ..., ...}`` for sigmoid + cross-entropy."""
    n_layers = _n_layers(params)
    m = Y.shape[1]
    grads: dict[str, np.ndarray] = {}
    dz = cache[f"A{n_layers}"] - Y
    for layer in range(n_layers, 0, -1):
        a_prev = cache[f"A{layer - 1}"]
        grads[f"dZ{layer}"] = dz
        grads[f"dW{layer}"] = (dz @ a_prev.T) / m
        grads[f"db{layer}"] = np.sum(dz, axis=1, keepdims=True) / m
        if layer > 1:
            slope = _hidden_slope(cache[f"Z{layer - 1}"], a_prev, activation)
            dz = (params[f"W{layer}"].T @ dz) * slope
    return grads


def update(
    params: dict[str, np.ndarray], grads: dict[str, np.ndarray], learning_rate: float
) -> dict[str, np.ndarray]:
    """Gradient descent in place: ``p -= learning_rate * dp`` for every ``W`` and ``b``."""
    for layer in range(1, _n_layers(params) + 1):
        params[f"W{layer}"] -= learning_rate * grads[f"dW{layer}"]
        params[f"b{layer}"] -= learning_rate * grads[f"db{layer}"]
    return params


def cost(A: np.ndarray, Y: np.ndarray) -> float:
    """Mean binary cross-entropy of predictions ``A`` against labels ``Y`` (clipped logs)."""
    eps = 1e-15
    return float(-np.mean(Y * np.log(A + eps) + (1 - Y) * np.log(1 - A + eps)))


def train(
    X: np.ndarray,
    Y: np.ndarray,
    hidden: Sequence[int],
    epochs: int,
    learning_rate: float,
    activation: str = "relu",
) -> dict[str, np.ndarray]:
    """Full-batch gradient descent from ``init_params`` (global seed); returns the params.

    ``X`` is ``(n_features, m)``, ``Y`` is ``(n_outputs, m)``.
    """
    sizes = [X.shape[0], *hidden, Y.shape[0]]
    params = init_params(sizes, activation)
    for _ in range(epochs):
        _, cache = forward(params, X, activation)
        grads = backward(params, cache, Y, activation)
        update(params, grads, learning_rate)
    return params


def multi_layer_neural_network(
    X: np.ndarray,
    Y: np.ndarray,
    n_hs: Sequence[int],
    num_epochs: int = 10000,
    learning_rate: float = 0.01,
    hidden_activation: str = "relu",
) -> tuple[dict[str, np.ndarray], list[int]]:
    """:func:`train` called the article's way; returns ``(params, layer_sizes)``."""
    params = train(X, Y, n_hs, num_epochs, learning_rate, hidden_activation)
    return params, [X.shape[0], *n_hs, Y.shape[0]]


def predict(params: dict[str, np.ndarray], X: np.ndarray, activation: str = "relu") -> np.ndarray:
    """Boolean predictions ``A[L] > 0.5``, shape ``(n_outputs, m)``."""
    return forward(params, X, activation)[0] > 0.5
