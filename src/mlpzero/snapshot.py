"""A saved copy of a flat parameter vector, to put back after a failed or worse stretch.

The parameters of a :class:`~mlpzero.network.Network` live in one flat vector
(:attr:`~mlpzero.network.Network.params`), so a rollback is one copy out and one copy
back. The training loop keeps the weights of the start of each epoch to undo a
diverging epoch or a Ctrl-C; early stopping keeps the weights of the best epoch; a
caller that trains a model it must leave as it was on failure keeps the weights from
before. :class:`ParameterSnapshot` is that copy; :func:`rollback_on_error` is the last
use as a ``with`` block. :class:`OptimizerSnapshot` keeps an optimizer's step count and
state buffers the same way, so that an undone epoch leaves no trace in its momentum.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np

__all__ = ["OptimizerSnapshot", "ParameterSnapshot", "rollback_on_error"]


class ParameterSnapshot:
    """A copy of a flat parameter vector that :meth:`restore` writes back in place.

    Parameters
    ----------
    values:
        The copy to start from (copied again), or ``None`` for an empty snapshot that the
        first :meth:`take` fills.

    :meth:`take` allocates its buffer once and reuses it while the shape and dtype stay
    the same, so taking a snapshot every epoch costs one copy and no allocation.

    Examples
    --------
    >>> import numpy as np
    >>> params = np.array([1.0, 2.0])
    >>> snapshot = ParameterSnapshot()
    >>> snapshot.take(params)
    >>> params += 5
    >>> snapshot.restore(params)
    >>> params
    array([1., 2.])
    """

    def __init__(self, values: np.ndarray | None = None) -> None:
        self.values: np.ndarray | None = None if values is None else np.array(values, copy=True)

    @property
    def taken(self) -> bool:
        """Whether the snapshot holds values (from :meth:`take` or the constructor)."""
        return self.values is not None

    def take(self, params: np.ndarray) -> None:
        """Copy ``params`` (a 1-D vector) into the snapshot."""
        values = self.values
        if values is None or values.shape != params.shape or values.dtype != params.dtype:
            self.values = values = np.empty_like(params)
        np.copyto(values, params)

    def restore(self, params: np.ndarray) -> None:
        """Write the saved values back into ``params``, in place: of the snapshot's shape and
        dtype (float64 values would be rounded into float32 parameters)."""
        values = self.values
        if values is None:
            raise RuntimeError("restore: the snapshot is empty (call take first)")
        if values.shape != params.shape or values.dtype != params.dtype:
            raise ValueError(
                f"restore: the snapshot holds {values.size} {values.dtype} parameters of shape "
                f"{values.shape} but params has shape {params.shape} and dtype {params.dtype}"
            )
        np.copyto(params, values)

    def clear(self) -> None:
        """Forget the saved values (the buffer is released)."""
        self.values = None

    def __repr__(self) -> str:
        held = "empty" if self.values is None else f"{self.values.size} {self.values.dtype}"
        return f"ParameterSnapshot({held})"


class OptimizerSnapshot:
    """A copy of an optimizer's running state, its ``iterations`` and the flat buffers of
    its ``state`` dict (momentum, moments), that :meth:`restore` puts back.

    A buffer the optimizer had not made yet when the snapshot was taken is removed on
    restore: its absence is state too (the first step sets a momentum buffer rather than
    decaying it). Buffers are reused from one :meth:`take` to the next, as
    :class:`ParameterSnapshot`'s.
    """

    def __init__(self) -> None:
        self.iterations: int | None = None
        self._buffers: dict[str, ParameterSnapshot] = {}
        self._keys: tuple[str, ...] = ()

    def take(self, optimizer: Any) -> None:
        """Copy ``optimizer.iterations`` and every buffer of ``optimizer.state``."""
        self.iterations = optimizer.iterations
        self._keys = tuple(optimizer.state)
        for key in self._keys:
            self._buffers.setdefault(key, ParameterSnapshot()).take(optimizer.state[key])

    def restore(self, optimizer: Any) -> None:
        """Put the saved step count and buffers back into ``optimizer``, in place."""
        if self.iterations is None:
            raise RuntimeError("restore: the snapshot is empty (call take first)")
        optimizer.iterations = self.iterations
        for key in [key for key in optimizer.state if key not in self._keys]:
            del optimizer.state[key]
        for key in self._keys:
            saved = self._buffers[key]
            buffer = optimizer.state.get(key)
            if buffer is not None and buffer.shape == saved.values.shape:
                saved.restore(buffer)
            else:  # made since, or replaced by another model's (a checkpoint's)
                optimizer.state[key] = np.array(saved.values, copy=True)


@contextmanager
def rollback_on_error(params: np.ndarray) -> Iterator[ParameterSnapshot]:
    """Put ``params`` back as they were when the ``with`` block exits by an exception.

    Any exception, ``KeyboardInterrupt`` included, restores the parameters and then
    propagates; a block that ends normally keeps what it did.

    >>> import numpy as np
    >>> params = np.zeros(3)
    >>> try:
    ...     with rollback_on_error(params):
    ...         params += 1
    ...         raise ValueError("diverged")
    ... except ValueError:
    ...     pass
    >>> params
    array([0., 0., 0.])
    """
    snapshot = ParameterSnapshot()
    snapshot.take(params)
    try:
        yield snapshot
    except BaseException:
        snapshot.restore(params)
        raise
