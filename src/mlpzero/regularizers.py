r"""Weight penalties (L2 and L1) over the flat parameter vector.

The training objective with penalties is

.. math:: J(\theta) = L(\theta) + \frac{\lambda_2}{2} \sum_{w} w^2 + \lambda_1 \sum_{w} |w|,

where the sums run over the weights only, never the biases (``Network.weight_mask``),
and :math:`L` is the (weighted) mean loss over the batch. Its gradient adds
:math:`\lambda_2 w + \lambda_1 \operatorname{sign}(w)` to each weight's gradient
(:math:`\operatorname{sign}(0) = 0`). With ``l1 = 0`` a plain SGD step is then
:math:`w \leftarrow w - \gamma(\partial L/\partial w + \lambda_2 w)`, the same as
PyTorch's ``weight_decay = l2`` restricted to weights.

The penalty does not depend on the batch, so it is not divided by the number of samples.

Dropout (:func:`dropout_rates` checks the option; :meth:`Network.forward` applies it) is
the other regulariser: during training each hidden unit of a layer with rate ``p`` is
zeroed with probability ``p`` and the survivors are scaled by ``1 / (1 - p)``.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from .validation import check_non_negative

__all__ = ["WeightPenalty", "dropout_rates"]


class WeightPenalty:
    """Adds the L2/L1 penalty to a loss value and its gradient, in place.

    ``weight_mask`` is the boolean mask of weights in the flat parameter vector; ``dtype``
    is the parameters' dtype. Buffers are made once; :meth:`apply` allocates nothing.
    """

    def __init__(self, weight_mask: np.ndarray, dtype: np.dtype, l2: float = 0.0, l1: float = 0.0):
        self.l2 = check_non_negative("l2", l2)
        self.l1 = check_non_negative("l1", l1)
        self._mask = np.asarray(weight_mask).astype(dtype)
        self._work = np.empty_like(self._mask)

    @property
    def active(self) -> bool:
        return self.l2 > 0 or self.l1 > 0

    def value(self, params: np.ndarray) -> float:
        r""":math:`\tfrac{\lambda_2}{2} \sum w^2 + \lambda_1 \sum |w|` over the weights."""
        total = 0.0
        work = self._work
        if self.l2:
            np.multiply(params, self._mask, out=work)
            total += 0.5 * self.l2 * float(np.dot(work, work))
        if self.l1:
            np.abs(params, out=work)
            total += self.l1 * float(np.dot(work, self._mask))
        return total

    def apply(self, params: np.ndarray, grads: np.ndarray) -> float:
        r"""Add :math:`\lambda_2 w + \lambda_1 \operatorname{sign}(w)` to ``grads`` (weights
        only) and return the penalty value at ``params``."""
        penalty = self.value(params)
        work = self._work
        t = params.dtype.type
        if self.l2:
            np.multiply(params, self._mask, out=work)
            work *= t(self.l2)
            grads += work
        if self.l1:
            np.sign(params, out=work)
            work *= self._mask
            work *= t(self.l1)
            grads += work
        return penalty


def dropout_rates(dropout: float | Sequence[float], n_hidden: int) -> list[float]:
    """Dropout rates, one per hidden layer, from one rate or a list; each in ``[0, 1)``."""
    if isinstance(dropout, (int, float, np.integer, np.floating)) and not isinstance(dropout, bool):
        rates = [float(dropout)] * n_hidden
    elif isinstance(dropout, (str, bytes, bool)) or not hasattr(dropout, "__len__"):
        raise TypeError(
            "dropout must be a rate or a list of rates (one per hidden layer), got "
            f"{type(dropout).__name__} {dropout!r}"
        )
    else:
        rates = [check_non_negative("dropout", p) for p in dropout]
        if len(rates) != n_hidden:
            raise ValueError(
                f"dropout: expected one rate per hidden layer ({n_hidden}), got a list of "
                f"{len(rates)}: {list(dropout)!r}"
            )
    for rate in rates:
        if not 0 <= rate < 1:
            raise ValueError(f"dropout rates must be in [0, 1), got {dropout!r}")
    return rates
