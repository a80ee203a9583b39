r"""Losses, computed from the network's logits.

The output layer of a :class:`~mlpzero.network.Network` is linear: it produces logits
``Z`` of shape ``(n_samples, n_outputs)``. A loss owns the *link* that turns logits into
predictions and the loss value, and pairs them so that the gradient with respect to the
logits is always the article's simplification

.. math:: \frac{\partial L}{\partial Z} = \frac{w_i}{\sum_j w_j} (A - Y),
          \qquad A = \mathrm{link}(Z),

with ``w`` the sample weights (all ones by default, giving ``(A - Y) / m``). Every loss
sums over the outputs of a sample and averages over samples.

============================  ===========  =============================================
loss                          link         per-sample value
============================  ===========  =============================================
``binary_crossentropy``       sigmoid      :math:`\sum_k -y_k \log a_k - (1-y_k)\log(1-a_k)`
``categorical_crossentropy``  softmax      :math:`-\sum_k y_k \log a_k`
``squared_error``             identity     :math:`\tfrac12 \sum_k (z_k - y_k)^2`
============================  ===========  =============================================

Values are computed without forming ``log(a)``: binary cross-entropy as
:math:`\max(z, 0) - z y + \log(1 + e^{-|z|})` and categorical cross-entropy through a
log-sum-exp with the row maximum subtracted, so no input overflows or takes ``log(0)``.
Loss values are computed in float64 whatever the logits' dtype, and logits beyond
:math:`\pm 10^{300}` are clipped there (squared-error differences beyond
:math:`\pm 10^{150}`): any finite input gives a finite loss, without a warning, and
the loss saturates (near :math:`10^{300}`) only where float64 could not hold it.

The cross-entropies take one hyper-parameter, ``epsilon`` (default 0): when it is above
0, the *value* clips each log-probability to :math:`[\log\epsilon, \log(1-\epsilon)]`,
as if every probability were clipped to :math:`[\epsilon, 1-\epsilon]` (binary
cross-entropy clips both :math:`\log a_k` and :math:`\log(1-a_k)`). This is how
scikit-learn reports its log-loss, with :math:`\epsilon` the machine epsilon of the
model's dtype. The gradient is not clipped: it stays :math:`A - Y`. The log-probabilities
come from the logits (:math:`\log a = -\mathrm{softplus}(-z)` and
:math:`\log(1-a) = -\mathrm{softplus}(z)` for the sigmoid, a log-softmax for the
softmax), so clipping adds no ``log(0)`` either.
"""

from __future__ import annotations

import math
from numbers import Real
from typing import Any, ClassVar

import numpy as np

from . import kernels as _kernels
from .activations import sigmoid, softmax
from .components import Component
from .registry import resolve
from .validation import relative_sample_weight

__all__ = [
    "ALIASES",
    "LOSSES",
    "BinaryCrossEntropy",
    "CategoricalCrossEntropy",
    "Loss",
    "Poisson",
    "SquaredError",
    "article_cost",
    "get",
]


class Loss(Component):
    """Base class. Subclasses define :meth:`link` and :meth:`per_sample`.

    ``name``, ``config``, equality and ``repr`` come from
    :class:`~mlpzero.components.Component`; of the built-in losses, only the
    cross-entropies have a hyper-parameter (``epsilon``).
    """

    kind = "loss"
    name = "loss"
    #: The output activation this loss pairs with (a name from :mod:`mlpzero.activations`).
    output_activation: str = "identity"
    #: The link as the compiled kernels know it ("sigmoid", "softmax" or "identity"); None
    #: for links they do not compute, which then always go through :meth:`link`. Read only from the
    #: class that sets it (:func:`_own_compiled_link`): a subclass may change the formulas.
    _compiled_link: ClassVar[str | None] = None

    def link(self, logits: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
        """Map logits ``(n, k)`` to predictions ``(n, k)``."""
        raise NotImplementedError

    @staticmethod
    def check_targets(y: np.ndarray) -> None:
        """Refuse encoded targets ``(n, k)`` this loss cannot fit (every loss but Poisson
        fits any finite target)."""

    def per_sample(self, logits: np.ndarray, targets: np.ndarray) -> np.ndarray:
        """Loss of each sample, shape ``(n,)``."""
        raise NotImplementedError

    def value(
        self, logits: np.ndarray, targets: np.ndarray, sample_weight: np.ndarray | None = None
    ) -> float:
        """Mean loss over samples, weighted by ``sample_weight`` when given.

        Only the ratios of the weights matter: they are divided by the largest first, so
        that no weight, however large or small, overflows the weighted sum.
        """
        logits = _two_dimensional(logits)
        weights = None if sample_weight is None else _one_per_row(sample_weight, logits)
        _same_shape(targets, logits)
        with np.errstate(invalid="ignore"):  # infinite logits give NaN, which is the news
            losses = self.per_sample(logits, targets)  # float64
        if losses.shape[0] == 0:
            return float("nan")  # the mean of nothing, weighted or not
        if weights is None:
            # np.mean's result, without its Python overhead (a fifth of a small epoch)
            return float(losses.sum()) / losses.shape[0]
        return float(np.average(losses, weights=relative_sample_weight(weights)))

    def value_and_gradient(
        self,
        logits: np.ndarray,
        targets: np.ndarray,
        sample_weight: np.ndarray | None = None,
        out: np.ndarray | None = None,
    ) -> tuple[float, np.ndarray]:
        """``(value(...), gradient(...))`` of the same logits in one call.

        A training step needs both; with the numba backend, the built-in cross-entropies
        compute them in one pass that shares the exponentials (without sample weights,
        into ``out``; a clipped value, with ``epsilon``, too). Otherwise this is the two
        calls.
        """
        compiled = _kernels.compiled()
        if compiled is not None and sample_weight is None and _fits_kernels(logits, targets, out):
            link = _own_compiled_link(self)
            if logits.shape[0] and link in ("sigmoid", "softmax"):
                scale = out.dtype.type(1.0 / logits.shape[0])
                both = (
                    compiled.sigmoid_error_and_crossentropy
                    if link == "sigmoid"
                    else compiled.softmax_error_and_crossentropy
                )
                epsilon = getattr(self, "epsilon", 0.0)
                low, high = _log_bounds(epsilon) if epsilon else (0.0, 0.0)
                total = both(logits, targets, scale, out, LOGIT_LIMIT, bool(epsilon), low, high)
                return total / logits.shape[0], out
        value = self.value(logits, targets, sample_weight)
        return value, self.gradient(logits, targets, sample_weight, out=out)

    def gradient(
        self,
        logits: np.ndarray,
        targets: np.ndarray,
        sample_weight: np.ndarray | None = None,
        out: np.ndarray | None = None,
    ) -> np.ndarray:
        """``dL/dZ = w_i / sum(w) * (link(Z) - Y)``, shape ``(n, k)``, in ``logits.dtype``.

        Weights whose largest is above 1 or below ``_TINY_WEIGHT`` are first divided by
        it (:func:`~mlpzero.validation.relative_sample_weight`), so that their cast to
        ``logits.dtype`` and their sum stay finite and non-zero; training passes weights
        already so scaled. Negative, NaN and infinite weights are refused. No rows give
        an empty gradient (and :meth:`value` NaN, the mean of nothing).
        """
        logits = _two_dimensional(logits)
        if logits.shape[0] == 0:
            return np.empty_like(logits) if out is None else out
        compiled = _kernels.compiled()
        if compiled is not None and sample_weight is None and _fits_kernels(logits, targets, out):
            link = _own_compiled_link(self)
            if link is not None:  # the same, in one pass
                scale = out.dtype.type(1.0 / logits.shape[0])
                if link == "softmax":
                    compiled.softmax_error(logits, targets, scale, out)
                else:
                    compiled.output_error(logits, targets, scale, out, link == "sigmoid")
                return out
        _same_shape(targets, logits)
        out = self.link(logits, out=out)
        out -= targets
        if sample_weight is None:
            out *= out.dtype.type(1.0 / logits.shape[0])
        else:  # in out's dtype throughout: no float64 temporary in a float32 step
            weights = _one_per_row(sample_weight, logits)
            if not (_TINY_WEIGHT <= weights.max() <= 1 and weights.min() >= 0):
                weights = relative_sample_weight(weights)  # refuses what is not a weight
            weights = weights.astype(out.dtype, copy=False)
            out *= weights[:, None]
            out *= out.dtype.type(1.0 / float(np.sum(weights, dtype=np.float64)))
        return out


class _CrossEntropy(Loss):
    """What the two cross-entropies share: ``epsilon``, and the value summed in one
    compiled pass (:mod:`mlpzero.kernels`) where the kernels can take the arrays."""

    hyperparameters = ("epsilon",)
    #: The names of the compiled totals of the value: without a clip, and with one.
    _compiled_totals: ClassVar[tuple[str, str]]

    def __init__(self, epsilon: float = 0.0) -> None:
        self.epsilon = _check_epsilon(epsilon)

    def value(
        self, logits: np.ndarray, targets: np.ndarray, sample_weight: np.ndarray | None = None
    ) -> float:
        logits = _two_dimensional(logits)
        compiled = _kernels.compiled()
        if compiled is not None and sample_weight is None and logits.shape[0]:
            if _own_compiled_link(self) == self._compiled_link and _fits_kernels(logits, targets):
                unclipped, clipped = self._compiled_totals
                if self.epsilon:
                    total = getattr(compiled, clipped)(
                        logits, targets, LOGIT_LIMIT, *_log_bounds(self.epsilon)
                    )
                else:
                    total = getattr(compiled, unclipped)(logits, targets, LOGIT_LIMIT)
                return total / logits.shape[0]
        return super().value(logits, targets, sample_weight)


class BinaryCrossEntropy(_CrossEntropy):
    r"""Sigmoid link with binary cross-entropy; one output per binary label.

    For logits and targets ``(n, k)``, the loss of sample :math:`i` is

    .. math:: -\sum_k \left[ y_{ik} \,\mathrm{clip}(\log a_{ik})
              + (1 - y_{ik}) \,\mathrm{clip}(\log(1 - a_{ik})) \right],
              \qquad a = \sigma(z),

    where :math:`\mathrm{clip}` bounds a log-probability to
    :math:`[\log\epsilon, \log(1-\epsilon)]` (no bound for ``epsilon=0``, the
    default), with :math:`\log a = -\mathrm{softplus}(-z)` and
    :math:`\log(1 - a) = -\mathrm{softplus}(z)`. The gradient is :math:`A - Y`, unclipped.

    Parameters
    ----------
    epsilon:
        A number in ``[0, 0.5)``: the value is computed from probabilities clipped to
        :math:`[\epsilon, 1-\epsilon]`, as scikit-learn reports its loss.
    """

    name = "binary_crossentropy"
    output_activation = "sigmoid"
    _compiled_link = "sigmoid"
    _compiled_totals = ("binary_crossentropy_total", "binary_crossentropy_clipped_total")

    def link(self, logits: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
        return sigmoid(logits, out=out)

    def per_sample(self, logits: np.ndarray, targets: np.ndarray) -> np.ndarray:
        if self.epsilon:
            return self._clipped_per_sample(logits, targets)
        z = _as_wide(logits)  # a float64 copy: ours to overwrite
        losses = np.abs(z)
        np.negative(losses, out=losses)
        np.exp(losses, out=losses)
        np.log1p(losses, out=losses)  # log(1 + e^{-|z|})
        losses += np.maximum(z, 0)
        z *= targets
        losses -= z
        return losses.sum(axis=1)

    def _clipped_per_sample(self, logits: np.ndarray, targets: np.ndarray) -> np.ndarray:
        """:meth:`per_sample` for ``epsilon > 0``: both log-probabilities clipped."""
        z = _as_wide(logits)
        tail = np.abs(z)
        np.negative(tail, out=tail)
        np.exp(tail, out=tail)
        np.log1p(tail, out=tail)  # log(1 + e^{-|z|}), shared by both softplus terms
        log_a = np.maximum(-z, 0)
        log_a += tail
        np.negative(log_a, out=log_a)  # log a = -softplus(-z)
        log_not_a = np.maximum(z, 0, out=z)
        log_not_a += tail
        np.negative(log_not_a, out=log_not_a)  # log(1 - a) = -softplus(z)
        low, high = _log_bounds(self.epsilon)
        np.clip(log_a, low, high, out=log_a)
        np.clip(log_not_a, low, high, out=log_not_a)
        y = np.asarray(targets, dtype=np.float64)
        log_a *= y
        log_not_a *= 1.0 - y
        log_a += log_not_a
        return -log_a.sum(axis=1)


def article_cost(probabilities: np.ndarray, targets: np.ndarray) -> float:
    r"""The cost the article prints while it trains, from the sigmoid outputs ``A`` and
    the labels ``Y`` (the same shape, any orientation):

    .. math:: -\frac{1}{N} \sum \big(y \log(a + 10^{-15}) + (1 - y) \log(1 - a + 10^{-15})\big)

    the mean over all ``N`` entries. It is not :class:`BinaryCrossEntropy`'s value, which
    sums over a sample's outputs and takes exact logs: twice this for two outputs, and
    more than :math:`-\log 10^{-15} \approx 34.5` for each saturated wrong output.
    """
    a = np.asarray(probabilities, dtype=np.float64)
    y = np.asarray(targets, dtype=np.float64)
    return float(-np.mean(y * np.log(a + 1e-15) + (1 - y) * np.log(1 - a + 1e-15)))


class CategoricalCrossEntropy(_CrossEntropy):
    r"""Softmax link with categorical cross-entropy; ``targets`` are one-hot rows.

    For logits and targets ``(n, k)``, the loss of sample :math:`i` is

    .. math:: -\sum_k y_{ik} \,\mathrm{clip}(\log a_{ik}),
              \qquad \log a_{ik} = z_{ik} - \log \sum_j e^{z_{ij}},

    where :math:`\mathrm{clip}` bounds a log-probability to
    :math:`[\log\epsilon, \log(1-\epsilon)]` (no bound for ``epsilon=0``, the
    default). The gradient is :math:`A - Y`, unclipped.

    Each row of ``targets`` must sum to 1: one-hot, or a distribution over the classes (as
    :class:`~mlpzero.MLP` always passes). The computation takes that sum to be 1, so for
    rows that do not sum to 1 neither the value nor the gradient is that of the formula
    above (whose gradient would be :math:`(\sum_k y_{ik}) A - Y`); no check is made, as it
    would cost a pass over the targets every step.

    Parameters
    ----------
    epsilon:
        A number in ``[0, 0.5)``: the value is computed from probabilities clipped to
        :math:`[\epsilon, 1-\epsilon]`, as scikit-learn reports its loss.
    """

    name = "categorical_crossentropy"
    output_activation = "softmax"
    _compiled_link = "softmax"
    _compiled_totals = ("categorical_crossentropy_total", "categorical_crossentropy_clipped_total")

    def link(self, logits: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
        return softmax(logits, out=out)

    def per_sample(self, logits: np.ndarray, targets: np.ndarray) -> np.ndarray:
        z = _as_wide(logits)
        shifted = z - z.max(axis=1, keepdims=True)
        if self.epsilon:  # each log-probability, clipped
            shifted -= np.log(np.exp(shifted).sum(axis=1, keepdims=True))
            np.clip(shifted, *_log_bounds(self.epsilon), out=shifted)
            shifted *= targets
            return -shifted.sum(axis=1)
        log_norm = np.log(np.exp(shifted).sum(axis=1))
        return log_norm - (shifted * targets).sum(axis=1)


class SquaredError(Loss):
    """Identity link with half the squared error, for regression."""

    name = "squared_error"
    output_activation = "identity"
    _compiled_link = "identity"

    def link(self, logits: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
        if out is None:  # integer logits give float64 predictions; floats keep their dtype
            logits = np.asarray(logits)
            return np.array(logits, dtype=np.result_type(logits.dtype, 1.0), copy=True)
        out[...] = logits
        return out

    def per_sample(self, logits: np.ndarray, targets: np.ndarray) -> np.ndarray:
        # Half the difference, from halves (exact in binary floating point), cannot
        # overflow for any finite logits and targets; clipped, its square cannot either.
        half = np.multiply(logits, 0.5, dtype=np.float64)
        half -= np.multiply(targets, 0.5, dtype=np.float64)
        _saturate(half, _SQUARE_LIMIT / 2)
        return 2.0 * np.einsum("ij,ij->i", half, half)


#: Finite logits are clipped to this magnitude before a loss value is computed, and
#: differences to ``_SQUARE_LIMIT`` before they are squared, so that no sum or square
#: overflows (:func:`_saturate`).
LOGIT_LIMIT = 1e300
_SQUARE_LIMIT = 1e150
#: Weights are rescaled in :meth:`Loss.gradient` when the largest is below this (or
#: above 1): far enough from float32's smallest normal number (1.2e-38) for any sum.
_TINY_WEIGHT = 1e-20


def _own_compiled_link(loss: Loss) -> str | None:
    """``_compiled_link`` if ``loss``'s own class sets it, else None: a subclass that
    overrides the link or the value must not be computed by the built-in's kernels."""
    return type(loss).__dict__.get("_compiled_link")


def _fits_kernels(logits: np.ndarray, targets: Any, *out: Any) -> bool:
    """Whether the compiled kernels may take the ``targets`` (and the gradient's ``out``)
    with ``logits``: they index each as the 2-D ``logits``, without bounds checks, so any
    other shape (which NumPy's path refuses by name) or a missing ``out`` goes to NumPy
    instead, as does an array of a dtype they do not take
    (:data:`~mlpzero.kernels.COMPILED_DTYPES`) or an ``out`` that cannot be written
    (NumPy refuses it by name). Logits of no outputs go to NumPy too: the softmax kernels
    read each row's first logit, which such a row does not have."""
    dtypes = _kernels.COMPILED_DTYPES
    if not isinstance(logits, np.ndarray) or logits.ndim != 2 or logits.dtype not in dtypes:
        return False  # value and gradient check the logits then
    if logits.shape[1] == 0:
        return False
    shape = logits.shape
    for array in (targets, *out):  # a loop, not all(...): this runs once per training step
        if not isinstance(array, np.ndarray) or array.shape != shape or array.dtype not in dtypes:
            return False
    return not out or out[0].flags.writeable


def _two_dimensional(logits: Any) -> np.ndarray:
    """``logits`` as an array of shape ``(n, k)``; another number of dimensions is refused
    by name: 1-D logits made the value fail inside NumPy, while the gradient read each
    entry as a row of one output."""
    logits = np.asarray(logits)
    if logits.ndim != 2:
        hint = ": pass logits.reshape(-1, 1) for one output" if logits.ndim == 1 else ""
        raise ValueError(
            "logits must have shape (n_samples, n_outputs), one row per sample, got shape "
            f"{logits.shape}{hint}"
        )
    return logits


def _same_shape(targets: Any, logits: np.ndarray) -> None:
    """Refuse ``targets`` of another shape than the logits ``(n, k)``: NumPy would
    broadcast a 1-D ``y`` against ``(n, 1)`` logits to an ``(n, n)`` matrix, and a
    ``(1, k)`` or ``(n, 1)`` target to every row or output."""
    shape = np.shape(targets)
    if shape != np.shape(logits):
        hint = ": pass targets.reshape(-1, 1)" if (*shape, 1) == np.shape(logits) else ""
        raise ValueError(
            f"targets must have shape {np.shape(logits)}, the logits' (one value per output "
            f"of each row), got shape {shape}{hint}"
        )


def _one_per_row(sample_weight: Any, logits: np.ndarray) -> np.ndarray:
    """``sample_weight`` as an array of shape ``(n,)``, one weight per row of the logits
    ``(n, k)``; another shape is refused: a single weight would broadcast to every row
    and scale the gradient by ``n``."""
    weights = np.asarray(sample_weight)
    rows = np.shape(logits)[0]
    if weights.shape != (rows,):
        raise ValueError(
            f"sample_weight must have shape ({rows},), one weight per row of the logits, "
            f"got shape {weights.shape}"
        )
    return weights


def _check_epsilon(epsilon: Any) -> float:
    """``epsilon`` as a float, if it is a real number in ``[0, 0.5)``."""
    if isinstance(epsilon, (bool, np.bool_)) or not isinstance(epsilon, Real):
        raise ValueError(
            f"epsilon must be a real number with 0 <= epsilon < 0.5, got "
            f"{type(epsilon).__name__} {epsilon!r}"
        )
    if not 0 <= epsilon < 0.5:  # NaN fails too
        raise ValueError(f"epsilon must be a real number with 0 <= epsilon < 0.5, got {epsilon!r}")
    return float(epsilon)


def _log_bounds(epsilon: float) -> tuple[float, float]:
    """The bounds ``(log(epsilon), log1p(-epsilon))`` of a clipped log-probability."""
    return math.log(epsilon), math.log1p(-epsilon)


def _as_wide(logits: np.ndarray) -> np.ndarray:
    """``logits`` as a new float64 array, clipped to :data:`LOGIT_LIMIT` (:func:`_saturate`).

    Loss values are always computed in float64: float32 logits, up to 3.4e38, then have
    room for every difference, product and square the formulas form. Beyond 1e300 (only
    reachable in float64) the loss saturates rather than overflowing.
    """
    return _saturate(np.array(logits, dtype=np.float64), LOGIT_LIMIT)


def _saturate(values: np.ndarray, limit: float) -> np.ndarray:
    """``values`` clipped in place to ``[-limit, limit]`` where they are finite. An
    infinite value (a forward pass that overflowed) stays infinite, as NaN stays NaN, so
    that the loss shows a network that has diverged."""
    return np.clip(values, -limit, limit, out=values, where=np.isfinite(values))


LOSSES: dict[str, type[Loss]] = {
    "binary_crossentropy": BinaryCrossEntropy,
    "categorical_crossentropy": CategoricalCrossEntropy,
    "squared_error": SquaredError,
}
#: Other names ``get`` accepts for a loss, and the loss each stands for.
ALIASES = {
    "bce": "binary_crossentropy",
    "log_loss": "binary_crossentropy",
    "cce": "categorical_crossentropy",
    "crossentropy": "categorical_crossentropy",
    "mse": "squared_error",
}


def get(loss: str | Loss | dict[str, Any]) -> Loss:
    """Return a :class:`Loss` from a name, a ``config`` dict or an instance."""
    return resolve("loss", loss, Loss, LOSSES, ALIASES)


class Poisson(Loss):
    r"""Exponential link with half the Poisson deviance, for counts and rates ``y >= 0``.

    With the mean :math:`\mu = e^{z}`, each output contributes

    .. math:: y \log(y / \mu) - y + \mu = y \log y - y z - y + e^{z}

    (:math:`0 \log 0 = 0`), which is zero where :math:`\mu = y`, and its gradient with
    respect to the logit is :math:`e^{z} - y`: the ``A - Y`` of every other loss. Before
    ``exp``, logits are clipped one below the logarithm of the dtype's largest number in
    the link (87.7 in float32) and at :data:`_EXP_LIMIT` (690.8, where :math:`e^z` is
    :math:`10^{300}`) for the value (computed in float64), so no finite logit overflows
    or warns and the value saturates as the cross-entropies' do; an infinite logit (an
    overflowed forward pass) makes the value infinite or NaN. Targets must be
    non-negative (:meth:`check_targets`); float64 targets beyond about :math:`10^{305}`
    make the value infinite, as :math:`y \log y` overflows.
    """

    name = "poisson"
    output_activation = "exp"

    def link(self, logits: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
        logits = np.asarray(logits)
        if out is None:  # integer logits give float64 means; floats keep their dtype
            out = np.empty_like(logits, dtype=np.result_type(logits.dtype, 1.0))
        out = np.minimum(logits, exp_limit(out.dtype), out=out)
        return np.exp(out, out=out)

    def per_sample(self, logits: np.ndarray, targets: np.ndarray) -> np.ndarray:
        z = _as_wide(logits)
        np.minimum(z, _EXP_LIMIT, out=z, where=np.isfinite(z))  # an infinite one shows
        y = np.asarray(targets, dtype=np.float64)
        y_log_y = np.zeros_like(y)
        np.multiply(y, np.log(y, where=y > 0, out=np.zeros_like(y)), out=y_log_y)
        return (y_log_y - y * z - y + np.exp(z)).sum(axis=1)

    @staticmethod
    def check_targets(y: np.ndarray) -> None:
        """Refuse targets that are not numbers, or negative (the Poisson mean is positive)."""
        y = np.asarray(y)
        if y.dtype.kind not in "biuf":  # text has a smallest value too, but no sign
            raise ValueError(
                f"y: the poisson loss needs numbers (counts or rates), got dtype {y.dtype}"
            )
        if y.size and np.min(y) < 0:
            raise ValueError(
                "y: the poisson loss needs non-negative targets (counts or rates); "
                f"got a smallest value of {float(np.min(y))!r}"
            )


def exp_limit(dtype: Any) -> np.floating:
    """The largest argument Poisson's link passes to ``exp`` in ``dtype``: one below the
    logarithm of the largest number, so that its exponential stays finite after rounding
    (87.7 in float32, 708.8 in float64)."""
    dtype = np.dtype(dtype)
    return (np.log(np.finfo(dtype).max) - 1).astype(dtype)


#: The largest logit the Poisson value exponentiates: its term then saturates at
#: :data:`LOGIT_LIMIT` (near 1e300) as the cross-entropies' do, leaving float64 room to
#: sum it over outputs and samples (a term near float64's largest number, 1.8e308, would
#: overflow the sum of two).
_EXP_LIMIT = math.log(LOGIT_LIMIT)


LOSSES["poisson"] = Poisson
