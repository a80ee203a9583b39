"""Optimizers: update rules over the flat parameter vector.

Every optimizer updates the whole model at once: ``step(params, grads)`` changes the flat
vector ``params`` in place from the flat gradient ``grads`` (see
:class:`mlpzero.network.Network`). Any state (velocities, moment estimates) lives in flat
buffers of the same shape, created on the first step.

``get(name_or_object)`` accepts a name such as ``"sgd"`` or an :class:`Optimizer`.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .validation import check_positive

__all__ = ["OPTIMIZERS", "SGD", "Optimizer", "get"]


class Optimizer:
    """Base class. Subclasses implement :meth:`_update`."""

    name = "optimizer"

    def __init__(self, learning_rate: float) -> None:
        self.learning_rate = check_positive("learning_rate", learning_rate)
        self.iterations = 0

    def step(self, params: np.ndarray, grads: np.ndarray) -> None:
        """Update ``params`` in place from ``grads`` (both flat, same shape and dtype)."""
        self.iterations += 1
        self._update(params, grads)

    def _update(self, params: np.ndarray, grads: np.ndarray) -> None:
        raise NotImplementedError

    @property
    def config(self) -> dict[str, Any]:
        """The hyper-parameters, enough to rebuild the optimizer with :func:`get`."""
        return {"name": self.name, "learning_rate": self.learning_rate}

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.config.items() if k != "name")
        return f"{type(self).__name__}({args})"


class SGD(Optimizer):
    r"""Plain gradient descent, the article's update:
    :math:`\theta \leftarrow \theta - \alpha g`."""

    name = "sgd"

    def __init__(self, learning_rate: float = 0.01) -> None:
        super().__init__(learning_rate)

    def _update(self, params: np.ndarray, grads: np.ndarray) -> None:
        lr = params.dtype.type(self.learning_rate)
        # params -= lr * grads, without a temporary the size of the model
        np.multiply(grads, -lr, out=self._scratch(grads))
        params += self._buffer

    def _scratch(self, like: np.ndarray) -> np.ndarray:
        buffer = getattr(self, "_buffer", None)
        if buffer is None or buffer.shape != like.shape or buffer.dtype != like.dtype:
            self._buffer = np.empty_like(like)
        return self._buffer


OPTIMIZERS: dict[str, type[Optimizer]] = {"sgd": SGD}


def get(optimizer: str | Optimizer, **kwargs: Any) -> Optimizer:
    """Return an :class:`Optimizer` from a name (built with ``kwargs``) or an instance."""
    if isinstance(optimizer, Optimizer):
        return optimizer
    if isinstance(optimizer, str) and optimizer.lower() in OPTIMIZERS:
        return OPTIMIZERS[optimizer.lower()](**kwargs)
    known = ", ".join(sorted(OPTIMIZERS))
    raise ValueError(f"unknown optimizer {optimizer!r}; expected one of: {known}")
