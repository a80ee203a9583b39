r"""Weight penalties (L2 and L1) over the flat parameter vector.

The training objective with penalties is

.. math:: J(\theta) = L(\theta) + \frac{\lambda_2}{2} \sum_{w} w^2 + \lambda_1 \sum_{w} |w|,

where the sums run over the weights only, never the biases (``Network.weight_mask``),
and :math:`L` is the (weighted) mean loss over the batch. Its gradient adds
:math:`\lambda_2 w + \lambda_1 \operatorname{sign}(w)` to each weight's gradient
(:math:`\operatorname{sign}(0) = 0`). With ``l1 = 0`` a plain SGD step is then
:math:`w \leftarrow w - \gamma(\partial L/\partial w + \lambda_2 w)`, the same as
PyTorch's ``weight_decay = l2`` restricted to weights.

By default the penalty does not depend on the batch, so it is not divided by the number
of samples. With ``per_sample=True`` it is instead added to the batch's *summed* loss, as
scikit-learn's ``alpha`` is: a batch of total sample weight :math:`W_b` (its number of
rows, without weights) has the objective

.. math:: J_b(\theta) = \frac{1}{W_b}\Big(\sum_i w_i \ell_i
          + \frac{\lambda_2}{2} \sum_{w} w^2 + \lambda_1 \sum_{w} |w|\Big),

that is the coefficients :math:`\lambda / W_b`: a shorter last batch is penalised more.

Dropout (:func:`dropout_rates` checks the option; :meth:`Network.forward` applies it) is
the other regulariser: during training each hidden unit of a layer with rate ``p`` is
zeroed with probability ``p`` and the survivors are scaled by ``1 / (1 - p)``.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from .validation import check_flag, check_non_negative

__all__ = ["PenaltyRangeError", "WeightPenalty", "check_penalty_range", "dropout_rates"]


class WeightPenalty:
    """Adds the L2/L1 penalty to a loss value and its gradient, in place.

    ``weight_mask`` is the boolean mask of weights in the flat parameter vector; ``dtype``
    is the parameters' dtype. Buffers are made once; :meth:`apply` allocates nothing.
    With ``per_sample``, :meth:`value` and :meth:`apply` divide the coefficients by the
    batch's total sample weight ``weight`` they are given.
    """

    def __init__(
        self,
        weight_mask: np.ndarray,
        dtype: np.dtype,
        l2: float = 0.0,
        l1: float = 0.0,
        per_sample: bool = False,
    ):
        self.l2 = check_non_negative("l2", l2)
        self.l1 = check_non_negative("l1", l1)
        self.per_sample = check_flag("per_sample", per_sample)
        self._mask = np.asarray(weight_mask).astype(dtype)
        self._work = np.empty_like(self._mask)
        if not self.per_sample:  # per sample, only l2 / W_b is used, checked batch by batch
            check_penalty_range(self.l2, self.l1, self._mask.dtype)

    @property
    def active(self) -> bool:
        return self.l2 > 0 or self.l1 > 0

    def coefficients(self, weight: float = 1.0) -> tuple[float, float]:
        """``(l2, l1)`` for a batch of total sample weight ``weight``: divided by it when
        ``per_sample``, else as given.

        A coefficient beyond the parameters' dtype would turn every weight into NaN; it is
        refused with a ValueError instead."""
        if self.per_sample:
            l2, l1 = self.l2 / weight, self.l1 / weight
            check_penalty_range(l2, l1, self._mask.dtype, weight, (self.l2, self.l1))
            return l2, l1
        return self.l2, self.l1

    def value(self, params: np.ndarray, weight: float = 1.0) -> float:
        r""":math:`\tfrac{\lambda_2}{2} \sum w^2 + \lambda_1 \sum |w|` over the weights
        (the coefficients of :meth:`coefficients`)."""
        l2, l1 = self.coefficients(weight)
        total = 0.0
        work = self._work
        if l2:
            np.multiply(params, self._mask, out=work)
            total += 0.5 * l2 * float(np.dot(work, work))
        if l1:
            np.abs(params, out=work)
            total += l1 * float(np.dot(work, self._mask))
        return total

    def apply(self, params: np.ndarray, grads: np.ndarray, weight: float = 1.0) -> float:
        r"""Add :math:`\lambda_2 w + \lambda_1 \operatorname{sign}(w)` to ``grads`` (weights
        only) and return the penalty value at ``params`` (the coefficients of
        :meth:`coefficients` for a batch of total sample weight ``weight``)."""
        penalty = self.value(params, weight)
        l2, l1 = self.coefficients(weight)
        work = self._work
        t = params.dtype.type
        if l2:
            np.multiply(params, self._mask, out=work)
            work *= t(l2)
            grads += work
        if l1:
            np.sign(params, out=work)
            work *= self._mask
            work *= t(l1)
            grads += work
        return penalty


class PenaltyRangeError(ValueError):
    """A batch's penalty coefficient (``penalty_per_sample``: the penalty over the batch's
    total sample weight) is beyond the parameters' dtype. A distributed fit's ranks all
    know every batch's weight, so all raise it at the same step. ``weight`` is the
    batch's total sample weight and ``value`` the coefficient it gave (NaN if unknown)."""

    def __init__(self, message: str, weight: float = np.nan, value: float = np.nan) -> None:
        super().__init__(message)
        self.weight = weight
        self.value = value


def check_penalty_range(
    l2: float,
    l1: float,
    dtype: np.dtype,
    weight: float | None = None,
    given: tuple[float, float] | None = None,
) -> None:
    """Refuse coefficients ``l2`` or ``l1`` beyond the largest number of ``dtype``: in the
    update they would turn every weight into NaN. With ``weight``, they are ``given``
    divided by a batch's total sample weight (``penalty_per_sample``)."""
    largest = float(np.finfo(dtype).max)
    for index, (name, value) in enumerate((("l2", l2), ("l1", l1))):
        if value <= largest:
            continue
        dtype_name = np.dtype(dtype).name
        if weight is None or given is None:
            raise ValueError(
                f"{name}={value!r} is beyond the largest {dtype_name} number (the "
                "parameters' dtype)"
            )
        raise PenaltyRangeError(
            f"{name}={given[index]!r} divided by a batch's total sample weight ({weight:.6g}) "
            f"is {value:.6g}, beyond the largest {dtype_name} number: with "
            "penalty_per_sample=True the penalty grows as the sample weights shrink; give "
            "larger sample weights or a smaller penalty",
            weight,
            value,
        )


def dropout_rates(
    dropout: float | Sequence[float], n_hidden: int, dtype: np.dtype | None = None
) -> list[float]:
    """Dropout rates, one per hidden layer, from one rate or a list; each in ``[0, 1)``.

    With ``dtype``, the dtype of the masks (the parameters'), a rate that rounds to 1 in
    it is refused too: the masks keep a unit where a uniform draw in ``dtype`` is at least
    the rate in ``dtype``, which no draw below 1 is, so every unit would be dropped at
    every step (float32: rates from ``1 - 2**-25`` up).
    """
    if isinstance(dropout, np.ndarray) and dropout.ndim == 0:  # one rate: np.array(0.2)
        dropout = dropout.item()
    if isinstance(dropout, (int, float, np.integer, np.floating)) and not isinstance(dropout, bool):
        rates = [dropout] * n_hidden  # compared as it is: 10**400 has no float
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
        if dtype is not None and np.dtype(dtype).type(rate) >= 1:
            largest = float(np.nextafter(np.dtype(dtype).type(1), np.dtype(dtype).type(0)))
            raise ValueError(
                f"dropout rate {rate!r} rounds to 1 in {np.dtype(dtype).name}, the dtype of "
                "the masks: every unit would be dropped at every step; use a rate of at "
                f"most {largest!r} or dtype='float64'"
            )
    return [float(rate) for rate in rates]
