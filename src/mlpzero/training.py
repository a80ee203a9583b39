"""The training loop: batches, the three steps of gradient descent, history, callbacks.

Each step is the article's: forward propagation, backward propagation, a parameter update
(here by an :class:`~mlpzero.optimizers.Optimizer` over the flat parameter vector). With
``batch_size=None`` every step uses all the data (full-batch gradient descent, one step per
epoch); otherwise the rows are reshuffled every epoch and cut into batches of
``batch_size`` (the last, partial batch included).

The reported loss of an epoch is the mean of the losses of its batches, each computed on
the forward pass before that batch's update (for full batch: the article's cost).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from .callbacks import Callback, History
from .losses import Loss
from .network import Network
from .optimizers import Optimizer

__all__ = ["train"]


def train(
    network: Network,
    loss: Loss,
    optimizer: Optimizer,
    X: np.ndarray,
    Y: np.ndarray,
    *,
    epochs: int,
    batch_size: int | None = None,
    sample_weight: np.ndarray | None = None,
    rng: np.random.Generator,
    model: Any = None,
    callbacks: Sequence[Callback] = (),
    history: History | None = None,
    print_every: int | None = None,
) -> History:
    """Train ``network`` in place and return the :class:`History` of per-epoch metrics.

    ``X`` is ``(m, n_0)`` and ``Y`` is ``(m, n_L)``, both already in the network's dtype.
    ``print_every=N`` prints the article's ``Epoch e: cost = c`` line every ``N`` epochs.
    """
    history = history if history is not None else History()
    n = X.shape[0]
    full_batch = batch_size is None or batch_size >= n
    weights = None if sample_weight is None else sample_weight.astype(network.dtype)
    if model is not None:
        model.stop_training = False
    for callback in callbacks:
        callback.set_model(model)
        callback.on_train_begin()

    batch_X = batch_Y = batch_w = None
    start_epoch = history.epochs
    for epoch in range(start_epoch, start_epoch + epochs):
        for callback in callbacks:
            callback.on_epoch_begin(epoch)
        if full_batch:
            epoch_loss = _step(network, loss, optimizer, X, Y, weights)
        else:
            order = rng.permutation(n)
            total = 0.0
            for batch, start in enumerate(range(0, n, batch_size)):
                index = order[start : start + batch_size]
                rows = len(index)
                if batch_X is None or batch_X.shape[0] < rows:
                    batch_X = np.empty((rows, X.shape[1]), dtype=X.dtype)
                    batch_Y = np.empty((rows, Y.shape[1]), dtype=Y.dtype)
                    if weights is not None:
                        batch_w = np.empty(rows, dtype=weights.dtype)
                xb = np.take(X, index, axis=0, out=batch_X[:rows])
                yb = np.take(Y, index, axis=0, out=batch_Y[:rows])
                wb = None if weights is None else np.take(weights, index, out=batch_w[:rows])
                value = _step(network, loss, optimizer, xb, yb, wb)
                total += value * rows
                for callback in callbacks:
                    callback.on_batch_end(batch, {"loss": value})
            epoch_loss = total / n
        logs = {"loss": epoch_loss}
        history.append(logs)
        if print_every and epoch % print_every == 0:
            print(f"Epoch {epoch}: cost = {epoch_loss:.4f}")
        for callback in callbacks:
            callback.on_epoch_end(epoch, logs)
        if model is not None and model.stop_training:
            break
    for callback in callbacks:
        callback.on_train_end({"loss": history["loss"][-1]} if history.epochs else {})
    return history


def _step(
    network: Network,
    loss: Loss,
    optimizer: Optimizer,
    X: np.ndarray,
    Y: np.ndarray,
    sample_weight: np.ndarray | None,
) -> float:
    """One gradient-descent step on one batch; returns the batch loss before the update."""
    logits = network.forward(X)
    value = loss.value(logits, Y, sample_weight)
    dlogits = loss.gradient(logits, Y, sample_weight, out=network.output_delta())
    network.backward(dlogits)
    optimizer.step(network.params, network.grads)
    return value
