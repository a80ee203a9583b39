r"""Numerical gradient checking.

:func:`gradcheck` compares the gradient from :meth:`Network.backward` with central finite
differences on the flat parameter vector ``theta``:

.. math:: \hat g_i = \frac{L(\theta + \epsilon e_i) - L(\theta - \epsilon e_i)}{2\epsilon}

and reports the relative error :math:`\|\hat g - g\|_2 / (\|\hat g\|_2 + \|g\|_2)`.
The network must be float64 (``dtype="float64"``): in float32 the rounding of ``L`` swamps
the differences, and a correct gradient checks at a relative error near :math:`10^{-2}`,
so a float32 network is refused.

ReLU and leaky ReLU have a kink at :math:`z = 0`. A pre-activation exactly there (a row of
zeros in ``X``, or a unit after a layer silent on a row, with the initial zero biases)
makes the central difference average the slopes of both sides, where the backward pass
takes the slope of :math:`z \le 0`, so a correct gradient may check as wrong:
:func:`gradcheck` warns when the pass it checks has such pre-activations.

A cross-entropy with ``epsilon > 0`` reports the value of probabilities clipped to
:math:`[\epsilon, 1 - \epsilon]`, while its gradient, :math:`A - Y`, is unclipped (see
:mod:`mlpzero.losses`): where an output is beyond the clip the two disagree by design, and
:func:`gradcheck` warns of it too.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np

from . import losses as _losses
from .activations import LeakyReLU, ReLU
from .losses import CategoricalCrossEntropy, Loss
from .network import Network
from .validation import check_positive, check_sample_weight, float_duplicates, is_sparse

__all__ = ["GradCheckResult", "gradcheck", "numerical_gradient"]


@dataclass(frozen=True)
class GradCheckResult:
    """The outcome of :func:`gradcheck`."""

    relative_error: float
    max_abs_error: float
    analytic: np.ndarray
    numerical: np.ndarray

    def passed(self, tolerance: float = 1e-7) -> bool:
        return self.relative_error < tolerance


def _check_float64(network: Network) -> None:
    """Refuse what is not a network (an MLP: its ``network`` is), and a network whose
    parameters are not float64: its finite differences would be mostly rounding."""
    if not isinstance(getattr(network, "params", None), np.ndarray):
        raise TypeError(
            "network must be a Network (an MLP's is model.network, its loss model.loss_), "
            f"got {type(network).__name__}"
        )
    dtype = network.params.dtype
    if dtype != np.float64:
        raise ValueError(
            f"gradient checking needs a float64 network, got dtype {dtype.name}: in "
            "float32 the rounding of the loss swamps the finite differences (a correct "
            "gradient checks at a relative error near 1e-2); build the network with "
            "dtype='float64' (MLP(dtype='float64') or Network(..., dtype='float64'))"
        )


def _check_epsilon(epsilon: float, theta: np.ndarray) -> float:
    """``epsilon`` as a float, refused unless it moves every parameter both ways: where
    ``theta + epsilon == theta`` the difference is 0 whatever the gradient, and a right
    gradient would check as wrong."""
    epsilon = check_positive("epsilon", epsilon)
    still = np.count_nonzero((theta + epsilon == theta) | (theta - epsilon == theta))
    if still:
        raise ValueError(
            f"epsilon={epsilon!r} leaves {still} of the {theta.size} parameters unchanged "
            f"(theta + epsilon == theta in float64, for |theta| up to "
            f"{float(np.max(np.abs(theta))):.3g}): their differences would be 0 whatever the "
            "gradient; use a larger epsilon (1e-6, the default, suits parameters near 1)"
        )
    return epsilon


def _floats(name: str, values: Any) -> np.ndarray:
    """``values`` as a float64 array, or a ValueError naming ``name`` (text, ragged rows)."""
    try:
        return np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError) as error:
        raise ValueError(f"{name} must hold numbers: {error}") from None


def _check_batch(
    network: Network, X: Any, Y: Any, sample_weight: Any
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """``X`` ``(m, n_0)`` (a SciPy sparse matrix made dense), ``Y`` ``(m, n_L)`` and
    ``sample_weight`` ``(m,)`` as float64 arrays, or a ValueError that names the one of
    the wrong shape. A stand-in for a network that has no ``layer_sizes`` (one that fixes
    a dropout mask, say) gets its arrays unchecked."""
    sizes = getattr(network, "layer_sizes", None)
    if sizes is None:
        return X, Y, sample_weight
    n_in, n_out = sizes[0], sizes[-1]
    # dense, as a fit densifies it a batch at a time; integer duplicates added as floats
    X = float_duplicates(X).toarray() if is_sparse(X) else X
    X = _floats("X", X)
    if X.ndim != 2 or X.shape[1] != n_in:
        hint = ", which looks transposed: pass X.T" if X.ndim == 2 and X.shape[0] == n_in else ""
        raise ValueError(
            f"X must have shape (m, {n_in}), one row per example and a column per input of "
            f"the network, got shape {X.shape}{hint}"
        )
    m = X.shape[0]
    if m == 0:  # the loss of no rows is NaN, and so would be every difference
        raise ValueError(
            f"X has no rows (shape {X.shape}): gradient checking needs at least one example"
        )
    Y = _floats("Y", Y)
    if Y.shape != (m, n_out):
        if Y.shape == (n_out, m):
            hint = ", which looks transposed: pass Y.T"
        elif Y.shape == (m,) and n_out == 1:
            hint = ": pass Y.reshape(-1, 1)"
        else:
            hint = ""
        raise ValueError(
            f"Y must have shape ({m}, {n_out}), a row per row of X and a column per output "
            f"of the network, got shape {Y.shape}{hint}"
        )
    for name, array in (("X", X), ("Y", Y)):
        if not np.isfinite(array).all():  # the loss would be NaN, and so every difference
            row, column = np.argwhere(~np.isfinite(array))[0].tolist()
            raise ValueError(
                f"{name} contains NaN or infinity (first at row {row}, column {column}): "
                "the loss would be NaN and the check would fail whatever the gradient"
            )
    return X, Y, check_sample_weight(sample_weight, m)


def _warn_of_kinks(network: Network) -> None:
    """Warn when the last forward pass put pre-activations of a ReLU or leaky ReLU layer
    exactly on the kink, ``z = 0``: there the central difference averages the slopes of
    both sides and the backward pass takes the slope of ``z <= 0``, so a correct gradient
    may check as wrong. A stand-in for a network is not looked at."""
    if not isinstance(network, Network):  # a stand-in: its passes are its own
        return
    activations = network.activations
    pre = network.cache()["Z"]
    counts = {
        layer + 1: int(np.count_nonzero(pre[layer] == 0))
        for layer, activation in enumerate(activations)
        if isinstance(activation, (ReLU, LeakyReLU))
    }
    counts = {layer: count for layer, count in counts.items() if count}
    if counts:
        where = ", ".join(f"{count} in layer {layer}" for layer, count in counts.items())
        warnings.warn(
            f"{sum(counts.values())} pre-activations of ReLU or leaky ReLU layers are "
            f"exactly 0, the kink ({where}): there the finite differences average the "
            "slopes of both sides and backward takes the slope of z <= 0, so a correct "
            "gradient may check as wrong. A row of zeros in X, or a unit after a layer "
            "silent on a row with zero biases, puts them there: check with other rows or "
            "nonzero biases",
            UserWarning,
            stacklevel=3,
        )


def _warn_of_clipping(loss: Loss, logits: np.ndarray, Y: np.ndarray) -> None:
    """Warn when ``loss`` has an ``epsilon > 0`` and some probability ``link(logits)``
    ``(m, k)`` that its value reads lies beyond ``[epsilon, 1 - epsilon]``: the value clips
    it, the gradient ``A - Y`` does not, so the two disagree there by design."""
    epsilon = float(getattr(loss, "epsilon", 0.0) or 0.0)
    if not epsilon:
        return
    with np.errstate(over="ignore"):
        probabilities = loss.link(np.array(logits, dtype=np.float64))
    beyond = (probabilities < epsilon) | (probabilities > 1 - epsilon)
    if isinstance(loss, CategoricalCrossEntropy):  # its value reads y != 0 entries only
        beyond &= Y != 0
    count = int(np.count_nonzero(beyond))
    if count:
        warnings.warn(
            f"{count} output probabilities lie beyond [epsilon, 1 - epsilon] with "
            f"epsilon={epsilon!r}: the value of {loss.name} clips them there and its "
            "gradient, A - Y, does not (by design, see mlpzero.losses), so a correct "
            "gradient may check as wrong; check the loss with epsilon=0",
            UserWarning,
            stacklevel=3,
        )


def _loss_at(network: Network, loss: Loss, X: np.ndarray, Y: np.ndarray, weights) -> float:
    return loss.value(network.forward(X), Y, weights)


def numerical_gradient(
    network: Network,
    loss: Loss | str | dict[str, Any],
    X: np.ndarray,
    Y: np.ndarray,
    sample_weight: np.ndarray | None = None,
    epsilon: float = 1e-6,
) -> np.ndarray:
    """Central-difference estimate of ``dL/dtheta``, one parameter at a time (float64
    networks only). The parameters are left as they were, also when interrupted."""
    _check_float64(network)
    loss = _losses.get(loss)
    X, Y, sample_weight = _check_batch(network, X, Y, sample_weight)
    theta = network.params
    epsilon = _check_epsilon(epsilon, theta)
    estimate = np.empty_like(theta)
    for i in range(theta.size):
        saved = theta[i]
        try:
            theta[i] = saved + epsilon
            plus = _loss_at(network, loss, X, Y, sample_weight)
            theta[i] = saved - epsilon
            minus = _loss_at(network, loss, X, Y, sample_weight)
        finally:  # Ctrl-C or an error leaves the parameters as they were
            theta[i] = saved
        estimate[i] = (plus - minus) / (2 * epsilon)
    return estimate


def gradcheck(
    network: Network,
    loss: Loss | str | dict[str, Any],
    X: np.ndarray,
    Y: np.ndarray,
    sample_weight: np.ndarray | None = None,
    epsilon: float = 1e-6,
) -> GradCheckResult:
    """Compare backward's gradient with finite differences; parameters are left unchanged.

    ``X`` is ``(m, n_0)`` (an array or a SciPy sparse matrix), ``Y`` is ``(m, n_L)`` and
    ``sample_weight`` ``(m,)``; another shape, or NaN or infinity in ``X`` or ``Y``, is
    refused with a ValueError that names it.
    The network must be float64 (a float32 network is refused with a ValueError).
    A :class:`UserWarning` says when ReLU or leaky ReLU pre-activations sit exactly on
    the kink, ``z = 0``, or when a loss with ``epsilon > 0`` clips the value of some
    outputs but not their gradient: a correct gradient may check as wrong there (see the
    module).
    ``loss`` is a :class:`~mlpzero.losses.Loss`, its name or its config, as ``MLP(loss=)``
    takes it.
    """
    _check_float64(network)
    loss = _losses.get(loss)
    X, Y, sample_weight = _check_batch(network, X, Y, sample_weight)
    logits = network.forward(X)
    _warn_of_kinks(network)
    _warn_of_clipping(loss, logits, Y)
    network.backward(loss.gradient(logits, Y, sample_weight))
    analytic = network.grads.copy()
    numerical = numerical_gradient(network, loss, X, Y, sample_weight, epsilon)
    denominator = np.linalg.norm(numerical) + np.linalg.norm(analytic)
    difference = np.linalg.norm(numerical - analytic)
    relative = 0.0 if denominator == 0 else float(difference / denominator)
    return GradCheckResult(
        relative_error=relative,
        max_abs_error=float(np.max(np.abs(numerical - analytic))),
        analytic=analytic,
        numerical=numerical,
    )
