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

:func:`dead_relu_shares` and :func:`saturated_shares` give the last two per hidden layer;
:func:`measure` takes all four at once, one list per quantity, as the
:class:`~mlpzero.callbacks.Diagnostics` callback records them during training and
:func:`~mlpzero.plotting.plot_diagnostics` draws them.

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
>>> dead_relu_shares(network)  # one share per hidden layer
[0.3333333333333333]
>>> sorted(measure(network))
['dead_relu', 'gradient_norm', 'saturated', 'update_ratio']
"""

from __future__ import annotations

import math

import numpy as np

from .activations import ReLU, Sigmoid, Tanh
from .network import Network

__all__ = [
    "QUANTITIES",
    "dead_relu_share",
    "dead_relu_shares",
    "gradient_norms",
    "measure",
    "saturated_share",
    "saturated_shares",
    "update_ratios",
]

#: The per-layer quantities :func:`measure` returns, in order.
QUANTITIES = ("gradient_norm", "update_ratio", "dead_relu", "saturated")


def gradient_norms(network: Network) -> list[float]:
    r"""The Frobenius norm of each layer's weight gradient from the last backward pass.

    .. math:: \|dW^{[l]}\|_F = \Big(\sum_{j,k} (dW^{[l]}_{jk})^2\Big)^{1/2},
        \qquad l = 1 .. L

    Returns ``L`` floats, first layer first. Biases are left out.
    """
    _check_network(network)
    return [_norm(g) for g in network.weight_grads]


def update_ratios(network: Network, before: np.ndarray) -> list[float]:
    r"""How far the weights moved since ``before``, relative to their size, per layer.

    .. math:: r_l = \frac{\|W^{[l]} - W^{[l]}_{before}\|_F}{\|W^{[l]}_{before}\|_F}

    ``before`` is the flat parameter vector ``(n_params,)`` taken before the update
    (e.g. a copy of ``network.params``); biases are left out. A layer whose weights were
    all zero gives ``inf`` if they moved and ``0.0`` if not.
    """
    _check_network(network)
    if not (isinstance(before, np.ndarray) and before.dtype.kind in "fiu"):
        try:  # a list, or text that would fail in np.isfinite without naming before
            before = np.asarray(before, dtype=np.float64)
        except (TypeError, ValueError) as error:
            raise ValueError(f"before must hold numbers, the parameters: {error}") from None
    if before.shape == network.params.shape and not np.isfinite(before).all():
        raise ValueError("before must hold finite parameters, got NaN or infinity")
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


def dead_relu_shares(network: Network) -> list[float | None]:
    r"""The share of dead units in each hidden layer, for the last forward pass.

    A unit ``j`` of a ReLU layer ``l`` is dead on the batch when
    :math:`\max_i A^{[l]}_{ij} \le 0` over the ``m`` rows ``i``: then every
    :math:`dZ^{[l]}_{ij}` is 0 and its incoming weights get no gradient. Returns one entry
    per hidden layer (``L - 1``), first layer first: the number of dead units over the
    layer's width, or ``None`` for a layer whose activation is not ReLU (a leaky ReLU
    always passes some gradient, so it cannot die this way).
    """
    _check_network(network)
    return [None if c is None else c[0] / c[1] for c in _dead_counts(network)]


def dead_relu_share(network: Network) -> float | None:
    r"""The share of ReLU hidden units that output 0 for every row of the last forward pass.

    Dead units (see :func:`dead_relu_shares`) over all units, across the ReLU layers
    (other activations are not counted). ``None`` when the network has no ReLU layer.
    """
    _check_network(network)
    counts = [c for c in _dead_counts(network) if c is not None]
    if not counts:
        return None
    return sum(dead for dead, _ in counts) / sum(units for _, units in counts)


def saturated_shares(network: Network, threshold: float = 0.99) -> list[float | None]:
    r"""The share of saturated outputs in each hidden layer, for the last forward pass.

    An output :math:`a = \tanh(z)` is saturated when :math:`|a| >` ``threshold``; a
    sigmoid output :math:`a = \sigma(z)` when :math:`|2a - 1| >` ``threshold``, the same
    rule since :math:`2\sigma(z) - 1 = \tanh(z/2)`. With the default 0.99 the derivative
    there is below 2% of its largest value (:math:`1 - a^2 < 0.0199` of 1 for tanh,
    :math:`a(1 - a) = (1 - (2a - 1)^2) / 4 < 0.004975` of 0.25 for sigmoid). Each share
    counts entries :math:`A^{[l]}_{ij}` (rows times units) of layer ``l``. Returns one
    entry per hidden layer, ``None`` for a layer that is neither sigmoid nor tanh.

    >>> a = 0.9951  # |2a - 1| = 0.9902: a saturated sigmoid output
    >>> round(a * (1 - a), 6), round(a * (1 - a) / 0.25, 4)  # below 0.004975, under 2%
    (0.004876, 0.0195)
    """
    _check_network(network)
    return [None if c is None else c[0] / c[1] for c in _saturated_counts(network, threshold)]


def saturated_share(network: Network, threshold: float = 0.99) -> float | None:
    r"""The share of sigmoid and tanh outputs near their bounds in the last forward pass.

    Saturated entries (see :func:`saturated_shares`) over all entries, across the sigmoid
    and tanh layers; ``None`` when the network has none.
    """
    _check_network(network)
    counts = [c for c in _saturated_counts(network, threshold) if c is not None]
    if not counts:
        return None
    return sum(n for n, _ in counts) / sum(entries for _, entries in counts)


def measure(
    network: Network, before: np.ndarray | None = None, threshold: float = 0.99
) -> dict[str, list[float]]:
    r"""Every diagnostic of the last step, per layer, as lists of floats.

    Reads the cache of the last forward pass and the gradients of the last backward pass;
    no extra pass is run. Returns the keys of :data:`QUANTITIES`:

    - ``gradient_norm``: :func:`gradient_norms`, ``L`` values;
    - ``update_ratio``: :func:`update_ratios` against ``before``, ``L`` values (NaN
      without ``before``);
    - ``dead_relu``: :func:`dead_relu_shares`, ``L - 1`` values;
    - ``saturated``: :func:`saturated_shares`, ``L - 1`` values.

    A layer where a quantity does not apply (``dead_relu`` of a tanh layer) gets NaN, so
    each list is plain numbers, ready to store and plot. So do ``dead_relu`` and
    ``saturated`` when there is no forward pass of at least one row to read: on a rank of
    a distributed fit whose share of the batches is empty, the gradient and the update
    are the whole batch's, but no unit saw a row.
    """
    _check_network(network)
    ratios = update_ratios(network, before) if before is not None else None
    nan = [math.nan] * network.n_layers
    inputs = network.cache()["A"][0]
    if inputs is None or inputs.shape[0] == 0:
        dead = saturated = [math.nan] * (network.n_layers - 1)
    else:
        dead = _numbers(dead_relu_shares(network))
        saturated = _numbers(saturated_shares(network, threshold))
    return {
        "gradient_norm": gradient_norms(network),
        "update_ratio": nan if ratios is None else ratios,
        "dead_relu": dead,
        "saturated": saturated,
    }


def _numbers(values: list[float | None]) -> list[float]:
    return [math.nan if v is None else float(v) for v in values]


def _dead_counts(network: Network) -> list[tuple[int, int] | None]:
    """``(dead units, units)`` per hidden layer; ``None`` for a layer that is not ReLU."""
    if not any(isinstance(a, ReLU) for a in network.activations):
        return [None] * len(network.activations)
    outputs = _hidden_outputs(network)
    counts: list[tuple[int, int] | None] = []
    for activation, A in zip(network.activations, outputs, strict=True):
        if isinstance(activation, ReLU):
            counts.append((int(np.count_nonzero(A.max(axis=0) <= 0)), A.shape[1]))
        else:
            counts.append(None)
    return counts


def _saturated_counts(network: Network, threshold: float) -> list[tuple[int, int] | None]:
    """``(saturated entries, entries)`` per hidden layer; ``None`` unless sigmoid or tanh."""
    if not isinstance(threshold, (int, float, np.floating)) or not 0 < threshold < 1:
        raise ValueError(f"threshold must be in (0, 1), got {threshold!r}")
    if not any(isinstance(a, (Tanh, Sigmoid)) for a in network.activations):
        return [None] * len(network.activations)
    outputs = _hidden_outputs(network)
    counts: list[tuple[int, int] | None] = []
    for activation, A in zip(network.activations, outputs, strict=True):
        if isinstance(activation, Tanh):
            counts.append((int(np.count_nonzero(np.abs(A) > threshold)), A.size))
        elif isinstance(activation, Sigmoid):
            # 2 sigmoid(z) - 1 = tanh(z / 2): centred on 0 with bounds -1 and 1, like tanh.
            centred = np.abs(2 * A - 1)
            counts.append((int(np.count_nonzero(centred > threshold)), A.size))
        else:
            counts.append(None)
    return counts


def _hidden_outputs(network: Network) -> list[np.ndarray]:
    """``A[1] .. A[L-1]`` of the last forward pass, each ``(m, n_l)`` with ``m >= 1``."""
    A = network.cache()["A"]
    if A[0] is None:
        raise RuntimeError("the network has no forward pass to read: call forward(X) first")
    if A[0].shape[0] == 0:
        raise ValueError(
            "the last forward pass had no rows: dead and saturated shares need at least one"
        )
    return A[1:]


def _norm(array: np.ndarray) -> float:
    """The Frobenius norm, summed in float64. The values are first scaled by a power of
    two (exactly) to a largest magnitude near 1, so that a norm below 1e-154 is not
    reported as 0, nor one above 1e154 as infinite, for its squares leaving float64."""
    flat = array.astype(np.float64, copy=False).ravel()
    peak = float(np.max(np.abs(flat), initial=0.0))
    if peak == 0 or not math.isfinite(peak):  # all zero, or NaN or infinity to report
        return peak
    exponent = math.frexp(peak)[1]
    scaled = np.ldexp(flat, -exponent)
    with np.errstate(over="ignore"):  # a norm beyond float64 is infinite
        return float(np.ldexp(math.sqrt(float(np.dot(scaled, scaled))), exponent))


def _check_network(network: object) -> None:
    if not isinstance(network, Network):
        raise TypeError(
            f"network must be a Network (an MLP's is model.network), got {type(network).__name__}"
        )
