"""Activation functions and their derivatives.

Each activation is a small object with three methods:

- ``activation(z)`` (``__call__``): the value ``g(z)``;
- ``activation.derivative(z)``: ``g'(z)``, written as a function of the pre-activation;
- ``activation.derivative_from_output(a)``: the same derivative written as a function of
  the output ``a = g(z)``. Every activation here is monotonic, so ``g'`` can be recovered
  from ``a`` alone; the network uses this form so that it only has to keep ``A``.

All arrays may have any shape; the functions work element-wise and keep the dtype of
float32 and float64 input. Other input follows NumPy's promotion, function by function
(the sigmoid of float16 is float32, of an integer array float64; ReLU keeps integers).
``get(name_or_object)`` is the registry: it accepts a name such as ``"relu"`` or an
:class:`Activation` instance.
"""

from __future__ import annotations

import threading
from typing import Any

import numpy as np

from .components import Component
from .registry import resolve

__all__ = [
    "ACTIVATIONS",
    "Activation",
    "Identity",
    "LeakyReLU",
    "ReLU",
    "Sigmoid",
    "Tanh",
    "get",
    "identity",
    "leaky_relu",
    "relu",
    "sigmoid",
    "softmax",
    "tanh",
]


class Activation(Component):
    """Base class: an element-wise function ``g`` with its derivative ``g'``.

    ``name``, ``config``, equality and ``repr`` come from
    :class:`~mlpzero.components.Component`: a subclass declares its ``hyperparameters``.
    """

    kind = "activation"
    name = "activation"

    def __call__(self, z: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
        raise NotImplementedError

    def derivative(self, z: np.ndarray) -> np.ndarray:
        """``g'(z)`` as a function of the pre-activation ``z``."""
        return self.derivative_from_output(self(z))

    def derivative_from_output(self, a: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
        """``g'(z)`` as a function of the output ``a = g(z)``."""
        raise NotImplementedError

    def backward(self, a: np.ndarray, grad: np.ndarray) -> np.ndarray:
        """Multiply ``grad`` (dL/dA) in place by ``g'`` to give dL/dZ; returns ``grad``."""
        grad *= self.derivative_from_output(a, out=self._scratch(a.shape, a.dtype))
        return grad

    def _scratch(self, shape: tuple[int, ...], dtype: Any) -> np.ndarray:
        """A buffer of ``shape`` and ``dtype`` kept between calls, so that the backward
        pass of a training loop allocates nothing (one per shape; a few shapes at most).
        Each thread has its own: one activation object may serve models trained at once."""
        buffers = self.__dict__.setdefault("_buffers", {})
        key = (threading.get_ident(), shape, dtype)
        buffer = buffers.get(key)
        if buffer is None:
            if len(buffers) >= 8:
                buffers.clear()
            buffer = buffers[key] = np.empty(shape, dtype=dtype)
        return buffer

    def __getstate__(self) -> dict[str, Any]:
        # The scratch buffers are a batch's size and keyed by this process's threads:
        # copies and pickles start without them.
        state = dict(self.__dict__)
        state.pop("_buffers", None)
        return state


class Sigmoid(Activation):
    r"""Logistic sigmoid :math:`\sigma(z) = 1 / (1 + e^{-z})`, with
    :math:`\sigma'(z) = \sigma(z)(1 - \sigma(z)) = a(1 - a)`.

    Evaluated as written, in four in-place passes. For :math:`z < -709` (float64) the
    term :math:`e^{-z}` is ``inf`` and :math:`1/(1+\infty)` is exactly the limit 0, so
    that overflow is expected and silenced; for :math:`z > 0`, :math:`e^{-z} < 1` never
    overflows. The limits at :math:`z = \pm 1000` are exactly 1 and 0, with no warning,
    and no value loses relative precision (there is no subtraction).
    """

    name = "sigmoid"

    def __call__(self, z: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
        z = np.asarray(z)
        if out is None:
            out = np.empty_like(z, dtype=np.result_type(z, np.float32))
        with np.errstate(over="ignore"):
            # in out's dtype: an unsigned integer negated in its own would wrap around
            np.negative(z, out=out, dtype=out.dtype.type)
            np.exp(out, out=out)
        out += 1
        np.reciprocal(out, out=out)
        return out

    def derivative_from_output(self, a: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
        out = np.subtract(1, a, out=out)
        out *= a
        return out


class Tanh(Activation):
    r"""Hyperbolic tangent :math:`\tanh(z)`, with :math:`\tanh'(z) = 1 - a^2`."""

    name = "tanh"

    def __call__(self, z: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
        return np.tanh(z, out=out)

    def derivative_from_output(self, a: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
        # Both results assigned: for a single number (a 0-d array) NumPy returns scalars,
        # which cannot be written into.
        square = np.multiply(a, a, out=out)
        return np.subtract(1, square, out=out)


class ReLU(Activation):
    r"""Rectified linear unit :math:`\max(0, z)`, with derivative 1 where :math:`z > 0`
    and 0 elsewhere (0 at :math:`z = 0`). Since :math:`a > 0 \iff z > 0`, the derivative
    is the same read from the output."""

    name = "relu"

    def __call__(self, z: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
        return np.maximum(z, 0, out=out)

    def derivative(self, z: np.ndarray) -> np.ndarray:
        z = np.asarray(z)
        return (z > 0).astype(np.result_type(z, np.float32))

    def derivative_from_output(self, a: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
        return self.derivative(a) if out is None else np.greater(a, 0, out=out, casting="unsafe")

    def backward(self, a: np.ndarray, grad: np.ndarray) -> np.ndarray:
        # grad *= (a > 0), through a reused boolean mask: an order of magnitude faster
        # than assigning through a boolean index
        mask = np.greater(a, 0, out=self._scratch(a.shape, np.bool_))
        np.multiply(grad, mask, out=grad)
        return grad


class LeakyReLU(Activation):
    r"""Leaky ReLU: :math:`z` for :math:`z > 0`, :math:`\alpha z` otherwise, with
    derivative 1 or :math:`\alpha`. For :math:`\alpha > 0` the sign of ``a`` is the sign
    of ``z``, so the derivative can be read from the output."""

    name = "leaky_relu"
    hyperparameters = ("alpha",)

    def __init__(self, alpha: float = 0.01) -> None:
        what = f"{type(alpha).__name__} {alpha!r}"
        text = isinstance(alpha, np.ndarray) and alpha.dtype.kind in "US"
        if text or isinstance(alpha, (bool, np.bool_, str, bytes, np.str_, np.bytes_)):
            raise TypeError(f"alpha must be a number, got {what}")  # float() would read them
        try:
            number = float(alpha)
        except OverflowError:  # an integer beyond every float, 10**400
            number = float("inf")
        except (TypeError, ValueError):
            raise TypeError(f"alpha must be a number, got {what}") from None
        if not (0.0 < number < 1.0):
            raise ValueError(f"alpha must be in (0, 1), got {alpha!r}")
        self.alpha = number

    def __call__(self, z: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
        z = np.asarray(z)
        scaled = np.multiply(z, self.alpha, dtype=np.result_type(z, np.float32))
        return np.maximum(z, scaled, out=out)

    def derivative(self, z: np.ndarray) -> np.ndarray:
        z = np.asarray(z)
        dtype = np.result_type(z, np.float32)
        return np.where(z > 0, dtype.type(1), dtype.type(self.alpha)).astype(dtype)

    def derivative_from_output(self, a: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
        result = self.derivative(a)
        if out is None:
            return result
        out[...] = result
        return out

    def backward(self, a: np.ndarray, grad: np.ndarray) -> np.ndarray:
        mask = np.less_equal(a, 0, out=self._scratch(a.shape, np.bool_))
        np.multiply(grad, grad.dtype.type(self.alpha), out=grad, where=mask)
        return grad


class Identity(Activation):
    """The identity ``g(z) = z``, with derivative 1. Used at the output for regression."""

    name = "identity"

    def __call__(self, z: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
        z = np.asarray(z)
        if out is None:
            return z.copy()
        if out is not z:
            out[...] = z
        return out

    def derivative_from_output(self, a: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
        if out is None:
            return np.ones_like(a)
        out.fill(1)
        return out

    def backward(self, a: np.ndarray, grad: np.ndarray) -> np.ndarray:
        return grad


sigmoid = Sigmoid()
tanh = Tanh()
relu = ReLU()
leaky_relu = LeakyReLU()
identity = Identity()


def softmax(z: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    r"""Row-wise softmax :math:`e^{z_k - \max_j z_j} / \sum_i e^{z_i - \max_j z_j}`.

    ``z`` is ``(n_samples, n_classes)``; each row of the result sums to 1. Subtracting the
    row maximum first keeps ``exp`` from overflowing at any finite input, with no warning
    (a score further below the maximum than the dtype holds gets exactly 0). Softmax is an
    output link (see :mod:`mlpzero.losses`), not a hidden-layer activation.
    """
    z = np.asarray(z)
    if out is None:  # integer scores give float64 probabilities; floats keep their dtype
        out = np.empty_like(z, dtype=np.result_type(z.dtype, 1.0))
    # In out's dtype: unsigned integers would wrap around below their maximum. A finite
    # score further below the maximum than the dtype holds gives -inf, whose exponential
    # is exactly the limit 0: that overflow is expected, as in the sigmoid.
    with np.errstate(over="ignore"):
        out = np.subtract(z, z.max(axis=-1, keepdims=True), out=out, dtype=out.dtype.type)
    np.exp(out, out=out)
    out /= out.sum(axis=-1, keepdims=True)
    return out


ACTIVATIONS: dict[str, type[Activation]] = {
    "sigmoid": Sigmoid,
    "tanh": Tanh,
    "relu": ReLU,
    "leaky_relu": LeakyReLU,
    "identity": Identity,
}
_ALIASES = {"logistic": "sigmoid", "linear": "identity", "leakyrelu": "leaky_relu"}


def get(activation: str | Activation | dict[str, Any]) -> Activation:
    """Return an :class:`Activation` from a name, an instance, or a ``config`` dict.

    >>> get("relu")
    ReLU()
    """
    return resolve("activation", activation, Activation, ACTIVATIONS, _ALIASES)
