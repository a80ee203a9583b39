r"""Diagnostics of a network's training: gradient norms, update sizes, dead and saturated units.

Pure functions over a :class:`~mlpzero.network.Network`: they read the cache of its last
forward pass (:meth:`~mlpzero.network.Network.cache`), the gradients of its last backward
pass (:attr:`~mlpzero.network.Network.weight_grads`) or its parameters, and change
nothing. Layers are numbered as in :mod:`mlpzero.network`: ``W[l]`` is the
``(n_l, n_{l-1})`` weight matrix of layer ``l = 1 .. L``; ``A[l]`` the ``(m, n_l)``
outputs of hidden layer ``l`` for a batch of ``m`` rows.

=====================  =================================================================
:func:`gradient_norms`  :math:`\|dW^{[l]}\|_F` for each layer: vanishing (tiny in the
                        first layers) or exploding gradients
:func:`update_ratios`   :math:`\|W^{[l]} - W^{[l]}_{before}\|_F / \|W^{[l]}_{before}\|_F`:
                        how far one step moved each layer's weights, relative to their size
:func:`dead_relu_share` the share of ReLU units whose output is 0 for every row of the
                        batch: they pass no gradient and stop learning
:func:`saturated_share` the share of sigmoid and tanh outputs in the flat ends of the
                        curve, where the derivative nearly vanishes
=====================  =================================================================

A usual sequence: ``network.forward(X)``, the loss gradient into
``network.output_delta()``, ``network.backward(dlogits)``, then these functions.

Examples
--------
>>> import numpy as np
>>> from mlpzero import Network
>>> network = Network([2, 3, 1], "relu", rng=0)
>>> network.weights[0][...] = [[1.0, 0.0], [-1.0, 0.0], [0.0, -1.0]]
>>> _ = network.forward(np.array([[1.0, -1.0], [2.0, -3.0]]))
>>> dead_relu_share(network)  # the second unit sees -x1 < 0 on both rows
0.3333333333333333
"""

from __future__ import annotations

import math

import numpy as np

from .activations import ReLU, Sigmoid, Tanh
from .network import Network

__all__ = ["dead_relu_share", "gradient_norms", "saturated_share", "update_ratios"]


def gradient_norms(network: Network) -> list[float]:
    r"""The Frobenius norm of each layer's weight gradient from the last backward pass.

    .. math:: \|dW^{[l]}\|_F = \Big(\sum_{j,k} (dW^{[l]}_{jk})^2\Big)^{1/2},
        \qquad l = 1 .. L

    Returns ``L`` floats, first layer first. Biases are left out.
    """
    return [_norm(g) for g in network.weight_grads]


def update_ratios(network: Network, before: np.ndarray) -> list[float]:
    r"""How far the weights moved since ``before``, relative to their size, per layer.

    .. math:: r_l = \frac{\|W^{[l]} - W^{[l]}_{before}\|_F}{\|W^{[l]}_{before}\|_F}

    ``before`` is the flat parameter vector ``(n_params,)`` taken before the update
    (e.g. a copy of ``network.params``); biases are left out. A layer whose weights were
    all zero gives ``inf`` if they moved and ``0.0`` if not.
    """
    before = np.asarray(before)
    if before.shape != network.params.shape:
        raise ValueError(
            f"before must be a flat parameter vector of shape {network.params.shape}, "
            f"got shape {before.shape}"
        )
    ratios = []
    offset = 0
    for weights, bias in zip(network.weights, network.biases, strict=True):
        old = before[offset : offset + weights.size].reshape(weights.shape)
        offset += weights.size + bias.size
        moved = _norm(weights.astype(np.float64) - old)
        size = _norm(old)
        ratios.append(moved / size if size > 0 else (math.inf if moved > 0 else 0.0))
    return ratios


def dead_relu_share(network: Network) -> float | None:
    r"""The share of ReLU hidden units that output 0 for every row of the last forward pass.

    A unit ``j`` of hidden layer ``l`` is dead on the batch when
    :math:`\max_i A^{[l]}_{ij} \le 0` over the ``m`` rows ``i``: then every
    :math:`dZ^{[l]}_{ij}` is 0 and its incoming weights get no gradient. The share is the
    number of dead units over the number of units, across all ReLU layers (other
    activations are not counted). ``None`` when the network has no ReLU layer.
    """
    layers = [layer for layer, a in enumerate(network.activations) if isinstance(a, ReLU)]
    if not layers:
        return None
    outputs = _hidden_outputs(network)
    dead = sum(int(np.count_nonzero(outputs[layer].max(axis=0) <= 0)) for layer in layers)
    return dead / sum(outputs[layer].shape[1] for layer in layers)


def saturated_share(network: Network, threshold: float = 0.99) -> float | None:
    r"""The share of sigmoid and tanh outputs near their bounds in the last forward pass.

    An output :math:`a = \tanh(z)` is saturated when :math:`|a| >` ``threshold``; a
    sigmoid output :math:`a = \sigma(z)` when :math:`|2a - 1| >` ``threshold``, the same
    rule since :math:`2\sigma(z) - 1 = \tanh(z/2)`. With the default 0.99 the derivative
    there is below 2% of its largest value (:math:`1 - a^2 < 0.0199` for tanh,
    :math:`a(1 - a) < 0.0025` for sigmoid). The share counts entries
    :math:`A^{[l]}_{ij}` (rows times units) across all sigmoid and tanh layers; ``None``
    when the network has none.
    """
    if not 0 < threshold < 1:
        raise ValueError(f"threshold must be in (0, 1), got {threshold!r}")
    kinds = (Tanh, Sigmoid)
    layers = [layer for layer, a in enumerate(network.activations) if isinstance(a, kinds)]
    if not layers:
        return None
    outputs = _hidden_outputs(network)
    saturated = entries = 0
    for layer in layers:
        A = outputs[layer]
        # 2 sigmoid(z) - 1 = tanh(z / 2): centred on 0 with bounds -1 and 1, like tanh.
        centred = np.abs(A) if isinstance(network.activations[layer], Tanh) else np.abs(2 * A - 1)
        saturated += int(np.count_nonzero(centred > threshold))
        entries += A.size
    return saturated / entries


def _hidden_outputs(network: Network) -> list[np.ndarray]:
    """``A[1] .. A[L-1]`` of the last forward pass, each ``(m, n_l)``."""
    A = network.cache()["A"]
    if A[0] is None:
        raise RuntimeError("the network has no forward pass to read: call forward(X) first")
    return A[1:]


def _norm(array: np.ndarray) -> float:
    """The Frobenius norm, summed in float64."""
    flat = array.astype(np.float64, copy=False).ravel()
    return math.sqrt(float(np.dot(flat, flat)))
